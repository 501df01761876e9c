/**
 * The MNIST image benchmark: per seed, train the DCGAN (or the SAGAN) on the MNIST training digits, refine n
 * samples with every method, and measure each in the feature space of Refinery's own digit
 * classifier (as the DRE-F-SP paper measured MNIST in its classifier's space): FID against the
 * 8,000 training digits, Inception Score, the share of samples the classifier is more than 90%
 * sure of ("high quality"), the classes reached and the divergence of the class histogram from
 * uniform; the Fréchet distance of the raw pixels as a check outside the classifier; with wall
 * time. The held-out 2,000 digits start MH chains and train DRE-F-SP (in the
 * classifier's features).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MNIST_SIZE, mnistSplit } from '../data/mnist.js';
import { fail, RefineryError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readNpyFloat32, writeNpy } from '../io/npyfile.js';
import { evaluate } from '../metrics/evaluate.js';
import { extractFeatures } from '../metrics/features.js';
import { frechetFromStats, type GaussianStats, gaussianStats } from '../metrics/frechet.js';
import { loadPair } from '../models/load.js';
import type { LatentPrior } from '../models/meta.js';
import type { ModelPair } from '../models/pair.js';
import type { Graph } from '../onnx/graph.js';
import { loadGraph } from '../onnx/modelfile.js';
import { imagePanelsPng } from '../plot/grid.js';
import { CALIBRATION_METHODS } from '../calibration/calibrate.js';
import type { MethodDefinition } from '../refine/method.js';
import { DRE_DEFAULTS, DRE_SPECS, type DreOptions, partDreOptions, trainDre } from '../refine/methods/dre.js';
import { type OptionType, parseOptionText, resolveOptions } from '../refine/options.js';
import { type MethodSettings, type RefineOptions, refine } from '../refine/refine.js';
import { METHODS, type MethodId } from '../refine/registry.js';
import { sample } from '../refine/sample.js';
import { trainClassifier } from '../train/classifier.js';
import type { GanLoss } from '../train/common.js';
import { DCGAN_DEFAULTS } from '../train/dcgan.js';
import { SAGAN_DEFAULTS } from '../train/sagan.js';
import { trainGan } from '../train/train.js';

/** A row of the benchmark: the generator alone, or a method with its settings. */
export interface MnistMethod {
  id: string;
  /** Method options (none for the generator). */
  options?: MethodSettings;
}

/** Settings per method for 28x28 digits (see the README for how they were chosen). */
export const MNIST_METHODS: MnistMethod[] = [
  { id: 'generator' },
  { id: 'drs', options: { method: 'drs' } },
  { id: 'mh', options: { method: 'mh', chainLength: 100 } },
  { id: 'sir', options: { method: 'sir', pool: 10 } },
  // DRE-F-SP's defaults (5,000 steps, decayed rate, 20% validation split) with 20,000 generated
  // samples in the fake pool and early stopping on the validation split (checked every 100
  // steps; on 1,600 training digits the last step's critic fails the KS overfitting check).
  // Without early stopping the FIDs were 72.3, 65.1 and 77.1 (3 seeds) where these give 69.8,
  // 63.7 and 70.8. SIR draws without replacement: with replacement the critic's weights, spread
  // over tens of nats, put a group's pool on a few samples (FID above 800 on seed 1).
  { id: 'dre-rs', options: { method: 'dre-rs', dreFakes: 20000, dreEarlyStop: 100 } },
  { id: 'dre-mh', options: { method: 'dre-mh', dreFakes: 20000, dreEarlyStop: 100 } },
  { id: 'dre-sir', options: { method: 'dre-sir', dreFakes: 20000, dreEarlyStop: 100, sirReplace: false } },
  { id: 'ddls', options: { method: 'ddls', numSteps: 100, stepSize: 0.01 } },
  { id: 'dcd', options: { method: 'dcd', numSteps: 20, stepSize: 0.01, noise: 0 } },
  // In pixel space D's gradient draws adversarial textures: small, short steps.
  { id: 'dot', options: { method: 'dot', numSteps: 30, stepSize: 0.001 } },
  { id: 'dot-latent', options: { method: 'dot-latent', numSteps: 100 } },
  { id: 'dgflow', options: { method: 'dgflow', numSteps: 25 } },
  // DGflow along the DRE-F-SP critic of the rows above, 25 steps (DGflow's). Its gradient is
  // larger than D's: on seed 1 the step sizes 0.01, 0.02, 0.03, 0.04, 0.05 and DGflow's 0.1 gave
  // FID 45.0, 34.5, 32.3, 32.9, 35.2 and 60.0.
  { id: 'dre-dgflow', options: { method: 'dre-dgflow', dreFakes: 20000, dreEarlyStop: 100, numSteps: 25, stepSize: 0.03 } },
  // DDLS and DOT in latent space along the same critic, with the settings of their rows along D.
  { id: 'dre-ddls', options: { method: 'dre-ddls', dreFakes: 20000, dreEarlyStop: 100, numSteps: 100, stepSize: 0.01 } },
  { id: 'dre-dot-latent', options: { method: 'dre-dot-latent', dreFakes: 20000, dreEarlyStop: 100, numSteps: 100 } },
];

