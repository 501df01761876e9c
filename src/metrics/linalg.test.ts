import { test } from 'node:test';
import { assertRefineryError } from '../testing/assert.js';
import assert from 'node:assert/strict';
import { Rng } from '../rng.js';
import { allFinite, asFloat64, checkPair, checkSamples, covariance, matmul, mean, sqrtPsd, symmetricEigen, trace } from './linalg.js';

function randomSymmetric(d: number, rng: Rng): Float64Array {
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = rng.normal();
      a[i * d + j] = v;
      a[j * d + i] = v;
    }
  }
  return a;
}

function frob(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v * v;
  return Math.sqrt(s);
}

function transpose(a: Float64Array, d: number): Float64Array {
  const t = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) t[j * d + i] = a[i * d + j];
  return t;
}

/** max |A V - V diag(λ)| and max |V^T V - I| */
function eigenResiduals(a: Float64Array, d: number): { residual: number; orthogonality: number; values: Float64Array } {
  const { values, vectors } = symmetricEigen(a, d);
  const v = vectors as Float64Array;
  const av = matmul(a, v, d, d, d);
  let residual = 0;
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) residual = Math.max(residual, Math.abs(av[i * d + j] - v[i * d + j] * values[j]));
  const vtv = matmul(transpose(v, d), v, d, d, d);
  let orthogonality = 0;
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) orthogonality = Math.max(orthogonality, Math.abs(vtv[i * d + j] - (i === j ? 1 : 0)));
  return { residual, orthogonality, values };
}

test('mean and covariance: hand-computed 3 x 2 case, float32 and float64 alike', () => {
  // rows (1,2), (3,6), (5,4): mean (3,4); centred (-2,-2), (0,2), (2,0); S = [[8,4],[4,8]] / 2
  for (const data of [new Float64Array([1, 2, 3, 6, 5, 4]), new Float32Array([1, 2, 3, 6, 5, 4])]) {
    const x = { data, n: 3, d: 2 };
    assert.deepEqual([...mean(x)], [3, 4]);
    assert.deepEqual([...covariance(x)], [4, 2, 2, 4]);
  }
  assert.equal(trace(new Float64Array([4, 2, 2, 5]), 2), 9);
  assert.deepEqual([...matmul(new Float64Array([1, 2, 3, 4, 5, 6]), new Float64Array([1, 0, 0, 1, 1, 1]), 2, 3, 2)], [4, 5, 10, 11]);
  const x64 = { data: new Float64Array(4), n: 2, d: 2 };
  assert.equal(asFloat64(x64), x64.data);
  assert.ok(asFloat64({ data: new Float32Array([0.1]), n: 1, d: 1 }) instanceof Float64Array);
});

test('Jacobi: 2 x 2 by hand, and exact diagonal / zero matrices', () => {
  const { values, vectors } = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
  assert.ok(Math.abs(values[0] - 1) < 1e-15 && Math.abs(values[1] - 3) < 1e-15, `${values}`);
  const v = vectors as Float64Array;
  // column 0 ∝ (1, -1), column 1 ∝ (1, 1)
  assert.ok(Math.abs(Math.abs(v[0]) - Math.SQRT1_2) < 1e-15 && Math.abs(v[0] + v[2]) < 1e-15);
  assert.ok(Math.abs(Math.abs(v[1]) - Math.SQRT1_2) < 1e-15 && Math.abs(v[1] - v[3]) < 1e-15);

  const diag = symmetricEigen(new Float64Array([3, 0, 0, 0, -1, 0, 0, 0, 2]), 3);
  assert.deepEqual([...diag.values], [-1, 2, 3]);
  assert.equal(diag.sweeps, 0);
  assert.deepEqual([...symmetricEigen(new Float64Array(16), 4).values], [0, 0, 0, 0]);
});

test('Jacobi: random symmetric matrices reconstruct to working precision', () => {
  const rng = new Rng(11);
  for (const d of [1, 3, 10, 40]) {
    const a = randomSymmetric(d, rng);
    const { residual, orthogonality, values } = eigenResiduals(a, d);
    const scale = frob(a);
    assert.ok(residual < 1e-13 * scale * d, `d=${d} residual ${residual}`);
    assert.ok(orthogonality < 1e-13 * d, `d=${d} orthogonality ${orthogonality}`);
    let sum = 0;
    for (const l of values) sum += l;
    assert.ok(Math.abs(sum - trace(a, d)) < 1e-12 * scale * d);
    for (let i = 1; i < d; i++) assert.ok(values[i - 1] <= values[i]);
    // eigenvalues only: the same values
    const only = symmetricEigen(a, d, { vectors: false });
    assert.equal(only.vectors, undefined);
    assert.deepEqual([...only.values], [...values]);
  }
});

test('Jacobi: rank-deficient PSD matrix (covariance of n < d rows) has d - n + 1 zero eigenvalues', () => {
  const rng = new Rng(12);
  const n = 4;
  const d = 9;
  const x = { data: rng.fillNormal(new Float64Array(n * d)), n, d };
  const s = covariance(x);
  const { values } = eigenResiduals(s, d);
  const scale = values[d - 1];
  const zeros = [...values].filter((l) => Math.abs(l) < 1e-13 * scale).length;
  assert.equal(zeros, d - n + 1);
  assert.ok(values[d - n + 1] > 1e-3 * scale);
});

