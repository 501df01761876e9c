/** A dense float32 array with its shape (C order). The currency between Refinery's modules. */
export interface Tensor {
  /** The values in row-major (C) order; as many as the product of `shape`. */
  data: Float32Array;
  /** The dimensions, e.g. [n, ...dataShape]. */
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
