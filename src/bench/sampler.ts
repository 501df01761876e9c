/**
 * One sampler benchmark, run in its own process so that its peak memory is its own:
 * `node dist/bench/sampler.js '<case JSON>'` prints one JSON line with samples/second and the
 * process's peak resident memory. Used by `npm run bench` (src/bench/main.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadPair } from '../models/load.js';
import { refineToFile } from '../refine/file.js';
import type { RefineOptions } from '../refine/refine.js';
import { fixturesDir } from '../testing/fixtures.js';

export interface SamplerCase {
  name: string;
  method: 'ddls' | 'dgflow';
  fixture: string;
  /** Samples refined. */
  n: number;
  batchSize: number;
  chunkSize: number;
  numSteps: number;
}

const OPTIONS: Record<SamplerCase['method'], (c: SamplerCase) => RefineOptions> = {
  ddls: (c) => ({
    method: 'ddls',
    n: c.n,
    batchSize: c.batchSize,
    chunkSize: c.chunkSize,
    numSteps: c.numSteps,
    stepSize: 0.01,
    noise: 1,
    decay: 1,
    metropolis: false,
  }),
  dgflow: (c) => ({ method: 'dgflow', n: c.n, batchSize: c.batchSize, chunkSize: c.chunkSize, numSteps: c.numSteps, divergence: 'kl', space: 'latent' }),
};

async function main(): Promise<void> {
  const c = JSON.parse(process.argv[2]) as SamplerCase;
  const dir = join(fixturesDir(), c.fixture);
  const pair = loadPair({ generator: join(dir, 'generator.onnx'), discriminator: join(dir, 'discriminator.onnx') });
  const tmp = mkdtempSync(join(tmpdir(), 'refinery-bench-'));
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  try {
    await refineToFile(pair, OPTIONS[c.method](c), { out: join(tmp, 'out.npy') });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const seconds = (performance.now() - t0) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(
    JSON.stringify({
      ...c,
      seconds: Math.round(seconds * 1000) / 1000,
      samples_per_second: Math.round((c.n / seconds) * 100) / 100,
      sample_steps_per_second: Math.round(((c.n * c.numSteps) / seconds) * 10) / 10,
      peak_rss_mib: Math.round((peak / 2 ** 20) * 10) / 10,
      rss_before_run_mib: Math.round((rssBefore / 2 ** 20) * 10) / 10,
    }) + '\n',
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`sampler bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
