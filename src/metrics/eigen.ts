/**
 * Symmetric eigenvalues in O(d³) with a small constant, for Fréchet distances of 2048-d features:
 * Householder reduction to tridiagonal form (4/3 d³ flops; from order 256 on by panels whose
 * products run on onnxruntime), then the implicit QL algorithm with Wilkinson shifts on the
 * tridiagonal matrix (O(d²)). Both steps are backward stable: the eigenvalues are exact for
 * A + E with ‖E‖ = O(ε‖A‖).
 *
 * And the semidefinite Cholesky factor S = L Lᵀ of a covariance (columns of near-zero pivots
 * dropped, so singular covariances need no ε·I).
 *
 * Matrices are dense, row-major Float64Array.
 */
import { fail } from '../errors.js';
import { matmul64, matvec64, trailingUpdate64 } from './dense.js';

/**
 * Reduce the symmetric matrix `a` (d x d, row-major; only its lower triangle is read, and it is
 * overwritten) to a tridiagonal T = Qᵀ A Q. Returns T's diagonal and sub-diagonal (e[i] = T[i+1, i]).
 *
 * Step k annihilates column k below the sub-diagonal with the reflector H = I - β v vᵀ
 * (v[0] = 1, β = 2/vᵀv): with p = β A v and w = p - (β/2)(pᵀv) v, the trailing block becomes
 * A - v wᵀ - w vᵀ.
 */
export function tridiagonalize(a: Float64Array, d: number): { diag: Float64Array; off: Float64Array } {
  const diag = new Float64Array(d);
  const off = new Float64Array(Math.max(d - 1, 0));
  const v = new Float64Array(d);
  const p = new Float64Array(d);
  for (let k = 0; k < d - 2; k++) {
    const s = k + 1; // first row of the trailing block
    diag[k] = a[k * d + k];
    const r = reflector(a, s * d + k, d, d - s, v, s);
    off[k] = r.off;
    if (r.beta === 0) continue;
    const beta = r.beta;
    // p = β A v over the trailing block, from its lower triangle: each a_ij (j < i) feeds p_i and p_j.
    for (let i = s; i < d; i++) p[i] = 0;
    for (let i = s; i < d; i++) {
      const row = i * d;
      const vi = v[i];
      let acc = a[row + i] * vi;
      for (let j = s; j < i; j++) {
        const aij = a[row + j];
        acc += aij * v[j];
        p[j] += aij * vi;
      }
      p[i] += acc;
    }
    let pv = 0;
    for (let i = s; i < d; i++) {
      p[i] *= beta;
      pv += p[i] * v[i];
    }
    const c = 0.5 * beta * pv;
    for (let i = s; i < d; i++) p[i] -= c * v[i]; // p is now w
    // A -= v wᵀ + w vᵀ on the lower triangle.
    for (let i = s; i < d; i++) {
      const row = i * d;
      const vi = v[i];
      const wi = p[i];
      for (let j = s; j <= i; j++) a[row + j] -= vi * p[j] + wi * v[j];
    }
  }
  if (d >= 2) {
    diag[d - 2] = a[(d - 2) * d + d - 2];
    off[d - 2] = a[(d - 1) * d + d - 2];
  }
  if (d >= 1) diag[d - 1] = a[(d - 1) * d + d - 1];
  return { diag, off };
}

/**
 * The Householder reflector H = I - β v vᵀ with H x = (alpha·scale) e1, of the `len` values
 * x_i = src[at + i·stride]: writes v (v[0] = 1) to out[o .. o + len) and returns β and
 * alpha·scale (the new sub-diagonal entry). β = 0 when x is already a multiple of e1 (no
 * reflection; out is then not meaningful).
 */
