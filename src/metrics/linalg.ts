/**
 * Float64 linear algebra for the sample-based metrics, and the common input convention.
 *
 * Input convention of every metric in src/metrics (except modes.ts): a sample set is a
 * `Samples = { data, n, d }` with `data` a Float32Array or Float64Array holding n rows of d
 * coordinates, row-major (row i is data[i·d .. i·d + d - 1]). Metrics take `(real, fake, options)`;
 * all arithmetic is done in float64 (float32 input is widened exactly).
 *
 * Matrices here are dense Float64Array, d x d, row-major.
 */
import { describe, fail } from '../errors.js';

/** n rows of d coordinates, row-major. */
export interface Samples {
  /** n·d coordinates, row i at data[i·d .. i·d + d - 1] */
  data: Float32Array | Float64Array;
  /** number of rows */
  n: number;
  /** coordinates per row */
  d: number;
}

/** A sample set as the metrics take it: `{ data, shape: [n, ...] }` (rows of the other axes, flattened) or `{ data, n, d }`. */
export type SampleInput = Samples | { data: Float32Array | Float64Array; shape: readonly number[] };

/** The `{ data, n, d }` view of a sample set (no copy); errors name `name`. */
export function asSamples(x: SampleInput, name: string): Samples {
  if (typeof x !== 'object' || x === null) fail('invalid_argument', name, 'samples { data, shape: [n, ...] }', describe(x));
  if ('shape' in x && Array.isArray(x.shape)) {
    const shape = x.shape;
    if (shape.length < 2 || !shape.every((v) => Number.isSafeInteger(v) && v >= 0)) {
      fail('invalid_argument', `${name}.shape`, '[n, ...] with at least two axes of non-negative integers', `[${shape.join(', ')}]`);
    }
    return { data: x.data, n: shape[0], d: shape.slice(1).reduce((a, b) => a * b, 1) };
  }
  return x as Samples;
}

/**
 * Validate one sample set: `data` a Float32Array/Float64Array of length n·d, n and d positive
 * integers, n ≥ minRows, every value finite. RefineryError invalid_argument with `path` = name
 * (e.g. 'real') otherwise.
 */
export function checkSamples(x: Samples, name: string, minRows = 1): void {
  if (typeof x !== 'object' || x === null) fail('invalid_argument', name, 'an object {data, n, d}', describe(x));
  const { data, n, d } = x;
  if (!(data instanceof Float32Array || data instanceof Float64Array)) {
    fail('invalid_argument', `${name}.data`, 'a Float32Array or Float64Array', describe(data));
  }
  if (!Number.isSafeInteger(d) || d < 1) fail('invalid_argument', `${name}.d`, 'a positive integer', describe(d));
  if (!Number.isSafeInteger(n) || n < 0) fail('invalid_argument', `${name}.n`, 'a non-negative integer', describe(n));
  if (data.length !== n * d) {
    fail('invalid_argument', name, `data of length n·d = ${n}·${d} = ${n * d}`, describe(data));
  }
  if (n < minRows) fail('invalid_argument', name, `at least ${minRows} rows`, `${n} rows`);
  if (allFinite(data)) return;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const row = Math.floor(i / d);
      fail('invalid_argument', name, 'finite values', `${data[i]} at row ${row}, column ${i - row * d}`);
    }
  }
}

/**
 * Validate a (real, fake) pair: each by `checkSamples` with its minimum number of rows, and equal
 * dimensions (RefineryError shape_mismatch naming 'fake' otherwise).
 */
export function checkPair(real: Samples, fake: Samples, minReal = 1, minFake = 1): void {
  checkSamples(real, 'real', minReal);
  checkSamples(fake, 'fake', minFake);
  if (real.d !== fake.d) fail('shape_mismatch', 'fake', `d = ${real.d} (the dimension of real)`, `d = ${fake.d}`);
}

/** The data as a Float64Array (no copy when it already is one). */
export function asFloat64(x: Samples): Float64Array {
  return x.data instanceof Float64Array ? x.data : Float64Array.from(x.data);
}

