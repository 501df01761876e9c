import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../rng.js';
import { psdCholesky, symmetricEigenvalues, tridiagonalEigenvalues, tridiagonalize, tridiagonalizeBlocked } from './eigen.js';
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

test('tridiagonal QL eigenvalues equal the Jacobi ones to rounding, on random, PSD, degenerate and tiny matrices', async () => {
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
    // rounding-level entries at the bottom of T: QL ran the wrong way and did not converge
    ['PSD rank 60 of 160', randomPsd(160, 60, rng), 160],
  ];
  for (const [name, a, d] of cases) {
    const ql = await symmetricEigenvalues(a, d);
    const jacobi = symmetricEigen(Float64Array.from(a), d, { vectors: false }).values;
    const tol = 1e-12 * Math.max(1, maxAbs(jacobi)) * d;
    for (let i = 0; i < d; i++) assert.ok(Math.abs(ql[i] - jacobi[i]) <= tol, `${name}: λ${i} ${ql[i]} vs ${jacobi[i]}`);
  }
  // The trace is the sum of the eigenvalues (an independent check); a perturbed matrix differs.
  const a = randomSymmetric(50, rng);
  let tr = 0;
  for (let i = 0; i < 50; i++) tr += a[i * 51];
  const sum = (await symmetricEigenvalues(a, 50)).reduce((x, y) => x + y, 0);
  assert.ok(Math.abs(sum - tr) < 1e-10);
  a[51] += 1e-3;
  assert.ok(Math.abs((await symmetricEigenvalues(a, 50)).reduce((x, y) => x + y, 0) - tr) > 5e-4, 'negative control');
});

test('the blocked reduction (panels, onnxruntime products) gives the unblocked eigenvalues to rounding, and leaves its input alone', async () => {
  const rng = new Rng(12);
  // 300: one panel then the unblocked tail; 700: fourteen panels. PSD of rank 150: zero eigenvalues.
  for (const [name, a, d] of [
    ['random 300', randomSymmetric(300, rng), 300],
    ['random 700', randomSymmetric(700, rng), 700],
    ['PSD rank 150 of 400', randomPsd(400, 150, rng), 400],
  ] as [string, Float64Array, number][]) {
    const copy = Float64Array.from(a);
    const blocked = await tridiagonalizeBlocked(a, d);
    assert.deepEqual(a, copy, `${name}: input modified`);
    const got = tridiagonalEigenvalues(blocked.diag, blocked.off);
    const ref = tridiagonalize(Float64Array.from(a), d);
    const want = tridiagonalEigenvalues(ref.diag, ref.off);
    const tol = 1e-13 * maxAbs(want) * Math.sqrt(d);
    let worst = 0;
    for (let i = 0; i < d; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    assert.ok(worst <= tol, `${name}: max |λ difference| ${worst} > ${tol}`);
    // control: one entry changed (both triangles) moves the eigenvalues far beyond the tolerance
    const b = Float64Array.from(a);
    b[1] += 1e-3 * maxAbs(want);
    b[d] = b[1];
    const moved = await tridiagonalizeBlocked(b, d);
    const other = tridiagonalEigenvalues(moved.diag, moved.off);
    assert.ok(
      other.some((x, i) => Math.abs(x - want[i]) > 100 * tol),
      `${name}: negative control`,
    );
  }
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
