/**
 * Built-in 2-D toy datasets (the benchmarks of the DRS / MH-GAN / DDLS papers) and their registry.
 *
 * Each dataset knows its exact distribution: it can draw samples, say which mode a point belongs
 * to and how far the point is from the data support (for the mode metrics), and evaluate the exact
 * log density (for tests that need the exact answer).
 */
import { describe, fail } from '../errors.js';
import type { Rng } from '../rng.js';
import { grid25 } from './grid25.js';
import { ring8 } from './ring8.js';
import { swissroll } from './swissroll.js';

/** A built-in 2-D toy dataset with its exact distribution: sampling, mode assignment and log density. */
export interface Dataset2D {
  /** the dataset's name, one of `DATASET_NAMES` */
  name: 'grid25' | 'ring8' | 'swissroll';
  /** mode centres, k x 2 row-major */
  modes: Float64Array;
  /** number of modes k (rows of `modes`) */
  numModes: number;
  /** noise std of each mode (the unit of the "high quality" threshold) */
  std: number;
  /** n x 2 float32 samples, row-major */
  sample(n: number, rng: Rng): Float32Array;
  /**
   * For each point (n x 2): index of its mode and distance to the data support (to the nearest
   * centre for mixtures, to the curve for the swiss roll). A point with a non-finite coordinate
   * gets mode -1 and distance NaN.
   */
  nearest(points: Float32Array | Float64Array): { mode: Int32Array; distance: Float64Array };
  /** exact log density of the data distribution at each point (for tests that need the exact answer) */
  logDensity(points: Float32Array | Float64Array): Float64Array;
  /** xmin, xmax, ymin, ymax for plots */
  bounds: [number, number, number, number];
}

/** Names of the built-in 2-D datasets. */
export const DATASET_NAMES = ['grid25', 'ring8', 'swissroll'] as const;
/** One of `DATASET_NAMES`. */
export type DatasetName = (typeof DATASET_NAMES)[number];

/** The built-in dataset called `name`; RefineryError invalid_argument (path `dataset`) otherwise. */
export function getDataset(name: string): Dataset2D {
  switch (name) {
    case 'grid25':
      return grid25;
    case 'ring8':
      return ring8;
    case 'swissroll':
      return swissroll;
    default:
      return fail('invalid_argument', 'dataset', `one of ${DATASET_NAMES.join(', ')}`, describe(name));
  }
}