/**
 * Whether every value is finite: a sum of x * 0 over the values (0 while they are finite, NaN
 * once one is NaN or infinite) in four accumulators, about 3 times as fast as testing each value
 * with Number.isFinite (a 10,000 x 64 float64 set: 0.3 against 0.8 ms).
 */
export function allFinite(data: Float32Array | Float64Array): boolean {
  let a = 0;
  let b = 0;
  let c = 0;
  let e = 0;
  const m = data.length - (data.length % 4);
  let i = 0;
  for (; i < m; i += 4) {
    a += data[i] * 0;
    b += data[i + 1] * 0;
    c += data[i + 2] * 0;
    e += data[i + 3] * 0;
  }
  for (; i < data.length; i++) a += data[i] * 0;
  return a + b + c + e === 0;
}

/**
 * Column means: mu_j = (1/n) Σ_i x_ij, each column summed over the rows in order. Eight columns
 * at a time in local accumulators (the same sums as a loop over the rows that adds each row to
 * mu, about 4 times as fast: 0.35 against 1.35 ms for 10,000 x 64 float64 values).
 */
export function mean(x: Samples): Float64Array {
  const { data, n, d } = x;
  const mu = new Float64Array(d);
  const end = n * d;
  let j = 0;
  for (; j + 8 <= d; j += 8) {
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let a4 = 0;
    let a5 = 0;
    let a6 = 0;
    let a7 = 0;
    for (let o = j; o < end; o += d) {
      a0 += data[o];
      a1 += data[o + 1];
      a2 += data[o + 2];
      a3 += data[o + 3];
      a4 += data[o + 4];
      a5 += data[o + 5];
      a6 += data[o + 6];
      a7 += data[o + 7];
    }
    mu[j] = a0;
    mu[j + 1] = a1;
    mu[j + 2] = a2;
    mu[j + 3] = a3;
    mu[j + 4] = a4;
    mu[j + 5] = a5;
    mu[j + 6] = a6;
    mu[j + 7] = a7;
  }
  for (; j < d; j++) {
    let a = 0;
    for (let o = j; o < end; o += d) a += data[o];
    mu[j] = a;
  }
  for (let k = 0; k < d; k++) mu[k] /= n;
  return mu;
}

/**
 * Unbiased sample covariance S = (1/(n-1)) Σ_i (x_i - mu)(x_i - mu)^T (d x d, row-major, exactly
 * symmetric), two-pass (centred) for accuracy; `mu` defaults to `mean(x)`. Needs n ≥ 2.
 */
export function covariance(x: Samples, mu: Float64Array = mean(x)): Float64Array {
  const { data, n, d } = x;
  if (n < 2) fail('invalid_argument', 'n', 'at least 2 rows for a covariance', String(n));
  const s = new Float64Array(d * d);
  const c = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) c[j] = data[i * d + j] - mu[j];
    for (let a = 0; a < d; a++) {
      const ca = c[a];
      if (ca === 0) continue;
      const row = a * d;
      for (let b = a; b < d; b++) s[row + b] += ca * c[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = s[a * d + b] / (n - 1);
      s[a * d + b] = v;
      s[b * d + a] = v;
    }
  }
  return s;
}

/** c[o..o+3] = x0..x3. */
function store4(c: Float64Array, o: number, x0: number, x1: number, x2: number, x3: number): void {
  c[o] = x0;
  c[o + 1] = x1;
  c[o + 2] = x2;
  c[o + 3] = x3;
}

/**
 * C = A B with A m x k, B k x n (row-major). Each entry is Σ_l a_il b_lj summed in the order of l,
 * by blocks of 4 x 4 entries kept in local variables (each loaded a and b serves four products):
 * 64 x 64 x 64 in 0.16 ms against 0.49 for a loop that adds a_il times row l of B to row i of C,
 * with the same bits.
 */
