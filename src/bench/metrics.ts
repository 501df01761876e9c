/**
 * Metric timings for `npm run bench`: every sample-based metric at 10,000 x 10,000 rows of 64-D
 * (the size of the evaluation issue's reference timings), and the Fréchet distance of 2048-D
 * statistics (Inception features' dimension). When python3 with numpy, scipy and scikit-learn is
 * importable, each metric is also timed as the reference code computes it, on the same arrays,
 * right after Refinery's (scripts/reference/metrics_time.py: prdc's distance matrices for P/R and
 * density/coverage, the polynomial-kernel KID over subsets, Sajjadi et al.'s MiniBatchKMeans PRD,
 * the k-NN classifier PR curve), and the 2048-D case with scipy's `sqrtm`
 * (scripts/reference/frechet_time.py); without them the references are reported as not run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNpy } from '../io/npyfile.js';
import { evaluate, type EvaluateResult, type MetricName } from '../metrics/evaluate.js';
import { frechetFromStats } from '../metrics/frechet.js';
import { matmul64 } from '../metrics/dense.js';
import { Rng } from '../rng.js';
import { correlatedSamples } from '../testing/exact.js';
import { findPython } from './python.js';

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A random SPD d x d covariance B Bᵀ/d + 0.1 I from `seed`. */
async function randomCovariance(d: number, seed: number): Promise<Float64Array> {
  const b = new Rng(seed).fillNormal(new Float64Array(d * d));
  const bt = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) bt[j * d + i] = b[i * d + j];
  const c = await matmul64(b, bt, d, d, d);
  for (let k = 0; k < c.length; k++) c[k] /= d;
  for (let i = 0; i < d; i++) c[i * d + i] += 0.1;
  return c;
}

/** Timed runs of a metric in a row, in one process, on each side of a round (the first of a process's runs is its coldest). */
const RUNS_PER_ROUND = 2;

/**
 * The reference computation of metric `m` on DIR/{real,fake}.npy (scripts/reference/metrics_time.py),
 * RUNS_PER_ROUND times in one Python process: seconds of each run, and the value. The MMD reference takes Refinery's median-heuristic
 * bandwidth (the heuristic's subsample is drawn from another stream), so both compute MMD² with
 * one kernel. The Fréchet distance of samples is the covariances and scipy's sqrtm.
 */
function referenceMetric(python: string, dir: string, m: MetricName, value: unknown): { seconds: number[]; value: unknown; implementation: string } {
  const script = fileURLToPath(new URL('../../scripts/reference/metrics_time.py', import.meta.url));
  const options = m === 'mmd' ? { bandwidth: (value as { bandwidth: number }).bandwidth } : {};
  const out = JSON.parse(
    execFileSync(python, [script, dir, m, JSON.stringify(options), String(RUNS_PER_ROUND)], {
      encoding: 'utf8',
      env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
    }),
  ) as { seconds: number[]; value: unknown; implementation: string };
  return { ...out, seconds: out.seconds.map((s) => round(s)) };
}

