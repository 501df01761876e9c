/** Samples of the built-in datasets as tensors: the 2-D sets (grid25, ring8, swissroll) and the image set shapes28. */
import { describe, fail } from '../errors.js';
import { Rng } from '../rng.js';
import type { Tensor } from '../tensor.js';
import { DATASET_NAMES, getDataset } from './dataset.js';
import { getImageDataset, IMAGE_DATASET_NAMES } from './images.js';

/** Every built-in dataset. */
export const BUILTIN_DATASETS = [...DATASET_NAMES, ...IMAGE_DATASET_NAMES] as const;
/** One of `BUILTIN_DATASETS`. */
export type BuiltinDataset = (typeof BUILTIN_DATASETS)[number];

/** The stream of dataset draws: Rng(seed, REAL_STREAM). The command line's --dataset draws the same samples. */
export const REAL_STREAM = 0x7265616c;

/**
 * `n` samples of a built-in dataset drawn with `seed` (default 0): [n, 2] points or
 * [n, 1, 28, 28] images in [-1, 1], with the mode (class) index of each sample.
 */
export function sampleDataset(name: BuiltinDataset, n: number, options: { seed?: number } = {}): Tensor & { labels: Int32Array } {
  if (!Number.isSafeInteger(n) || n < 1) fail('invalid_argument', 'n', 'a positive integer', describe(n));
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) fail('invalid_argument', 'seed', 'a safe integer', describe(seed));
  const rng = new Rng(seed, REAL_STREAM);
  if ((DATASET_NAMES as readonly string[]).includes(name)) {
    const ds = getDataset(name);
    const data = ds.sample(n, rng);
    return { data, shape: [n, 2], labels: ds.nearest(data).mode };
  }
  if ((IMAGE_DATASET_NAMES as readonly string[]).includes(name)) {
    const ds = getImageDataset(name);
    const { data, labels } = ds.sampleLabeled(n, rng);
    return { data, shape: [n, ...ds.shape], labels };
  }
  return fail('invalid_argument', 'dataset', `one of ${BUILTIN_DATASETS.join(', ')}`, describe(name));
}
