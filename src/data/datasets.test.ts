import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RefineryError } from '../errors.js';
import { Rng } from '../rng.js';
import { DATASET_NAMES, getDataset, type Dataset2D } from './dataset.js';
import { grid25 } from './grid25.js';
import { ring8 } from './ring8.js';
import {
  swissroll,
  swissrollArcLength,
  swissrollCurve,
  swissrollModeProbabilities,
  swissrollTAtArcLength,
  SWISSROLL_LENGTH,
  SWISSROLL_T_MAX,
  SWISSROLL_T_MIN,
} from './swissroll.js';

const ALL: Dataset2D[] = [grid25, ring8, swissroll];

/** Composite Simpson rule of f over [a, b] with m (even) intervals. */
function simpson(f: (t: number) => number, a: number, b: number, m: number): number {
  const h = (b - a) / m;
  let s = f(a) + f(b);
  for (let i = 1; i < m; i++) s += (i % 2 === 1 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}

/** E[g(C)] for the noiseless part C of each dataset (the mixture centres, or the curve point). */
function noiselessExpectation(d: Dataset2D, g: (x: number, y: number) => number): number {
  if (d.name === 'swissroll') {
    const range = SWISSROLL_T_MAX - SWISSROLL_T_MIN;
    return simpson((t) => g(...swissrollCurve(t)), SWISSROLL_T_MIN, SWISSROLL_T_MAX, 200000) / range;
  }
  let s = 0;
  for (let j = 0; j < d.numModes; j++) s += g(d.modes[2 * j], d.modes[2 * j + 1]);
  return s / d.numModes;
}

function expectRefineryError(fn: () => unknown, path: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RefineryError);
    assert.equal(e.code, 'invalid_argument');
    assert.equal(e.issues[0].path, path);
    return true;
  });
}

test('registry: getDataset returns each built-in dataset and rejects unknown names', () => {
  assert.deepEqual([...DATASET_NAMES], ['grid25', 'ring8', 'swissroll']);
  for (const name of DATASET_NAMES) assert.equal(getDataset(name).name, name);
  assert.throws(
    () => getDataset('moons'),
    (e: unknown) => {
      assert.ok(e instanceof RefineryError);
      assert.equal(e.code, 'invalid_argument');
      assert.deepEqual(e.issues, [{ path: 'dataset', expected: 'one of grid25, ring8, swissroll', received: '"moons"' }]);
      return true;
    },
  );
});

test('shapes and constants', () => {
  assert.equal(grid25.numModes, 25);
  assert.equal(grid25.std, 0.05);
  assert.equal(ring8.numModes, 8);
  assert.equal(ring8.std, 0.02);
  assert.equal(swissroll.numModes, 16);
  assert.equal(swissroll.std, 0.05);
  for (const d of ALL) {
    assert.equal(d.modes.length, 2 * d.numModes);
    assert.equal(d.sample(7, new Rng(1)).length, 14);
    assert.equal(d.sample(0, new Rng(1)).length, 0);
  }
  // grid25 centres are exactly {-2..2}^2; ring8 centres are on the circle of radius 2
  const seen = new Set<string>();
  for (let j = 0; j < 25; j++) seen.add(`${grid25.modes[2 * j]},${grid25.modes[2 * j + 1]}`);
  for (let x = -2; x <= 2; x++) for (let y = -2; y <= 2; y++) assert.ok(seen.has(`${x},${y}`));
  for (let j = 0; j < 8; j++) assert.ok(Math.abs(Math.hypot(ring8.modes[2 * j], ring8.modes[2 * j + 1]) - 2) < 1e-12);
  // swiss roll modes: at equal arc length, on the curve
  for (let m = 0; m < 16; m++) {
    const t = swissrollTAtArcLength(((m + 0.5) * SWISSROLL_LENGTH) / 16);
    assert.ok(Math.abs(swissrollArcLength(t) - ((m + 0.5) * SWISSROLL_LENGTH) / 16) < 1e-9);
    const [x, y] = swissrollCurve(t);
    assert.ok(Math.abs(swissroll.modes[2 * m] - x) < 1e-12 && Math.abs(swissroll.modes[2 * m + 1] - y) < 1e-12);
  }
  // arc length: compare with a numeric integral of |c'(t)|
  const numeric = simpson((t) => Math.sqrt(1 + t * t) / 5, SWISSROLL_T_MIN, SWISSROLL_T_MAX, 20000);
  assert.ok(Math.abs(numeric - SWISSROLL_LENGTH) < 1e-9);
});