export async function measureMetrics(quick: boolean): Promise<Record<string, unknown>> {
  const n = quick ? 2000 : 10000;
  const d = 64;
  const real = { data: correlatedSamples(n, d, 1, 0.5, 0), n, d };
  const fake = { data: correlatedSamples(n, d, 2, 0.8, 0.3), n, d };
  const metrics: Record<string, unknown> = {};
  const sklearn = findPython(['numpy', 'scipy', 'sklearn'], 'python3-numpy python3-scipy python3-sklearn');
  const samplesDir = mkdtempSync(join(tmpdir(), 'refinery-bench-metrics-'));
  try {
    if ('python' in sklearn) {
      writeNpy(join(samplesDir, 'real.npy'), { data: real.data, shape: [n, d] });
      writeNpy(join(samplesDir, 'fake.npy'), { data: fake.data, shape: [n, d] });
    }
    // Two rounds, Refinery's and the reference's alternated; in a round each side runs the metric
    // RUNS_PER_ROUND times in a row in its process (Refinery's first run of the bench also creates
    // the sessions, the reference's first run of a process is its coldest). The ratio is of the
    // fastest run of each.
    for (const m of ['fd', 'kid', 'mmd', 'pr', 'dc', 'prd', 'cpr'] as MetricName[]) {
      process.stderr.write(`bench metrics/${m} ${n}x${n}x${d} ...\n`);
      const seconds: number[] = [];
      const referenceSeconds: number[] = [];
      let value: unknown;
      let reference: { value: unknown; implementation: string } | undefined;
      for (let turn = 0; turn < 2; turn++) {
        for (let run = 0; run < RUNS_PER_ROUND; run++) {
          const t0 = performance.now();
          value = (await evaluate(real, fake, { metrics: [m] })).metrics[m as keyof EvaluateResult['metrics']];
          seconds.push(round((performance.now() - t0) / 1000));
        }
        if ('python' in sklearn) {
          const r = referenceMetric(sklearn.python, samplesDir, m, value);
          referenceSeconds.push(...r.seconds);
          reference = { value: r.value, implementation: r.implementation };
        }
      }
      process.stderr.write(`  ${seconds.join(', ')} s${reference ? `; reference ${referenceSeconds.join(', ')} s` : ''}\n`);
      metrics[m] = {
        seconds,
        value,
        reference: reference ? { seconds: referenceSeconds, ...reference } : `not run (${'reason' in sklearn ? sklearn.reason : ''})`,
        ratio_to_reference: reference ? round(Math.min(...seconds) / Math.min(...referenceSeconds)) : null,
      };
    }
  } finally {
    rmSync(samplesDir, { recursive: true, force: true });
  }
  // Fréchet distance of 2048-D statistics, interleaved with scipy's sqrtm when it is available.
  const dim = quick ? 256 : 2048;
  process.stderr.write(`bench metrics/frechet ${dim}-d ...\n`);
  const a = { mean: new Rng(5).fillNormal(new Float64Array(dim)), cov: await randomCovariance(dim, 6), n: 1, d: dim };
  const b = { mean: new Rng(7).fillNormal(new Float64Array(dim)), cov: await randomCovariance(dim, 8), n: 1, d: dim };
  const ours: number[] = [];
  const reference: number[] = [];
  let oursValue = 0;
  let referenceValue: number | null = null;
  const scipy = findPython(['numpy', 'scipy'], 'python3-numpy python3-scipy');
  const dir = mkdtempSync(join(tmpdir(), 'refinery-bench-fd-'));
  try {
    if ('python' in scipy) {
      for (const [name, s] of [
        ['a', a],
        ['b', b],
      ] as const) {
        writeNpy(join(dir, `${name}-mu.npy`), { data: s.mean, shape: [dim] });
        writeNpy(join(dir, `${name}-sigma.npy`), { data: s.cov, shape: [dim, dim] });
      }
    }
    const script = fileURLToPath(new URL('../../scripts/reference/frechet_time.py', import.meta.url));
    for (let rep = 0; rep < 2; rep++) {
      const t0 = performance.now();
      oursValue = (await frechetFromStats(a, b)).distance;
      ours.push(round((performance.now() - t0) / 1000));
      if ('python' in scipy) {
        const out = JSON.parse(execFileSync(scipy.python, [script, dir], { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } })) as {
          seconds: number;
          fd: number;
        };
        reference.push(round(out.seconds));
        referenceValue = out.fd;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    samples: { n, d, metrics },
    frechet: {
      d: dim,
      refinery_seconds: ours,
      refinery_value: oursValue,
      scipy_sqrtm_seconds: 'python' in scipy ? reference : `not run (${scipy.reason})`,
      scipy_value: referenceValue,
      relative_difference: referenceValue === null ? null : Math.abs(oursValue - referenceValue) / Math.abs(referenceValue),
    },
  };
}
