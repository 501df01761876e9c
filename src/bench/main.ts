/**
 * Performance benchmark: `npm run -s bench` (add `-- --quick`, or BENCH_QUICK=1, for fewer repetitions;
 * `-s` keeps npm's banner off stdout, so stdout is just the JSON document).
 *
 * Prints ONE JSON document to stdout; progress goes to stderr. Cases live in the `CASES` list, each
 * a fixture, a batch size and what is timed: `latent_step` (one Langevin step's value and gradient
 * of 0.5|z|^2 - D(G(z)), as DDLS runs it) or `forward` (scoring proposals: logRatio(G(z)) without
 * gradient, in one session, as DRS, MH and SIR run it).
 *
 * Side by side with PyTorch: when a Python with torch is found (see findTorchPython), the case's G
 * and D are rebuilt in PyTorch from the graphs Refinery read (scripts/torch_twin.py), checked
 * against the fixture's golden logits, and timed on the same latents in blocks interleaved with
 * Refinery's blocks, in this run, on this machine. Without one, the JSON says why and reports
 * Refinery alone. No number measured elsewhere is compared with.
 *
 * Timings are wall-clock per call on a session built once per case (setup time reported apart);
 * z is drawn from the fixture's prior with a fixed seed. On a shared machine the numbers are noisy:
 * compare medians, and look at min for the best case.
 *
 * In a browser (`--browser`): the latent-step cases also run in Debian's chromium (the playground's
 * bench page, onnxruntime-web's multithreaded WASM, driven by Playwright), on the same pair and
 * latents, in blocks interleaved with Node's and PyTorch's; `ratio_browser_to_node` is the browser's
 * median over Node's.
 *
 * Options: --quick, --case NAME (repeatable, substring match), --threads N, --profile DIR
 * (writes an ORT per-node profile of each latent-step or forward case to DIR; slows the run down),
 * --browser.
 */
import { foldLayers } from '../onnx/fuse.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, availableParallelism, platform, arch, totalmem, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { discriminatorGraph, generatorGraph, type ModelPair } from '../models/pair.js';
import { loadPair } from '../models/load.js';
import { compiledModel, defaultThreads, spinning } from '../onnx/session.js';
import { Rng } from '../rng.js';
import { type LatentEvaluation, LatentTarget, latentEnergyGraph } from '../targets/latent.js';
import { LatentScorer, latentScoreGraph } from '../targets/scorer.js';
import type { Tensor } from '../tensor.js';
import { fixturesDir, repoRoot } from '../testing/fixtures.js';
import { measureBatch } from './batch.js';
import { measureCost } from './cost.js';
import { cpuInfo } from './cpu.js';
import { measureMetrics } from './metrics.js';
import { BrowserTwin, type BrowserInfo } from './browser.js';
import { graphFlops, sgemmPeak, sgemmTimer } from './flops.js';
import { findTorchPython, TorchTwin } from './torch.js';
import { type ProfileSummary, profileByOperator } from './profile.js';
import type { SamplerCase } from './sampler.js';

// ---------------------------------------------------------------------------------------------
// Case definitions

interface StepCase {
  kind: 'latent_step' | 'forward';
  name: string;
  /** Fixture folder under ../shared/fixtures/onnx (or $REFINERY_FIXTURES). */
  fixture: string;
  batch: number;
  /**
   * Timed calls per side (full / --quick), warm-up calls (at least 2: onnxruntime's first two runs
   * of a session allocate and plan its memory, and the second took up to 6 times a later run's
   * time on the ResNet and SAGAN at batch 256), and a time cap per side (at least one call per
   * block is kept).
   */
  runs: { full: number; quick: number; warmup: number; maxSeconds: number };
}

type BenchCase = StepCase;

const stepCase =
  (kind: StepCase['kind']) =>
  (fixture: string, batch: number, runs: StepCase['runs']): StepCase => ({ kind, name: `${fixture}/${kind}/b${batch}`, fixture, batch, runs });
const step = stepCase('latent_step');
const forward = stepCase('forward');