export function matmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  const m4 = m - (m % 4);
  const n4 = n - (n % 4);
  for (let i = 0; i < m4; i += 4) {
    const r0 = i * k;
    const r1 = r0 + k;
    const r2 = r1 + k;
    const r3 = r2 + k;
    for (let j = 0; j < n4; j += 4) {
      let c00 = 0;
      let c01 = 0;
      let c02 = 0;
      let c03 = 0;
      let c10 = 0;
      let c11 = 0;
      let c12 = 0;
      let c13 = 0;
      let c20 = 0;
      let c21 = 0;
      let c22 = 0;
      let c23 = 0;
      let c30 = 0;
      let c31 = 0;
      let c32 = 0;
      let c33 = 0;
      for (let l = 0, bo = j; l < k; l++, bo += n) {
        const b0 = b[bo];
        const b1 = b[bo + 1];
        const b2 = b[bo + 2];
        const b3 = b[bo + 3];
        const a0 = a[r0 + l];
        const a1 = a[r1 + l];
        const a2 = a[r2 + l];
        const a3 = a[r3 + l];
        c00 += a0 * b0;
        c01 += a0 * b1;
        c02 += a0 * b2;
        c03 += a0 * b3;
        c10 += a1 * b0;
        c11 += a1 * b1;
        c12 += a1 * b2;
        c13 += a1 * b3;
        c20 += a2 * b0;
        c21 += a2 * b1;
        c22 += a2 * b2;
        c23 += a2 * b3;
        c30 += a3 * b0;
        c31 += a3 * b1;
        c32 += a3 * b2;
        c33 += a3 * b3;
      }
      const o = i * n + j;
      store4(c, o, c00, c01, c02, c03);
      store4(c, o + n, c10, c11, c12, c13);
      store4(c, o + 2 * n, c20, c21, c22, c23);
      store4(c, o + 3 * n, c30, c31, c32, c33);
    }
  }
  // The last n % 4 columns of the first m4 rows, and the last m % 4 rows.
  for (let i = 0; i < m; i++) {
    for (let j = i < m4 ? n4 : 0; j < n; j++) {
      let s = 0;
      for (let l = 0; l < k; l++) s += a[i * k + l] * b[l * n + j];
      c[i * n + j] = s;
    }
  }
  return c;
}

/** tr(A) of a d x d matrix. */
export function trace(a: Float64Array, d: number): number {
  let t = 0;
  for (let i = 0; i < d; i++) t += a[i * (d + 1)];
  return t;
}

export interface SymmetricEigen {
  /** eigenvalues, ascending */
  values: Float64Array;
  /** d x d row-major; column j is the unit eigenvector of values[j] (absent when not requested) */
  vectors?: Float64Array;
  /** number of Jacobi sweeps used */
  sweeps: number;
}

/**
 * Eigendecomposition A = V diag(λ) V^T of a real symmetric d x d matrix by the cyclic Jacobi
 * method: sweep over all pairs p < q, annihilating a_pq with the plane rotation of angle θ,
 * t = tan θ = sign(ζ)/(|ζ| + sqrt(ζ² + 1)), ζ = (a_qq - a_pp)/(2 a_pq) (the smaller of the two
 * roots, |θ| ≤ π/4), applied in Rutishauser's form a' = a - s(b + τ a), b' = b + s(a - τ b) with
 * τ = s/(1 + c). The off-diagonal mass decreases monotonically and converges quadratically; a_pq is
 * set to zero without a rotation once it is negligible (|a_pq| < 2^-60 ‖A‖_F, or after 4 sweeps,
 * when 100|a_pq| does not change a_pp nor a_qq in floating point). Iteration stops when the
 * off-diagonal part is exactly zero.
 *
 * Jacobi is backward stable (the computed λ are exact for A + E with ‖E‖ ≈ ε‖A‖) and V is
 * orthogonal to working precision. Cost: about 6-10 sweeps of ~3d³ flops each (fine up to a few
 * hundred dimensions; slow for d ≳ 1000 in JS). Only the upper triangle of `a` is read (the matrix
 * is taken as symmetric). `a` is not modified.
 */
