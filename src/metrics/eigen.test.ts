import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../rng.js';
import { psdCholesky, symmetricEigenvalues } from './eigen.js';
import { matmul, symmetricEigen } from './linalg.js';

function randomSymmetric(d: number, rng: Rng): Float64Array {
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) a[i * d + j] = a[j * d + i] = rng.normal();
  return a;
}

/** B Bᵀ for a d x r Gaussian B: PSD of rank min(d, r). */
function randomPsd(d: number, r: number, rng: Rng): Float64Array {
  const b = rng.fillNormal(new Float64Array(d * r));
  const bt = new Float64Array(r * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < r; j++) bt[j * d + i] = b[i * r + j];
  return matmul(b, bt, d, r, d);
}

const maxAbs = (a: ArrayLike<number>) => Math.max(...Array.from(a, Math.abs));

test('tridiagonal QL eigenvalues equal the Jacobi ones to rounding, on random, PSD, degenerate and tiny matrices', () => {
  const rng = new Rng(11);
  const cases: [string, Float64Array, number][] = [
    ['1x1', Float64Array.of(3.5), 1],
    ['2x2', Float64Array.of(2, 1, 1, 2), 2],
    ['zero', new Float64Array(9), 3],
    ['diagonal', Float64Array.of(3, 0, 0, 0, -1, 0, 0, 0, 2), 3],
    ['identity 20', Float64Array.from({ length: 400 }, (_, k) => (k % 21 === 0 ? 1 : 0)), 20],
    ['random 10', randomSymmetric(10, rng), 10],
    ['random 64', randomSymmetric(64, rng), 64],
    ['PSD rank 5 of 40', randomPsd(40, 5, rng), 40],
    ['PSD 100', randomPsd(100, 300, rng), 100],
  ];
  for (const [name, a, d] of cases) {
    const ql = symmetricEigenvalues(a, d);
    const jacobi = symmetricEigen(Float64Array.from(a), d, { vectors: false }).values;
    const tol = 1e-12 * Math.max(1, maxAbs(jacobi)) * d;
    for (let i = 0; i < d; i++) assert.ok(Math.abs(ql[i] - jacobi[i]) <= tol, `${name}: λ${i} ${ql[i]} vs ${jacobi[i]}`);
  }
  // The trace is the sum of the eigenvalues (an independent check); a perturbed matrix differs.
  const a = randomSymmetric(50, rng);
  let tr = 0;
  for (let i = 0; i < 50; i++) tr += a[i * 51];
  const sum = symmetricEigenvalues(a, 50).reduce((x, y) => x + y, 0);
  assert.ok(Math.abs(sum - tr) < 1e-10);
  a[51] += 1e-3;
  assert.ok(Math.abs(symmetricEigenvalues(a, 50).reduce((x, y) => x + y, 0) - tr) > 5e-4, 'negative control');
});

test('semidefinite Cholesky: L Lᵀ = S with L of the numerical rank, for full-rank and singular covariances', async () => {
  const rng = new Rng(3);
  // d = 300: five column blocks, the later ones updated by onnxruntime's GEMM; rank 100 drops columns in every block.
  for (const [d, r] of [
    [30, 60],
    [30, 7],
    [1, 1],
    [300, 600],
    [300, 100],
  ]) {
    const s = randomPsd(d, r, rng);
    const { l, rank } = await psdCholesky(s, d);
    assert.equal(rank, Math.min(d, r), `rank of ${d}x${r}`);
    const lt = new Float64Array(rank * d);
    for (let i = 0; i < d; i++) for (let c = 0; c < rank; c++) lt[c * d + i] = l[i * rank + c];
    const back = matmul(l, lt, d, rank, d);
    const err = maxAbs(back.map((v, k) => v - s[k]));
    assert.ok(err < 1e-10 * maxAbs(s), `${d}x${r}: |LLᵀ - S| = ${err}`);
  }
});
