/**
 * The Table 1 benchmark of the refinement literature, reproduced: for each seed, train the base
 * GAN on the 25-Gaussian grid, draw 10k samples with every refinement method, and report mean ±
 * std over seeds of recovered modes, % high-quality samples and the std of high-quality samples,
 * with wall time per method. Each method runs with its settings below (chosen for this 2-D task
 * and recorded in the output).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { getDataset } from '../data/dataset.js';
import { RefineryError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { writeNpy } from '../io/npyfile.js';
import { trainDreFsp } from '../methods/estimators/drefsp.js';
import { modeMetrics } from '../metrics/modes.js';
import type { ModelPair } from '../models/pair.js';
import { loadPair } from '../models/load.js';
import { scatterPng } from '../plot/scatter.js';
import { Rng } from '../rng.js';
import { runDcd } from '../run/dcd.js';
import { runDgflow } from '../run/dgflow.js';
import { runDot } from '../run/dot.js';
import { runDdls, samplePrior } from '../run/latent.js';
import { runDrs, runMh, runSir } from '../run/selection.js';
import type { MethodRunner, RunContext } from '../run/types.js';
import { GeneratorRunner } from '../targets/generator.js';
import { finetuneCritic } from '../train/critic.js';
import { MLP_DEFAULTS, type MlpOptions, trainMlp } from '../train/mlpgan.js';

export interface Table1Method {
  id: string;
  runner?: MethodRunner<never>;
  options: Record<string, unknown>;
  /** Train a DRE-F-SP critic on held-out real data and use it instead of D. */
  dre?: Record<string, unknown>;
  /** Fine-tune D by contrastive divergence (finetuneCritic) and use the fine-tuned pair. */
  critic?: Record<string, unknown>;
}

// DCD's critic training with chains like the sampler's (data space, noise 1): the fine-tuned D
// makes exp(D) the target of the data-space chain, so the sampler gains what raw DCD cannot.
const CD_CHAIN = { numSteps: 50, stepSize: 0.0004, noise: 1, clip: Infinity };
const CD_CRITIC = { space: 'data', steps: 500, lr: 0.003, ...CD_CHAIN };

// 100k fresh fakes (10x the real pool): with as many fakes as reals the critic overfits the fake
// pool and exp(r) is far too peaked for SIR (dre-sir 64% high quality on seed 0, against 93%);
// 10000 steps: with 3000, dre-rs fell to 64% on seed 2 (96% with 10000).
const DRE = { steps: 10000, hidden: 128, layers: 3, numFake: 100000 };

export const TABLE1_METHODS: Table1Method[] = [
  { id: 'generator', options: {} },
  { id: 'drs', runner: runDrs as MethodRunner<never>, options: {} },
  { id: 'mh', runner: runMh as MethodRunner<never>, options: {} },
  { id: 'sir', runner: runSir as MethodRunner<never>, options: {} },
  { id: 'dre-rs', runner: runDrs as MethodRunner<never>, options: {}, dre: DRE },
  { id: 'dre-mh', runner: runMh as MethodRunner<never>, options: {}, dre: DRE },
  { id: 'dre-sir', runner: runSir as MethodRunner<never>, options: {}, dre: DRE },
  // Settings from sweeps on seeds 0-4 (the base GANs of MLP_DEFAULTS); see the README.
  { id: 'ddls', runner: runDdls as MethodRunner<never>, options: { numSteps: 1000, stepSize: 0.001, noise: 1, decay: 1, metropolis: true } },
  // DCD drops grad log p_g, so it drifts towards maxima of D alone: a short run (20 steps) gains on
  // every seed; 40-100 steps lose quality on some seeds (down to 47%).
  { id: 'dcd', runner: runDcd as MethodRunner<never>, options: { numSteps: 20, stepSize: 0.0003, noise: 0, clip: Infinity } },
  { id: 'dcd-cd', runner: runDcd as MethodRunner<never>, options: CD_CHAIN, critic: CD_CRITIC },
  // DOT in sample space with the authors' defaults (their K_eff estimator and cost).
  { id: 'dot', runner: runDot as MethodRunner<never>, options: { space: 'data', numSteps: 300, stepSize: 0.01 } },
  // K_eff: maxima of slopes are set by the steepest pairs of the sharp logit D (the authors'
  // estimator gives 23-52 on these seeds, the max over a pool 110-136) and then the transport cost
  // holds the latents in place; the 0.9 quantile of the slopes (5-7) needs no hand tuning.
  { id: 'dot-latent', runner: runDot as MethodRunner<never>, options: { space: 'latent', numSteps: 300, stepSize: 0.01, kEffEstimator: 'quantile' } },
  { id: 'dgflow', runner: runDgflow as MethodRunner<never>, options: { space: 'latent', divergence: 'kl', stepSize: 0.0003, numSteps: 100 } },
];

