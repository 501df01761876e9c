/**
 * Metric timings for `npm run bench`: every sample-based metric at 10,000 x 10,000 rows of 64-D
 * (the size of the evaluation issue's reference timings), and the Fréchet distance of 2048-D
 * statistics (Inception features' dimension). When python3 with numpy and scipy is importable, the
 * 2048-D case is also timed with scipy's `sqrtm` on the same matrices, interleaved with Refinery's
 * (scripts/reference/frechet_time.py); references that need other Python packages are reported as
 * not run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNpy } from '../io/npyfile.js';
import { evaluate, type MetricName } from '../metrics/evaluate.js';
import { frechetFromStats } from '../metrics/frechet.js';
import { matmul64 } from '../metrics/dense.js';
import { Rng } from '../rng.js';
import { correlatedSamples } from '../testing/exact.js';

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

function pythonHas(modules: string[]): boolean {
  return spawnSync('python3', ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' }).status === 0;
}

export async function measureMetrics(quick: boolean): Promise<Record<string, unknown>> {
  const n = quick ? 2000 : 10000;
  const d = 64;
  const real = { data: correlatedSamples(n, d, 1, 0.5, 0), n, d };
  const fake = { data: correlatedSamples(n, d, 2, 0.8, 0.3), n, d };
  const metrics: Record<string, unknown> = {};
  for (const m of ['fd', 'kid', 'mmd', 'pr', 'dc', 'prd', 'cpr'] as MetricName[]) {
    process.stderr.write(`bench metrics/${m} ${n}x${n}x${d} ...\n`);
    const t0 = performance.now();
    const r = await evaluate(real, fake, { metrics: [m] });
    metrics[m] = { seconds: round((performance.now() - t0) / 1000), value: r.metrics[m as keyof typeof r.metrics] };
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
  const haveScipy = pythonHas(['numpy', 'scipy']);
  const dir = mkdtempSync(join(tmpdir(), 'refinery-bench-fd-'));
  try {
    if (haveScipy) {
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
      if (haveScipy) {
        const out = JSON.parse(execFileSync('python3', [script, dir], { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } })) as {
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
      scipy_sqrtm_seconds: haveScipy ? reference : 'not run (python3 with numpy and scipy not importable)',
      scipy_value: referenceValue,
      relative_difference: referenceValue === null ? null : Math.abs(oursValue - referenceValue) / Math.abs(referenceValue),
    },
  };
}
