/**
 * `trainRatio` (CLI `refinery train-ratio`): train the DRE-F-SP density-ratio network of the
 * dre-* methods (Choi et al. 2021) once and write it as a run folder: generator.onnx (the pair's),
 * discriminator.onnx (the network, with its feature extractor, x -> [batch, 1], an estimate of
 * log p_data(x) / p_g(x)) and meta.json (d_output logit, the training report under
 * extra.ratio). Every method then refines along it like along any D: `refine --method drs` on the
 * folder gives the samples of `refine --method dre-rs` on the pair with the same real samples,
 * seed and dre options, without training the network again (per run, per shard, per method).
 */
import { join } from 'node:path';
import { checkRealTensor } from '../data/real.js';
import { describe, fail } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { lockRunFolder } from '../io/lock.js';
import type { DreFspReport } from '../methods/estimators/drefsp.js';
import type { ModelMeta } from '../models/meta.js';
import { writeMeta } from '../models/metafile.js';
import type { ModelPair } from '../models/pair.js';
import { encodeGraph } from '../onnx/model.js';
import { DRE_DEFAULTS, DRE_SPECS, type DreOptions, trainDre } from '../refine/methods/dre.js';
import { resolveOptions } from '../refine/options.js';
import { generatorBytes } from './common.js';
import type { Tensor } from '../tensor.js';

/** Options of `trainRatio`: the dre-* methods' network options and the seed (the one `refine` would be given). */
export type TrainRatioOptions = DreOptions & {
  /** Seed of the fake pool, the splits and the network's initialisation. Default 0. */
  seed: number;
};

/** The argument of `trainRatio`: the run folder `out`, held-out real samples, options and hooks. */
export type TrainRatioCall = Partial<TrainRatioOptions> & {
  out: string;
  /** Write into an `out` that holds an earlier run, replacing it; otherwise refused. Default false. */
  overwrite?: boolean;
  /** Held-out real samples [m, ...dataShape] (not the data a metric will compare against). */
  real: Tensor;
  signal?: AbortSignal;
  /** Network training steps done (all candidate lambdas together). */
  onProgress?: (done: number, total: number) => void;
};

/** What `trainRatio` wrote, and the training report. */
export interface TrainRatioResult {
  /** The run folder written. */
  dir: string;
  /** generator.onnx, discriminator.onnx, meta.json in `dir`. */
  files: string[];
  /** What the dre-* methods record under `dre` in their summary. */
  report: DreFspReport;
}

/**
 * Train the DRE-F-SP network of `pair`'s generator against `real` and write the run folder `out`
 * (the files are written one by one, each atomically, meta.json last; `out` is locked meanwhile).
 */
export async function trainRatio(pair: ModelPair, call: TrainRatioCall): Promise<TrainRatioResult> {
  if (typeof call !== 'object' || call === null) fail('invalid_argument', 'options', 'an object { out, real, ... }', describe(call));
  const { out, overwrite, real, signal, onProgress, seed: givenSeed, ...given } = call;
  if (typeof out !== 'string' || out === '') fail('invalid_argument', 'out', 'a folder path', describe(out));
  const seed = givenSeed ?? 0;
  if (!Number.isSafeInteger(seed)) fail('invalid_argument', 'seed', 'a safe integer (|seed| < 2^53)', describe(givenSeed));
  const o = resolveOptions<DreOptions>(DRE_SPECS, DRE_DEFAULTS, given, 'trainRatio');
  const data = checkRealTensor(real, pair.meta.dataShape);
  const lock = lockRunFolder(out, pair.files, { overwrite }, false);
  try {
    const r = await trainDre({ pair, real: data, seed, signal, onProgress }, o);
    writeFileAtomic(join(out, 'generator.onnx'), generatorBytes(pair));
    writeFileAtomic(join(out, 'discriminator.onnx'), encodeGraph(r.critic));
    const { extra, ...rest } = pair.meta;
    const meta: ModelMeta = {
      ...rest,
      dOutput: 'logit',
      extra: {
        ...(extra ?? {}),
        producer: 'refinery train-ratio',
        d_output_semantics: "the DRE-F-SP network r(f(x)): an estimate of log p_data(x) / p_g(x) for this folder's generator",
        ratio: {
          ...r.report,
          generator: pair.files.generator || '(in memory)',
          discriminator_replaced: pair.files.discriminator || '(in memory)',
          real_rows: real.shape[0],
        },
      },
    };
    writeMeta(join(out, 'meta.json'), meta);
    return { dir: out, files: ['generator.onnx', 'discriminator.onnx', 'meta.json'].map((f) => join(out, f)), report: r.report };
  } finally {
    lock.release();
  }
}
