/**
 * The alpha-GAN benchmark (Rosca et al. 2017, on MNIST): train an alpha-GAN with the MNIST
 * DCGAN's networks and length (`bench mnist`), then measure in the digit classifier's space
 *   - samples G(z): the generator, DRS and DDLS (the MNIST table's settings);
 *   - reconstructions G(E(x)) of the 2,000 held-out digits, and the same refined from their codes
 *     (`refine` with `latents`) by DDLS and by DOT in latent space (whose transport cost keeps
 *     each code near its start): FID, IS, confident share, classes, the mean absolute pixel error
 *     to the original and the share the classifier gives the original's label.
 * Writes Markdown, JSON and one PNG (originals, reconstructions, refined reconstructions, samples).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MNIST_SIZE, mnistSplit } from '../data/mnist.js';
import { writeFileAtomic } from '../io/atomic.js';
import { encodeLatents } from '../models/encoder.js';
import { loadPair } from '../models/load.js';
import { extractFeatures } from '../metrics/features.js';
import { loadGraph } from '../onnx/modelfile.js';
import { imagePanelsPng } from '../plot/grid.js';
import { type MethodSettings, refine } from '../refine/refine.js';
import { sample } from '../refine/sample.js';
import { ALPHAGAN_DEFAULTS, ALPHAGAN_IMAGE_DEFAULTS, trainAlphaGan } from '../train/alphagan.js';
import { GeneratorRunner } from '../targets/generator.js';
import { type DigitScore, MNIST_METHODS, MNIST_TRAIN, type MnistInstrument, mnistInstrument, scoreDigits } from './mnist.js';

/** The methods as the MNIST table runs them. */
const settings = (id: string): MethodSettings => MNIST_METHODS.find((m) => m.id === id)!.options!;
const SAMPLE_METHODS = ['drs', 'ddls', 'dgflow'] as const;
const RECONSTRUCTION_METHODS = ['ddls', 'dot-latent', 'dgflow'] as const;

export interface AlphaGanRow {
  /** 'samples' (G(z)) or 'reconstructions' (G(E(x)) of held-out digits). */
  kind: 'samples' | 'reconstructions';
  /** 'generator' (unrefined) or a method id. */
  method: string;
  score: DigitScore;
  /** Reconstructions: mean |x - x'| per pixel to the original digit (pixels in [-1, 1]). */
  pixelError?: number;
  /** Reconstructions: % whose class by the classifier is the original's label. */
  labelKeptPercent?: number;
  seconds: number;
}

export function formatAlphaGanBench(rows: AlphaGanRow[]): string {
  const f = (v: number | undefined, d = 1) => (v === undefined ? '' : v.toFixed(d));
  return [
    '| images | method | FID | FD pixels | IS | % high quality | classes | pixel error | % label kept | seconds |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.kind} | ${r.method} | ${f(r.score.fid)} | ${f(r.score.fdPixels, 2)} | ${f(r.score.is, 2)} | ${f(r.score.highQualityPercent)} | ${r.score.classesCovered} | ${f(r.pixelError, 3)} | ${f(r.labelKeptPercent)} | ${f(r.seconds)} |`,
    ),
  ].join('\n');
}

/** % of rows of x whose class by the classifier is `labels`' entry. */
async function labelKept(x: Float32Array, labels: ArrayLike<number>, inst: MnistInstrument): Promise<number> {
  const n = labels.length;
  const out = await extractFeatures(inst.classifier, { data: x, shape: [n, 1, MNIST_SIZE, MNIST_SIZE] }, { path: 'classifier' });
  const k = out.shape[1];
  let kept = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (out.data[i * k + c] > out.data[i * k + best]) best = c;
    if (best === labels[i]) kept++;
  }
  return (100 * kept) / n;
}

const meanAbs = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

