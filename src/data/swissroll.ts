/**
 * The 2-D swiss roll: t ~ U[1.5π, 4.5π] (the density of t is uniform, so the density per unit of
 * arc length is NOT uniform: it falls as 1 / sqrt(1 + t^2) towards the outer end), the point is
 * c(t) = (t cos t, t sin t) / 5 (roughly inside [-2.2, 2.6] x [-2.2, 2.9]), plus isotropic noise
 * N(0, 0.05^2 I).
 *
 * Modes: the curve is cut into 16 pieces of equal arc length; mode m is piece m (counted from the
 * inner end t = 1.5π), its centre is the curve point at the middle (in arc length) of the piece.
 * Because t is uniform, the pieces do not carry equal probability (see `swissrollModeProbabilities`).
 * `nearest` finds the nearest point of the curve, approximated by a polyline of 4000 vertices equally
 * spaced in arc length (the sagitta error is below 3e-6), and reports the piece it lies on and the
 * distance to it.
 *
 * `logDensity` is the convolution of the curve measure with the Gaussian,
 *   p(x) = 1/(3π) ∫ N(x; c(t), σ² I) dt,
 * by composite 8-point Gauss–Legendre quadrature over t in log space, with panels of width at most
 * 0.04 in t (the integrand's width in t is at least σ / |c'(t)| ≈ 0.018 near the curve) and panels
 * graded geometrically (from 1e-5) towards both ends of the range, where the integrand can be cut off
 * sharply; its relative error is well below 1e-3 (checked against a fine Simpson rule in the tests).
 */
import type { Rng } from '../rng.js';
import type { Dataset2D } from './dataset.js';
import { checkPoints, checkSampleCount } from './grid25.js';

export const SWISSROLL_T_MIN = 1.5 * Math.PI;
export const SWISSROLL_T_MAX = 4.5 * Math.PI;
export const SWISSROLL_SCALE = 0.2;
export const SWISSROLL_STD = 0.05;
export const SWISSROLL_NUM_MODES = 16;
const POLYLINE_VERTICES = 4000;

/** The noiseless curve point at parameter t. */
export function swissrollCurve(t: number): [number, number] {
  return [SWISSROLL_SCALE * t * Math.cos(t), SWISSROLL_SCALE * t * Math.sin(t)];
}

function primitive(t: number): number {
  // ∫ sqrt(1 + t^2) dt
  return 0.5 * (t * Math.sqrt(1 + t * t) + Math.asinh(t));
}

/** Arc length of the curve from t = 1.5π to t (exact: |c'(t)| = sqrt(1 + t^2) / 5). */
export function swissrollArcLength(t: number): number {
  return SWISSROLL_SCALE * (primitive(t) - primitive(SWISSROLL_T_MIN));
}

/** Total arc length of the curve (≈ 17.9). */
export const SWISSROLL_LENGTH = swissrollArcLength(SWISSROLL_T_MAX);

/** The parameter t at arc length s from the inner end (inverse of `swissrollArcLength`). */
export function swissrollTAtArcLength(s: number): number {
  if (s <= 0) return SWISSROLL_T_MIN;
  if (s >= SWISSROLL_LENGTH) return SWISSROLL_T_MAX;
  let lo = SWISSROLL_T_MIN;
  let hi = SWISSROLL_T_MAX;
  let t = SWISSROLL_T_MIN + ((SWISSROLL_T_MAX - SWISSROLL_T_MIN) * s) / SWISSROLL_LENGTH;
  for (let it = 0; it < 100; it++) {
    const f = swissrollArcLength(t) - s;
    if (f > 0) hi = t;
    else lo = t;
    let next = t - f / (SWISSROLL_SCALE * Math.sqrt(1 + t * t));
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - t) <= 1e-15 * Math.abs(t)) return next;
    t = next;
  }
  return t;
}

/**
 * Probability of each mode (piece of equal arc length) under the noiseless curve measure: the length
 * in t of the piece over 3π. The noise moves only a negligible fraction of the mass across piece
 * boundaries, so these are the expected mode frequencies of samples.
 */