export function symmetricEigen(a: Float64Array, d: number, options: { vectors?: boolean } = {}): SymmetricEigen {
  if (!(a instanceof Float64Array) || !Number.isSafeInteger(d) || d < 1 || a.length !== d * d) {
    fail('invalid_argument', 'a', `a Float64Array of ${d} x ${d}`, describe(a));
  }
  const wantVectors = options.vectors ?? true;
  const m = new Float64Array(d * d);
  let frob2 = 0;
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = a[i * d + j];
      if (!Number.isFinite(v)) fail('invalid_argument', 'a', 'finite entries', `${v} at (${i}, ${j})`);
      m[i * d + j] = v;
      m[j * d + i] = v;
      frob2 += i === j ? v * v : 2 * v * v;
    }
  }
  const v = wantVectors ? new Float64Array(d * d) : undefined;
  if (v) for (let i = 0; i < d; i++) v[i * (d + 1)] = 1;
  const tiny = Math.sqrt(frob2) * 2 ** -60;

  let sweeps = 0;
  for (;;) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += m[p * d + q] * m[p * d + q];
    if (off === 0) break;
    if (sweeps >= 100) fail('internal', 'symmetricEigen', 'Jacobi convergence within 100 sweeps', `off-diagonal mass ${off}`);
    sweeps++;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = m[p * d + q];
        if (apq === 0) continue;
        const app = m[p * d + p];
        const aqq = m[q * d + q];
        const g = 100 * Math.abs(apq);
        if (Math.abs(apq) < tiny || (sweeps > 4 && Math.abs(app) + g === Math.abs(app) && Math.abs(aqq) + g === Math.abs(aqq))) {
          m[p * d + q] = 0;
          m[q * d + p] = 0;
          continue;
        }
        const h = aqq - app;
        let t: number;
        if (Math.abs(h) + g === Math.abs(h)) {
          t = apq / h; // ζ huge: t ≈ 1/(2ζ)
        } else {
          const zeta = h / (2 * apq);
          t = 1 / (Math.abs(zeta) + Math.sqrt(zeta * zeta + 1));
          if (zeta < 0) t = -t;
        }
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        const tau = s / (1 + c);
        m[p * d + p] = app - t * apq;
        m[q * d + q] = aqq + t * apq;
        m[p * d + q] = 0;
        m[q * d + p] = 0;
        for (let r = 0; r < d; r++) {
          if (r === p || r === q) continue;
          const grp = m[r * d + p];
          const grq = m[r * d + q];
          const np = grp - s * (grq + grp * tau);
          const nq = grq + s * (grp - grq * tau);
          m[r * d + p] = np;
          m[p * d + r] = np;
          m[r * d + q] = nq;
          m[q * d + r] = nq;
        }
        if (v) {
          for (let r = 0; r < d; r++) {
            const grp = v[r * d + p];
            const grq = v[r * d + q];
            v[r * d + p] = grp - s * (grq + grp * tau);
            v[r * d + q] = grq + s * (grp - grq * tau);
          }
        }
      }
    }
  }

  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => m[i * d + i] - m[j * d + j] || i - j);
  const values = new Float64Array(d);
  for (let j = 0; j < d; j++) values[j] = m[order[j] * (d + 1)];
  if (!v) return { values, sweeps };
  const vectors = new Float64Array(d * d);
  for (let r = 0; r < d; r++) for (let j = 0; j < d; j++) vectors[r * d + j] = v[r * d + order[j]];
  return { values, vectors, sweeps };
}

/**
 * Principal square root of a symmetric positive semi-definite matrix:
 * A^1/2 = V diag(sqrt(max(λ_i, 0))) V^T from `symmetricEigen` (eigenvalues below zero can only be
 * rounding and are clamped). The result is exactly symmetric and positive semi-definite.
 */
export function sqrtPsd(a: Float64Array, d: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, d);
  const v = vectors as Float64Array;
  const w = new Float64Array(d * d); // V diag(sqrt λ)
  for (let r = 0; r < d; r++) for (let j = 0; j < d; j++) w[r * d + j] = v[r * d + j] * Math.sqrt(Math.max(values[j], 0));
  const out = new Float64Array(d * d); // W V^T, upper triangle mirrored
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let s = 0;
      for (let l = 0; l < d; l++) s += w[i * d + l] * v[j * d + l];
      out[i * d + j] = s;
      out[j * d + i] = s;
    }
  }
  return out;
}