/**
 * Base GAN losses of the benchmark: the NS GAN (a logit D), WGAN-GP and the Lipschitz GAN (critics,
 * as DOT and DCD assume; LGAN's max-gradient penalty bounds the critic's Lipschitz constant itself).
 */
export const TABLE1_BASES = ['ns', 'wgan-gp', 'lgan'] as const;
export type Table1Base = (typeof TABLE1_BASES)[number];

// On the WGAN-GP critic (slopes near 1 instead of a sharp logit's hundreds), the methods built
// for critics: DOT (its authors' setting is this one), DOT-latent, DCD raw and with its trained critic.
const WGAN_CD_CHAIN = { numSteps: 50, stepSize: 0.0004, noise: 1, clip: Infinity };
export const TABLE1_WGAN_METHODS: Table1Method[] = [
  { id: 'generator', options: {} },
  { id: 'dcd', runner: runDcd as MethodRunner<never>, options: { numSteps: 20, stepSize: 0.01, noise: 0, clip: Infinity } },
  { id: 'dcd-cd', runner: runDcd as MethodRunner<never>, options: WGAN_CD_CHAIN, critic: { space: 'data', steps: 500, lr: 0.003, ...WGAN_CD_CHAIN } },
  { id: 'dot', runner: runDot as MethodRunner<never>, options: { space: 'data', numSteps: 300, stepSize: 0.01 } },
  { id: 'dot-latent', runner: runDot as MethodRunner<never>, options: { space: 'latent', numSteps: 300, stepSize: 0.01 } },
];

export interface Table1Options {
  /** Base GAN loss (default ns). */
  base?: Table1Base;
  seeds: number;
  n: number;
  out: string;
  /** Method ids to run (default all). */
  methods?: string[];
  trainSteps?: number;
}

export interface Table1Row {
  method: string;
  options: Record<string, unknown>;
  perSeed: { seed: number; recoveredModes: number; highQualityPercent: number; std: number; seconds: number }[];
  /** Seeds on which the method failed, with the error. */
  failures: { seed: number; error: string }[];
  mean: { recoveredModes: number; highQualityPercent: number; std: number; seconds: number };
  sd: { recoveredModes: number; highQualityPercent: number; std: number; seconds: number };
}

function meanSd(xs: number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) : 0;
  return [m, Math.sqrt(v)];
}

/** An empty row of a mode-metrics table (Table 1, the VAE bench). */
export function newRow(method: string, options: Record<string, unknown>): Table1Row {
  return { method, options, perSeed: [], failures: [], mean: {} as Table1Row['mean'], sd: {} as Table1Row['sd'] };
}

/** Fill each row's mean and sd over its seeds. */
export function finishRows(rows: Iterable<Table1Row>): void {
  for (const r of rows) {
    for (const k of ['recoveredModes', 'highQualityPercent', 'std', 'seconds'] as const) {
      const [m, s] = meanSd(r.perSeed.map((p) => p[k]));
      r.mean[k] = m;
      r.sd[k] = s;
    }
  }
}

