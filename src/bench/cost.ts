/**
 * The cost model of `npm run bench` (section `cost`): for every method of the registry, with its
 * default options (dynamics: numSteps set to `steps`), on the dcgan32 fixture (3x32x32 images,
 * DCGAN G and D), one intra-op thread. Each method runs at two sizes n1 < n2 (best of two runs each), and the wall time is
 * fitted as t(n) = setup + n * perSample: `setup` is what every run (and every shard) pays once
 * (the DRS burn-in, the DRE-F-SP network, DOT's K_eff pool, sessions), `perSample` the marginal
 * cost of one sample (for dynamics methods, of `steps` steps; `perSampleStep` = perSample / steps).
 *
 * A method with a preparation stage (the dre-* methods' network, a calibration) trains it on
 * every run, and that training's time varies by seconds between runs: more than the samples
 * cost. So the fit is of the time after the stage's last progress report, and `setup` adds the
 * stage's time (the shortest of the runs) to the fitted intercept.
 *
 * So a run of N samples (S steps) split over c single-thread shards takes about
 * setup + N * perSample / c (dynamics: setup + N * S * perSampleStep / c) of wall time. The
 * dre-* methods train on generator samples of another seed standing in for real data (their cost
 * does not depend on what the samples show).
 */
import { loadPair } from '../models/load.js';
import { METHOD_DEFAULTS } from '../refine/info.js';
import { refine, type RefineOptions } from '../refine/refine.js';
import { METHOD_IDS, type MethodId } from '../refine/registry.js';
import { sample } from '../refine/sample.js';
import { fixturesDir } from '../testing/fixtures.js';
import { join } from 'node:path';

/** Runs per size; the fastest counts. */
const REPEATS = 2;

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

export interface CostRow {
  method: MethodId;
  steps: number | null;
  n: [number, number];
  /** Wall time at each size: the shortest preparation stage plus the best time after it. */
  seconds: [number, number];
  setup_seconds: number;
  per_sample_ms: number;
  per_sample_step_ms: number | null;
  samples_per_second_per_core: number;
}

/** Cost rows of every method (see the module doc); `quick` uses smaller sizes. */
export async function measureCost(quick: boolean, threads: number): Promise<{ fixture: string; threads: number; rows: CostRow[] }> {
  const pair = loadPair({ run: join(fixturesDir(), 'dcgan32') });
  const real = (await sample(pair, { n: quick ? 256 : 1024, seed: 99 })).samples;
  const saved = process.env.REFINERY_THREADS;
  process.env.REFINERY_THREADS = String(threads);
  const rows: CostRow[] = [];
  try {
    for (const method of METHOD_IDS) {
      const defaults = METHOD_DEFAULTS[method] as Record<string, unknown>;
      const dynamics = 'numSteps' in defaults;
      const steps = dynamics ? (quick ? 3 : 10) : null;
      // Selection methods cost little per sample next to their setup (DRS's burn-in, the dre-*
      // network): a large second size keeps the per-sample part well above the setup's timing noise.
      const mcmc = method === 'mh' || method === 'dre-mh';
      const sizes: [number, number] = quick ? [16, 48] : dynamics ? [64, 256] : mcmc ? [32, 512] : [64, 4096];
      const seconds: number[] = [];
      // The preparation stage's shortest time (0 for methods without one).
      let preparation = Number.POSITIVE_INFINITY;
      for (const n of sizes) {
        // Best of REPEATS runs: the least disturbed by anything else on the machine.
        let best = Number.POSITIVE_INFINITY;
        for (let rep = 0; rep < REPEATS; rep++) {
          process.stderr.write(`bench cost/${method} n=${n} (${rep + 1}/${REPEATS}) ...\n`);
          // DRS's default burn-in grows with n up to 10,000: the fit needs the same setup at both sizes, so pin the full one.
          const burnIn = method === 'drs' || method === 'dre-rs' ? { burnIn: 10000 } : {};
          const o = { method, n, seed: 0, batchSize: 64, real, ...burnIn, ...(steps === null ? {} : { numSteps: steps }) } as RefineOptions;
          const t0 = performance.now();
          let prepared = t0;
          await refine(pair, {
            ...o,
            onProgress: (p) => {
              if (p.stage !== method) prepared = performance.now();
            },
          });
          const end = performance.now();
          preparation = Math.min(preparation, (prepared - t0) / 1000);
          best = Math.min(best, (end - prepared) / 1000);
        }
        seconds.push(best);
      }
      const perSample = (seconds[1] - seconds[0]) / (sizes[1] - sizes[0]);
      rows.push({
        method,
        steps,
        n: sizes,
        seconds: [round(preparation + seconds[0]), round(preparation + seconds[1])],
        setup_seconds: round(preparation + Math.max(0, seconds[0] - sizes[0] * perSample)),
        per_sample_ms: round(perSample * 1000),
        per_sample_step_ms: steps === null ? null : round((perSample * 1000) / steps),
        samples_per_second_per_core: round(1 / perSample, 1),
      });
    }
  } finally {
    if (saved === undefined) delete process.env.REFINERY_THREADS;
    else process.env.REFINERY_THREADS = saved;
  }
  return { fixture: 'dcgan32', threads, rows };
}