export function swissrollModeProbabilities(): Float64Array {
  const p = new Float64Array(SWISSROLL_NUM_MODES);
  const range = SWISSROLL_T_MAX - SWISSROLL_T_MIN;
  for (let m = 0; m < SWISSROLL_NUM_MODES; m++) {
    const t0 = swissrollTAtArcLength((m * SWISSROLL_LENGTH) / SWISSROLL_NUM_MODES);
    const t1 = swissrollTAtArcLength(((m + 1) * SWISSROLL_LENGTH) / SWISSROLL_NUM_MODES);
    p[m] = (t1 - t0) / range;
  }
  return p;
}

// ---- polyline and its uniform-grid index, for nearest() ----

interface Polyline {
  x: Float64Array;
  y: Float64Array;
  /** arc length at each vertex */
  s: Float64Array;
  // grid index over the segments (segment i joins vertex i and i + 1), CSR layout
  gx0: number;
  gy0: number;
  cell: number;
  ncx: number;
  ncy: number;
  cellStart: Int32Array;
  cellItems: Int32Array;
}

function buildPolyline(): Polyline {
  const V = POLYLINE_VERTICES;
  const x = new Float64Array(V);
  const y = new Float64Array(V);
  const s = new Float64Array(V);
  for (let i = 0; i < V; i++) {
    const si = (i * SWISSROLL_LENGTH) / (V - 1);
    const [cx, cy] = swissrollCurve(swissrollTAtArcLength(si));
    x[i] = cx;
    y[i] = cy;
    s[i] = si;
  }
  let xmin = Infinity;
  let xmax = -Infinity;
  let ymin = Infinity;
  let ymax = -Infinity;
  for (let i = 0; i < V; i++) {
    xmin = Math.min(xmin, x[i]);
    xmax = Math.max(xmax, x[i]);
    ymin = Math.min(ymin, y[i]);
    ymax = Math.max(ymax, y[i]);
  }
  const cell = 0.1;
  const pad = 0.5;
  const gx0 = xmin - pad;
  const gy0 = ymin - pad;
  const ncx = Math.ceil((xmax + pad - gx0) / cell);
  const ncy = Math.ceil((ymax + pad - gy0) / cell);
  const counts = new Int32Array(ncx * ncy + 1);
  const forEachCell = (i: number, f: (c: number) => void): void => {
    const c0 = Math.floor((Math.min(x[i], x[i + 1]) - gx0) / cell);
    const c1 = Math.floor((Math.max(x[i], x[i + 1]) - gx0) / cell);
    const r0 = Math.floor((Math.min(y[i], y[i + 1]) - gy0) / cell);
    const r1 = Math.floor((Math.max(y[i], y[i + 1]) - gy0) / cell);
    for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) f(r * ncx + c);
  };
  for (let i = 0; i < V - 1; i++) forEachCell(i, (c) => counts[c + 1]++);
  for (let c = 0; c < ncx * ncy; c++) counts[c + 1] += counts[c];
  const cellStart = counts.slice();
  const fill = counts.slice(0, ncx * ncy);
  const cellItems = new Int32Array(cellStart[ncx * ncy]);
  for (let i = 0; i < V - 1; i++) forEachCell(i, (c) => (cellItems[fill[c]++] = i));
  return { x, y, s, gx0, gy0, cell, ncx, ncy, cellStart, cellItems };
}

let polylineCache: Polyline | undefined;
function polyline(): Polyline {
  polylineCache ??= buildPolyline();
  return polylineCache;
}

/** Running best of a nearest-segment search. */
interface Best {
  d2: number;
  s: number;
}

