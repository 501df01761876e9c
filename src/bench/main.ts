/**
 * Performance benchmark: `npm run -s bench` (add `-- --quick`, or BENCH_QUICK=1, for fewer repetitions;
 * `-s` keeps npm's banner off stdout, so stdout is just the JSON document).
 *
 * Prints ONE JSON document to stdout; progress goes to stderr. Cases live in the `CASES` list: each
 * names a measurement kind, how to prepare it and the reference numbers to compare against. The
 * only kind so far is `latent_step` (one Langevin step: value and gradient of the latent energy
 * through LatentTarget). A new kind (samples/second of a sampler, peak memory, ...) adds an
 * interface to the `BenchCase` union, its entries to `CASES` and its measuring function to `MEASURE`;
 * the driver, the timing helpers and the JSON layout are shared.
 *
 * Timings are wall-clock per call on a session built once per case (setup time reported apart);
 * z is drawn from the fixture's prior with a fixed seed. On a shared machine the numbers are noisy:
 * compare medians, and look at min for the best case.
 *
 * Options: --quick, --case NAME (repeatable, substring match), --threads N, --profile DIR
 * (writes an ORT per-node profile of each case's session to DIR; slows the run down).
 */
import { execFileSync } from 'node:child_process';
import { cpus, availableParallelism, platform, arch, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { loadPair, type ModelPair } from '../models/pair.js';
import { defaultThreads } from '../onnx/session.js';
import { Rng } from '../rng.js';
import { encodeGraph } from '../onnx/model.js';
import { type LatentEvaluation, LatentTarget, latentEnergyGraph } from '../targets/latent.js';
import type { Tensor } from '../tensor.js';
import { fixturesDir } from '../testing/fixtures.js';
import { measureCost } from './cost.js';
import { measureMetrics } from './metrics.js';
import type { SamplerCase } from './sampler.js';

// ---------------------------------------------------------------------------------------------
// Case definitions

/** Reference timings (ms per step) from the performance issue, measured on a 2-core machine. */
interface Reference {
  /** PyTorch CPU autograd, 2 threads. */
  pytorch_cpu_ms: number;
  /** A hand-written forward+backward ONNX graph in onnxruntime-node. */
  ort_handwritten_ms: number;
}

interface LatentStepCase {
  kind: 'latent_step';
  name: string;
  /** Fixture folder under ../shared/fixtures/onnx (or $REFINERY_FIXTURES). */
  fixture: string;
  batch: number;
  /**
   * Latent prior for the energy. The reference energy is E(z) = 0.5|z|^2 - D(G(z)) for every
   * case, i.e. the 'normal' prior, even for mlp2d whose fixture declares uniform[-1,1] (z is still
   * drawn from the fixture's prior).
   */
  energyPrior: 'normal';
  /** Timed repetitions (full / --quick), warm-up runs, and a time cap on the timed runs (at least 3 runs are kept). */
  runs: { full: number; quick: number; warmup: number; maxSeconds: number };
  reference: Reference;
}

/** Add further case kinds to this union (and a measuring function to MEASURE). */
type BenchCase = LatentStepCase;

const CASES: BenchCase[] = [
  {
    kind: 'latent_step',
    name: 'mlp2d/latent_step/b10000',
    fixture: 'mlp2d',
    batch: 10_000,
    energyPrior: 'normal',
    runs: { full: 100, quick: 10, warmup: 10, maxSeconds: 20 },
    reference: { pytorch_cpu_ms: 40, ort_handwritten_ms: 30 },
  },
  {
    kind: 'latent_step',
    name: 'dcgan32/latent_step/b64',
    fixture: 'dcgan32',
    batch: 64,
    energyPrior: 'normal',
    runs: { full: 60, quick: 6, warmup: 5, maxSeconds: 20 },
    reference: { pytorch_cpu_ms: 646, ort_handwritten_ms: 463 },
  },
  {
    kind: 'latent_step',
    name: 'dcgan32/latent_step/b256',
    fixture: 'dcgan32',
    batch: 256,
    energyPrior: 'normal',
    runs: { full: 25, quick: 4, warmup: 3, maxSeconds: 30 },
    reference: { pytorch_cpu_ms: 2407, ort_handwritten_ms: 1939 },
  },
];

// ---------------------------------------------------------------------------------------------
// Measurement

interface Options {
  quick: boolean;
  threads: number;
  filters: string[];
  profileDir?: string;
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
  /** Per-step timing of the operation. */
  step: Timing;
  reference_ms: Reference;
  /** Reference time / our median (> 1: we are faster). */
  speedup_vs_pytorch: number;
  speedup_vs_ort_handwritten: number;
  /** Session build time (graph emission + ORT session creation), ms. */
  setup_ms: number;
  /** Anything case-specific worth recording. */
  notes?: Record<string, unknown>;
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

/** Time `fn` after `warmup` untimed calls; returns milliseconds per call. Stops early after `maxMs` (keeping at least 3 runs). */
async function timeRuns(fn: () => Promise<unknown>, warmup: number, runs: number, maxMs: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  const start = performance.now();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    const t1 = performance.now();
    out.push(t1 - t0);
    if (t1 - start > maxMs && out.length >= 3) break;
  }
  return out;
}

/** Seeded latents from the pair's prior. */
function seededLatents(pair: ModelPair, batch: number, seed: number): Tensor {
  const d = pair.meta.latentDim;
  const data = new Float32Array(batch * d);
  const rng = new Rng(seed, batch, d);
  if (pair.meta.latentPrior === 'uniform[-1,1]') rng.fillUniform(data, -1, 1);
  else rng.fillNormal(data);
  return { data, shape: [batch, d] };
}

const pairCache = new Map<string, ModelPair>();
function fixturePair(fixture: string): ModelPair {
  let p = pairCache.get(fixture);
  if (!p) {
    const dir = join(fixturesDir(), fixture);
    p = loadPair({ generator: join(dir, 'generator.onnx'), discriminator: join(dir, 'discriminator.onnx') });
    pairCache.set(fixture, p);
  }
  return p;
}

async function measureLatentStep(c: LatentStepCase, opts: Options): Promise<CaseResult> {
  const fixture = fixturePair(c.fixture);
  const z = seededLatents(fixture, c.batch, 20240601);
  const pair: ModelPair = { ...fixture, meta: { ...fixture.meta, latentPrior: c.energyPrior } };
  const t0 = performance.now();
  const target = await LatentTarget.create(pair, { threads: opts.threads });
  const setupMs = performance.now() - t0;
  const runs = opts.quick ? c.runs.quick : c.runs.full;
  const warmup = opts.quick ? Math.min(2, c.runs.warmup) : c.runs.warmup;
  let last: LatentEvaluation | undefined;
  const samples = await timeRuns(
    async () => {
      last = await target.evaluate(z);
    },
    warmup,
    runs,
    c.runs.maxSeconds * 1000,
  );
  await target.release();
  const finite = last?.grad.every(Number.isFinite) && last.energy.every(Number.isFinite);
  if (!finite) throw new Error(`${c.name}: non-finite energy or gradient`);
  if (opts.profileDir) await profileLatentStep(c, pair, z, opts);
  const step = summarize(samples, warmup);
  return {
    name: c.name,
    kind: c.kind,
    fixture: c.fixture,
    batch: c.batch,
    threads: opts.threads,
    step,
    reference_ms: c.reference,
    speedup_vs_pytorch: round(c.reference.pytorch_cpu_ms / step.median),
    speedup_vs_ort_handwritten: round(c.reference.ort_handwritten_ms / step.median),
    setup_ms: round(setupMs, 1),
    notes: {
      latent_dim: pair.meta.latentDim,
      z_prior: fixture.meta.latentPrior,
      energy: '0.5|z|^2 - D(G(z))',
      mean_energy: round(mean(last!.energy), 4),
      grad_rms: round(Math.sqrt(mean(last!.grad.map((v) => v * v))), 4),
    },
  };
}

function mean(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s / a.length;
}

/** A separate profiled session (ORT writes a Chrome-trace JSON); not part of the timings. */
async function profileLatentStep(c: LatentStepCase, pair: ModelPair, z: Tensor, opts: Options): Promise<void> {
  const bytes = encodeGraph(latentEnergyGraph(pair)); // pair with the case's energy prior
  const prefix = join(opts.profileDir!, c.name.replace(/[^A-Za-z0-9]+/g, '_'));
  const s = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  const feeds = { z: new ort.Tensor('float32', z.data, z.shape) };
  for (let i = 0; i < 3; i++) await s.run(feeds);
  s.endProfiling();
  await s.release();
  process.stderr.write(`  profile written with prefix ${prefix}\n`);
}

const MEASURE: { [K in BenchCase['kind']]: (c: Extract<BenchCase, { kind: K }>, o: Options) => Promise<CaseResult> } = {
  latent_step: measureLatentStep,
};

// ---------------------------------------------------------------------------------------------
// Driver

function parseArgs(argv: string[]): Options {
  const envQuick = process.env.BENCH_QUICK;
  const opts: Options = { quick: envQuick !== undefined && envQuick !== '' && envQuick !== '0', threads: defaultThreads(), filters: [] };
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
    else throw new Error(`unknown option ${a} (known: --quick, --case NAME, --threads N, --profile DIR)`);
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
  for (const c of selected) {
    process.stderr.write(`bench ${c.name} ...\n`);
    const r = await MEASURE[c.kind](c, opts);
    process.stderr.write(`  median ${r.step.median.toFixed(1)} ms (min ${r.step.min.toFixed(1)}, ${r.step.runs} runs); x${r.speedup_vs_pytorch} vs PyTorch\n`);
    results.push(r);
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
  const doc = {
    benchmark: 'refinery',
    date: new Date().toISOString(),
    quick: opts.quick,
    environment: {
      node: process.version,
      onnxruntime_node: ort.env.versions.node ?? null,
      onnxruntime_common: ort.env.versions.common,
      cpu_model: cpus()[0]?.model ?? 'unknown',
      cores: availableParallelism(),
      threads: opts.threads,
      platform: `${platform()}-${arch()}`,
      total_memory_gib: round(totalmem() / 2 ** 30, 1),
    },
    reference: {
      source: 'performance issue; 2-core machine',
      pytorch: 'PyTorch CPU autograd, 2 threads',
      ort_handwritten: 'hand-written forward+backward ONNX graph in onnxruntime-node',
    },
    cases: results,
    samplers,
    cost,
    metrics,
    total_seconds: round((performance.now() - started) / 1000, 1),
  };
  process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