test('argument errors', () => {
  for (const d of ALL) {
    expectRefineryError(() => d.sample(-1, new Rng(1)), 'n');
    expectRefineryError(() => d.sample(1.5, new Rng(1)), 'n');
    expectRefineryError(() => d.nearest(new Float32Array(3)), 'points');
    expectRefineryError(() => d.logDensity(new Float64Array(5)), 'points');
  }
});

test('sample moments match the exact moments (5 standard errors)', () => {
  const n = 40000;
  for (const d of ALL) {
    const s = d.sample(n, new Rng(101, d.numModes));
    const v = d.std * d.std;
    // [statistic of the sample, its exact mean, its exact variance per draw]
    const checks: [string, (x: number, y: number) => number, number, number][] = [];
    for (const axis of [0, 1]) {
      const c = (x: number, y: number): number => (axis === 0 ? x : y);
      const m1 = noiselessExpectation(d, c);
      const m2 = noiselessExpectation(d, (x, y) => c(x, y) ** 2);
      const m4 = noiselessExpectation(d, (x, y) => c(x, y) ** 4);
      const ex2 = m2 + v;
      const ex4 = m4 + 6 * v * m2 + 3 * v * v;
      checks.push([`mean ${axis}`, c, m1, ex2 - m1 * m1]);
      checks.push([`second moment ${axis}`, (x, y) => c(x, y) ** 2, ex2, ex4 - ex2 * ex2]);
    }
    const mxy = noiselessExpectation(d, (x, y) => x * y);
    const ex2y2 =
      noiselessExpectation(d, (x, y) => x * x * y * y) + v * noiselessExpectation(d, (x) => x * x) + v * noiselessExpectation(d, (_x, y) => y * y) + v * v;
    checks.push(['cross moment', (x, y) => x * y, mxy, ex2y2 - mxy * mxy]);
    for (const [label, g, exact, variance] of checks) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += g(s[2 * i], s[2 * i + 1]);
      const got = sum / n;
      const se = Math.sqrt(variance / n);
      assert.ok(Math.abs(got - exact) < 5 * se, `${d.name} ${label}: ${got} vs ${exact} (se ${se})`);
    }
  }
});

/** Pearson's chi-square statistic of the counts against the probabilities. */
function chiSquare(counts: number[], probs: ArrayLike<number>): number {
  const total = counts.reduce((a, b) => a + b, 0);
  let x2 = 0;
  for (let j = 0; j < counts.length; j++) {
    const e = total * probs[j];
    x2 += (counts[j] - e) ** 2 / e;
  }
  return x2;
}

/** Upper 0.1% points of the chi-square distribution (df = number of modes - 1). */
const CHI2_999: Record<number, number> = { 7: 24.322, 15: 37.697, 24: 51.179 };

function modeProbabilities(d: Dataset2D): ArrayLike<number> {
  return d.name === 'swissroll' ? swissrollModeProbabilities() : new Array<number>(d.numModes).fill(1 / d.numModes);
}

test('per-mode counts are multinomial-consistent (chi-square, p = 0.001), and a missing mode is detected', () => {
  const n = 20000;
  for (const d of ALL) {
    const probs = modeProbabilities(d);
    assert.ok(Math.abs(Array.from(probs).reduce((a, b) => a + b, 0) - 1) < 1e-12);
    const s = d.sample(n, new Rng(7, d.numModes));
    const { mode } = d.nearest(s);
    const counts = new Array<number>(d.numModes).fill(0);
    for (const m of mode) counts[m]++;
    const critical = CHI2_999[d.numModes - 1];
    const x2 = chiSquare(counts, probs);
    assert.ok(x2 < critical, `${d.name}: chi2 ${x2} >= ${critical}`);

    // negative control: the same dataset with mode 0 removed (its samples dropped) must fail
    const kept: number[] = [];
    for (let i = 0; i < n; i++) if (mode[i] !== 0) kept.push(s[2 * i], s[2 * i + 1]);
    const reduced = d.nearest(new Float32Array(kept)).mode;
    const countsR = new Array<number>(d.numModes).fill(0);
    for (const m of reduced) countsR[m]++;
    assert.equal(countsR[0], 0);
    const x2R = chiSquare(countsR, probs);
    assert.ok(x2R > critical, `${d.name}: negative control chi2 ${x2R} <= ${critical}`);
  }
});

