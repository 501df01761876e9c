import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PNG } from 'pngjs';
import { loadPair } from '../models/load.js';
import { Session } from '../onnx/session.js';
import { Rng } from '../rng.js';
import { GeneratorRunner } from '../targets/generator.js';
import { DCGAN_DEFAULTS, type DcganOptions, trainDcgan } from './dcgan.js';
import { generatorGraph, discriminatorGraph } from '../models/pair.js';
import { interruptedRun, latentGradientAgrees, learnsShapes } from '../testing/shapes.js';
import { isRefineryError } from '../testing/assert.js';

const root = mkdtempSync(join(tmpdir(), 'refinery-dcgan-'));
after(() => rmSync(root, { recursive: true, force: true }));

const tiny: Omit<DcganOptions, 'out'> = { ...DCGAN_DEFAULTS, steps: 20, finetuneD: 5, batchSize: 8, width: 4, latentDim: 8, checkpointEvery: 10 };
const files = (dir: string) => ['generator.onnx', 'discriminator.onnx', 'meta.json'].map((f) => readFileSync(join(dir, f)));

function writePngs(dir: string, count: number, size: number, seed: number): void {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  for (let k = 0; k < count; k++) {
    const png = new PNG({ width: size, height: size });
    for (let i = 0; i < size * size; i++) png.data.set([rng.int(256), rng.int(256), rng.int(256), 255], 4 * i);
    writeFileSync(join(dir, `${k}.png`), PNG.sync.write(png));
  }
}

test('training is deterministic: same seed, same bytes; another seed differs', async () => {
  await trainDcgan({ ...tiny, out: join(root, 'a') });
  await trainDcgan({ ...tiny, out: join(root, 'b') });
  await trainDcgan({ ...tiny, seed: 1, out: join(root, 'c') });
  const [a, b, c] = ['a', 'b', 'c'].map((k) => files(join(root, k)));
  assert.ok(a[0].equals(b[0]) && a[1].equals(b[1]) && a[2].equals(b[2]));
  assert.ok(!a[0].equals(c[0]) && !a[1].equals(c[1]));
});

test('an interrupted run resumes to the bit-identical result (through the D fine-tuning phase, spectral norm on)', async () => {
  const o = { ...tiny, finetuneD: 20 };
  assert.equal(o.spectralNorm, true);
  const full = join(root, 'full');
  await trainDcgan({ ...o, out: full });
  const part = join(root, 'part');
  assert.equal(await interruptedRun(trainDcgan, o, part), 30);
  const [a, b] = [files(full), files(part)];
  assert.ok(a[0].equals(b[0]), 'generator differs after resume');
  assert.ok(a[1].equals(b[1]), 'discriminator differs after resume');
  assert.ok(a[2].equals(b[2]), 'meta.json (final losses) differs after resume');
  await assert.rejects(trainDcgan({ ...o, width: 5, out: part, resume: true }), isRefineryError('invalid_argument', 'width'));
});

test('the exported pair loads with loadPair, has the image shapes, and is differentiable end to end', async () => {
  const dir = join(root, 'export');
  await trainDcgan({ ...tiny, out: dir });
  const pair = loadPair({ run: dir });
  assert.deepEqual(pair.meta.dataShape, [1, 28, 28]);
  assert.deepEqual(pair.meta.outputRange, [-1, 1]);
  assert.equal(pair.meta.dOutput, 'logit');
  assert.equal(pair.meta.latentDim, 8);
  assert.equal(pair.meta.dataset, 'shapes28');
  assert.deepEqual(pair.generator.inputs[0].shape, ['batch', 8]);
  assert.deepEqual(generatorGraph(pair).info(generatorGraph(pair).outputs[0]).shape, ['batch', 1, 28, 28]);
  assert.deepEqual(pair.discriminator.inputs[0].shape, ['batch', 1, 28, 28]);
  assert.deepEqual(discriminatorGraph(pair).info(discriminatorGraph(pair).outputs[0]).shape, ['batch', 1]);
  const n = 5;
  const z = new Rng(2).fillNormal(new Float32Array(n * 8));
  const gen = await GeneratorRunner.create(pair);
  const x = await gen.generate({ data: z, shape: [n, 8] });
  await gen.release();
  assert.deepEqual(x.shape, [n, 1, 28, 28]);
  assert.ok(x.data.every((v) => v >= -1 && v <= 1));
  const d = await Session.create(discriminatorGraph(pair));
  const logit = (await d.run({ x }))[pair.discriminator.outputs[0]];
  await d.release();
  assert.deepEqual(logit.shape, [n, 1]);
  assert.ok(logit.data.every(Number.isFinite));
  // Latent-space methods differentiate D(G(z)) through the convolutions: central differences agree.
  await latentGradientAgrees(pair, n, 8);
});

