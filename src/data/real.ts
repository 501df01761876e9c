/** Held-out real samples as the library takes them: a Tensor [m, ...dataShape] of finite values. */
import { describe, fail } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** Check held-out real samples against the data shape; returns the flat data. */
export function checkRealTensor(real: unknown, dataShape: number[], path = 'real'): Float32Array {
  const t = real as Tensor;
  if (typeof t !== 'object' || t === null || !(t.data instanceof Float32Array) || !Array.isArray(t.shape)) {
    fail('invalid_argument', path, `samples { data: Float32Array, shape: [m, ${dataShape.join(', ')}] }`, describe(real));
  }
  if (t.shape.length !== dataShape.length + 1 || t.shape.slice(1).some((d, i) => d !== dataShape[i])) {
    fail('shape_mismatch', path, `an array of shape [m, ${dataShape.join(', ')}] (the generator's sample shape)`, `[${t.shape.join(', ')}]`);
  }
  checkRows(t.data, dataShape, 1, path);
  return t.data;
}

/** Check held-out reals [m, ...dataShape]: a whole number of finite rows, at least `min`. Returns m. */
export function checkRows(real: Float32Array | undefined, dataShape: number[], min: number, path = 'real'): number {
  const size = dataShape.reduce((a, b) => a * b, 1);
  if (real === undefined) fail('invalid_argument', path, `held-out real samples (at least ${min})`, 'none');
  if (real.length % size !== 0) fail('shape_mismatch', path, `rows of ${size} values (data shape [${dataShape.join(', ')}])`, `${real.length} values`);
  const m = real.length / size;
  if (m < min) fail('invalid_argument', path, `at least ${min} real samples`, String(m));
  for (let i = 0; i < real.length; i++) {
    if (!Number.isFinite(real[i])) fail('invalid_argument', `${path} row ${Math.floor(i / size)}`, 'finite values', String(real[i]));
  }
  return m;
}