/**
 * The rows `methods` with the settings `set` ("KEY=VALUE" texts, e.g. "stepSize=0.02") applied to
 * every row whose method declares KEY (to every method row for `calibrate`). A changed row is
 * renamed METHOD@KEY=VALUE,..., so its samples, grid and table row sit beside the default row's.
 * Values are parsed and checked against the method's option type; a KEY that no selected row
 * declares, or a bad VALUE, is an error naming `--set`.
 */
export function mnistVariants(methods: MnistMethod[], set: string[]): MnistMethod[] {
  const specsOf = (m: MnistMethod) => METHODS[m.options!.method as MethodId].options as Record<string, { type: OptionType }>;
  const parsed: { key: string; text: string }[] = [];
  for (const item of set) {
    const eq = item.indexOf('=');
    const key = eq > 0 ? item.slice(0, eq).trim() : '';
    const text = eq > 0 ? item.slice(eq + 1).trim() : '';
    if (key === '' || text === '') fail('invalid_argument', '--set', 'KEY=VALUE (e.g. stepSize=0.02)', JSON.stringify(item));
    const rows = methods.filter((m) => m.options);
    if (key !== 'calibrate' && !rows.some((m) => key in specsOf(m))) {
      const keys = new Set(rows.flatMap((m) => Object.keys(specsOf(m))));
      fail('invalid_argument', '--set', `an option of the selected methods (${[...keys, 'calibrate'].join(', ')})`, JSON.stringify(key));
    }
    parsed.push({ key, text });
  }
  const value = (key: string, text: string, type: OptionType): unknown => {
    if (type.kind === 'boolean') {
      if (text !== 'true' && text !== 'false') fail('invalid_argument', `--set ${key}`, 'true or false', JSON.stringify(text));
      return text === 'true';
    }
    if (type.kind === 'model') fail('invalid_argument', `--set ${key}`, 'an option that is not a model file', JSON.stringify(key));
    return parseOptionText(type, text, `--set ${key}`);
  };
  return methods.map((m) => {
    if (!m.options) return m;
    const specs = specsOf(m);
    const mine = parsed.filter((p) => p.key === 'calibrate' || p.key in specs);
    if (mine.length === 0) return m;
    const options: Record<string, unknown> = { ...m.options };
    for (const p of mine) options[p.key] = value(p.key, p.text, p.key === 'calibrate' ? { kind: 'choice', choices: CALIBRATION_METHODS } : specs[p.key].type);
    return { id: `${m.id}@${mine.map((p) => `${p.key}=${p.text}`).join(',')}`, options: options as MethodSettings };
  });
}

/**
 * The file name (without extension) of a run's table and JSON: mnist{tag} when the run has every
 * row of the table, as defined; otherwise the rows' ids follow (hashed when long), so that a run of
 * a few rows or with `--set` does not replace the whole table's files.
 */