test('trains on a folder of PNGs (3x8x8); a resume with other images or a size that does not fit is refused', async () => {
  const data = join(root, 'pngs');
  writePngs(data, 6, 8, 1);
  const dir = join(root, 'real');
  const o = { ...tiny, realDir: data, steps: 10, finetuneD: 0 };
  const r = await trainDcgan({ ...o, out: dir });
  assert.deepEqual(r.meta.dataShape, [3, 8, 8]);
  assert.equal(r.meta.dataset, undefined);
  const pair = loadPair({ run: dir });
  assert.deepEqual(generatorGraph(pair).info(generatorGraph(pair).outputs[0]).shape, ['batch', 3, 8, 8]);
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
  assert.equal(meta.data.images, 6);
  // Same folder name, other pixels: the checkpoint's fingerprint no longer matches.
  writePngs(data, 6, 8, 2);
  await assert.rejects(trainDcgan({ ...o, steps: 20, out: dir, resume: true }), isRefineryError('invalid_argument', 'realDir'));
  const odd = join(root, 'odd');
  writePngs(odd, 2, 6, 1);
  await assert.rejects(trainDcgan({ ...o, realDir: odd, out: join(root, 'odd-run') }), isRefineryError('invalid_argument', 'realDir'));
});

for (const loss of ['hinge', 'wgan-gp', 'lgan', 'wow'] as const) {
  test(`${loss} trains to finite losses and records a critic`, async () => {
    const r = await trainDcgan({ ...tiny, loss, steps: 5, finetuneD: 2, out: join(root, loss) });
    assert.ok(Number.isFinite(r.lossD) && Number.isFinite(r.lossG));
    assert.equal(r.meta.dOutput, 'critic');
    assert.equal(JSON.parse(readFileSync(join(root, loss, 'meta.json'), 'utf8')).d_output, 'critic');
  });
}

test('bad options name the option', async () => {
  for (const [patch, path] of [
    [{ width: 0 }, 'width'],
    [{ layers: 0 }, 'layers'],
    [{ steps: 0 }, 'steps'],
    [{ lrD: 2 }, 'lrD'],
    [{ dataset: 'nope' }, 'dataset'],
    [{ realDir: join(root, 'missing') }, 'realDir'],
  ] as const) {
    await assert.rejects(
      trainDcgan({ ...tiny, ...patch, out: join(root, 'bad') }),
      isRefineryError('invalid_argument', path),
      `expected an error naming ${path}`,
    );
  }
});

test('training moves the generator toward shapes28, and the fine-tuned D tells real from fake (untrained control)', async (t) => {
  const o = { ...DCGAN_DEFAULTS, width: 16, latentDim: 16, batchSize: 32, checkpointEvery: 1000 };
  // With training seeds 0-3 this setting reached pixel W1 0.27-0.35 (untrained 0.85-0.92) and
  // mean-image differences 0.30-0.42 (untrained 0.79-0.86) after 300 steps.
  await learnsShapes(t, (r) => trainDcgan({ ...o, ...r }), { steps: 300, finetuneD: 100, untrained: join(root, 'learn0'), trained: join(root, 'learn') });
});

test('WoW (the Wasserstein-2 gradient penalty of image space) moves the generator toward shapes28 (untrained control)', async (t) => {
  const o = {
    ...DCGAN_DEFAULTS,
    loss: 'wow',
    spectralNorm: false,
    dSteps: 5,
    beta1: 0.5,
    beta2: 0.9,
    width: 16,
    latentDim: 16,
    batchSize: 32,
    checkpointEvery: 1000,
  } as const;
  await learnsShapes(t, (r) => trainDcgan({ ...o, ...r }), { steps: 300, finetuneD: 100, untrained: join(root, 'wow0'), trained: join(root, 'wow-shapes') });
});
