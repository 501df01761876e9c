import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { RefineryError } from '../errors.js';
import { generatorGraph } from '../models/pair.js';
import { loadGraph } from '../onnx/modelfile.js';
import { interruptedRun, latentGradientAgrees, learnsShapes, topSingularValues } from '../testing/shapes.js';
import { isRefineryError } from '../testing/assert.js';
import { DCGAN_DEFAULTS, trainDcgan } from './dcgan.js';
import { SAGAN_DEFAULTS, type SaganOptions, trainSagan } from './sagan.js';
import { trainGan } from './train.js';

const root = mkdtempSync(join(tmpdir(), 'refinery-sagan-'));
after(() => rmSync(root, { recursive: true, force: true }));

const tiny: Omit<SaganOptions, 'out'> = { ...SAGAN_DEFAULTS, steps: 20, finetuneD: 5, batchSize: 8, width: 8, latentDim: 8, checkpointEvery: 10 };
const files = (dir: string) => ['generator.onnx', 'discriminator.onnx', 'meta.json'].map((f) => readFileSync(join(dir, f)));

test('training is deterministic, and resumes to the bit-identical result with spectral norm in G and D', async () => {
  const o = { ...tiny, finetuneD: 20 };
  await trainSagan({ ...o, out: join(root, 'a') });
  await trainSagan({ ...o, out: join(root, 'b') });
  const part = join(root, 'part');
  assert.equal(await interruptedRun(trainSagan, o, part), 30);
  const [a, b, c] = [files(join(root, 'a')), files(join(root, 'b')), files(part)];
  for (let i = 0; i < 3; i++) {
    assert.ok(a[i].equals(b[i]), `file ${i} differs between two runs`);
    assert.ok(a[i].equals(c[i]), `file ${i} differs after resume`);
  }
  // G's spectral state is part of the fingerprint: resuming without it is refused.
  await assert.rejects(trainSagan({ ...o, spectralNormG: false, out: part, resume: true }), isRefineryError('invalid_argument', 'spectralNormG'));
});

test("trainGan({ model: 'sagan' }) records the paper's settings; the pair has attention and is differentiable end to end", async () => {
  const dir = join(root, 'gan');
  const r = await trainGan({ model: 'sagan', out: dir, steps: 30, finetuneD: 5, batchSize: 8, width: 8, latentDim: 8 });
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
  assert.equal(meta.model, 'sagan');
  assert.equal(meta.d_output, 'critic');
  assert.deepEqual(
    [
      meta.training.loss,
      meta.training.lrG,
      meta.training.lrD,
      meta.training.beta1,
      meta.training.beta2,
      meta.training.spectralNorm,
      meta.training.spectralNormG,
    ],
    ['hinge', 1e-4, 4e-4, 0, 0.9, true, true],
  );
  const ops = (f: string) => new Set(loadGraph(join(dir, f)).nodes.map((n) => n.op));
  for (const f of ['generator.onnx', 'discriminator.onnx']) assert.ok(ops(f).has('Softmax') && ops(f).has('MatMul'), `${f} has no attention`);
  // gamma moved from 0: the attention takes part.
  const gamma = loadGraph(join(dir, 'discriminator.onnx')).initializers.get('d.attn.gamma')!;
  assert.notEqual(gamma.data[0], 0);
  assert.deepEqual(generatorGraph(r.pair).info(generatorGraph(r.pair).outputs[0]).shape, ['batch', 1, 28, 28]);
  // Latent-space methods differentiate D(G(z)) through both attention blocks: central differences agree.
  await latentGradientAgrees(r.pair, 4, 8);
  // Options of the other models are refused, naming the model they belong to.
  await assert.rejects(
    trainGan({ model: 'dcgan', out: join(root, 'x'), spectralNormG: true } as never),
    (e: unknown) => isRefineryError('invalid_argument', 'spectralNormG')(e) && String((e as RefineryError).issues[0].expected).includes('sagan'),
  );
});

test('training moves the SAGAN toward shapes28, its D tells real from fake, and G is spectrally normalised (untrained and DCGAN controls)', async (t) => {
  const o = { ...SAGAN_DEFAULTS, width: 16, latentDim: 16, batchSize: 32, checkpointEvery: 1000 };
  await learnsShapes(t, (r) => trainSagan({ ...o, ...r }), { steps: 600, finetuneD: 100, untrained: join(root, 'learn0'), trained: join(root, 'learn') });
  // Every weight of the exported G has largest singular value ~1 (W / sigma, sigma from the
  // persistent power iteration, which underestimates: the ratio is >= 1).
  const sagan = topSingularValues(join(root, 'learn', 'generator.onnx'));
  t.diagnostic(`SAGAN G: ${JSON.stringify(Object.fromEntries(sagan))}`);
  for (const [name, s] of sagan) assert.ok(s > 0.98 && s < 1.1, `${name}: largest singular value ${s}`);
  // Control: the DCGAN trainer does not normalise G.
  await trainDcgan({ ...DCGAN_DEFAULTS, width: 16, latentDim: 16, batchSize: 32, checkpointEvery: 1000, steps: 300, finetuneD: 0, out: join(root, 'dcgan') });
  const dcgan = topSingularValues(join(root, 'dcgan', 'generator.onnx'));
  t.diagnostic(`DCGAN G: ${JSON.stringify(Object.fromEntries(dcgan))}`);
  assert.ok(
    [...dcgan.values()].some((s) => s > 1.2 || s < 0.8),
    'the DCGAN control has spectrally normalised weights too',
  );
});