function reflector(src: Float64Array, at: number, stride: number, len: number, out: Float64Array, o: number): { beta: number; off: number } {
  let scale = 0;
  for (let i = 0; i < len; i++) scale = Math.max(scale, Math.abs(src[at + i * stride]));
  if (scale === 0) return { beta: 0, off: 0 };
  let norm2 = 0;
  for (let i = 0; i < len; i++) {
    const x = src[at + i * stride] / scale;
    out[o + i] = x;
    norm2 += x * x;
  }
  const x0 = out[o];
  const alpha = x0 >= 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2); // H x = alpha e1
  const v0 = x0 - alpha;
  if (v0 === 0) return { beta: 0, off: alpha * scale };
  out[o] = 1;
  for (let i = 1; i < len; i++) out[o + i] /= v0;
  // β = 2 / vᵀv, with vᵀv = (norm2 - x0² + v0²) / v0².
  return { beta: 2 / (1 + (norm2 - x0 * x0) / (v0 * v0)), off: alpha * scale };
}

/** Columns per panel of `tridiagonalizeBlocked`. */
const PANEL = 32;
/** Order from which `tridiagonalizeBlocked` works by panels (below it, the unblocked loop). */
const BLOCKED_FROM = 256;

/**
 * `tridiagonalize` by panels of 32 columns (the blocked reduction of LAPACK's dsytrd): within a
 * panel each column is reduced against the panel's earlier reflectors applied lazily
 * (A - Σ v wᵀ + w vᵀ is never formed), its product A v is one matrix-vector product with the
 * block as the panel found it, and at the end of the panel the trailing block takes all of the
 * panel's updates at once: A - [V W][W V]ᵀ, one GEMM. Both products run on onnxruntime
 * (dense.ts), which leaves JavaScript O(d² · 32) of the 4/3 d³ flops. Same T up to rounding (the
 * products sum in other orders). Below order 256 it is `tridiagonalize`. Reads the lower triangle
 * of `a`, which it does not modify.
 */
export async function tridiagonalizeBlocked(a: Float64Array, d: number): Promise<{ diag: Float64Array; off: Float64Array }> {
  if (d < BLOCKED_FROM) return tridiagonalize(Float64Array.from(a), d);
  const diag = new Float64Array(d);
  const off = new Float64Array(d - 1);
  // t: the trailing block (m x m, both triangles), from row and column k0 on.
  let m = d;
  let k0 = 0;
  let t: Float64Array = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) t[i * d + j] = t[j * d + i] = a[i * d + j];
  while (m >= BLOCKED_FROM) {
    // Row u of v / w: the panel's u-th reflector and its w, over the block's m rows (0 above row u + 1).
    const v = new Float64Array(PANEL * m);
    const w = new Float64Array(PANEL * m);
    const vc = new Float64Array(PANEL);
    const wc = new Float64Array(PANEL);
    const vDotV = new Float64Array(PANEL);
    const wDotV = new Float64Array(PANEL);
    for (let c = 0; c < PANEL; c++) {
      // Column c of the block, from its diagonal down, with the panel's earlier updates.
      for (let u = 0; u < c; u++) {
        vc[u] = v[u * m + c];
        wc[u] = w[u * m + c];
      }
      for (let i = c; i < m; i++) {
        let s = 0;
        for (let u = 0; u < c; u++) s += v[u * m + i] * wc[u] + w[u * m + i] * vc[u];
        t[i * m + c] -= s;
      }
      diag[k0 + c] = t[c * m + c];
      const vr = v.subarray(c * m, (c + 1) * m);
      const r = reflector(t, (c + 1) * m + c, m, m - c - 1, vr, c + 1);
      off[k0 + c] = r.off;
      if (r.beta === 0) {
        vr.fill(0);
        continue;
      }
      // p = β (A_c v), A_c = t - Σ_u v_u w_uᵀ + w_u v_uᵀ: t's columns after c are as the panel found them.
      const p = await matvec64(t, vr, m, m);
      for (let u = 0; u < c; u++) {
        let sv = 0;
        let sw = 0;
        for (let i = c + 1; i < m; i++) {
          sv += v[u * m + i] * vr[i];
          sw += w[u * m + i] * vr[i];
        }
        vDotV[u] = sv;
        wDotV[u] = sw;
      }
      let pv = 0;
      for (let i = c + 1; i < m; i++) {
        let s = p[i];
        for (let u = 0; u < c; u++) s -= v[u * m + i] * wDotV[u] + w[u * m + i] * vDotV[u];
        p[i] = r.beta * s;
        pv += p[i] * vr[i];
      }
      const half = 0.5 * r.beta * pv;
      for (let i = c + 1; i < m; i++) w[c * m + i] = p[i] - half * vr[i];
    }
    // The trailing block after the panel: t[P:, P:] - X Yᵀ with X = [V W], Y = [W V] (its rows from P on).
    const rest = m - PANEL;
    const x = new Float64Array(rest * 2 * PANEL);
    const y = new Float64Array(rest * 2 * PANEL);
    for (let i = 0; i < rest; i++) {
      for (let u = 0; u < PANEL; u++) {
        const vi = v[u * m + PANEL + i];
        const wi = w[u * m + PANEL + i];
        x[i * 2 * PANEL + u] = vi;
        x[i * 2 * PANEL + PANEL + u] = wi;
        y[i * 2 * PANEL + u] = wi;
        y[i * 2 * PANEL + PANEL + u] = vi;
      }
    }
    t = await trailingUpdate64(t, m, PANEL, x, y);
    m = rest;
    k0 += PANEL;
  }
  const tail = tridiagonalize(t, m);
  diag.set(tail.diag, k0);
  off.set(tail.off, k0);
  return { diag, off };
}