export function mnistTableStem(tag: string, ids: string[]): string {
  const all = MNIST_METHODS.map((m) => m.id);
  if (ids.length === all.length && ids.every((id, i) => id === all[i])) return `mnist${tag}`;
  const joined = ids.join('+');
  const name = joined.length <= 100 ? joined : `${joined.slice(0, 80)}-${createHash('sha256').update(joined).digest('hex').slice(0, 12)}`;
  return `mnist${tag}.${name}`;
}

/**
 * The suffix of a run's outputs (seed folders, grids, tables) for the settings that differ from
 * the model's and the bench's defaults: -sagan, -LOSS, -dN (D steps), -wN (width), -tN (GAN
 * steps), -fN (D-only steps), in that order; '' for the default DCGAN.
 */
export function mnistTag(model: 'dcgan' | 'sagan', o: { loss?: GanLoss; dSteps?: number; width?: number; trainSteps?: number; finetuneD?: number }): string {
  const asked = mnistGanSettings(model, o);
  const standard = mnistGanSettings(model, {});
  const part = (prefix: string, key: keyof typeof asked) => (asked[key] === standard[key] ? '' : `-${prefix}${asked[key]}`);
  return [model === 'dcgan' ? '' : `-${model}`, part('', 'loss'), part('d', 'dSteps'), part('w', 'width'), part('t', 'steps'), part('f', 'finetuneD')].join('');
}

/** The DCGAN of the benchmark: the image trainer's defaults, longer (6000 steps, then 2000 D-only steps). */
export const MNIST_TRAIN = { steps: 6000, finetuneD: 2000 };

export interface MnistBenchOptions {
  seeds: number;
  /** Samples per method. */
  n: number;
  out: string;
  /** Method ids to run (default all). */
  methods?: string[];
  /** GAN steps per seed (default MNIST_TRAIN.steps; another adds -tN to the outputs' suffix). */
  trainSteps?: number;
  /** D-only steps after training (default MNIST_TRAIN.finetuneD; another adds -fN to the suffix). */
  finetuneD?: number;
  /** Channels of D's first layer, doubled per layer (default: the model's, 32; another adds -wN to the suffix). */
  width?: number;
  /**
   * The base GAN: 'dcgan' (default) or 'sagan' (its hinge critic is calibrated, logistic on the
   * held-out digits, for DRS, MH and SIR). A SAGAN's runs, samples, grids and tables carry the
   * suffix '-sagan' in `out`, so both can share one folder and its classifier.
   */
  model?: 'dcgan' | 'sagan';
  /**
   * The GAN loss (default: the model's, ns for dcgan and hinge for sagan); another loss adds its
   * name to the suffix (e.g. '-wow'), and a critic is calibrated for DRS, MH and SIR as the SAGAN's.
   */
  loss?: GanLoss;
  /** D updates per G update (default: the model's, 1). */
  dSteps?: number;
  /**
   * Score the samples an earlier run saved (seed-S/METHOD.npy) instead of refining again, when the
   * record saved beside them (METHOD.json: the method, its options and n) matches; without a
   * matching record the method runs. Their seconds are unknown: the seconds column is over the
   * seeds that ran.
   */
  reuseSamples?: boolean;
  /** Settings for the selected rows, "KEY=VALUE" (see `mnistVariants`). */
  set?: string[];
}

/** What the digit classifier says of a set of samples, and their pixels' FD. */
export interface DigitScore {
  fid: number;
  /**
   * Fréchet distance of the raw pixels (784-d) to the training digits': a check that does not go
   * through the classifier whose features the DRE-F-SP critic reads and FID is measured in.
   */
  fdPixels: number;
  is: number;
  highQualityPercent: number;
  classesCovered: number;
  jsClasses: number;
}

/** The measures of one method on one seed. */
export interface MnistScore extends DigitScore {
  seed: number;
  /** Wall time of the method; null when the samples were saved by an earlier run (`reuseSamples`). */
  seconds: number | null;
  /** With `reuseSamples`: true when the samples were scored from seed-S/METHOD.npy (an earlier run's). */
  reused?: boolean;
}

