/**
 * Refining a VAE (DGflow's setting for models without a discriminator): per seed, train the NS
 * GAN of Table 1 (reused when present) and a VAE on the 25-Gaussian grid, train the corrector
 * (D's weights, logistic regression GAN vs VAE), and refine 10k VAE samples with DGflow and the
 * other methods through D + corrector; report modes and % high quality per method, and the same
 * methods through D alone (no corrector) as the control.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { getDataset } from '../data/dataset.js';
import { RefineryError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { writeNpy } from '../io/npyfile.js';
import { modeMetrics } from '../metrics/modes.js';
import type { ModelPair } from '../models/pair.js';
import { loadPair } from '../models/load.js';
import { scatterPng } from '../plot/scatter.js';
import { runDgflow } from '../run/dgflow.js';
import { runDdls } from '../run/latent.js';
import { runDrs } from '../run/selection.js';
import type { MethodRunner } from '../run/types.js';
import { sample } from '../refine/sample.js';
import { trainCorrector } from '../train/corrector.js';
import { MLP_DEFAULTS, trainMlp } from '../train/mlpgan.js';
import { trainVae, VAE_DEFAULTS } from '../train/vae.js';
import { finishRows, formatTable1, newRow, type Table1Row } from './table1.js';

interface VaeMethod {
  id: string;
  runner?: MethodRunner<never>;
  options: Record<string, unknown>;
  /** Refine through D alone (the pair VAE generator + GAN discriminator), not D + corrector. */
  uncorrected?: boolean;
}

// DGflow with Table 1's setting (KL, latent space, no prior term, 100 steps of 3e-4); DRS and
// DDLS (MALA) read the same D + corrector as a density ratio.
const DGFLOW = { space: 'latent', divergence: 'kl', stepSize: 0.0003, numSteps: 100 };
const DDLS = { numSteps: 1000, stepSize: 0.001, noise: 1, decay: 1, metropolis: true };
export const VAE_METHODS: VaeMethod[] = [
  { id: 'vae', options: {} },
  { id: 'dgflow', runner: runDgflow as MethodRunner<never>, options: DGFLOW },
  { id: 'drs', runner: runDrs as MethodRunner<never>, options: {} },
  { id: 'ddls', runner: runDdls as MethodRunner<never>, options: DDLS },
  { id: 'dgflow-no-corrector', runner: runDgflow as MethodRunner<never>, options: DGFLOW, uncorrected: true },
  { id: 'drs-no-corrector', runner: runDrs as MethodRunner<never>, options: {}, uncorrected: true },
];

export interface VaeBenchOptions {
  seeds: number;
  n: number;
  out: string;
  methods?: string[];
}

export async function runVaeBench(
  o: VaeBenchOptions,
  hooks: { onStage?: (text: string) => void; signal?: AbortSignal } = {},
): Promise<{ rows: Table1Row[]; files: { json: string; table: string; plot: string }; seconds: number }> {
  const t0 = performance.now();
  const dataset = getDataset('grid25');
  const methods = o.methods ? VAE_METHODS.filter((m) => o.methods!.includes(m.id)) : VAE_METHODS;
  mkdirSync(o.out, { recursive: true });
  const rows = new Map<string, Table1Row>(methods.map((m) => [m.id, newRow(m.id, m.options)]));
  const panels: { title: string; points: Float32Array }[] = [];
  for (let seed = 0; seed < o.seeds; seed++) {
    const dir = join(o.out, `seed-${seed}`);
    hooks.onStage?.(`seed ${seed}: the GAN (Table 1's, reused when present)`);
    await trainMlp({ ...MLP_DEFAULTS, dataset: 'grid25', seed, out: join(dir, 'run'), resume: true }, { signal: hooks.signal });
    hooks.onStage?.(`seed ${seed}: the VAE`);
    await trainVae({ ...VAE_DEFAULTS, dataset: 'grid25', seed, out: join(dir, 'vae'), resume: true }, { signal: hooks.signal });
    const gan = loadPair({ run: join(dir, 'run') });
    const vae = loadPair({ run: join(dir, 'vae') }, false);
    hooks.onStage?.(`seed ${seed}: the corrector`);
    const tc = performance.now();
    await trainCorrector(gan, vae, { out: join(dir, 'corrected'), seed, resume: true, signal: hooks.signal });
    const correctorSeconds = (performance.now() - tc) / 1000;
    const corrected = loadPair({ run: join(dir, 'corrected') });
    const uncorrected: ModelPair = { ...corrected, discriminator: gan.discriminator, meta: { ...corrected.meta, dOutput: gan.meta.dOutput } };
    for (const m of methods) {
      hooks.onStage?.(`seed ${seed}: ${m.id}`);
      const t = performance.now();
      let samples: Float32Array;
      try {
        if (!m.runner) samples = (await sample(vae, { n: o.n, seed })).samples.data as Float32Array;
        else {
          const pair = m.uncorrected ? uncorrected : corrected;
          samples = (await m.runner({ pair, n: o.n, seed, batchSize: o.n, hooks: { signal: hooks.signal } }, m.options as never)).samples;
        }
      } catch (e) {
        if (!(e instanceof RefineryError) || e.code === 'cancelled') throw e;
        rows.get(m.id)!.failures.push({ seed, error: e.message });
        continue;
      }
      const seconds = (performance.now() - t) / 1000 + (m.runner && !m.uncorrected ? correctorSeconds : 0);
      const mm = modeMetrics(samples, dataset);
      rows.get(m.id)!.perSeed.push({ seed, recoveredModes: mm.recoveredModes, highQualityPercent: mm.highQualityPercent, std: mm.std, seconds });
      writeNpy(join(dir, `${m.id}.npy`), { data: samples, shape: [o.n, 2] });
      if (seed === 0) panels.push({ title: `${m.id}: ${mm.recoveredModes} modes, ${mm.highQualityPercent.toFixed(1)}%`, points: samples });
    }
  }
  finishRows(rows.values());
  const list = [...rows.values()];
  const files = { json: join(o.out, 'vae.json'), table: join(o.out, 'vae.md'), plot: join(o.out, 'vae.png') };
  writeFileAtomic(
    files.json,
    `${JSON.stringify({ benchmark: 'vae', dataset: 'grid25', n: o.n, seeds: o.seeds, vae: VAE_DEFAULTS, rows: list, seconds: (performance.now() - t0) / 1000 }, null, 2)}\n`,
  );
  writeFileAtomic(files.table, `${formatTable1(list, o.seeds)}\n`);
  if (panels.length > 0) writeFileAtomic(files.plot, scatterPng(panels, { bounds: dataset.bounds, markers: dataset.modes, columns: 3, size: 340 }));
  return { rows: list, files, seconds: (performance.now() - t0) / 1000 };
}