test('nearest() on the centres returns each mode at distance 0', () => {
  for (const d of ALL) {
    for (const arr of [d.modes, new Float32Array(d.modes)]) {
      const { mode, distance } = d.nearest(arr);
      for (let j = 0; j < d.numModes; j++) {
        assert.equal(mode[j], j, `${d.name} mode ${j}`);
        // the swiss roll's curve is a 4000-vertex polyline (and float32 rounding): distance ~1e-6
        const tol = d.name === 'swissroll' || arr instanceof Float32Array ? 1e-5 : 0;
        assert.ok(distance[j] <= tol, `${d.name} distance ${distance[j]}`);
      }
    }
  }
});

test('nearest(): distances match a brute-force search; non-finite points get mode -1', () => {
  const rng = new Rng(3);
  const pts = new Float64Array(2 * 300);
  rng.fillUniform(pts, -3.5, 3.5);
  // the swiss roll's curve finely sampled in t, with the mode of each sample point
  const m = 100000;
  const cx = new Float64Array(m + 1);
  const cy = new Float64Array(m + 1);
  const cm = new Int32Array(m + 1);
  for (let k = 0; k <= m; k++) {
    const t = SWISSROLL_T_MIN + ((SWISSROLL_T_MAX - SWISSROLL_T_MIN) * k) / m;
    [cx[k], cy[k]] = swissrollCurve(t);
    cm[k] = Math.min(15, Math.floor((swissrollArcLength(t) / SWISSROLL_LENGTH) * 16));
  }
  for (const d of ALL) {
    const { mode, distance } = d.nearest(pts);
    for (let i = 0; i < 300; i++) {
      const x = pts[2 * i];
      const y = pts[2 * i + 1];
      let best = Infinity;
      let bestMode = -1;
      if (d.name === 'swissroll') {
        let best2 = Infinity;
        for (let k = 0; k <= m; k++) {
          const d2 = (x - cx[k]) ** 2 + (y - cy[k]) ** 2;
          if (d2 < best2) {
            best2 = d2;
            bestMode = cm[k];
          }
        }
        best = Math.sqrt(best2);
        // sample spacing in t is 9.4e-5, i.e. at most 2.7e-5 in arc length
        assert.ok(Math.abs(distance[i] - best) < 2e-5, `${distance[i]} vs ${best}`);
      } else {
        for (let j = 0; j < d.numModes; j++) {
          const dd = Math.hypot(x - d.modes[2 * j], y - d.modes[2 * j + 1]);
          if (dd < best) {
            best = dd;
            bestMode = j;
          }
        }
        assert.ok(Math.abs(distance[i] - best) < 1e-12);
      }
      assert.equal(mode[i], bestMode, `${d.name} point ${x},${y}`);
    }
    const bad = d.nearest(new Float64Array([NaN, 0, 0, Infinity]));
    assert.deepEqual(Array.from(bad.mode), [-1, -1]);
    assert.ok(Number.isNaN(bad.distance[0]) && Number.isNaN(bad.distance[1]));
  }
});

test('logDensity integrates to 1 over the bounds box (midpoint rule on a grid)', () => {
  for (const d of ALL) {
    const [x0, x1, y0, y1] = d.bounds;
    // the density is smooth at scale std, so the midpoint rule with step std is accurate to ~e^(-2π²)
    const h = d.std;
    const nx = Math.round((x1 - x0) / h);
    const ny = Math.round((y1 - y0) / h);
    const hx = (x1 - x0) / nx;
    const hy = (y1 - y0) / ny;
    let total = 0;
    const row = new Float64Array(2 * nx);
    for (let r = 0; r < ny; r++) {
      for (let c = 0; c < nx; c++) {
        row[2 * c] = x0 + (c + 0.5) * hx;
        row[2 * c + 1] = y0 + (r + 0.5) * hy;
      }
      const ld = d.logDensity(row);
      for (const v of ld) total += Math.exp(v);
    }
    total *= hx * hy;
    assert.ok(Math.abs(total - 1) < 1e-3, `${d.name}: integral ${total}`);
  }
});

