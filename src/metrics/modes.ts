/**
 * Mode metrics of 2-D samples against a built-in dataset (the "modes / high-quality samples"
 * numbers of the DRS, MH-GAN and DDLS papers).
 */
import { describe, fail } from '../errors.js';
import { type Dataset2D, type DatasetName, getDataset } from '../data/dataset.js';

/** Mode metrics of 2-D samples against a built-in dataset (`modeMetrics` defines each one). */
export interface ModeMetrics {
  /** number of samples n */
  numSamples: number;
  /** number of modes of the dataset */
  numModes: number;
  /** modes with at least `minCount` (default 1) high-quality samples */
  recoveredModes: number;
  /** percentage (0 to 100) of samples within `threshold` of the data support */
  highQualityPercent: number;
  /** per-coordinate standard deviation of the high-quality samples around their mode; NaN when there are none */
  std: number;
  /** Jensen–Shannon divergence (natural log, in [0, ln 2]) of the high-quality mode histogram from uniform */
  jsModeHistogram: number;
  /** high-quality samples assigned to each mode, indexed by mode */
  modeCounts: number[];
  /** distance to the data support below which a sample is high quality: thresholdStd × dataset.std */
  threshold: number;
}

/**
 * Mode metrics of `samples` (n x 2, row-major) against `dataset`. One pass over the samples (linear
 * time, no batching).
 *
 * - Each sample is assigned to a mode and a distance to the data support by `dataset.nearest`
 *   (the nearest centre for the Gaussian mixtures; the nearest point of the curve, and the piece of
 *   the curve it lies on, for the swiss roll).
 * - `threshold` = thresholdStd × dataset.std (default thresholdStd = 4). A sample is *high quality*
 *   (HQ) if its distance is ≤ threshold; non-finite samples never are.
 * - `modeCounts[m]` = number of HQ samples assigned to mode m; a mode is *recovered* if
 *   modeCounts[m] ≥ minCount (default 1). `recoveredModes` counts them.
 * - `highQualityPercent` = 100 × HQ / n.
 * - `std` = sqrt( Σ_HQ distance² / (c × HQ) ): the per-coordinate standard deviation of the HQ
 *   samples around their mode, where the offset is taken from the assigned centre (c = 2
 *   coordinates) for the mixtures and from the nearest point of the curve for the swiss roll
 *   (c = 1: only the coordinate normal to the curve is an offset). It equals dataset.std for exact
 *   samples (up to the slight shrinkage of truncating at the threshold). NaN when there is no HQ
 *   sample.
 * - `jsModeHistogram` = Jensen–Shannon divergence (natural log, in [0, ln 2]) between the normalised
 *   histogram of HQ samples over the modes and the uniform distribution over the modes; defined as
 *   ln 2 (its maximum) when there is no HQ sample. Note that the swiss roll's modes (pieces of equal
 *   arc length) are not equally likely, so exact swiss-roll samples give a small positive value.
 *
 * Errors: RefineryError invalid_argument naming `samples` if it is not an n x 2 typed array with
 * n ≥ 1; naming `thresholdStd` / `minCount` for a bad option.
 */
export function modeMetrics(
  samples: Float32Array | Float64Array,
  datasetOrName: Dataset2D | DatasetName,
  options: { thresholdStd?: number; minCount?: number } = {},
): ModeMetrics {
  const dataset = typeof datasetOrName === 'string' ? getDataset(datasetOrName) : datasetOrName;
  if (!(samples instanceof Float32Array || samples instanceof Float64Array)) {
    fail('invalid_argument', 'samples', 'a Float32Array or Float64Array of n x 2 coordinates', describe(samples));
  }
  if (samples.length === 0 || samples.length % 2 !== 0) {
    fail('invalid_argument', 'samples', 'n x 2 coordinates with n >= 1', describe(samples));
  }
  const thresholdStd = options.thresholdStd ?? 4;
  if (typeof thresholdStd !== 'number' || !Number.isFinite(thresholdStd) || thresholdStd <= 0) {
    fail('invalid_argument', 'thresholdStd', 'a positive finite number', describe(thresholdStd));
  }
  const minCount = options.minCount ?? 1;
  if (!Number.isSafeInteger(minCount) || minCount < 1) {
    fail('invalid_argument', 'minCount', 'a positive integer', describe(minCount));
  }

  const n = samples.length / 2;
  const k = dataset.numModes;
  const threshold = thresholdStd * dataset.std;
  const { mode, distance } = dataset.nearest(samples);
  const counts = new Array<number>(k).fill(0);
  let hq = 0;
  let sumD2 = 0;
  for (let i = 0; i < n; i++) {
    const d = distance[i];
    const m = mode[i];
    if (d <= threshold && m >= 0 && m < k) {
      hq++;
      sumD2 += d * d;
      counts[m]++;
    }
  }
  let recovered = 0;
  for (const c of counts) if (c >= minCount) recovered++;
  const codim = dataset.name === 'swissroll' ? 1 : 2;

  return {
    numSamples: n,
    numModes: k,
    recoveredModes: recovered,
    highQualityPercent: (100 * hq) / n,
    std: hq > 0 ? Math.sqrt(sumD2 / (codim * hq)) : NaN,
    jsModeHistogram: hq > 0 ? jsAgainstUniform(counts, hq) : Math.LN2,
    modeCounts: counts,
    threshold,
  };
}

/** JS divergence (natural log) between counts / total and the uniform distribution. */
/** Jensen–Shannon divergence (natural log) of the normalised histogram `counts` from the uniform one. */
export function jsAgainstUniform(counts: number[], total: number): number {
  const k = counts.length;
  const q = 1 / k;
  let js = 0;
  for (const c of counts) {
    const p = c / total;
    const m = 0.5 * (p + q);
    if (p > 0) js += 0.5 * p * Math.log(p / m);
    js += 0.5 * q * Math.log(q / m);
  }
  return Math.max(0, js);
}
