/** meta.json beside a generator/discriminator pair: what the latent prior is and what D outputs. */
import { describe, fail } from '../errors.js';

/**
 * Latent priors a generator can be fed: standard normal, uniform on [-1, 1] per coordinate, or the
 * non-parametric prior designed for interpolation (Singh et al. 2019; `NONPARAMETRIC_PRIOR`).
 */
export const LATENT_PRIORS = ['normal', 'uniform[-1,1]', 'nonparametric'] as const;
/** One of `LATENT_PRIORS`. */
export type LatentPrior = (typeof LATENT_PRIORS)[number];
/** Kinds of discriminator output (see `DOutput`). */
export const D_OUTPUTS = ['logit', 'probability', 'critic'] as const;
/** logit: log P(real)/P(fake), an estimate of log p_data/p_g; probability: sigmoid of that; critic: WGAN/hinge score. */
export type DOutput = (typeof D_OUTPUTS)[number];

/** Contents of meta.json beside a generator/discriminator pair, with camelCase keys. */
export interface ModelMeta {
  /** Size of one latent vector: the generator takes input of shape [batch, latentDim]. */
  latentDim: number;
  /** Distribution the latent vectors are drawn from. */
  latentPrior: LatentPrior;
  /** Shape of one generated sample, without the batch axis (e.g. [2] or [1, 28, 28]). */
  dataShape: number[];
  /** What the discriminator's single output per sample means. */
  dOutput: DOutput;
  /** Range of the generator's output, when known (e.g. [-1, 1] for tanh). */
  outputRange?: [number, number];
  /** Built-in dataset the pair was trained on, if any. */
  dataset?: string;
  /** Anything else recorded by the producer (training options, provenance). */
  extra?: Record<string, unknown>;
}

export function parseLatentPrior(value: unknown, path: string): LatentPrior {
  if (value === 'uniform') return 'uniform[-1,1]';
  if (typeof value === 'string' && (LATENT_PRIORS as readonly string[]).includes(value)) return value as LatentPrior;
  return fail('invalid_argument', path, `one of ${LATENT_PRIORS.join(', ')}`, describe(value));
}

export function parseDOutput(value: unknown, path: string): DOutput {
  if (typeof value === 'string' && (D_OUTPUTS as readonly string[]).includes(value)) return value as DOutput;
  return fail('invalid_argument', path, `one of ${D_OUTPUTS.join(', ')}`, describe(value));
}

/** Check the content of a meta.json (an object with snake_case keys); errors name `source`. */
export function parseMeta(value: unknown, source = 'meta'): ModelMeta {
  const path = source;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('invalid_file', path, 'a JSON object', describe(value));
  const raw = value as Record<string, unknown>;
  const latentDim = raw.latent_dim;
  if (typeof latentDim !== 'number' || !Number.isInteger(latentDim) || latentDim < 1)
    fail('invalid_file', `${path}: latent_dim`, 'a positive integer', describe(latentDim));
  const dataShape = raw.data_shape;
  if (!Array.isArray(dataShape) || !dataShape.every((d) => Number.isInteger(d) && d > 0))
    fail('invalid_file', `${path}: data_shape`, 'a list of positive integers', describe(dataShape));
  // output_range: [lo, hi]; the PyTorch fixtures write generator_output_range: "[-1, 1] (tanh)".
  let range = raw.output_range;
  if (range === undefined && typeof raw.generator_output_range === 'string') {
    const m = /^\s*\[\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\]/.exec(raw.generator_output_range);
    if (m) range = [Number(m[1]), Number(m[2])];
  }
  return {
    latentDim,
    latentPrior: parseLatentPrior(raw.latent_prior, `${path}: latent_prior`),
    dataShape: dataShape as number[],
    dOutput: parseDOutput(raw.d_output, `${path}: d_output`),
    outputRange: Array.isArray(range) && range.length === 2 ? [Number(range[0]), Number(range[1])] : undefined,
    dataset: typeof raw.dataset === 'string' ? raw.dataset : undefined,
    extra: raw,
  };
}

/** The content of a meta.json for `meta` (snake_case keys, as the fixtures write them), as text. */
export function metaJson(meta: ModelMeta): string {
  const out: Record<string, unknown> = {
    ...(meta.extra ?? {}),
    latent_dim: meta.latentDim,
    latent_prior: meta.latentPrior,
    latent_shape: ['batch', meta.latentDim],
    data_shape: meta.dataShape,
    d_output: meta.dOutput,
    d_output_shape: ['batch', 1],
    dynamic_axis: 'batch',
  };
  if (meta.outputRange) out.output_range = meta.outputRange;
  if (meta.dataset) out.dataset = meta.dataset;
  return JSON.stringify(out, null, 2) + '\n';
}