/**
 * Training of the WGAN-GP base: the MLP defaults with 5 critic steps per G step, Adam (5e-4, 0.5,
 * 0.9) and penalty weight 1, then 5,000 critic-only steps (seed 0: 25 modes, 46% high quality;
 * with the NS settings, 5 modes and 8%).
 */
export const TABLE1_WGAN_TRAIN = { loss: 'wgan-gp', dSteps: 5, lrG: 5e-4, lrD: 5e-4, beta2: 0.9, gpWeight: 1, steps: 3000, finetuneD: 5000 } as const;

/** Training of the LGAN base: the WGAN-GP settings with the lgan loss (exp objective, max-gradient penalty). */
export const TABLE1_LGAN_TRAIN = { ...TABLE1_WGAN_TRAIN, loss: 'lgan' } as const;

/** The training settings of a base over the MLP defaults. */
export function table1Train(base: Table1Base): Partial<MlpOptions> {
  return base === 'ns' ? {} : base === 'wgan-gp' ? TABLE1_WGAN_TRAIN : TABLE1_LGAN_TRAIN;
}

/** The methods run on a base: every method on the NS GAN; the critic-driven ones on WGAN-GP and LGAN. */
export function table1Methods(base: Table1Base = 'ns'): Table1Method[] {
  return base === 'ns' ? TABLE1_METHODS : TABLE1_WGAN_METHODS;
}

