/**
 * The 25-Gaussian grid of the DRS / DDLS papers: an equal-weight mixture of 25 isotropic Gaussians
 * with centres {-2,-1,0,1,2}^2 and standard deviation 0.05.
 *
 * Mode k has centre (ix - 2, iy - 2) with k = 5 * ix + iy (ix, iy in 0..4).
 *
 * This module also holds the machinery shared by all equal-weight isotropic Gaussian mixtures
 * (`gaussianMixture2D`) and the argument checks shared by the datasets.
 */
import { describe, fail } from '../errors.js';
import type { Rng } from '../rng.js';
import type { Dataset2D } from './dataset.js';

/** RefineryError invalid_argument (path `n`) unless n is a non-negative integer. */
export function checkSampleCount(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) fail('invalid_argument', 'n', 'a non-negative integer', describe(n));
}

/** Number of points in an n x 2 array; RefineryError invalid_argument (path `points`) if it is not one. */
export function checkPoints(points: Float32Array | Float64Array): number {
  if (!(points instanceof Float32Array || points instanceof Float64Array)) {
    fail('invalid_argument', 'points', 'a Float32Array or Float64Array of n x 2 coordinates', describe(points));
  }
  if (points.length % 2 !== 0) {
    fail('invalid_argument', 'points', 'an array of n x 2 coordinates (even length)', describe(points));
  }
  return points.length / 2;
}

/**
 * An equal-weight mixture of isotropic Gaussians N(centre_j, std^2 I) in 2-D. `nearest` assigns
 * each point to its nearest centre (ties to the lowest index) and reports the distance to it;
 * `logDensity` is exact (log-sum-exp over the components).
 */
export function gaussianMixture2D(name: Dataset2D['name'], centres: Float64Array, std: number, bounds: [number, number, number, number]): Dataset2D {
  const k = centres.length / 2;
  const logNorm = -Math.log(k) - Math.log(2 * Math.PI * std * std);
  const inv2var = 1 / (2 * std * std);
  const comp = new Float64Array(k);

  return {
    name,
    modes: centres,
    numModes: k,
    std,
    bounds,

    sample(n: number, rng: Rng): Float32Array {
      checkSampleCount(n);
      const out = new Float32Array(2 * n);
      for (let i = 0; i < n; i++) {
        const j = rng.int(k);
        out[2 * i] = centres[2 * j] + std * rng.normal();
        out[2 * i + 1] = centres[2 * j + 1] + std * rng.normal();
      }
      return out;
    },

    nearest(points: Float32Array | Float64Array) {
      const n = checkPoints(points);
      const mode = new Int32Array(n);
      const distance = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const x = points[2 * i];
        const y = points[2 * i + 1];
        if (!Number.isFinite(x) || !Number.isFinite(y)) {
          mode[i] = -1;
          distance[i] = NaN;
          continue;
        }
        let best = Infinity;
        let bestJ = 0;
        for (let j = 0; j < k; j++) {
          const dx = x - centres[2 * j];
          const dy = y - centres[2 * j + 1];
          const d2 = dx * dx + dy * dy;
          if (d2 < best) {
            best = d2;
            bestJ = j;
          }
        }
        mode[i] = bestJ;
        distance[i] = Math.sqrt(best);
      }
      return { mode, distance };
    },

    logDensity(points: Float32Array | Float64Array): Float64Array {
      const n = checkPoints(points);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const x = points[2 * i];
        const y = points[2 * i + 1];
        let max = -Infinity;
        for (let j = 0; j < k; j++) {
          const dx = x - centres[2 * j];
          const dy = y - centres[2 * j + 1];
          const e = -(dx * dx + dy * dy) * inv2var;
          comp[j] = e;
          if (e > max) max = e;
        }
        if (!Number.isFinite(max)) {
          out[i] = Number.isNaN(max) || Number.isNaN(x) || Number.isNaN(y) ? NaN : -Infinity;
          continue;
        }
        let s = 0;
        for (let j = 0; j < k; j++) s += Math.exp(comp[j] - max);
        out[i] = max + Math.log(s) + logNorm;
      }
      return out;
    },
  };
}

function gridCentres(): Float64Array {
  const c = new Float64Array(50);
  for (let ix = 0; ix < 5; ix++) {
    for (let iy = 0; iy < 5; iy++) {
      const k = 5 * ix + iy;
      c[2 * k] = ix - 2;
      c[2 * k + 1] = iy - 2;
    }
  }
  return c;
}

export const GRID25_STD = 0.05;

export const grid25: Dataset2D = gaussianMixture2D('grid25', gridCentres(), GRID25_STD, [-3, 3, -3, 3]);