const CASES: BenchCase[] = [
  step('mlp2d', 10_000, { full: 60, quick: 10, warmup: 5, maxSeconds: 15 }),
  step('dcgan32', 64, { full: 60, quick: 6, warmup: 5, maxSeconds: 15 }),
  step('dcgan32', 256, { full: 20, quick: 4, warmup: 2, maxSeconds: 20 }),
  step('mnist_dcgan28', 64, { full: 60, quick: 6, warmup: 5, maxSeconds: 15 }),
  // The architectures of real image GANs (scripts/export_bench_models.py, test/fixtures/bench).
  step('resnet32', 64, { full: 30, quick: 3, warmup: 2, maxSeconds: 20 }),
  step('resnet32', 256, { full: 10, quick: 2, warmup: 2, maxSeconds: 30 }),
  step('sagan32', 64, { full: 30, quick: 3, warmup: 2, maxSeconds: 20 }),
  step('sagan32', 256, { full: 10, quick: 2, warmup: 2, maxSeconds: 30 }),
  forward('mlp2d', 10_000, { full: 60, quick: 10, warmup: 5, maxSeconds: 10 }),
  forward('dcgan32', 256, { full: 30, quick: 4, warmup: 3, maxSeconds: 15 }),
  forward('mnist_dcgan28', 256, { full: 30, quick: 4, warmup: 3, maxSeconds: 15 }),
  forward('resnet32', 256, { full: 20, quick: 3, warmup: 2, maxSeconds: 20 }),
  forward('sagan32', 256, { full: 20, quick: 3, warmup: 2, maxSeconds: 20 }),
];

// ---------------------------------------------------------------------------------------------
// Measurement

interface Options {
  quick: boolean;
  threads: number;
  filters: string[];
  profileDir?: string;
  /** Also time the latent-step cases in chromium. */
  browser: boolean;
}

interface Timing {
  unit: 'ms';
  runs: number;
  warmup_runs: number;
  median: number;
  min: number;
  mean: number;
  max: number;
}

interface CaseResult {
  name: string;
  kind: BenchCase['kind'];
  fixture: string;
  batch: number;
  threads: number;
  /** Refinery: per-call timing of the operation. */
  step: Timing;
  /** Session build time (graph emission + ORT session creation), ms. */
  setup_ms: number;
  /** The same operation in PyTorch, interleaved with Refinery's calls; or why it was not measured. */
  pytorch: { torch: string; threads: number; blas: string[]; golden_logit_rel_error: number; step: Timing } | { unavailable: string };
  /** Refinery's median / PyTorch's median (< 1: Refinery is faster). */
  ratio_to_pytorch: number | null;
  /** The same step in chromium (onnxruntime-web), with --browser on latent-step cases. */
  browser?: (BrowserInfo & { setup_ms: number; step: Timing }) | { unavailable: string };
  /** The browser's median / Node's median (> 1: the browser is slower). */
  ratio_browser_to_node?: number | null;
  /** Samples per second at the median (forward cases). */
  samples_per_second?: { refinery: number; pytorch: number | null };
  /** Dense-op work of one call in the graphs Refinery runs (models folded as inline folds them: Conv, ConvTranspose, MatMul, Gemm; see flops.ts), GFLOP; PyTorch GFLOP/s uses the same count. */
  gflop_per_call: number;
  /**
   * That work over the median time, GFLOP/s, and as a fraction of this run's measured sgemm peak
   * (the higher of its measurements before and after the cases); and against the MatMul of the
   * peak's size timed in the case's own interleaved blocks (median against median), which sees
   * the machine as the case's calls did.
   */
  achieved: {
    refinery_gflops: number;
    pytorch_gflops: number | null;
    refinery_fraction_of_peak: number | null;
    interleaved_sgemm: { size: number; median_gflops: number; best_gflops: number; runs: number } | null;
    refinery_fraction_of_interleaved_sgemm: number | null;
  };
  /** Anything case-specific worth recording. */
  notes?: Record<string, unknown>;
  /** With --profile: the trace file and its kernel time per operator type (runs after the first two). */
  profile?: ProfileSummary & { file: string };
}

function summarize(samples: number[], warmup: number): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { unit: 'ms', runs: s.length, warmup_runs: warmup, median: round(median), min: round(s[0]), mean: round(mean), max: round(s[s.length - 1]) };
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