export interface MnistRow {
  method: string;
  options: Record<string, unknown>;
  perSeed: MnistScore[];
  failures: { seed: number; error: string }[];
  /** Means over the seeds (seconds: over the seeds that ran; NaN when none did). */
  mean: Record<(typeof KEYS)[number], number>;
  sd: Record<(typeof KEYS)[number], number>;
}

const KEYS = ['fid', 'fdPixels', 'is', 'highQualityPercent', 'classesCovered', 'jsClasses', 'seconds'] as const;

function meanSd(xs: number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) : 0;
  return [m, Math.sqrt(v)];
}

/**
 * The Markdown table of the rows, mean ± std over seeds; with `reference` (the held-out digits'
 * own scores), a line after it.
 */
export function formatMnist(rows: MnistRow[], seeds: number, reference?: { n: number; score: DigitScore }): string {
  // A row with fewer seeds than the run (a failure on some seeds) shows no spread: say how many it has.
  const f = (r: MnistRow, k: (typeof KEYS)[number], digits: number) => {
    if (r.perSeed.length === 0) return 'failed';
    // Seconds are over the seeds that ran (samples reused from an earlier run have none).
    const count = r.perSeed.filter((p) => p[k] !== null).length;
    if (count === 0) return '—';
    const note = count === seeds || seeds === 1 ? '' : ` (${count} of ${seeds} seeds)`;
    return `${r.mean[k].toFixed(digits)}${count > 1 ? ` ± ${r.sd[k].toFixed(digits)}` : ''}${note}`;
  };
  const lines = [
    '| method | FID | FD pixels | IS | % high quality | classes | JS(classes, uniform) | seconds |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.method} | ${f(r, 'fid', 3)} | ${f(r, 'fdPixels', 2)} | ${f(r, 'is', 2)} | ${f(r, 'highQualityPercent', 1)} | ${f(r, 'classesCovered', 1)} | ${f(r, 'jsClasses', 4)} | ${f(r, 'seconds', 1)} |`,
    ),
  ];
  if (reference) {
    const r = reference.score;
    lines.push(
      '',
      `Real digits, as a floor: the ${reference.n} held-out digits score FID ${r.fid.toFixed(3)}, FD pixels ${r.fdPixels.toFixed(2)}, IS ${r.is.toFixed(2)}, ${r.highQualityPercent.toFixed(1)}% high quality, ${r.classesCovered} classes, JS ${r.jsClasses.toFixed(4)} (n = ${reference.n}: FID and FD grow as n shrinks).`,
    );
  }
  return lines.join('\n');
}

/** What the MNIST benchmarks measure with. */
export interface MnistInstrument {
  /** Held-out accuracy of the digit classifier. */
  accuracy: number;
  features: Graph;
  classifier: Graph;
  /** Feature statistics of the 8,000 training digits (the FID reference). */
  realStats: GaussianStats;
  /** Pixel statistics of the 8,000 training digits (the reference of the pixel FD). */
  pixelStats: GaussianStats;
}

/**
 * The measuring instrument: the digit classifier (trained once into out/classifier, reused when
 * present) and the training digits' feature statistics.
 */
export async function mnistInstrument(out: string, hooks: { onStage?: (text: string) => void; signal?: AbortSignal } = {}): Promise<MnistInstrument> {
  const clfDir = join(out, 'classifier');
  let accuracy: number;
  if (existsSync(join(clfDir, 'classifier.json'))) {
    accuracy = JSON.parse(readFileSync(join(clfDir, 'classifier.json'), 'utf8')).accuracy;
  } else {
    hooks.onStage?.('training the digit classifier');
    // No classifier.json: nothing finished is there (an interrupted run's files at most), so replace it.
    accuracy = (await trainClassifier({ out: clfDir, overwrite: true, signal: hooks.signal })).accuracy;
  }
  const features = loadGraph(join(clfDir, 'features.onnx'));
  const classifier = loadGraph(join(clfDir, 'classifier.onnx'));
  const train = mnistSplit('train');
  const realStats = await gaussianStats(await extractFeatures(features, { data: train.data, shape: [train.n, 1, MNIST_SIZE, MNIST_SIZE] }), 'real');
  const pixelStats = await gaussianStats({ data: train.data, shape: [train.n, MNIST_SIZE * MNIST_SIZE] }, 'real');
  return { accuracy, features, classifier, realStats, pixelStats };
}