export async function runAlphaGanBench(
  o: { n: number; seed: number; out: string; trainSteps?: number; finetuneD?: number; recWeight?: number },
  hooks: { onStage?: (text: string) => void; signal?: AbortSignal } = {},
): Promise<{ rows: AlphaGanRow[]; files: { json: string; table: string; grid: string }; seconds: number }> {
  const t0 = performance.now();
  mkdirSync(o.out, { recursive: true });
  const inst = await mnistInstrument(o.out, hooks);
  const runDir = join(o.out, `seed-${o.seed}`, 'alphagan', 'run');
  const training = {
    ...ALPHAGAN_DEFAULTS,
    ...ALPHAGAN_IMAGE_DEFAULTS,
    seed: o.seed,
    steps: o.trainSteps ?? MNIST_TRAIN.steps,
    finetuneD: o.finetuneD ?? MNIST_TRAIN.finetuneD,
    ...(o.recWeight !== undefined ? { recWeight: o.recWeight } : {}),
  };
  if (!existsSync(join(runDir, 'meta.json'))) {
    hooks.onStage?.('training the alpha-GAN');
    await trainAlphaGan({ ...training, out: runDir, resume: true }, { signal: hooks.signal });
  }
  const pair = loadPair({ run: runDir });
  const rows: AlphaGanRow[] = [];
  const panels: { title: string; subtitle?: string; data: Float32Array; shape: number[] }[] = [];
  const size = MNIST_SIZE * MNIST_SIZE;
  const SHOW = 32;
  const panel = (title: string, x: Float32Array, score?: DigitScore) =>
    panels.push({
      title,
      subtitle: score ? `FID ${score.fid.toFixed(1)}  IS ${score.is.toFixed(2)}` : undefined,
      data: x.slice(0, SHOW * size),
      shape: [SHOW, 1, MNIST_SIZE, MNIST_SIZE],
    });

  // Reconstructions of the held-out digits, then refined from their codes.
  const test = mnistSplit('test');
  const x = { data: test.data, shape: [test.n, 1, MNIST_SIZE, MNIST_SIZE] };
  hooks.onStage?.('reconstructions');
  let t1 = performance.now();
  const codes = await encodeLatents(loadGraph(join(runDir, 'encoder.onnx')), x, { latentDim: pair.meta.latentDim });
  const gen = await GeneratorRunner.create(pair);
  const rec = (await gen.generate(codes)).data;
  await gen.release();
  const reconstructionRow = async (method: string, images: Float32Array, seconds: number): Promise<AlphaGanRow> => ({
    kind: 'reconstructions',
    method,
    score: await scoreDigits(images, test.n, inst, o.seed),
    pixelError: meanAbs(images, test.data),
    labelKeptPercent: await labelKept(images, test.labels, inst),
    seconds,
  });
  panel('held-out digits', test.data);
  rows.push(await reconstructionRow('generator', rec, (performance.now() - t1) / 1000));
  panel('reconstructions G(E(x))', rec, rows.at(-1)!.score);
  for (const id of RECONSTRUCTION_METHODS) {
    hooks.onStage?.(`reconstructions: ${id}`);
    t1 = performance.now();
    const r = await refine(pair, { ...settings(id), n: test.n, seed: o.seed, latents: codes, signal: hooks.signal });
    rows.push(await reconstructionRow(id, r.samples.data, (performance.now() - t1) / 1000));
    panel(`${id} from E(x)`, r.samples.data, rows.at(-1)!.score);
  }

  // Samples from the prior.
  hooks.onStage?.('samples');
  t1 = performance.now();
  const s = (await sample(pair, { n: o.n, seed: o.seed })).samples.data;
  rows.push({ kind: 'samples', method: 'generator', score: await scoreDigits(s, o.n, inst, o.seed), seconds: (performance.now() - t1) / 1000 });
  panel('samples G(z)', s, rows.at(-1)!.score);
  for (const id of SAMPLE_METHODS) {
    hooks.onStage?.(`samples: ${id}`);
    t1 = performance.now();
    const r = await refine(pair, { ...settings(id), n: o.n, seed: o.seed, signal: hooks.signal });
    rows.push({ kind: 'samples', method: id, score: await scoreDigits(r.samples.data, o.n, inst, o.seed), seconds: (performance.now() - t1) / 1000 });
    panel(`${id} samples`, r.samples.data, rows.at(-1)!.score);
  }

  const files = {
    json: join(o.out, `alphagan-seed-${o.seed}.json`),
    table: join(o.out, `alphagan-seed-${o.seed}.md`),
    grid: join(o.out, `alphagan-seed-${o.seed}.png`),
  };
  const seconds = (performance.now() - t0) / 1000;
  const { out: _out, resume: _resume, ...train } = { ...training, out: '', resume: false };
  writeFileAtomic(
    files.json,
    `${JSON.stringify(
      {
        benchmark: 'alphagan',
        n: o.n,
        heldOut: test.n,
        seed: o.seed,
        classifier: { accuracy: inst.accuracy },
        train: { model: 'alphagan', ...train },
        methods: Object.fromEntries([...new Set([...SAMPLE_METHODS, ...RECONSTRUCTION_METHODS])].map((id) => [id, settings(id)])),
        rows,
        seconds,
      },
      null,
      2,
    )}\n`,
  );
  writeFileAtomic(files.table, `${formatAlphaGanBench(rows)}\n`);
  writeFileAtomic(files.grid, imagePanelsPng(panels, { columns: 8 }));
  return { rows, files, seconds };
}
