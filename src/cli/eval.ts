/**
 * `refinery eval`: metrics of fake samples against real ones (a .npy, a folder of PNGs or JPEGs, a
 * built-in dataset, or cached statistics), on the samples or in a feature space (any ONNX
 * embedding), with the Inception Score and class statistics of a classifier.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { DATASET_NAMES, type DatasetName } from '../data/dataset.js';
import { IMAGE_DATASET_NAMES, openImageFolder } from '../data/images.js';
import { MNIST_SIZE, mnistSplit } from '../data/mnist.js';
import { type BuiltinDataset, sampleDataset } from '../data/sample.js';
import { fail } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { lockOutputs } from '../io/lock.js';
import { readNpz, writeNpz } from '../io/npz.js';
import { checkEarlierOutputs, checkOutputs, type NamedPath } from '../io/paths.js';
import { evaluate, METRIC_NAMES, type MetricName, parseMetricList } from '../metrics/evaluate.js';
import type { SampleSource } from '../metrics/features.js';
import type { OnnxModel } from '../onnx/graph.js';
import type { GaussianStats } from '../metrics/frechet.js';
import { loadModel } from '../onnx/modelfile.js';
import { checkMemory } from '../platform/memory.js';
import { prCurvePng } from '../plot/curves.js';
import type { Tensor } from '../tensor.js';
import { pairFromFlags, printResult, signal } from './common.js';
import { choiceArg, intArg, numberArg } from './parse.js';
import { progressStages } from './progress.js';
import { readSamplesFile } from './real.js';

/**
 * A .npy [n, ...] or a folder of PNG and JPEG images (pixels, and a .npy of uint8, in [-1, 1]). A
 * folder whose images only models read (the features, the classifier) is opened as a source
 * with their input's channels, its images decoded a batch at a time as the models take them.
 */
async function readSamples(
  path: string,
  option: string,
  channels: 1 | 3 | undefined,
  onProgress: (p: { stage: string; done: number; total: number }) => void,
): Promise<Tensor | SampleSource> {
  if (channels !== undefined && existsSync(path) && statSync(path).isDirectory()) return openImageFolder(path, { option, channels });
  const t = await readSamplesFile(path, option, [-1, 1], undefined, (done, total) => onProgress({ stage: `reading ${option}`, done, total }));
  if (t.shape.length < 2 || t.shape[0] < 1) fail('shape_mismatch', option, 'an array [n, ...] with n >= 1', `[${t.shape.join(', ')}]`);
  return { data: t.data, shape: [...t.shape] };
}

/**
 * The channels that image folders are read with when only models read their images (the
 * features for every comparison, the classifier for 'is' and 'classes'), from the models' input
 * [batch, c, h, w] with c = 1 or 3; undefined (read whole, channels from the images) when a metric
 * reads the samples themselves, when the models disagree or do not fix c, or with `wholeNeeded`
 * (a run for the likelihood, a built-in dataset's modes).
 */
export function streamedChannels(
  metrics: MetricName[] | undefined,
  features: OnnxModel | undefined,
  classifier: OnnxModel | undefined,
  wholeNeeded: boolean,
): 1 | 3 | undefined {
  if (wholeNeeded) return undefined;
  const comparisons = (metrics ?? METRIC_NAMES).filter((m) => m !== 'is' && m !== 'classes' && m !== 'modes' && m !== 'likelihood');
  if (metrics?.some((m) => m === 'modes' || m === 'likelihood')) return undefined;
  if (comparisons.length > 0 && features === undefined) return undefined;
  const models = [features, classifier].filter((m): m is OnnxModel => m !== undefined);
  if (models.length === 0) return undefined;
  const channels = models.map((m) => {
    const shape = m.inputs[0]?.shape;
    return shape?.length === 4 && (shape[1] === 1 || shape[1] === 3) ? shape[1] : undefined;
  });
  return channels.every((c) => c !== undefined && c === channels[0]) ? (channels[0] as 1 | 3) : undefined;
}