/** FID, IS, confident share and class histogram of n 28x28 samples in the classifier's space; the pixels' FD. */
export async function scoreDigits(x: Float32Array, n: number, inst: Omit<MnistInstrument, 'accuracy'>, seed: number): Promise<DigitScore> {
  const ev = await evaluate(
    undefined,
    { data: x, shape: [n, 1, MNIST_SIZE, MNIST_SIZE] },
    { features: inst.features, classifier: inst.classifier, realStats: inst.realStats, metrics: ['fd', 'is', 'classes'], seed },
  );
  const pixels = await gaussianStats({ data: x, shape: [n, MNIST_SIZE * MNIST_SIZE] }, 'samples');
  return {
    fid: ev.metrics.fd!.distance,
    fdPixels: (await frechetFromStats(inst.pixelStats, pixels)).distance,
    is: ev.metrics.is!.mean,
    highQualityPercent: ev.metrics.classes!.confidentPercent,
    classesCovered: ev.metrics.classes!.classesCovered,
    jsClasses: ev.metrics.classes!.jsFromUniform,
  };
}

/** The settings a bench's MNIST GAN is trained with, and checked against (`mnistGan`): the options, else the defaults. */
export function mnistGanSettings(
  model: 'dcgan' | 'sagan',
  o: { trainSteps?: number; finetuneD?: number; loss?: GanLoss; dSteps?: number; width?: number },
): { steps: number; finetuneD: number; loss: GanLoss; dSteps: number; width: number } {
  const defaults = model === 'dcgan' ? DCGAN_DEFAULTS : SAGAN_DEFAULTS;
  return {
    steps: o.trainSteps ?? MNIST_TRAIN.steps,
    finetuneD: o.finetuneD ?? MNIST_TRAIN.finetuneD,
    loss: o.loss ?? defaults.loss,
    dSteps: o.dSteps ?? defaults.dSteps,
    width: o.width ?? defaults.width,
  };
}

/**
 * The benchmarks' MNIST GAN in `runDir`: trained (resumably) with `mnistGanSettings` unless its
 * meta.json is already there, then loaded; a run whose training record differs from those
 * settings is refused.
 */
export async function mnistGan(
  runDir: string,
  o: { model: 'dcgan' | 'sagan'; seed: number; prior?: LatentPrior; trainSteps?: number; finetuneD?: number; loss?: GanLoss; dSteps?: number; width?: number },
  hooks: { signal?: AbortSignal } = {},
): Promise<ModelPair> {
  const wanted = mnistGanSettings(o.model, o);
  if (!existsSync(join(runDir, 'meta.json'))) {
    await trainGan({
      model: o.model,
      dataset: 'mnist',
      seed: o.seed,
      ...(o.prior !== undefined ? { prior: o.prior } : {}),
      ...wanted,
      out: runDir,
      resume: true,
      signal: hooks.signal,
    });
  }
  const pair = await loadPair({ run: runDir });
  // A run trained otherwise (an earlier run with other settings in the same folder) is refused,
  // not scored under this run's settings.
  const trained = pair.meta.extra?.training as Record<string, unknown> | undefined;
  if (trained !== undefined) {
    for (const [key, value] of Object.entries(wanted)) {
      if (trained[key] !== undefined && trained[key] !== value) {
        fail('invalid_argument', `${join(runDir, 'meta.json')}: training.${key}`, `${value}, as this run asks (or another --out)`, String(trained[key]));
      }
    }
  }
  return pair;
}

/**
 * The samples of method `id` that an earlier run saved in `seedDir`, when the record saved beside
 * them (method, options, n) is `record`; undefined otherwise (the method runs again).
 */
