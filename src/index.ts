/**
 * Refinery: make a trained generative model produce better samples, without retraining it, by
 * using its discriminator as an estimate of the density ratio log p_data / p_g.
 *
 * ```ts
 * import { loadPair, refine, evaluate, sampleDataset } from 'refinery';
 *
 * const pair = loadPair({ run: 'runs/grid' });          // generator.onnx, discriminator.onnx, meta.json
 * const r = await refine(pair, { method: 'ddls', n: 10000, seed: 0, numSteps: 1000, stepSize: 0.001, metropolis: true });
 * const real = sampleDataset('grid25', 10000);
 * const { metrics } = await evaluate(real, r.samples, { dataset: 'grid25' });
 * ```
 *
 * This module is the public API: everything it exports is stable; everything else in the package
 * is private and may change.
 *
 * @packageDocumentation
 */

// Models: a generator/discriminator pair from ONNX files or bytes.
export { type ModelPair, type PairOptions, type PairBytes, pairFromBytes, parseModel } from './models/pair.js';
export { loadPair } from './models/load.js';
export { type ModelMeta, type LatentPrior, type DOutput, LATENT_PRIORS, D_OUTPUTS } from './models/meta.js';
export {
  designMidpointPrior,
  midpointDivergence,
  NONPARAMETRIC_PRIOR,
  MIDPOINT_PRIOR_DEFAULTS,
  type MixturePrior,
  type MidpointPriorOptions,
} from './models/prior.js';
export { loadModel } from './onnx/modelfile.js';
export type { OnnxModel } from './onnx/graph.js';

// Refinement: one call over every method, in memory or streamed to a file; generator samples alone.
export {
  refine,
  REFINE_DEFAULTS,
  type RefineOptions,
  type MethodSettings,
  type RefineCommonOptions,
  type RefineResult,
  type RefineSummary,
  type RefineProgress,
} from './refine/refine.js';
export { defaultBatchSize } from './refine/batch.js';
export { type RefineShard, shardRows, parseShard, shardFromEnvironment, shardFileName, SHARD_ENVIRONMENT } from './refine/shard.js';
export { mergeShards, type MergeResult } from './refine/merge.js';
export { type Device, DEVICES } from './onnx/device.js';
export { refineToFile, sampleToFile, type RefineFileOptions, type RefineFileResult, type SampleFileResult } from './refine/file.js';
export { sample, SAMPLE_DEFAULTS, type SampleOptions } from './refine/sample.js';
export { type RefineFrame, type WatchOptions, WATCH_DEFAULTS } from './run/watch.js';
export type { StepInfo } from './run/kernel.js';
export { METHOD_IDS, type MethodId, type MethodOptionsMap } from './refine/registry.js';
export { METHOD_INFO, METHOD_DEFAULTS, type MethodInfo } from './refine/info.js';
export type { OptionSpec, OptionType } from './refine/options.js';
export type { DrsOptions, MhOptions, SirOptions } from './refine/methods/selection.js';
export type { DreOptions } from './refine/methods/dre.js';
export type { DdlsOptions, DcdOptions, DotOptions, DotLatentOptions, DgflowOptions } from './refine/methods/dynamics.js';
export { type Divergence, type FlowSpace, DIVERGENCES, FLOW_SPACES } from './targets/flow.js';
export { type DotCost, DOT_COSTS } from './methods/dynamics/dot.js';
export { type KEffEstimator, K_EFF_ESTIMATORS } from './run/dot.js';
export type { NamedPath } from './io/paths.js';

// Calibration of D into a density ratio.
export {
  calibrate,
  CALIBRATION_METHODS,
  type CalibrationMethod,
  type CalibrationResult,
  type CalibrationReport,
  type Calibrator,
  type CalibrateOptions,
} from './calibration/calibrate.js';
export type { CalibrationDiagnostic, ReliabilityBin } from './calibration/diagnostic.js';

