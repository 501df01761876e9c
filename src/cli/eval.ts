/** `refinery eval`: metrics of fake samples against real ones (a .npy or a built-in dataset). */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { DATASET_NAMES, type DatasetName } from '../data/dataset.js';
import { sampleDataset } from '../data/sample.js';
import { fail } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readNpyFloat32 } from '../io/npy.js';
import { checkOutputs } from '../io/paths.js';
import { checkMemory } from '../platform/memory.js';
import { evaluate, METRIC_NAMES, parseMetricList } from '../metrics/evaluate.js';
import type { Samples } from '../metrics/linalg.js';
import { prCurvePng } from '../plot/curves.js';
import { printResult } from './common.js';
import { choiceArg, intArg } from './parse.js';

function readSamples(path: string, option: string): Samples {
  if (!existsSync(path)) fail('invalid_file', option, 'an existing .npy file', path);
  const t = readNpyFloat32(path);
  if (t.shape.length < 2 || t.shape[0] < 1) fail('shape_mismatch', option, 'an array [n, ...] with n >= 1', `[${t.shape.join(', ')}]`);
  return { data: t.data, n: t.shape[0], d: t.shape.slice(1).reduce((a, b) => a * b, 1) };
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate fake samples against real ones: mode metrics, Frechet distance, KID/MMD, precision/recall, density/coverage, PR curves')
    .requiredOption('--fake <file>', 'fake samples .npy [n, ...]')
    .option('--real <file>', 'real samples .npy [m, ...]')
    .option(
      '--dataset <name>',
      `built-in dataset (${DATASET_NAMES.join(', ')}): real samples are drawn from it and its modes give the mode metrics`,
      choiceArg(DATASET_NAMES),
    )
    .option('--real-n <n>', 'real samples drawn with --dataset', intArg(2), 10000)
    .option('--metrics <list>', `comma-separated, of ${METRIC_NAMES.join(', ')} (default: all that apply)`)
    .option('--seed <n>', 'seed of sampled metrics (KID subsets, k-means, splits) and of --dataset draws', intArg(), 0)
    .option('--pr-k <k>', 'k of improved precision/recall', intArg(1), 3)
    .option('--dc-k <k>', 'k of density/coverage', intArg(1), 5)
    .option('--curves-png <file>', 'plot the PR curves (prd, cpr) to a PNG')
    .option('--json', 'print the result as JSON', false)
    .action((opts) => {
      if ((opts.real === undefined) === (opts.dataset === undefined))
        fail('invalid_argument', '--real', 'exactly one of --real FILE.npy or --dataset NAME', opts.real === undefined ? 'neither' : 'both');
      if (opts.curvesPng !== undefined) {
        if (!String(opts.curvesPng).toLowerCase().endsWith('.png')) fail('invalid_argument', '--curves-png', 'a file name ending in .png', opts.curvesPng);
        const inputs = [{ path: opts.fake, option: '--fake' }, ...(opts.real ? [{ path: opts.real, option: '--real' }] : [])];
        checkOutputs([{ path: opts.curvesPng, option: '--curves-png' }], inputs);
      }
      const metrics = opts.metrics !== undefined ? parseMetricList(opts.metrics, '--metrics') : undefined;
      const fake = readSamples(opts.fake, '--fake');
      const dataset = opts.dataset as DatasetName | undefined;
      if (!opts.real) checkMemory(4 * 2 * opts.realN, '--real-n', `${opts.realN} real samples`);
      const real: Samples = opts.real
        ? readSamples(opts.real, '--real')
        : { data: sampleDataset(dataset!, opts.realN, { seed: opts.seed }).data, n: opts.realN, d: 2 };
      if (real.d !== fake.d) fail('shape_mismatch', '--fake', `samples of the real data's size (${real.d} values per row)`, `${fake.d}`);
      if (opts.curvesPng && metrics && !metrics.some((m) => m === 'prd' || m === 'cpr'))
        fail('invalid_argument', '--curves-png', 'a curve metric in --metrics (prd or cpr)', opts.metrics);
      const r = evaluate(real, fake, { metrics, dataset, seed: opts.seed, prK: opts.prK, dcK: opts.dcK });
      if (opts.curvesPng) {
        mkdirSync(dirname(opts.curvesPng) || '.', { recursive: true });
        writeFileAtomic(opts.curvesPng, prCurvePng(r.curves, { title: 'precision-recall' }));
      }
      const result = {
        fake: opts.fake,
        real: opts.real ?? `dataset ${opts.dataset} (n=${opts.realN}, seed ${opts.seed})`,
        nFake: fake.n,
        nReal: real.n,
        ...r.metrics,
        seconds: r.seconds,
      };
      const lines = Object.entries(r.metrics).map(
        ([k, v]) =>
          `${k.padEnd(6)} ${JSON.stringify(v, (key, val) => (key === 'modeCounts' ? undefined : typeof val === 'number' ? Number(val.toPrecision(4)) : val))}`,
      );
      printResult(opts.json, result, lines.join('\n'));
    });
}
