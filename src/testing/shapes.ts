/** Test helper: how far a trained image GAN's samples are from shapes28, and how well its D tells them apart. */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { RefineryError } from '../errors.js';
import { shapes28 } from '../data/images.js';
import { loadPair } from '../models/load.js';
import { discriminatorGraph } from '../models/pair.js';
import { loadGraph } from '../onnx/modelfile.js';
import { Session } from '../onnx/session.js';
import { Rng } from '../rng.js';
import { GeneratorRunner } from '../targets/generator.js';
import { LatentTarget } from '../targets/latent.js';
import type { ModelPair } from '../models/pair.js';

/** Pixel-level distances between n generated images and n shapes28 images. */
export async function distanceToShapes(dir: string, n: number): Promise<{ w1: number; meanImage: number; auc: number }> {
  const pair = loadPair({ run: dir });
  const d = pair.meta.latentDim;
  const gen = await GeneratorRunner.create(pair, { threads: 1 });
  const fake = (await gen.generate({ data: new Rng(9).fillNormal(new Float32Array(n * d)), shape: [n, d] })).data;
  await gen.release();
  const real = shapes28.sample(n, new Rng(10));
  // W1 between the pooled pixel-value distributions (equal sizes: mean |sorted difference|).
  const a = Float64Array.from(fake).sort();
  const b = Float64Array.from(real).sort();
  let w1 = 0;
  for (let i = 0; i < a.length; i++) w1 += Math.abs(a[i] - b[i]) / a.length;
  // RMS difference of the mean images (where the shapes are).
  const P = 28 * 28;
  let ms = 0;
  for (let p = 0; p < P; p++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += (fake[i * P + p] - real[i * P + p]) / n;
    ms += (m * m) / P;
  }
  // AUC of D's logits, real against fake.
  const sess = await Session.create(discriminatorGraph(pair), { threads: 1 });
  const logits = async (x: Float32Array) => (await sess.run({ x: { data: x, shape: [n, 1, 28, 28] } }))[pair.discriminator.outputs[0]].data;
  const [lr, lf] = [await logits(real), await logits(fake)];
  await sess.release();
  let wins = 0;
  for (const r of lr) for (const f of lf) wins += r > f ? 1 : r === f ? 0.5 : 0;
  return { w1, meanImage: Math.sqrt(ms), auc: wins / (n * n) };
}

/**
 * Train an image GAN for one step (the untrained control, in `untrained`) and for `steps` steps
 * plus `finetuneD` D-only steps (in `trained`), then assert that training moved its samples toward
 * shapes28 and that its D tells them apart (400 samples each): the untrained G outputs near-grey
 * images (pixel W1 above 0.7; the data are ~80% at -1), training halves the pixel W1 and cuts the
 * mean-image RMS difference by a quarter, and the AUC of D exceeds 0.75 (400 x 400 pairs: an
 * uninformative D's AUC has sd ~0.02). Returns both measurements.
 */
export async function learnsShapes(
  t: TestContext,
  train: (o: { steps: number; finetuneD: number; out: string }) => Promise<unknown>,
  { steps, finetuneD, untrained, trained }: { steps: number; finetuneD: number; untrained: string; trained: string },
): Promise<{ before: Awaited<ReturnType<typeof distanceToShapes>>; after: Awaited<ReturnType<typeof distanceToShapes>> }> {
  await train({ steps: 1, finetuneD: 0, out: untrained });
  await train({ steps, finetuneD, out: trained });
  const before = await distanceToShapes(untrained, 400);
  const after = await distanceToShapes(trained, 400);
  t.diagnostic(`untrained: ${JSON.stringify(before)}; trained: ${JSON.stringify(after)}`);
  assert.ok(before.w1 > 0.7, `untrained pixel W1 ${before.w1}`);
  assert.ok(after.w1 < 0.5 * before.w1, `pixel W1 ${before.w1} -> ${after.w1}`);
  assert.ok(after.meanImage < 0.75 * before.meanImage, `mean-image RMS difference ${before.meanImage} -> ${after.meanImage}`);
  assert.ok(after.auc > 0.75, `AUC of the fine-tuned D ${after.auc}`);
  return { before, after };
}

/**
 * Run a trainer into `part` as an interrupted run would: a first call of 10 steps without D
 * fine-tuning, a resumed call cancelled at step 30 (it must throw 'cancelled'), then a resume to
 * the end; returns the step the last call resumed from. `o` must run past step 30 (e.g. 20 steps
 * and 20 fine-tuning steps), so the cancel falls in the D fine-tuning phase.
 */
export async function interruptedRun<O extends { steps: number; finetuneD: number }>(
  train: (
    o: O & { out: string; resume?: boolean },
    hooks?: { onProgress?: (p: { step: number }) => void; signal?: AbortSignal },
  ) => Promise<{ resumedFrom: number }>,
  o: O,
  part: string,
): Promise<number> {
  await train({ ...o, steps: 10, finetuneD: 0, out: part });
  const ctl = new AbortController();
  await assert.rejects(
    train({ ...o, out: part, resume: true }, { onProgress: (p) => p.step === 30 && ctl.abort(), signal: ctl.signal }),
    (e: unknown) => e instanceof RefineryError && e.code === 'cancelled',
  );
  return (await train({ ...o, out: part, resume: true })).resumedFrom;
}

/**
 * The latent energy's gradient of `pair` against central differences along a random direction,
 * at n latents of size d: all rows but one agree within 1% (a ReLU kink inside [z - hv, z + hv]
 * can spoil one central difference).
 */
export async function latentGradientAgrees(pair: ModelPair, n: number, d: number): Promise<void> {
  const z = new Rng(2).fillNormal(new Float32Array(n * d));
  const target = await LatentTarget.create(pair, { threads: 1 });
  const ev = await target.evaluate({ data: z, shape: [n, d] });
  const v = new Rng(3).fillNormal(new Float32Array(n * d));
  const h = 1e-2;
  const shifted = (s: number) => target.evaluate({ data: z.map((zi, i) => zi + s * h * v[i]), shape: [n, d] });
  const [plus, minus] = [await shifted(1), await shifted(-1)];
  await target.release();
  const rows: string[] = [];
  let agree = 0;
  for (let i = 0; i < n; i++) {
    let dir = 0;
    for (let k = 0; k < d; k++) dir += ev.grad[i * d + k] * v[i * d + k];
    const fd = (plus.energy[i] - minus.energy[i]) / (2 * h);
    rows.push(`${dir.toFixed(4)} vs ${fd.toFixed(4)}`);
    if (Math.abs(fd - dir) < 1e-2 * (1 + Math.abs(dir))) agree++;
  }
  assert.ok(agree >= n - 1, `directional derivatives vs central differences: ${rows.join('; ')}`);
}

/** Largest singular value of each weight (rank >= 2) of an exported graph, as the matrix [shape[0], rest], by 200 power iterations in float64. */
export function topSingularValues(file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, init] of loadGraph(file).initializers) {
    if (init.dims.length < 2 || init.dtype !== 'float32') continue;
    const rows = init.dims[0];
    const cols = init.data.length / rows;
    const w = init.data as Float32Array;
    let v = new Rng(1).fillNormal(new Float64Array(cols));
    let sigma = 0;
    for (let it = 0; it < 200; it++) {
      const u = new Float64Array(rows);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) u[r] += w[r * cols + c] * v[c];
      const next = new Float64Array(cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) next[c] += w[r * cols + c] * u[r];
      const norm = Math.hypot(...next);
      sigma = Math.sqrt(norm);
      v = next.map((x) => x / norm);
    }
    out.set(name, sigma);
  }
  return out;
}
