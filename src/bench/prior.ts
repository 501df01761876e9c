/**
 * The latent-prior benchmark (Singh et al. 2019, measured as the paper does: the quality of images
 * generated along straight lines between two latents). Per prior (normal, uniform, the designed
 * non-parametric prior) train the MNIST DCGAN of `bench mnist` (seed and settings the same, only
 * the prior differs), draw n pairs of latents, generate at t = 0, 0.25 and 0.5 of each segment and
 * measure FID, IS, the confident share and the class histogram in the digit classifier's space;
 * refine the prior's samples with DDLS (whose energy uses log p0) too. Reports the per-coordinate
 * KL(p_mid || p) beside them; writes Markdown, JSON and one PNG of interpolation strips per prior.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MNIST_SIZE } from '../data/mnist.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { LatentPrior } from '../models/meta.js';
import { midpointDivergence, NONPARAMETRIC_PRIOR } from '../models/prior.js';
import { imagePanelsPng } from '../plot/grid.js';
import { refine } from '../refine/refine.js';
import { sampleLatents } from '../run/latent.js';
import { GeneratorRunner } from '../targets/generator.js';
import { type DigitScore, MNIST_TRAIN, mnistGan, mnistInstrument, scoreDigits } from './mnist.js';

/** The priors compared, as meta.json names them. */
export const BENCH_PRIORS: readonly LatentPrior[] = ['normal', 'uniform[-1,1]', 'nonparametric'];
/** Where on the segment z(t) = (1 - t) z1 + t z2 the images are measured. */
export const INTERPOLATION_POINTS = [0, 0.25, 0.5] as const;
/** DDLS as the MNIST table runs it. */
const DDLS = { method: 'ddls', numSteps: 100, stepSize: 0.01 } as const;

/** The measures of one set of images (`scoreDigits`). */
export type PriorScore = DigitScore;

export interface PriorRow {
  prior: LatentPrior;
  /** KL(p_mid || p) of one coordinate (exact for the uniform prior, by quadrature otherwise). */
  midpointKl: number;
  /** The measures at each t of INTERPOLATION_POINTS. */
  points: ({ t: number } & PriorScore)[];
  /** The samples (t = 0) refined by DDLS. */
  ddls: PriorScore & { seconds: number };
}

/** KL(p_mid || p) per coordinate: N(0,1) and U[-1,1] in closed form, the designed prior by quadrature. */
export function priorMidpointKl(prior: LatentPrior): number {
  if (prior === 'normal') return 0.5 * (0.5 - 1 + Math.LN2);
  if (prior === 'uniform[-1,1]') return Math.LN2 - 0.5;
  return midpointDivergence(NONPARAMETRIC_PRIOR);
}

const tag = (prior: LatentPrior) => (prior === 'uniform[-1,1]' ? 'uniform' : prior);

export function formatPriorBench(rows: PriorRow[]): string {
  const f = (v: number, d = 1) => v.toFixed(d);
  const lines = [
    '| prior | KL(mid ‖ prior) per coordinate | FID t=0 | FID t=0.25 | FID t=0.5 | IS t=0 | IS t=0.5 | % high quality t=0 | t=0.5 | FD pixels t=0 | t=0.5 | DDLS FID | DDLS IS | DDLS FD pixels |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const [a, b, c] = r.points;
      return `| ${tag(r.prior)} | ${r.midpointKl.toFixed(4)} | ${f(a.fid)} | ${f(b.fid)} | ${f(c.fid)} | ${f(a.is, 2)} | ${f(c.is, 2)} | ${f(a.highQualityPercent)} | ${f(c.highQualityPercent)} | ${f(a.fdPixels, 2)} | ${f(c.fdPixels, 2)} | ${f(r.ddls.fid)} | ${f(r.ddls.is, 2)} | ${f(r.ddls.fdPixels, 2)} |`;
    }),
  ];
  return lines.join('\n');
}

