/**
 * `trainGan`: the one call that trains a base GAN and writes its run folder (generator.onnx,
 * discriminator.onnx, meta.json): an MLP GAN on a built-in 2-D dataset (`model: 'mlp'`, the
 * default), a DCGAN on images (`model: 'dcgan'`) or a SAGAN on images (`model: 'sagan'`). Options not given take the model's defaults;
 * an option the model does not have is an error, not a silent default.
 */
import { describe, fail, type Issue, RefineryError } from '../errors.js';
import type { ModelPair } from '../models/pair.js';
import { loadPair } from '../models/load.js';
import type { GanHooks, GanResult, TrainProgress } from './common.js';
import { DCGAN_DEFAULTS, type DcganOptions, trainDcgan } from './dcgan.js';
import { MLP_DEFAULTS, type MlpOptions, trainMlp } from './mlpgan.js';
import { SAGAN_DEFAULTS, type SaganOptions, trainSagan } from './sagan.js';

/** The trainers' models. */
export const GAN_MODELS = ['mlp', 'dcgan', 'sagan'] as const;
/** A trainer model: 'mlp' (points in R^2), 'dcgan' or 'sagan' (images). */
export type GanModel = (typeof GAN_MODELS)[number];

/** Cancellation and progress hooks of `trainGan`. */
export interface TrainHooks {
  /** Stops training after the current step; a checkpoint is written (resume with `resume: true`). */
  signal?: AbortSignal;
  /** Called every few steps with the step and the losses. */
  onProgress?: (p: TrainProgress) => void;
}

/** Options of `trainGan`: the run folder `out`, the model and that model's options. */
export type TrainGanOptions =
  | ({ model?: 'mlp'; out: string } & Partial<Omit<MlpOptions, 'out'>> & TrainHooks)
  | ({ model: 'dcgan'; out: string } & Partial<Omit<DcganOptions, 'out'>> & TrainHooks)
  | ({ model: 'sagan'; out: string } & Partial<Omit<SaganOptions, 'out'>> & TrainHooks);

/** What `trainGan` returns: the trainer's result, the model trained and the trained pair. */
export interface TrainGanResult extends GanResult {
  /** The model trained. */
  model: GanModel;
  /** The trained pair, loaded from the run folder, ready for `refine`. */
  pair: ModelPair;
}

const DEFAULTS: Record<GanModel, Record<string, unknown>> = { mlp: MLP_DEFAULTS, dcgan: DCGAN_DEFAULTS, sagan: SAGAN_DEFAULTS };

/** Keys that are not training options of a model: where and how to write, and the hooks. */
const HOOK_KEYS = ['model', 'out', 'overwrite', 'signal', 'onProgress'];

/** Train a GAN and write its run folder `options.out`; returns the losses, the meta and the pair. */
export async function trainGan(options: TrainGanOptions): Promise<TrainGanResult> {
  if (typeof options !== 'object' || options === null) fail('invalid_argument', 'options', 'an object { out, model, ... }', describe(options));
  const model = options.model ?? 'mlp';
  if (!(GAN_MODELS as readonly string[]).includes(model)) fail('invalid_argument', 'model', `one of ${GAN_MODELS.join(', ')}`, describe(model));
  const defaults: Record<string, unknown> = DEFAULTS[model];
  const given: Record<string, unknown> = {};
  const issues: Issue[] = [];
  for (const [k, v] of Object.entries(options)) {
    if (HOOK_KEYS.includes(k) || v === undefined) continue;
    if (!(k in defaults)) {
      const owners = GAN_MODELS.filter((m) => k in DEFAULTS[m]);
      const hint = owners.length > 0 ? `an option of model ${model} (${k} is an option of model ${owners.join(' and ')})` : `an option of model ${model}`;
      issues.push({ path: k, expected: hint, received: describe(v) });
    } else given[k] = v;
  }
  if (issues.length > 0) throw new RefineryError('invalid_argument', issues);
  const hooks: GanHooks = { signal: options.signal, onProgress: options.onProgress };
  const o = { ...defaults, ...given, out: options.out, overwrite: options.overwrite };
  const r =
    model === 'dcgan'
      ? await trainDcgan(o as DcganOptions, hooks)
      : model === 'sagan'
        ? await trainSagan(o as SaganOptions, hooks)
        : await trainMlp(o as MlpOptions, hooks);
  return { ...r, model, pair: loadPair({ run: r.dir }) };
}