// Evaluation: every metric at once, and each metric alone.
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
export { frechetDistance, frechetFromStats, gaussianStats, type FrechetResult, type GaussianStats } from './metrics/frechet.js';
export { inceptionScore, classStatistics, type InceptionScore, type ClassStatistics } from './metrics/classifier.js';
export { extractFeatures, type FeatureOptions, type SampleSource } from './metrics/features.js';
export { encodeLatents, type EncodeOptions } from './models/encoder.js';
export { kid, mmd, type KidOptions, type KidResult, type MmdOptions, type MmdResult } from './metrics/kid.js';
export { improvedPrecisionRecall, densityCoverage, type ManifoldOptions, type PrecisionRecall, type DensityCoverage } from './metrics/prdc.js';
export { prd, type PrdCurve, type PrdOptions, type PrdResult } from './metrics/prd.js';
export { classifierPrCurve, type ClassifierPrOptions, type ClassifierPrResult } from './metrics/classifierpr.js';
export { modeMetrics, type ModeMetrics } from './metrics/modes.js';
export { ganLikelihood, LIKELIHOOD_DEFAULTS, type LikelihoodOptions, type LikelihoodResult } from './metrics/likelihood.js';

// Base models: GAN trainers.
export { trainGan, GAN_MODELS, type GanModel, type TrainGanOptions, type TrainGanResult, type TrainHooks } from './train/train.js';
export { MLP_DEFAULTS, type MlpOptions } from './train/mlpgan.js';
export { trainMlpInMemory, type MlpMemoryOptions, type MlpGanOutput } from './train/gan2d.js';
export type { GanLoopResult, GanHooks } from './train/loop.js';
export { DCGAN_DEFAULTS, type DcganOptions } from './train/dcgan.js';
export { SAGAN_DEFAULTS, type SaganOptions } from './train/sagan.js';
export {
  trainClassifier,
  CLASSIFIER_DEFAULTS,
  type TrainClassifierOptions,
  type ClassifierOptions,
  type ClassifierResult,
} from './train/classifier.js';
export {
  finetuneCritic,
  FINETUNE_CRITIC_DEFAULTS,
  CRITIC_METHODS,
  CRITIC_LOSSES,
  CHAIN_SPACES,
  type CriticMethod,
  type CriticLoss,
  type ChainSpace,
  type FinetuneCriticOptions,
  type FinetuneCriticCall,
  type FinetuneCriticResult,
  type CriticProgress,
  type CriticHooks,
  type RealSource,
} from './train/critic.js';
export { trainCorrector, TRAIN_CORRECTOR_DEFAULTS, type TrainCorrectorOptions, type TrainCorrectorCall } from './train/corrector.js';
export { trainRatio, type TrainRatioOptions, type TrainRatioCall, type TrainRatioResult } from './train/ratio.js';
export type { DreFspOptions, DreFspReport } from './methods/estimators/drefsp.js';
export { trainVae, VAE_DEFAULTS, VAE_IMAGE_DEFAULTS, type VaeOptions, type VaeResult, type VaeProgress } from './train/vae.js';
export { trainAlphaGan, ALPHAGAN_DEFAULTS, ALPHAGAN_IMAGE_DEFAULTS, type AlphaGanOptions, type AlphaGanResult } from './train/alphagan.js';
export { GAN_LOSSES, type GanLoss, type TrainProgress, type GanLoopOptions, type TrainRunOptions, type GanResult } from './train/common.js';
export type { Activation } from './train/mlp.js';

// Data: built-in datasets, PNG folders, .npy files.
export { sampleDataset, BUILTIN_DATASETS, type BuiltinDataset } from './data/sample.js';
export { getDataset, DATASET_NAMES, type Dataset2D, type DatasetName } from './data/dataset.js';
export { openImageFolder, readImageFolder, writeImageFolder, type ImageFolder, type ImageFolderSource, type ReadImagesOptions } from './data/images.js';
export { parseNpy, encodeNpy, type NpyArray, type NpyInput, type NpyData, type NpyDtype } from './io/npy.js';
export { readNpy, writeNpy } from './io/npyfile.js';
export { readNpz, writeNpz } from './io/npz.js';
export type { Tensor } from './tensor.js';
export { Rng } from './rng.js';

// Pictures.
export { scatterPng, type ScatterPanel, type ScatterOptions } from './plot/scatter.js';
export { imageGridPng, imagePanelsPng, type GridOptions, type ImagePanel } from './plot/grid.js';
export { prCurvePng, type PrCurveSeries, type PrCurveOptions } from './plot/curves.js';
export { reliabilityPng, type ReliabilitySeries } from './plot/reliability.js';

// Errors.
export { RefineryError, type Issue, type ErrorCode } from './errors.js';

export { VERSION } from './version.js';
