/**
 * Spectral normalisation (Miyato et al.): W_sn = W / sigma(W), sigma estimated by one power
 * iteration per step with a persistent vector u. As in PyTorch, u and v are constants for the
 * gradient: dL/dW = (G - <G, W_sn> u v^T) / sigma, where G = dL/dW_sn.
 */
import type { Rng } from '../rng.js';

export interface SpectralState {
  rows: number;
  cols: number;
  u: Float64Array;
  v: Float64Array;
  sigma: number;
}

function normalize(a: Float64Array): void {
  let s = 0;
  for (const x of a) s += x * x;
  const n = Math.sqrt(s) + 1e-12;
  for (let i = 0; i < a.length; i++) a[i] /= n;
}

export function spectralInit(rows: number, cols: number, rng: Rng): SpectralState {
  const u = new Float64Array(rows);
  for (let i = 0; i < rows; i++) u[i] = rng.normal();
  normalize(u);
  return { rows, cols, u, v: new Float64Array(cols), sigma: 1 };
}

/**
 * `iterations` power iterations (updating u), then writes W / sigma into `out`, sigma = u^T W v
 * with v = W^T u / |W^T u|. With 0 iterations u is left as it is: the same u gives the same W_sn.
 */
export function spectralNormalize(w: Float32Array, s: SpectralState, out: Float32Array, iterations = 1): void {
  const { rows, cols, u, v } = s;
  if (iterations === 0) {
    v.fill(0);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) v[c] += w[r * cols + c] * u[r];
    normalize(v);
  }
  for (let it = 0; it < iterations; it++) {
    v.fill(0);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) v[c] += w[r * cols + c] * u[r];
    normalize(v);
    for (let r = 0; r < rows; r++) {
      let acc = 0;
      for (let c = 0; c < cols; c++) acc += w[r * cols + c] * v[c];
      u[r] = acc;
    }
    normalize(u);
  }
  let sigma = 0;
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    for (let c = 0; c < cols; c++) acc += w[r * cols + c] * v[c];
    sigma += u[r] * acc;
  }
  s.sigma = sigma;
  for (let i = 0; i < w.length; i++) out[i] = w[i] / sigma;
}

/** Chain rule through W_sn = W / sigma: turns dL/dW_sn into dL/dW (in place). */
export function spectralBackward(grad: Float32Array, wsn: Float32Array, s: SpectralState): void {
  let dot = 0;
  for (let i = 0; i < grad.length; i++) dot += grad[i] * wsn[i];
  const { rows, cols, u, v, sigma } = s;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) grad[r * cols + c] = (grad[r * cols + c] - dot * u[r] * v[c]) / sigma;
}