function testSegment(pl: Polyline, i: number, px: number, py: number, best: Best): void {
  const ax = pl.x[i];
  const ay = pl.y[i];
  const dx = pl.x[i + 1] - ax;
  const dy = pl.y[i + 1] - ay;
  const len2 = dx * dx + dy * dy;
  let u = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
  if (u < 0) u = 0;
  else if (u > 1) u = 1;
  const ex = ax + u * dx - px;
  const ey = ay + u * dy - py;
  const d2 = ex * ex + ey * ey;
  if (d2 < best.d2) {
    best.d2 = d2;
    best.s = pl.s[i] + u * (pl.s[i + 1] - pl.s[i]);
  }
}

function nearestOnCurve(pl: Polyline, px: number, py: number, best: Best): void {
  best.d2 = Infinity;
  best.s = 0;
  const ci = Math.floor((px - pl.gx0) / pl.cell);
  const cj = Math.floor((py - pl.gy0) / pl.cell);
  if (ci < 0 || cj < 0 || ci >= pl.ncx || cj >= pl.ncy) {
    // outside the indexed box: plain scan (still linear in the number of points)
    for (let i = 0; i < pl.x.length - 1; i++) testSegment(pl, i, px, py, best);
    return;
  }
  const maxR = Math.max(pl.ncx, pl.ncy);
  for (let r = 0; r <= maxR; r++) {
    for (let j = cj - r; j <= cj + r; j++) {
      if (j < 0 || j >= pl.ncy) continue;
      const edgeRow = j === cj - r || j === cj + r;
      const step = edgeRow ? 1 : 2 * r;
      for (let i = ci - r; i <= ci + r; i += step || 1) {
        if (i < 0 || i >= pl.ncx) continue;
        const c = j * pl.ncx + i;
        for (let q = pl.cellStart[c]; q < pl.cellStart[c + 1]; q++) testSegment(pl, pl.cellItems[q], px, py, best);
      }
    }
    // every cell not yet searched is at least r cells away, i.e. at distance >= r * cell
    const bound = r * pl.cell;
    if (best.d2 <= bound * bound) return;
  }
}

// ---- quadrature nodes for logDensity ----

/** Nodes and weights of the q-point Gauss–Legendre rule on [-1, 1] (Newton on P_q). */
function gaussLegendre(q: number): { x: Float64Array; w: Float64Array } {
  const x = new Float64Array(q);
  const w = new Float64Array(q);
  for (let i = 0; i < q; i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (q + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = z;
      for (let k = 2; k <= q; k++) {
        const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = (q * (z * p1 - p0)) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) break;
    }
    x[i] = z;
    w[i] = 2 / ((1 - z * z) * dp * dp);
  }
  return { x, w };
}

interface Quadrature {
  cx: Float64Array;
  cy: Float64Array;
  logw: Float64Array;
}

/** Curve points and log weights (including the 1/(3π) density of t) of the composite rule. */
function buildQuadrature(maxPanel: number, firstPanel: number, order: number): Quadrature {
  const a = SWISSROLL_T_MIN;
  const b = SWISSROLL_T_MAX;
  const left: number[] = [a];
  const right: number[] = [b];
  for (let w = firstPanel, at = a; w < maxPanel && at + w < (a + b) / 2; w *= 2) {
    at += w;
    left.push(at);
  }
  for (let w = firstPanel, at = b; w < maxPanel && at - w > (a + b) / 2; w *= 2) {
    at -= w;
    right.push(at);
  }
  const lo = left[left.length - 1];
  const hi = right[right.length - 1];
  const m = Math.max(1, Math.ceil((hi - lo) / maxPanel));
  const breaks = [...left];
  for (let i = 1; i < m; i++) breaks.push(lo + ((hi - lo) * i) / m);
  breaks.push(...right.reverse());
  const gl = gaussLegendre(order);
  const nPanels = breaks.length - 1;
  const cx = new Float64Array(nPanels * order);
  const cy = new Float64Array(nPanels * order);
  const logw = new Float64Array(nPanels * order);
  const density = 1 / (b - a);
  for (let p = 0; p < nPanels; p++) {
    const half = 0.5 * (breaks[p + 1] - breaks[p]);
    const mid = 0.5 * (breaks[p + 1] + breaks[p]);
    for (let i = 0; i < order; i++) {
      const t = mid + half * gl.x[i];
      const [x, y] = swissrollCurve(t);
      cx[p * order + i] = x;
      cy[p * order + i] = y;
      logw[p * order + i] = Math.log(half * gl.w[i] * density);
    }
  }
  return { cx, cy, logw };
}