function savedSamples(seedDir: string, id: string, record: { method: string; options: unknown; n: number }): Float32Array | undefined {
  const file = join(seedDir, `${id}.npy`);
  const recordFile = join(seedDir, `${id}.json`);
  if (!existsSync(file) || !existsSync(recordFile)) return undefined;
  if (JSON.stringify(JSON.parse(readFileSync(recordFile, 'utf8'))) !== JSON.stringify(record)) return undefined;
  const t = readNpyFloat32(file);
  if (t.shape.length !== 4 || t.shape[0] !== record.n || t.shape.slice(1).join('x') !== `1x${MNIST_SIZE}x${MNIST_SIZE}`) return undefined;
  return t.data;
}

export async function runMnistBench(
  o: MnistBenchOptions,
  hooks: { onStage?: (text: string) => void; signal?: AbortSignal } = {},
): Promise<{
  rows: MnistRow[];
  classifier: { accuracy: number };
  /** The held-out digits' own scores. */
  reference: { n: number; score: DigitScore };
  files: { json: string; table: string; grids: string };
  seconds: number;
}> {
  const t0 = performance.now();
  const methods = mnistVariants(o.methods ? MNIST_METHODS.filter((m) => o.methods!.includes(m.id)) : MNIST_METHODS, o.set ?? []);
  mkdirSync(o.out, { recursive: true });
  const model = o.model ?? 'dcgan';
  const defaults = model === 'dcgan' ? DCGAN_DEFAULTS : SAGAN_DEFAULTS;
  const tag = mnistTag(model, o);
  const gridDir = join(o.out, `grids${tag}`);
  mkdirSync(gridDir, { recursive: true });

  const { accuracy, features, classifier, realStats, pixelStats } = await mnistInstrument(o.out, hooks);
  const heldOut = mnistSplit('test');
  const real = { data: heldOut.data, shape: [heldOut.n, 1, MNIST_SIZE, MNIST_SIZE] };
  const reference = { n: heldOut.n, score: await scoreDigits(heldOut.data, heldOut.n, { features, classifier, realStats, pixelStats }, 0) };

  const rows = new Map<string, MnistRow>(
    methods.map((m) => [
      m.id,
      { method: m.id, options: { ...(m.options ?? {}) }, perSeed: [], failures: [], mean: {} as MnistRow['mean'], sd: {} as MnistRow['sd'] },
    ]),
  );
  for (let seed = 0; seed < o.seeds; seed++) {
    hooks.onStage?.(`seed ${seed}: training the ${model.toUpperCase()}`);
    const seedDir = join(o.out, `seed-${seed}${tag}`);
    const runDir = join(seedDir, 'run');
    const pair = await mnistGan(
      runDir,
      { model, seed, trainSteps: o.trainSteps, finetuneD: o.finetuneD, loss: o.loss, dSteps: o.dSteps, width: o.width },
      hooks,
    );
    let generatorPanel: { data: Float32Array; subtitle: string } | undefined;
    // The dre-* rows of a seed share one DRE-F-SP network per setting of its options: trained once
    // (what each dre-* run trains for itself; src/train/ratio.test.ts checks that refining along it
    // gives the dre-* method's samples bit for bit), its training time added to each row's seconds.
    const ratios = new Map<string, { pair: ModelPair; seconds: number }>();
    const alongRatio = async (options: MethodSettings, base: string): Promise<{ samples: Float32Array; ratioSeconds: number }> => {
      const { method: _m, ...given } = options as MethodSettings & Record<string, unknown>;
      const { dre, rest } = partDreOptions(given);
      const key = JSON.stringify(dre);
      let ratio = ratios.get(key);
      const reused = ratio !== undefined;
      if (!ratio) {
        const t1 = performance.now();
        const settings = resolveOptions<DreOptions>(DRE_SPECS, DRE_DEFAULTS, { ...dre, dreFeatures: features }, options.method);
        const trained = await trainDre({ pair, real: real.data, seed, signal: hooks.signal }, settings);
        ratio = { pair: trained.pair, seconds: (performance.now() - t1) / 1000 };
        ratios.set(key, ratio);
      }
      const r = await refine(ratio.pair, { ...rest, method: base, n: o.n, seed, real, signal: hooks.signal } as RefineOptions);
      return { samples: r.samples.data, ratioSeconds: reused ? ratio.seconds : 0 };
    };
    for (const m of methods) {
      hooks.onStage?.(`seed ${seed}: ${m.id}`);
      const t = performance.now();
      let ratioSeconds = 0;
      const record = { method: m.id, options: m.options ?? null, n: o.n };
      const saved = o.reuseSamples ? savedSamples(seedDir, m.id, record) : undefined;
      let samples: Float32Array;
      try {
        const base = m.options ? (METHODS[m.options.method as MethodId] as MethodDefinition).base : undefined;
        if (saved) samples = saved;
        else if (!m.options) samples = (await sample(pair, { n: o.n, seed, signal: hooks.signal })).samples.data;
        else if (base !== undefined) ({ samples, ratioSeconds } = await alongRatio(m.options, base));
        else
          samples = (
            await refine(pair, {
              // A critic is a score, not a log-ratio: DRS, MH and SIR weigh by its calibration.
              ...(pair.meta.dOutput === 'critic' && ['drs', 'mh', 'sir'].includes(m.options.method) ? { calibrate: 'logistic' } : {}),
              ...m.options,
              n: o.n,
              seed,
              real,
              signal: hooks.signal,
            } as RefineOptions)
          ).samples.data;
      } catch (e) {
        if (!(e instanceof RefineryError) || e.code === 'cancelled') throw e;
        rows.get(m.id)!.failures.push({ seed, error: e.message });
        hooks.onStage?.(`seed ${seed}: ${m.id} failed: ${e.message}`);
        continue;
      }
      const seconds = saved ? null : (performance.now() - t) / 1000 + ratioSeconds;
      const shape = [o.n, 1, MNIST_SIZE, MNIST_SIZE];
      const score: MnistScore = {
        seed,
        ...(await scoreDigits(samples, o.n, { features, classifier, realStats, pixelStats }, seed)),
        seconds,
        ...(saved ? { reused: true } : {}),
      };
      rows.get(m.id)!.perSeed.push(score);
      if (!saved) {
        writeNpy(join(seedDir, `${m.id}.npy`), { data: samples, shape });
        writeFileAtomic(join(seedDir, `${m.id}.json`), `${JSON.stringify(record, null, 2)}\n`);
      }
      if (seed === 0) {
        const subtitle = `FID ${score.fid.toFixed(2)}  IS ${score.is.toFixed(2)}  HQ ${score.highQualityPercent.toFixed(1)}%`;
        const first = samples.subarray(0, 64 * MNIST_SIZE * MNIST_SIZE);
        if (!m.options) generatorPanel = { data: first, subtitle };
        const panels = [
          ...(generatorPanel && m.options
            ? [{ title: 'generator', subtitle: generatorPanel.subtitle, data: generatorPanel.data, shape: [64, 1, MNIST_SIZE, MNIST_SIZE] }]
            : []),
          { title: m.id, subtitle, data: first, shape: [64, 1, MNIST_SIZE, MNIST_SIZE] },
        ];
        writeFileAtomic(join(gridDir, `${m.id}.png`), imagePanelsPng(panels, { columns: 8 }));
      }
    }
  }
  for (const r of rows.values()) {
    for (const k of KEYS) {
      const [m, s] = meanSd(r.perSeed.map((p) => p[k]).filter((v): v is number => v !== null));
      r.mean[k] = m;
      r.sd[k] = s;
    }
  }
  const list = [...rows.values()];
  const stem = mnistTableStem(
    tag,
    list.map((r) => r.method),
  );
  const files = { json: join(o.out, `${stem}.json`), table: join(o.out, `${stem}.md`), grids: gridDir };
  const gan = { model, ...defaults, ...mnistGanSettings(model, o), dataset: 'mnist' };
  writeFileAtomic(
    files.json,
    `${JSON.stringify({ benchmark: 'mnist', n: o.n, seeds: o.seeds, classifier: { accuracy, heldOut: heldOut.n }, gan, reference, rows: list, seconds: (performance.now() - t0) / 1000 }, null, 2)}\n`,
  );
  writeFileAtomic(files.table, `${formatMnist(list, o.seeds, reference)}\n`);
  return { rows: list, classifier: { accuracy }, reference, files, seconds: (performance.now() - t0) / 1000 };
}