test('sqrtPsd: R is symmetric PSD with R R = A; exact on diagonal matrices', () => {
  const rng = new Rng(13);
  const d = 12;
  const b = rng.fillNormal(new Float64Array(d * d));
  const a = matmul(b, transpose(b, d), d, d, d); // PSD
  const r = sqrtPsd(a, d);
  const rr = matmul(r, r, d, d, d);
  let err = 0;
  for (let i = 0; i < d * d; i++) err = Math.max(err, Math.abs(rr[i] - a[i]));
  assert.ok(err < 1e-12 * frob(a), `|RR - A| ${err}`);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) assert.equal(r[i * d + j], r[j * d + i]);
  assert.ok(symmetricEigen(r, d, { vectors: false }).values[0] > -1e-12);
  const dg = sqrtPsd(new Float64Array([4, 0, 0, 9]), 2);
  assert.deepEqual([...dg], [2, 0, 0, 3]);
});

test('matmul and mean: the same bits as the plain loops, at every size around their blocks of 4 and 8', () => {
  const rng = new Rng(7);
  for (const [m, k, n] of [
    [1, 1, 1],
    [3, 5, 2],
    [4, 4, 4],
    [5, 3, 7],
    [8, 9, 12],
    [13, 6, 11],
    [64, 64, 64],
  ]) {
    const a = Float64Array.from({ length: m * k }, () => (rng.uniform() < 0.2 ? 0 : rng.normal()));
    const b = Float64Array.from({ length: k * n }, () => rng.normal());
    const plain = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let l = 0; l < k; l++) plain[i * n + j] += a[i * k + l] * b[l * n + j];
    assert.deepEqual(matmul(a, b, m, k, n), plain, `${m} x ${k} x ${n}`);
    // control: the sum in another order differs in some bits
    if (m * n * k >= 64 * 64 * 64) {
      const reversed = new Float64Array(m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let l = k - 1; l >= 0; l--) reversed[i * n + j] += a[i * k + l] * b[l * n + j];
      assert.notDeepEqual(reversed, plain);
    }
  }
  for (const d of [1, 7, 8, 9, 17, 64]) {
    for (const data of [Float64Array.from({ length: 50 * d }, () => rng.normal() * 1e3), Float32Array.from({ length: 50 * d }, () => rng.normal())]) {
      const plain = new Float64Array(d);
      for (let i = 0; i < 50; i++) for (let j = 0; j < d; j++) plain[j] += data[i * d + j];
      for (let j = 0; j < d; j++) plain[j] /= 50;
      assert.deepEqual(mean({ data, n: 50, d }), plain, `d = ${d}`);
    }
  }
});

test('allFinite: false for a NaN or an infinity at any position, true for the largest finite values', () => {
  for (const length of [1, 3, 4, 5, 8, 11]) {
    for (let at = 0; at < length; at++) {
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        const x = new Float64Array(length).fill(1);
        x[at] = bad;
        assert.equal(allFinite(x), false, `${bad} at ${at} of ${length}`);
        assert.equal(allFinite(Float32Array.from(x)), false);
      }
    }
    assert.equal(allFinite(new Float64Array(length).fill(Number.MAX_VALUE)), true);
    assert.equal(allFinite(new Float64Array(length).fill(-Number.MAX_VALUE)), true);
    assert.equal(allFinite(new Float32Array(length).fill(-0)), true);
  }
  assert.equal(allFinite(new Float64Array(0)), true);
});

test('validation names the argument', () => {
  const check = assertRefineryError;
  const ok = { data: new Float32Array(6), n: 3, d: 2 };
  check(() => checkSamples({ data: new Float32Array(5), n: 3, d: 2 }, 'real'), 'invalid_argument', 'real');
  check(() => checkSamples({ data: [1, 2] as unknown as Float32Array, n: 1, d: 2 }, 'fake'), 'invalid_argument', 'fake.data');
  check(() => checkSamples({ data: new Float32Array(6), n: 3, d: 0 }, 'real'), 'invalid_argument', 'real.d');
  check(() => checkSamples({ data: new Float64Array([0, 1, NaN, 0, 0, 0]), n: 3, d: 2 }, 'real'), 'invalid_argument', 'real');
  check(() => checkSamples({ data: new Float64Array([0, 1, 0, Infinity]), n: 2, d: 2 }, 'fake'), 'invalid_argument', 'fake');
  check(() => checkSamples(ok, 'real', 4), 'invalid_argument', 'real');
  check(() => checkPair(ok, { data: new Float32Array(6), n: 2, d: 3 }), 'shape_mismatch', 'fake');
  check(() => checkPair(ok, ok, 1, 5), 'invalid_argument', 'fake');
  check(() => symmetricEigen(new Float64Array(3), 2), 'invalid_argument', 'a');
  check(() => covariance({ data: new Float64Array(2), n: 1, d: 2 }), 'invalid_argument', 'n');
  // the message says where the bad value is
  assert.throws(() => checkSamples({ data: new Float64Array([0, 1, NaN, 0]), n: 2, d: 2 }, 'real'), /row 1, column 0/);
  checkPair(ok, ok, 3, 3);
});