/** Cached statistics: an .npz with mu [d] and sigma [d, d] (pytorch-fid's format), and n when Refinery wrote it. */
function readStats(path: string): GaussianStats {
  const z = readNpz(path);
  const mu = z.mu;
  const sigma = z.sigma;
  if (!mu || !sigma || mu.shape.length !== 1 || sigma.shape.length !== 2 || sigma.shape[0] !== mu.shape[0] || sigma.shape[1] !== mu.shape[0]) {
    fail('invalid_file', path, 'an .npz with mu [d] and sigma [d, d] (as pytorch-fid writes)', Object.keys(z).join(', ') || 'no arrays');
  }
  const f64 = (a: typeof mu) => (a.data instanceof Float64Array ? a.data : Float64Array.from(a.data as ArrayLike<number>));
  const n = z.n ? Number((z.n.data as ArrayLike<number | bigint>)[0]) : 0;
  return { mean: f64(mu), cov: f64(sigma), n, d: mu.shape[0] };
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description(
      'evaluate fake samples against real ones: mode metrics, Frechet distance, KID/MMD, precision/recall, density/coverage, PR curves, Inception Score, GAN likelihoods',
    )
    .requiredOption('--fake <path>', 'fake samples: .npy [n, ...] or a folder of PNG or JPEG images')
    .option('--real <path>', 'real samples: .npy [m, ...] or a folder of PNG or JPEG images')
    .option(
      '--dataset <name>',
      `built-in dataset: ${DATASET_NAMES.join(', ')} (real samples drawn from it; its modes give the mode metrics), shapes28, or mnist (its 8,000 training digits)`,
      choiceArg([...DATASET_NAMES, ...IMAGE_DATASET_NAMES]),
    )
    .option('--real-n <n>', 'real samples drawn with --dataset (default 10000; mnist: all 8,000 training digits)', intArg(2))
    .option('--real-stats <file.npz>', "statistics of the real features instead of real samples (mu, sigma: pytorch-fid's .npz) for fd")
    .option('--save-stats <file.npz>', 'write the statistics of the real features (mu, sigma, n) for --real-stats')
    .option('--features <file.onnx>', 'feature extractor x -> [batch, k] (e.g. Inception-v3 exported from PyTorch, or features.onnx of train-classifier)')
    .option(
      '--classifier <file.onnx>',
      'classifier x -> logits [batch, K] (or its Softmax probabilities), for the Inception Score (is) and class statistics (classes)',
    )
    .option('--metrics <list>', `comma-separated, of ${METRIC_NAMES.join(', ')} (default: all that apply)`)
    .option('--seed <n>', 'seed of sampled metrics (KID subsets, k-means, splits) and of --dataset draws', intArg(), 0)
    .option('--pr-k <k>', 'k of improved precision/recall', intArg(1), 3)
    .option('--dc-k <k>', 'k of density/coverage', intArg(1), 5)
    .option('--cpr-classifier <kind>', 'classifier of the cpr curve: knn, or linear (Simon et al.)', choiceArg(['knn', 'linear'] as const), 'knn')
    .option(
      '--mmd-bandwidth <sigma>',
      'bandwidth of the RBF kernel of mmd (default: the median heuristic)',
      numberArg((v) => Number.isFinite(v) && v > 0, 'a positive number'),
    )
    .option('--is-splits <n>', 'splits of the Inception Score', intArg(1), 10)
    .option(
      '--confidence <p>',
      'confidence above which a sample counts as classified (classes)',
      numberArg((p) => p >= 0 && p < 1, 'a number in [0, 1)'),
      0.9,
    )
    .option('--batch-size <n>', 'rows per model call of --features and --classifier', intArg(1), 500)
    .option('--run <dir>', "a GAN's run folder (generator.onnx, discriminator.onnx, meta.json): the model of --metrics likelihood")
    .option(
      '--likelihood-lambda <x>',
      'likelihood: entropic regularisation lambda (default 5)',
      numberArg((n) => n > 0, 'a positive number'),
    )
    .option('--likelihood-samples <n>', 'likelihood: prior draws per estimate (default 2000)', intArg(1))
    .option('--likelihood-cost <c>', 'likelihood: ground cost l1 (sum |y - G(x)|, default) or l2 (half squared distance)', choiceArg(['l1', 'l2'] as const))
    .option('--no-likelihood-critic', "likelihood: leave D out (the noise model's likelihood alone)")
    .option('--curves-png <file>', 'plot the PR curves (prd, cpr) to a PNG')
    .option('--overwrite', 'replace an earlier --save-stats or --curves-png file (otherwise refused)', false)
    .option('--json', 'print the result as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts) => {
      const sources = [opts.real, opts.dataset, opts.realStats].filter((v) => v !== undefined).length;
      if (sources > 1) fail('invalid_argument', '--real', 'one of --real, --dataset or --real-stats', 'several');
      const metrics = opts.metrics !== undefined ? parseMetricList(opts.metrics, '--metrics') : undefined;
      const inputs: NamedPath[] = [{ path: opts.fake, option: '--fake' }];
      for (const [k, flag] of [
        ['real', '--real'],
        ['realStats', '--real-stats'],
        ['features', '--features'],
        ['classifier', '--classifier'],
        ['run', '--run'],
      ] as const) {
        if (opts[k] !== undefined) inputs.push({ path: opts[k], option: flag });
      }
      const outputs: NamedPath[] = [];
      if (opts.curvesPng !== undefined) {
        if (!String(opts.curvesPng).toLowerCase().endsWith('.png')) fail('invalid_argument', '--curves-png', 'a file name ending in .png', opts.curvesPng);
        if (metrics && !metrics.some((m) => m === 'prd' || m === 'cpr'))
          fail('invalid_argument', '--curves-png', 'a curve metric in --metrics (prd or cpr)', opts.metrics);
        outputs.push({ path: opts.curvesPng, option: '--curves-png' });
      }
      if (opts.saveStats !== undefined) {
        if (!String(opts.saveStats).endsWith('.npz')) fail('invalid_argument', '--save-stats', 'a file name ending in .npz', opts.saveStats);
        if (opts.real === undefined && opts.dataset === undefined)
          fail('invalid_argument', '--save-stats', 'real samples to take statistics of (--real or --dataset)', 'none');
        outputs.push({ path: opts.saveStats, option: '--save-stats' });
      }
      checkOutputs(outputs, inputs);
      // Locked for the whole run (two runs never write one file), then no earlier file unasked.
      for (const o of outputs) mkdirSync(dirname(o.path) || '.', { recursive: true });
      const lock = outputs.length > 0 ? lockOutputs(outputs) : undefined;
      // Stopped however the command ends: a bar left running would keep the process alive after an error.
      const bar = progressStages(!opts.quiet);
      try {
        checkEarlierOutputs(outputs, { overwrite: opts.overwrite }, false);
        const features = opts.features === undefined ? undefined : loadModel(opts.features);
        const classifier = opts.classifier === undefined ? undefined : loadModel(opts.classifier);
        // Image folders are streamed when only the models read the images: the features for the
        // comparisons (or no comparison asked) and the classifier, all taking the same channels.
        const streamed = streamedChannels(metrics, features, classifier, opts.run !== undefined || (DATASET_NAMES as readonly string[]).includes(opts.dataset));
        const fake = await readSamples(opts.fake, '--fake', streamed, bar.update);
        let real: Tensor | SampleSource | undefined;
        if (opts.real !== undefined) real = await readSamples(opts.real, '--real', streamed, bar.update);
        else if (opts.dataset === 'mnist' && opts.realN === undefined) {
          const t = mnistSplit('train');
          real = { data: t.data, shape: [t.n, 1, MNIST_SIZE, MNIST_SIZE] };
        } else if (opts.dataset !== undefined) {
          opts.realN ??= 10000;
          checkMemory(4 * 784 * opts.realN, '--real-n', `${opts.realN} real samples`);
          real = sampleDataset(opts.dataset as BuiltinDataset, opts.realN, { seed: opts.seed });
        }
        const realStats = opts.realStats === undefined ? undefined : readStats(opts.realStats);
        if (real && real.shape.slice(1).join('x') !== fake.shape.slice(1).join('x')) {
          fail('shape_mismatch', '--fake', `samples of the real data's shape [n, ${real.shape.slice(1).join(', ')}]`, `[${fake.shape.join(', ')}]`);
        }
        if (metrics?.includes('likelihood') && opts.run === undefined) fail('invalid_argument', '--run', "a GAN's run folder for --metrics likelihood", 'none');
        const pair = opts.run === undefined ? undefined : pairFromFlags({ run: opts.run });
        const r = await evaluate(real, fake, {
          metrics: metrics ?? (opts.saveStats !== undefined ? ['fd'] : undefined),
          dataset: (DATASET_NAMES as readonly string[]).includes(opts.dataset) ? (opts.dataset as DatasetName) : undefined,
          seed: opts.seed,
          prK: opts.prK,
          dcK: opts.dcK,
          mmdBandwidth: opts.mmdBandwidth,
          isSplits: opts.isSplits,
          cprClassifier: opts.cprClassifier,
          confidence: opts.confidence,
          batchSize: opts.batchSize,
          features,
          classifier,
          realStats,
          pair,
          likelihood: { lambda: opts.likelihoodLambda, samples: opts.likelihoodSamples, cost: opts.likelihoodCost, critic: opts.likelihoodCritic },
          signal: signal(),
          onProgress: bar.update,
        });
        bar.stop();
        if (opts.curvesPng) writeFileAtomic(opts.curvesPng, prCurvePng(r.curves, { title: 'precision-recall' }));
        if (opts.saveStats !== undefined && r.realStats) {
          const s = r.realStats;
          writeNpz(opts.saveStats, {
            mu: { data: s.mean, shape: [s.d] },
            sigma: { data: s.cov, shape: [s.d, s.d] },
            n: { data: new Float64Array([s.n]), shape: [] },
          });
        }
        const result = {
          fake: opts.fake,
          real:
            opts.real ??
            (opts.dataset
              ? `dataset ${opts.dataset} (n=${real?.shape[0]}${opts.realN === undefined ? '' : `, seed ${opts.seed}`})`
              : `statistics ${opts.realStats}`),
          features: opts.features ?? null,
          classifier: opts.classifier ?? null,
          run: opts.run ?? null,
          nFake: fake.shape[0],
          nReal: real?.shape[0] ?? realStats?.n ?? null,
          ...r.metrics,
          seconds: r.seconds,
        };
        const lines = Object.entries(r.metrics).map(
          ([k, v]) =>
            `${k.padEnd(7)} ${JSON.stringify(v, (key, val) => (key === 'modeCounts' || key === 'classCounts' || key === 'splits' ? undefined : typeof val === 'number' ? Number(val.toPrecision(4)) : val))}`,
        );
        printResult(opts.json, result, lines.join('\n'));
      } finally {
        bar.stop();
        lock?.release();
      }
    });
}
