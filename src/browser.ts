/**
 * Refinery in a browser: the in-memory part of the public API (pairs from bytes, `refine`, the
 * 2-D GAN trainer, the 2-D datasets, `evaluate` and its metrics, pictures, .npy bytes) over onnxruntime-web. The page imports
 * onnxruntime-web itself and hands it over once:
 *
 * ```ts
 * import * as ort from 'onnxruntime-web';
 * import { useOnnxRuntime, pairFromBytes, refine } from 'refinery/browser';
 *
 * useOnnxRuntime(ort);
 * const pair = pairFromBytes({ generator, discriminator, meta });
 * const r = await refine(pair, { method: 'drs', n: 1000, seed: 0 });
 * ```
 *
 * Nothing this module loads touches the file system or Node.js (a test checks its imports).
 *
 * @packageDocumentation
 */
import { type OrtBinding, setHost } from './platform/host.js';
import { webHost } from './platform/web.js';

/** Install onnxruntime-web (the module object) as the runtime of every graph. */
export function useOnnxRuntime(ort: OrtBinding): void {
  setHost(webHost(ort));
}

export { type ModelPair, type PairBytes, pairFromBytes, parseModel } from './models/pair.js';
export { type ModelMeta, type LatentPrior, type DOutput, LATENT_PRIORS, D_OUTPUTS, parseMeta, metaJson } from './models/meta.js';
export {
  designMidpointPrior,
  midpointDivergence,
  NONPARAMETRIC_PRIOR,
  MIDPOINT_PRIOR_DEFAULTS,
  type MixturePrior,
  type MidpointPriorOptions,
} from './models/prior.js';
export { refine, REFINE_DEFAULTS, type RefineOptions, type RefineResult, type RefineSummary, type RefineProgress } from './refine/refine.js';
export { defaultBatchSize } from './refine/batch.js';
export { encodeLatents, type EncodeOptions } from './models/encoder.js';
export { sample, SAMPLE_DEFAULTS, type SampleOptions } from './refine/sample.js';
export { METHOD_IDS, type MethodId, type MethodOptionsMap } from './refine/registry.js';
export { METHOD_INFO, METHOD_DEFAULTS, type MethodInfo } from './refine/info.js';
export { getDataset, DATASET_NAMES, type Dataset2D, type DatasetName } from './data/dataset.js';
export { CALIBRATION_METHODS, type CalibrationMethod, type CalibrationReport } from './calibration/calibrate.js';
export type { CalibrationDiagnostic, ReliabilityBin } from './calibration/diagnostic.js';
export { type RefineFrame, type WatchOptions, WATCH_DEFAULTS } from './run/watch.js';
export type { StepInfo } from './run/kernel.js';
export {
  evaluate,
  METRIC_NAMES,
  type MetricName,
  type EvaluateOptions,
  type EvaluateResult,
  type EvaluateMetrics,
  type Curve,
  type LikelihoodSummary,
} from './metrics/evaluate.js';
export type { SampleInput, Samples } from './metrics/linalg.js';
export { ganLikelihood, LIKELIHOOD_DEFAULTS, type LikelihoodOptions, type LikelihoodResult } from './metrics/likelihood.js';
export { modeMetrics, type ModeMetrics } from './metrics/modes.js';
export { scatterPng, type ScatterPanel, type ScatterOptions } from './plot/scatter.js';
export { imageGridPng, imagePanelsPng, type GridOptions, type ImagePanel } from './plot/grid.js';
export { prCurvePng, type PrCurveSeries, type PrCurveOptions } from './plot/curves.js';
export { reliabilityPng, type ReliabilitySeries } from './plot/reliability.js';
export { trainMlpInMemory, MLP_DEFAULTS, type MlpMemoryOptions, type MlpGanOutput, type MlpOptions } from './train/gan2d.js';
export type { TrainProgress } from './train/loop.js';
export { parseNpy, encodeNpy, type NpyArray, type NpyInput } from './io/npy.js';
export type { Tensor } from './tensor.js';
export { Rng } from './rng.js';
export { RefineryError, type Issue, type ErrorCode } from './errors.js';
export { VERSION } from './version.js';