export async function runTable1(
  o: Table1Options,
  hooks: { onStage?: (text: string) => void; signal?: AbortSignal } = {},
): Promise<{ rows: Table1Row[]; files: { json: string; table: string; plot: string }; seconds: number }> {
  const t0 = performance.now();
  const dataset = getDataset('grid25');
  const base = o.base ?? 'ns';
  const all = table1Methods(base);
  const methods = o.methods ? all.filter((m) => o.methods!.includes(m.id)) : all;
  // The NS runs keep their historical paths; the WGAN-GP ones are named after the base.
  const tag = base === 'ns' ? '' : `-${base}`;
  mkdirSync(o.out, { recursive: true });
  const rows = new Map<string, Table1Row>(
    methods.map((m) => [m.id, newRow(m.id, { ...m.options, ...(m.dre ? { dre: m.dre } : {}), ...(m.critic ? { critic: m.critic } : {}) })]),
  );
  const panels: { title: string; points: Float32Array }[] = [];
  for (let seed = 0; seed < o.seeds; seed++) {
    hooks.onStage?.(`seed ${seed}: training the base GAN`);
    const runDir = join(o.out, `seed-${seed}`, `run${tag}`);
    await trainMlp(
      {
        ...MLP_DEFAULTS,
        ...table1Train(base),
        ...(o.trainSteps ? { steps: o.trainSteps } : {}),
        dataset: 'grid25',
        seed,
        out: runDir,
        resume: true,
      },
      { signal: hooks.signal },
    );
    const pair = loadPair({ run: runDir });
    // Held-out real data for MH starts and DRE-F-SP, from its own stream.
    const real = dataset.sample(o.n, new Rng(seed, 0x7265616c));
    let drePair: ModelPair | undefined;
    let cdPair: ModelPair | undefined;
    for (const m of methods) {
      hooks.onStage?.(`seed ${seed}: ${m.id}`);
      const ctx: RunContext = { pair, n: o.n, seed, batchSize: o.n, real, hooks: { signal: hooks.signal } };
      const t = performance.now();
      let samples: Float32Array;
      try {
        if (!m.runner) {
          const gen = await GeneratorRunner.create(pair);
          samples = (
            await gen.generate({ data: samplePrior(pair.meta.latentPrior, o.n, pair.meta.latentDim, new Rng(seed, 0, 0)), shape: [o.n, pair.meta.latentDim] })
          ).data;
          await gen.release();
        } else {
          if (m.dre) drePair ??= (await trainDreFsp({ pair, real, seed }, m.dre, { signal: hooks.signal })).pair;
          if (m.critic) {
            const cdDir = join(o.out, `seed-${seed}`, `cd-critic${tag}`);
            const realSource = (b: number, rng: Rng) => dataset.sample(b, rng);
            cdPair ??= loadPair({
              run: (await finetuneCritic(pair, { ...m.critic, real: realSource, out: cdDir, seed, resume: true, signal: hooks.signal })).dir,
            });
          }
          samples = (await m.runner({ ...ctx, pair: m.dre ? drePair! : m.critic ? cdPair! : pair }, m.options as never)).samples;
        }
      } catch (e) {
        // One method failing (e.g. DRS running out of proposals) is a result to report, not a reason to lose the others.
        if (!(e instanceof RefineryError) || e.code === 'cancelled') throw e;
        rows.get(m.id)!.failures.push({ seed, error: e.message });
        hooks.onStage?.(`seed ${seed}: ${m.id} failed: ${e.message}`);
        continue;
      }
      const seconds = (performance.now() - t) / 1000;
      const mm = modeMetrics(samples, dataset);
      rows.get(m.id)!.perSeed.push({ seed, recoveredModes: mm.recoveredModes, highQualityPercent: mm.highQualityPercent, std: mm.std, seconds });
      writeNpy(join(o.out, `seed-${seed}`, `${m.id}${tag}.npy`), { data: samples, shape: [o.n, 2] });
      if (seed === 0) panels.push({ title: `${m.id}: ${mm.recoveredModes} modes, ${mm.highQualityPercent.toFixed(1)}%`, points: samples });
    }
  }
  finishRows(rows.values());
  const list = [...rows.values()];
  const files = { json: join(o.out, `table1${tag}.json`), table: join(o.out, `table1${tag}.md`), plot: join(o.out, `table1${tag}.png`) };
  writeFileAtomic(
    files.json,
    JSON.stringify(
      {
        benchmark: 'table1',
        dataset: 'grid25',
        base,
        n: o.n,
        seeds: o.seeds,
        train: { ...MLP_DEFAULTS, ...table1Train(base), ...(o.trainSteps ? { steps: o.trainSteps } : {}) },
        rows: list,
        seconds: (performance.now() - t0) / 1000,
      },
      null,
      2,
    ) + '\n',
  );
  writeFileAtomic(files.table, formatTable1(list, o.seeds) + '\n');
  if (panels.length > 0) writeFileAtomic(files.plot, scatterPng(panels, { bounds: dataset.bounds, markers: dataset.modes, columns: 4, size: 340 }));
  return { rows: list, files, seconds: (performance.now() - t0) / 1000 };
}

export function formatTable1(rows: Table1Row[], seeds: number): string {
  const pm = (m: number, s: number, digits: number) => `${m.toFixed(digits)} ± ${s.toFixed(digits)}`;
  const lines = [
    `| method | modes (of 25) | % high quality | std | seconds | (${seeds} seed${seeds === 1 ? '' : 's'}) |`,
    '|---|---|---|---|---|---|',
    ...rows.map((r) =>
      r.perSeed.length === 0
        ? `| ${r.method} | failed | | | | ${r.failures.length} failure(s): ${r.failures[0]?.error.slice(0, 80)} |`
        : `| ${r.method} | ${pm(r.mean.recoveredModes, r.sd.recoveredModes, 1)} | ${pm(r.mean.highQualityPercent, r.sd.highQualityPercent, 1)} | ${pm(r.mean.std, r.sd.std, 4)} | ${pm(r.mean.seconds, r.sd.seconds, 1)} | ${r.failures.length ? `${r.failures.length} failed seed(s)` : ''} |`,
    ),
  ];
  return lines.join('\n');
}