/**
 * Eigenvalues of the symmetric tridiagonal matrix with diagonal `diag` and sub-diagonal `off`
 * (both overwritten), ascending, by the implicit QL algorithm with Wilkinson shifts: deflate
 * where |e_m| ≤ ε (|d_m| + |d_m+1|), else chase one shifted QL sweep over the unreduced block,
 * which is first turned upside down when its last diagonal entry is smaller than its first.
 */
export function tridiagonalEigenvalues(diag: Float64Array, off: Float64Array): Float64Array {
  const n = diag.length;
  const dd = diag;
  const e = new Float64Array(n);
  e.set(off.subarray(0, Math.max(n - 1, 0)));
  for (let l = 0; l < n; l++) {
    let iterations = 0;
    let blockEnd = -1;
    for (;;) {
      // The first negligible sub-diagonal at or after l ends the unreduced block [l, m].
      let m = l;
      for (; m < n - 1; m++) {
        const scale = Math.abs(dd[m]) + Math.abs(dd[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * scale) break;
      }
      if (m === l) break;
      if (++iterations > 60) fail('internal', 'tridiagonalEigenvalues', 'QL convergence within 60 iterations per eigenvalue', `block [${l}, ${m}]`);
      // QL converges at the block's top and is stable when the block grows downwards; a block that
      // shrinks downwards (a rank-deficient matrix: rounding-level entries at the bottom) is
      // turned upside down first (LAPACK's dsterf runs QR on it instead), once per block. The
      // eigenvalues do not change.
      if (m !== blockEnd && Math.abs(dd[m]) < Math.abs(dd[l])) {
        for (let a = l, b = m; a < b; a++, b--) {
          const t = dd[a];
          dd[a] = dd[b];
          dd[b] = t;
        }
        for (let a = l, b = m - 1; a < b; a++, b--) {
          const t = e[a];
          e[a] = e[b];
          e[b] = t;
        }
      }
      blockEnd = m;
      // Wilkinson shift from the top 2x2 of the block.
      let g = (dd[l + 1] - dd[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = dd[m] - dd[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // Underflow: the block splits here.
          dd[i + 1] -= p;
          e[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = dd[i + 1] - p;
        r = (dd[i] - g) * s + 2 * c * b;
        p = s * r;
        dd[i + 1] = g + p;
        g = c * r - b;
      }
      if (r === 0 && i >= l) continue;
      dd[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  return Float64Array.from(dd).sort();
}

/** Eigenvalues (ascending) of the symmetric d x d matrix `a` (not modified). */
export async function symmetricEigenvalues(a: Float64Array, d: number): Promise<Float64Array> {
  if (a.length !== d * d) fail('invalid_argument', 'a', `a ${d} x ${d} matrix`, `${a.length} values`);
  const { diag, off } = await tridiagonalizeBlocked(a, d);
  return tridiagonalEigenvalues(diag, off);
}

/** Columns per block of `psdCholesky`: each block is updated by the columns before it in one product. */
const CHOLESKY_BLOCK = 64;

/**
 * Semidefinite Cholesky factor of a symmetric PSD matrix: S = L Lᵀ with L d x r, r the numerical
 * rank (a pivot below `tol` times the largest diagonal entry marks a direction S does not span;
 * its column is dropped). Returns L row-major (d x r) and r.
 *
 * Left-looking by blocks of 64 columns: a block's columns, from their diagonal down, less the
 * contributions of every column kept before the block, are one product (dense.ts: onnxruntime's
 * float64 GEMM from 2·10⁶ multiply-adds on, so d³/3 of the work); then the block is factored
 * column by column against the columns it keeps itself.
 */
export async function psdCholesky(s: Float64Array, d: number, tol = 1e-13): Promise<{ l: Float64Array; rank: number }> {
  let maxDiag = 0;
  for (let i = 0; i < d; i++) maxDiag = Math.max(maxDiag, s[i * d + i]);
  const threshold = tol * maxDiag;
  // The r-th kept column is stored as column r of a d x d buffer, so that every inner product
  // runs over contiguous memory.
  const l = new Float64Array(d * d);
  let rank = 0;
  for (let j0 = 0; j0 < d; j0 += CHOLESKY_BLOCK) {
    const w = Math.min(CHOLESKY_BLOCK, d - j0);
    const rows = d - j0;
    // block[i][c] = S[j0 + i, j0 + c] - Σ_{r < rank} L[j0 + i, r] L[j0 + c, r]
    const block = new Float64Array(rows * w);
    for (let i = 0; i < rows; i++) for (let c = 0; c < w; c++) block[i * w + c] = s[(j0 + i) * d + j0 + c];
    if (rank > 0) {
      const below = new Float64Array(rows * rank);
      for (let i = 0; i < rows; i++) below.set(l.subarray((j0 + i) * d, (j0 + i) * d + rank), i * rank);
      const across = new Float64Array(rank * w);
      for (let c = 0; c < w; c++) for (let r = 0; r < rank; r++) across[r * w + c] = l[(j0 + c) * d + r];
      const done = await matmul64(below, across, rows, rank, w);
      for (let k = 0; k < block.length; k++) block[k] -= done[k];
    }
    const first = rank; // the columns this block keeps start here
    for (let c = 0; c < w; c++) {
      const j = j0 + c;
      const rj = j * d;
      let piv = block[c * w + c];
      for (let r = first; r < rank; r++) piv -= l[rj + r] * l[rj + r];
      if (!(piv > threshold)) continue;
      const root = Math.sqrt(piv);
      l[rj + rank] = root;
      for (let i = j + 1; i < d; i++) {
        const ri = i * d;
        let acc = block[(i - j0) * w + c];
        for (let r = first; r < rank; r++) acc -= l[ri + r] * l[rj + r];
        l[ri + rank] = acc / root;
      }
      rank++;
    }
  }
  const out = new Float64Array(d * rank);
  for (let i = 0; i < d; i++) out.set(l.subarray(i * d, i * d + rank), i * rank);
  return { l: out, rank };
}