test('mixture logDensity equals the closed form', () => {
  for (const d of [grid25, ring8]) {
    const pts = new Float64Array([0.3, -0.7, d.modes[0], d.modes[1], 5, 5]);
    const got = d.logDensity(pts);
    for (let i = 0; i < 3; i++) {
      const expo: number[] = [];
      for (let j = 0; j < d.numModes; j++) {
        const d2 = (pts[2 * i] - d.modes[2 * j]) ** 2 + (pts[2 * i + 1] - d.modes[2 * j + 1]) ** 2;
        expo.push(-d2 / (2 * d.std * d.std));
      }
      const top = Math.max(...expo);
      const p = expo.reduce((acc, e) => acc + Math.exp(e - top), 0);
      const exact = top + Math.log(p) - Math.log(d.numModes * 2 * Math.PI * d.std * d.std);
      assert.ok(Math.abs(got[i] - exact) < 1e-9 * Math.max(1, Math.abs(exact)), `${d.name}: ${got[i]} vs ${exact}`);
    }
  }
  // far away the log density stays finite (no underflow to -Infinity), exactly -d²/(2σ²) + const
  const far = grid25.logDensity(new Float64Array([1e3, 2, Infinity, 0, NaN, 0]));
  const farExact = -((1e3 - 2) ** 2) / (2 * 0.05 * 0.05) - Math.log(25 * 2 * Math.PI * 0.05 * 0.05);
  assert.ok(Math.abs(far[0] - farExact) < 1e-9 * Math.abs(farExact));
  assert.equal(far[1], -Infinity);
  assert.ok(Number.isNaN(far[2]));
});

const REF_M = 400_000;
let refCurve: { x: Float64Array; y: Float64Array } | undefined;

/**
 * log of 1/(3π) ∫ N(x; c(t), σ² I) dt by a composite Simpson rule with 400000 intervals in t
 * (step 2.4e-5, far below the narrowest width of the integrand), in log space.
 */
function swissrollReferenceLogDensity(x: number, y: number): number {
  const a = SWISSROLL_T_MIN;
  const b = SWISSROLL_T_MAX;
  const h = (b - a) / REF_M;
  if (refCurve === undefined) {
    refCurve = { x: new Float64Array(REF_M + 1), y: new Float64Array(REF_M + 1) };
    for (let i = 0; i <= REF_M; i++) [refCurve.x[i], refCurve.y[i]] = swissrollCurve(a + i * h);
  }
  const cx = refCurve.x;
  const cy = refCurve.y;
  const s2 = 2 * swissroll.std * swissroll.std;
  let max = -Infinity;
  for (let i = 0; i <= REF_M; i++) max = Math.max(max, -((x - cx[i]) ** 2 + (y - cy[i]) ** 2) / s2);
  let sum = 0;
  for (let i = 0; i <= REF_M; i++) {
    const w = i === 0 || i === REF_M ? 1 : i % 2 === 1 ? 4 : 2;
    sum += w * Math.exp(-((x - cx[i]) ** 2 + (y - cy[i]) ** 2) / s2 - max);
  }
  return max + Math.log((sum * h) / 3 / (b - a)) - Math.log(Math.PI * s2);
}

test('swiss roll logDensity: relative error < 1e-3 against a fine Simpson rule', () => {
  const rng = new Rng(11);
  const pts: number[] = [];
  for (let i = 0; i < 12; i++) pts.push(rng.uniform() * 6 - 3, rng.uniform() * 6 - 3); // anywhere in the box
  for (let i = 0; i < 12; i++) {
    // near the curve, within a few std
    const t = SWISSROLL_T_MIN + (SWISSROLL_T_MAX - SWISSROLL_T_MIN) * rng.uniform();
    const [cx, cy] = swissrollCurve(t);
    pts.push(cx + 0.1 * rng.normal(), cy + 0.1 * rng.normal());
  }
  // at, around and beyond both ends of the curve, and the box corners
  for (const t of [SWISSROLL_T_MIN, SWISSROLL_T_MAX]) {
    const [cx, cy] = swissrollCurve(t);
    for (const [dx, dy] of [
      [0, 0],
      [0.03, -0.02],
      [0.3, 0],
      [0, 0.3],
      [-0.2, 0.2],
      [1, 1],
    ]) {
      pts.push(cx + dx, cy + dy);
    }
  }
  pts.push(-3, -3, 3, 3, -3, 3, 3, -3);
  const got = swissroll.logDensity(new Float64Array(pts));
  for (let i = 0; i < pts.length / 2; i++) {
    const ref = swissrollReferenceLogDensity(pts[2 * i], pts[2 * i + 1]);
    // |log p - log p_ref| < 1e-3 bounds the relative error of p
    assert.ok(Math.abs(got[i] - ref) < 1e-3, `(${pts[2 * i]}, ${pts[2 * i + 1]}): ${got[i]} vs ${ref}`);
  }
});

test('determinism: same seed gives identical arrays, another seed does not', () => {
  for (const d of ALL) {
    const a = d.sample(1000, new Rng(42));
    const b = d.sample(1000, new Rng(42));
    const c = d.sample(1000, new Rng(43));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.deepEqual(d.nearest(a), d.nearest(b));
    assert.deepEqual(d.logDensity(a), d.logDensity(b));
  }
});