let quadratureCache: Quadrature | undefined;
function quadrature(): Quadrature {
  quadratureCache ??= buildQuadrature(0.04, 1e-5, 8);
  return quadratureCache;
}

function logDensity(points: Float32Array | Float64Array): Float64Array {
  const n = checkPoints(points);
  const { cx, cy, logw } = quadrature();
  const q = cx.length;
  const inv2var = 1 / (2 * SWISSROLL_STD * SWISSROLL_STD);
  const logNorm = -Math.log(2 * Math.PI * SWISSROLL_STD * SWISSROLL_STD);
  const e = new Float64Array(q);
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const x = points[2 * k];
    const y = points[2 * k + 1];
    if (Number.isNaN(x) || Number.isNaN(y)) {
      out[k] = NaN;
      continue;
    }
    let max = -Infinity;
    for (let i = 0; i < q; i++) {
      const dx = x - cx[i];
      const dy = y - cy[i];
      const v = logw[i] - (dx * dx + dy * dy) * inv2var;
      e[i] = v;
      if (v > max) max = v;
    }
    if (max === -Infinity) {
      out[k] = -Infinity;
      continue;
    }
    let sum = 0;
    for (let i = 0; i < q; i++) {
      const d = e[i] - max;
      if (d > -745) sum += Math.exp(d);
    }
    out[k] = max + Math.log(sum) + logNorm;
  }
  return out;
}

function modeCentres(): Float64Array {
  const c = new Float64Array(2 * SWISSROLL_NUM_MODES);
  for (let m = 0; m < SWISSROLL_NUM_MODES; m++) {
    const [x, y] = swissrollCurve(swissrollTAtArcLength(((m + 0.5) * SWISSROLL_LENGTH) / SWISSROLL_NUM_MODES));
    c[2 * m] = x;
    c[2 * m + 1] = y;
  }
  return c;
}

export const swissroll: Dataset2D = {
  name: 'swissroll',
  modes: modeCentres(),
  numModes: SWISSROLL_NUM_MODES,
  std: SWISSROLL_STD,
  bounds: [-3, 3, -3, 3],

  sample(n: number, rng: Rng): Float32Array {
    checkSampleCount(n);
    const out = new Float32Array(2 * n);
    const range = SWISSROLL_T_MAX - SWISSROLL_T_MIN;
    for (let i = 0; i < n; i++) {
      const t = SWISSROLL_T_MIN + range * rng.uniform();
      out[2 * i] = SWISSROLL_SCALE * t * Math.cos(t) + SWISSROLL_STD * rng.normal();
      out[2 * i + 1] = SWISSROLL_SCALE * t * Math.sin(t) + SWISSROLL_STD * rng.normal();
    }
    return out;
  },

  nearest(points: Float32Array | Float64Array) {
    const n = checkPoints(points);
    const pl = polyline();
    const mode = new Int32Array(n);
    const distance = new Float64Array(n);
    const best: Best = { d2: Infinity, s: 0 };
    const perMode = SWISSROLL_NUM_MODES / SWISSROLL_LENGTH;
    for (let k = 0; k < n; k++) {
      const x = points[2 * k];
      const y = points[2 * k + 1];
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        mode[k] = -1;
        distance[k] = NaN;
        continue;
      }
      nearestOnCurve(pl, x, y, best);
      mode[k] = Math.min(SWISSROLL_NUM_MODES - 1, Math.max(0, Math.floor(best.s * perMode)));
      distance[k] = Math.sqrt(best.d2);
    }
    return { mode, distance };
  },

  logDensity,
};
