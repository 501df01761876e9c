/** A dense float32 array with its shape (C order). The currency between Refinery's modules. */
export interface Tensor {
  data: Float32Array;
  shape: number[];
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function tensor(data: Float32Array, shape: number[]): Tensor {
  return { data, shape };
}