async function timeCalls(fn: () => Promise<unknown>, calls: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/**
 * Time Refinery's `fn` and the twin's calls in alternating blocks (ROUNDS of them), after warm-up
 * calls of both; a side stops once its time cap is spent (at least one call per block).
 */
async function interleaved(
  fn: () => Promise<unknown>,
  twins: ((calls: number) => Promise<number[]>)[],
  c: StepCase,
  opts: Options,
): Promise<{ ours: number[]; theirs: (number[] | undefined)[]; warmup: number }> {
  const runs = opts.quick ? c.runs.quick : c.runs.full;
  const warmup = opts.quick ? Math.min(2, c.runs.warmup) : c.runs.warmup;
  const rounds = opts.quick ? 2 : ROUNDS;
  const perBlock = Math.max(1, Math.ceil(runs / rounds));
  await timeCalls(fn, warmup);
  const working: boolean[] = [];
  for (const twin of twins)
    working.push(
      await twin(warmup).then(
        () => true,
        () => false,
      ),
    );
  const ours: number[] = [];
  const theirs: number[][] = twins.map(() => []);
  const cap = (c.runs.maxSeconds * 1000) / rounds;
  for (let r = 0; r < rounds; r++) {
    await settle();
    const t0 = performance.now();
    const block = await timeCalls(fn, 1);
    const spent = block[0];
    const more = Math.max(0, Math.min(perBlock - 1, Math.floor((cap - (performance.now() - t0)) / Math.max(spent, 1e-3))));
    ours.push(...block, ...(await timeCalls(fn, more)));
    for (let k = 0; k < twins.length; k++) {
      if (!working[k]) continue;
      await settle();
      theirs[k].push(...(await twins[k](1 + more)));
    }
  }
  return { ours, theirs: theirs.map((t, k) => (working[k] ? t : undefined)), warmup };
}

/** The most calls per block of the interleaved sgemm (see measureStep). */
const SGEMM_CALLS = 4;

/** Interleaved blocks per case. */
const ROUNDS = 5;

/**
 * A pause before each block, so that it starts on idle cores: OpenBLAS's threads (PyTorch's
 * BLAS here) keep spinning for about 0.1 s after a call, and a block of short calls right after
 * PyTorch's ran at up to twice its time (mlp2d scoring: median 15.6 ms, min 6.9).
 */
const SETTLE_MS = 300;
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

/** Seeded latents from the pair's prior. */
function seededLatents(pair: ModelPair, batch: number, seed: number): Tensor {
  const d = pair.meta.latentDim;
  const data = new Float32Array(batch * d);
  const rng = new Rng(seed, batch, d);
  if (pair.meta.latentPrior === 'uniform[-1,1]') rng.fillUniform(data, -1, 1);
  else rng.fillNormal(data);
  return { data, shape: [batch, d] };
}

/** A fixture's folder: ../shared's PyTorch fixtures, or the bench's own (test/fixtures/bench). */
function fixtureDir(fixture: string): string {
  const shared = join(fixturesDir(), fixture);
  return existsSync(shared) ? shared : join(repoRoot, 'test', 'fixtures', 'bench', fixture);
}

const pairCache = new Map<string, ModelPair>();
function fixturePair(fixture: string): ModelPair {
  let p = pairCache.get(fixture);
  if (!p) {
    const dir = fixtureDir(fixture);
    p = loadPair({ generator: join(dir, 'generator.onnx'), discriminator: join(dir, 'discriminator.onnx') });
    pairCache.set(fixture, p);
  }
  return p;
}

/** The PyTorch twin of a fixture (one per fixture and run), or why there is none. */
async function twinFor(fixture: string, opts: Options, work: string): Promise<TorchTwin | { unavailable: string }> {
  const hit = twins.get(fixture);
  if (hit) return hit;
  let result: TorchTwin | { unavailable: string };
  const found = findTorchPython();
  if ('reason' in found) result = { unavailable: found.reason };
  else {
    const pair = fixturePair(fixture);
    const dir = fixtureDir(fixture);
    const latents = new Map<number, Float32Array>();
    for (const c of CASES) if (c.fixture === fixture) latents.set(c.batch, seededLatents(pair, c.batch, 20240601).data);
    try {
      result = await TorchTwin.start(
        found.python,
        {
          generator: generatorGraph(pair),
          discriminator: discriminatorGraph(pair),
          dOutput: pair.meta.dOutput,
          threads: opts.threads,
          goldenZ: join(dir, 'z.npy'),
          goldenLogit: join(dir, 'logit.npy'),
          latents,
          latentDim: pair.meta.latentDim,
        },
        mkdtempSync(join(work, `${fixture}-`)),
      );
      if (result.info.golden_logit_rel_error > 1e-4) {
        result.close();
        result = { unavailable: `the PyTorch rebuild misses the golden logits (relative error ${result.info.golden_logit_rel_error})` };
      }
    } catch (e) {
      result = { unavailable: `the PyTorch twin failed: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  twins.set(fixture, result);
  return result;
}
const twins = new Map<string, TorchTwin | { unavailable: string }>();

/** The browser side (one page for the whole run), or why there is none. */
let browserTwin: Promise<BrowserTwin | { unavailable: string }> | undefined;

async function measureStep(c: StepCase, opts: Options, work: string, peak: { gflops: number; size: number } | undefined): Promise<CaseResult> {
  const fixture = fixturePair(c.fixture);
  const z = seededLatents(fixture, c.batch, 20240601);
  // The energy is 0.5|z|^2 - D(G(z)) in every case (the normal prior's), whatever the fixture's prior.
  const pair: ModelPair = { ...fixture, meta: { ...fixture.meta, latentPrior: 'normal' } };
  const t0 = performance.now();
  let fn: () => Promise<unknown>;
  let release: () => Promise<void>;
  let check: () => Promise<Record<string, unknown>>;
  if (c.kind === 'latent_step') {
    const target = await LatentTarget.create(pair, { threads: opts.threads });
    let last: LatentEvaluation | undefined;
    fn = async () => {
      last = await target.evaluate(z);
    };
    release = () => target.release();
    check = async () => {
      if (!(last?.grad.every(Number.isFinite) && last.energy.every(Number.isFinite))) throw new Error(`${c.name}: non-finite energy or gradient`);
      return {
        latent_dim: pair.meta.latentDim,
        z_prior: fixture.meta.latentPrior,
        energy: '0.5|z|^2 - D(G(z))',
        mean_energy: round(mean(last.energy), 4),
        grad_rms: round(Math.sqrt(mean(last.grad.map((v) => v * v))), 4),
      };
    };
  } else {
    // As the selection methods score their proposals: G then D in one session.
    const scorer = await LatentScorer.create(pair, { threads: opts.threads });
    let last: Float32Array | undefined;
    fn = async () => {
      last = await scorer.score(z);
    };
    release = () => scorer.release();
    check = async () => ({ operation: 'logRatio(G(z)) in one session, no gradient', mean_log_ratio: round(mean(last!), 4) });
  }
  const setupMs = performance.now() - t0;
  const twin = await twinFor(c.fixture, opts, work);
  const what = c.kind === 'latent_step' ? 'grad' : 'forward';
  const torchCalls = (calls: number) => ('unavailable' in twin ? Promise.reject(new Error(twin.unavailable)) : twin.time(what, c.batch, calls));
  let browser: BrowserTwin | { unavailable: string } | undefined;
  let browserSetup = 0;
  if (opts.browser && c.kind === 'latent_step') {
    browserTwin ??= BrowserTwin.start(opts.threads);
    browser = await browserTwin;
    if (!('unavailable' in browser)) browserSetup = await browser.setup(pair, z);
  }
  const b = browser && !('unavailable' in browser) ? browser : undefined;
  // The peak's MatMul in the same blocks: this machine's speed drifts over minutes.
  const sgemm = peak ? await sgemmTimer(peak.size, opts.threads) : undefined;
  const twinCalls = [torchCalls, ...(b ? [(calls: number) => b.time(calls)] : [])];
  let timed: Awaited<ReturnType<typeof interleaved>>;
  try {
    // At most SGEMM_CALLS per block: enough for its median, and a short case's block of many calls
    // does not make it a long one.
    const sgemmCalls = (calls: number) => sgemm!.time(Math.min(calls, SGEMM_CALLS));
    timed = await interleaved(fn, sgemm ? [...twinCalls, sgemmCalls] : twinCalls, c, opts);
  } finally {
    await sgemm?.release();
  }
  const { ours, warmup } = timed;
  const [theirs, ...rest] = timed.theirs;
  const inBrowser = b ? rest[0] : undefined;
  const sgemmTimes = sgemm ? rest[rest.length - 1] : undefined;
  const notes = await check();
  await release();
  const profile = opts.profileDir ? await profileCase(c, pair, z, opts) : undefined;
  const stepTiming = summarize(ours, warmup);
  const torchTiming = theirs && !('unavailable' in twin) ? summarize(theirs, warmup) : undefined;
  const perSecond = (t: Timing) => round((1000 * c.batch) / t.median, 1);
  const flops =
    c.kind === 'latent_step'
      ? graphFlops(latentEnergyGraph(pair), c.batch).flops
      : graphFlops(foldLayers(generatorGraph(pair)), c.batch).flops + graphFlops(foldLayers(discriminatorGraph(pair)), c.batch).flops;
  const gflops = (t: Timing) => round(flops / (t.median * 1e6), 2);
  const sgemmTiming = sgemm && sgemmTimes ? summarize(sgemmTimes, warmup) : undefined;
  const interleavedSgemm =
    sgemm && sgemmTiming
      ? {
          size: sgemm.size,
          median_gflops: round(sgemm.gflops(sgemmTiming.median), 1),
          best_gflops: round(sgemm.gflops(sgemmTiming.min), 1),
          runs: sgemmTiming.runs,
        }
      : null;
  return {
    name: c.name,
    kind: c.kind,
    fixture: c.fixture,
    batch: c.batch,
    threads: opts.threads,
    step: stepTiming,
    setup_ms: round(setupMs, 1),
    pytorch: 'unavailable' in twin ? twin : { ...twin.info, step: torchTiming! },
    ratio_to_pytorch: torchTiming ? round(stepTiming.median / torchTiming.median) : null,
    ...(browser
      ? {
          browser:
            b && inBrowser
              ? { ...b.info, setup_ms: round(browserSetup, 1), step: summarize(inBrowser, warmup) }
              : { unavailable: 'unavailable' in browser ? browser.unavailable : 'the page failed its warm-up calls' },
          ratio_browser_to_node: b && inBrowser ? round(summarize(inBrowser, warmup).median / stepTiming.median) : null,
        }
      : {}),
    ...(c.kind === 'forward' ? { samples_per_second: { refinery: perSecond(stepTiming), pytorch: torchTiming ? perSecond(torchTiming) : null } } : {}),
    gflop_per_call: round(flops / 1e9, 4),
    achieved: {
      refinery_gflops: gflops(stepTiming),
      pytorch_gflops: torchTiming ? gflops(torchTiming) : null,
      refinery_fraction_of_peak: peak ? round(gflops(stepTiming) / peak.gflops) : null,
      interleaved_sgemm: interleavedSgemm,
      refinery_fraction_of_interleaved_sgemm: interleavedSgemm ? round(gflops(stepTiming) / interleavedSgemm.median_gflops) : null,
    },
    notes,
    ...(profile ? { profile } : {}),
  };
}

function mean(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s / a.length;
}

/**
 * A separate profiled session (ORT writes a Chrome-trace JSON); not part of the timings. Eight
 * runs, summarised per operator type over the last six (the first two allocate).
 */
async function profileCase(c: StepCase, pair: ModelPair, z: Tensor, opts: Options): Promise<ProfileSummary & { file: string }> {
  // The case's graph as Session.create compiles it for the CPU (pair with the case's energy prior).
  const bytes = compiledModel(c.kind === 'latent_step' ? latentEnergyGraph(pair) : latentScoreGraph(pair), 'cpu');
  mkdirSync(opts.profileDir!, { recursive: true });
  const prefix = join(opts.profileDir!, c.name.replace(/[^A-Za-z0-9]+/g, '_'));
  const before = new Set(readdirSync(opts.profileDir!));
  const s = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  const feeds = { z: new ort.Tensor('float32', z.data, z.shape) };
  for (let i = 0; i < 8; i++) await s.run(feeds);
  s.endProfiling();
  await s.release();
  // onnxruntime appends a timestamp to the prefix: the new file of that prefix.
  const written = readdirSync(dirname(prefix))
    .filter((f) => f.startsWith(basename(prefix)) && !before.has(f))
    .map((f) => join(dirname(prefix), f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!written) throw new Error(`onnxruntime wrote no profile with the prefix ${prefix}`);
  const summary = profileByOperator(JSON.parse(readFileSync(written, 'utf8')));
  const top = summary.operators.slice(0, 8).map((o) => `${o.op} ${(100 * o.share).toFixed(1)}%`);
  process.stderr.write(`  profile ${written}: ${summary.kernelMs.toFixed(1)} ms of kernels per run (runs 3-8): ${top.join(', ')}\n`);
  return { file: written, ...summary };
}

// ---------------------------------------------------------------------------------------------
// Driver

function parseArgs(argv: string[]): Options {
  const envQuick = process.env.BENCH_QUICK;
  const opts: Options = { quick: envQuick !== undefined && envQuick !== '' && envQuick !== '0', threads: defaultThreads(), filters: [], browser: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--case') opts.filters.push(value());
    else if (a === '--threads') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error('--threads needs a positive integer');
      opts.threads = n;
    } else if (a === '--profile') opts.profileDir = value();
    else if (a === '--browser') opts.browser = true;
    else throw new Error(`unknown option ${a} (known: --quick, --case NAME, --threads N, --profile DIR, --browser)`);
  }
  return opts;
}

/**
 * Sampler throughput on the dcgan32 fixture: samples/second of DDLS and DGflow (latent, KL) and
 * peak resident memory, each in its own process. Two sizes of N with the same chunk size show
 * that memory stays flat in N (streamed chunks).
 */
const SAMPLERS: SamplerCase[] = [
  { name: 'ddls dcgan32 n=256', method: 'ddls', fixture: 'dcgan32', n: 256, batchSize: 64, chunkSize: 256, numSteps: 20 },
  { name: 'ddls dcgan32 n=1024', method: 'ddls', fixture: 'dcgan32', n: 1024, batchSize: 64, chunkSize: 256, numSteps: 20 },
  { name: 'dgflow dcgan32 n=256', method: 'dgflow', fixture: 'dcgan32', n: 256, batchSize: 64, chunkSize: 256, numSteps: 20 },
  { name: 'dgflow dcgan32 n=1024', method: 'dgflow', fixture: 'dcgan32', n: 1024, batchSize: 64, chunkSize: 256, numSteps: 20 },
  // Streaming at the scale: 50,000 images (600 MB of output) against 5,000, one step each.
  { name: 'ddls dcgan32 n=5000 streamed', method: 'ddls', fixture: 'dcgan32', n: 5000, batchSize: 250, chunkSize: 1000, numSteps: 1 },
  { name: 'ddls dcgan32 n=50000 streamed', method: 'ddls', fixture: 'dcgan32', n: 50000, batchSize: 250, chunkSize: 1000, numSteps: 1 },
];

function measureSampler(c: SamplerCase, opts: Options): Record<string, unknown> {
  const script = fileURLToPath(new URL('./sampler.js', import.meta.url));
  const quick = opts.quick ? { ...c, n: Math.min(c.n, 128) * (c.n > 256 ? 2 : 1), chunkSize: 128, numSteps: 5 } : c;
  const out = execFileSync(process.execPath, [script, JSON.stringify(quick)], {
    encoding: 'utf8',
    env: { ...process.env, REFINERY_THREADS: String(opts.threads) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out) as Record<string, unknown>;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const selected = CASES.filter((c) => opts.filters.length === 0 || opts.filters.some((f) => c.name.includes(f)));
  const started = performance.now();
  const results: CaseResult[] = [];
  const work = mkdtempSync(join(tmpdir(), 'refinery-bench-'));
  // The machine's sgemm peak through onnxruntime, with the cases' threads (the ceiling of their GFLOP/s).
  let peak: Awaited<ReturnType<typeof sgemmPeak>> | undefined;
  let peakBefore: number | undefined;
  let peakAfter: number | undefined;
  if (selected.length > 0) {
    process.stderr.write('bench sgemm peak ...\n');
    peak = await sgemmPeak(opts.threads, opts.quick ? 2 : 5);
    process.stderr.write(`  ${peak.gflops.toFixed(1)} GFLOP/s (best of MatMul sizes ${JSON.stringify(peak.bySize)}, ${opts.threads} threads)\n`);
  }
  try {
    for (const c of selected) {
      process.stderr.write(`bench ${c.name} ...\n`);
      const r = await measureStep(c, opts, work, peak);
      const vs =
        'unavailable' in r.pytorch
          ? `PyTorch not measured: ${r.pytorch.unavailable}`
          : `PyTorch ${r.pytorch.step.median.toFixed(1)} ms, ratio ${r.ratio_to_pytorch}`;
      process.stderr.write(`  median ${r.step.median.toFixed(1)} ms (min ${r.step.min.toFixed(1)}, ${r.step.runs} runs); ${vs}\n`);
      process.stderr.write(
        `  ${r.gflop_per_call} GFLOP per call: ${r.achieved.refinery_gflops} GFLOP/s (${r.achieved.refinery_fraction_of_peak ?? '-'} of the first peak; ${r.achieved.refinery_fraction_of_interleaved_sgemm ?? '-'} of the interleaved ${r.achieved.interleaved_sgemm?.size ?? '-'}^3 MatMul's median ${r.achieved.interleaved_sgemm?.median_gflops ?? '-'} GFLOP/s)\n`,
      );
      if (r.browser)
        process.stderr.write(
          'unavailable' in r.browser
            ? `  browser not measured: ${r.browser.unavailable}\n`
            : `  chromium ${r.browser.step.median.toFixed(1)} ms (${r.browser.threads} threads), browser/Node ${r.ratio_browser_to_node}\n`,
        );
      results.push(r);
    }
    // The peak again after the cases: this machine's MatMul speed drifts by 20% over minutes,
    // so the shares of peak are taken against the higher of the two measurements.
    if (peak) {
      process.stderr.write('bench sgemm peak, again ...\n');
      const again = await sgemmPeak(opts.threads, opts.quick ? 2 : 5);
      process.stderr.write(`  ${again.gflops.toFixed(1)} GFLOP/s (best of MatMul sizes ${JSON.stringify(again.bySize)})\n`);
      peakBefore = peak.gflops;
      peakAfter = again.gflops;
      if (again.gflops > peak.gflops) peak = again;
      for (const r of results) r.achieved.refinery_fraction_of_peak = round(r.achieved.refinery_gflops / peak.gflops);
    }
  } finally {
    for (const t of twins.values()) if (!('unavailable' in t)) t.close();
    const b = await browserTwin;
    if (b && !('unavailable' in b)) await b.close();
    rmSync(work, { recursive: true, force: true });
  }
  const samplers: Record<string, unknown>[] = [];
  for (const c of SAMPLERS.filter((s) => opts.filters.length === 0 || opts.filters.some((f) => s.name.includes(f)))) {
    process.stderr.write(`bench ${c.name} ...\n`);
    const r = measureSampler(c, opts);
    process.stderr.write(`  ${r.samples_per_second} samples/s, peak ${r.peak_rss_mib} MiB\n`);
    samplers.push(r);
  }
  const wants = (section: string) => opts.filters.length === 0 || opts.filters.some((f) => section.includes(f) || f.startsWith(section));
  const cost = wants('cost') ? await measureCost(opts.quick, 1) : undefined;
  const metrics = wants('metrics') ? await measureMetrics(opts.quick) : undefined;
  const batch = wants('batch') ? await measureBatch(opts.quick, (t) => process.stderr.write(`bench batch ${t}\n`)) : undefined;
  const doc = {
    benchmark: 'refinery',
    date: new Date().toISOString(),
    quick: opts.quick,
    environment: {
      node: process.version,
      onnxruntime_node: ort.env.versions.node ?? null,
      onnxruntime_common: ort.env.versions.common,
      cpu_model: cpus()[0]?.model ?? 'unknown',
      cpu: cpuInfo(),
      cores: availableParallelism(),
      threads: opts.threads,
      platform: `${platform()}-${arch()}`,
      total_memory_gib: round(totalmem() / 2 ** 30, 1),
      // onnxruntime's worker threads spin within a run (REFINERY_SPIN, see onnx/session.ts).
      spinning: spinning(),
      sgemm_peak: peak
        ? {
            gflops: round(peak.gflops, 1),
            matmul: `${peak.size}^3 float32, fastest of ${peak.runs} calls`,
            by_size: peak.bySize,
            threads: peak.threads,
            before_cases: peakBefore === undefined ? null : round(peakBefore, 1),
            after_cases: peakAfter === undefined ? null : round(peakAfter, 1),
          }
        : null,
    },
    cases: results,
    samplers,
    cost,
    metrics,
    batch,
    total_seconds: round((performance.now() - started) / 1000, 1),
  };
  process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