export async function runPriorBench(
  o: { n: number; seed: number; out: string; priors?: readonly LatentPrior[]; trainSteps?: number; finetuneD?: number },
  hooks: { onStage?: (text: string) => void; signal?: AbortSignal } = {},
): Promise<{ rows: PriorRow[]; files: { json: string; table: string; grid: string }; seconds: number }> {
  const t0 = performance.now();
  mkdirSync(o.out, { recursive: true });
  const inst = await mnistInstrument(o.out, hooks);
  const rows: PriorRow[] = [];
  const panels = [];
  for (const prior of o.priors ?? BENCH_PRIORS) {
    const runDir = join(o.out, `seed-${o.seed}`, `prior-${tag(prior)}`, 'run');
    if (!existsSync(join(runDir, 'meta.json'))) hooks.onStage?.(`training the DCGAN with the ${tag(prior)} prior`);
    const pair = await mnistGan(runDir, { model: 'dcgan', seed: o.seed, prior, trainSteps: o.trainSteps, finetuneD: o.finetuneD }, hooks);
    const d = pair.meta.latentDim;
    // Pair r joins the run's latents r and n + r (rows of `refinery sample --seed`).
    const z1 = sampleLatents(prior, o.seed, 0, o.n, d);
    const z2 = sampleLatents(prior, o.seed, o.n, o.n, d);
    const gen = await GeneratorRunner.create(pair);
    const at = async (t: number, rows: number[]): Promise<Float32Array> => {
      const out = new Float32Array(rows.length * MNIST_SIZE * MNIST_SIZE);
      for (let s = 0; s < rows.length; s += 500) {
        const chunk = rows.slice(s, s + 500);
        const z = new Float32Array(chunk.length * d);
        chunk.forEach((r, i) => {
          for (let j = 0; j < d; j++) z[i * d + j] = (1 - t) * z1[r * d + j] + t * z2[r * d + j];
        });
        out.set((await gen.generate({ data: z, shape: [chunk.length, d] })).data, s * MNIST_SIZE * MNIST_SIZE);
      }
      return out;
    };
    const all = Array.from({ length: o.n }, (_, i) => i);
    const points: PriorRow['points'] = [];
    for (const t of INTERPOLATION_POINTS) {
      hooks.onStage?.(`${tag(prior)}: images at t = ${t}`);
      points.push({ t, ...(await scoreDigits(await at(t, all), o.n, inst, o.seed)) });
    }
    // Eight strips of nine steps from t = 0 to 1.
    const strip = new Float32Array(8 * 9 * MNIST_SIZE * MNIST_SIZE);
    for (let k = 0; k < 9; k++) {
      const imgs = await at(k / 8, [0, 1, 2, 3, 4, 5, 6, 7]);
      for (let r = 0; r < 8; r++)
        strip.set(imgs.subarray(r * MNIST_SIZE * MNIST_SIZE, (r + 1) * MNIST_SIZE * MNIST_SIZE), (r * 9 + k) * MNIST_SIZE * MNIST_SIZE);
    }
    await gen.release();
    hooks.onStage?.(`${tag(prior)}: DDLS`);
    const t1 = performance.now();
    const refined = await refine(pair, { ...DDLS, n: o.n, seed: o.seed, signal: hooks.signal });
    const ddls = { ...(await scoreDigits(refined.samples.data, o.n, inst, o.seed)), seconds: (performance.now() - t1) / 1000 };
    rows.push({ prior, midpointKl: priorMidpointKl(prior), points, ddls });
    panels.push({
      title: `${tag(prior)} prior`,
      subtitle: `FID t=0 ${points[0].fid.toFixed(1)}  t=0.5 ${points[2].fid.toFixed(1)}`,
      data: strip,
      shape: [72, 1, MNIST_SIZE, MNIST_SIZE],
    });
  }
  const files = {
    json: join(o.out, `prior-seed-${o.seed}.json`),
    table: join(o.out, `prior-seed-${o.seed}.md`),
    grid: join(o.out, `interpolation-seed-${o.seed}.png`),
  };
  const seconds = (performance.now() - t0) / 1000;
  writeFileAtomic(
    files.json,
    `${JSON.stringify({ benchmark: 'prior', n: o.n, seed: o.seed, classifier: { accuracy: inst.accuracy }, train: { model: 'dcgan', dataset: 'mnist', steps: o.trainSteps ?? MNIST_TRAIN.steps, finetuneD: o.finetuneD ?? MNIST_TRAIN.finetuneD }, ddls: DDLS, rows, seconds }, null, 2)}\n`,
  );
  writeFileAtomic(files.table, `${formatPriorBench(rows)}\n`);
  writeFileAtomic(files.grid, imagePanelsPng(panels, { columns: 9 }));
  return { rows, files, seconds };
}
