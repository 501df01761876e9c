import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readNpyFloat32 } from '../io/npyfile.js';
import { DOT_DEFAULTS, dotInit, dotKernel } from '../methods/dynamics/dot.js';
import { loadPair } from '../models/load.js';
import { RowStreams } from '../rng.js';
import { DataTarget } from '../targets/data.js';
import { fixturesDir, relError } from '../testing/fixtures.js';
import { LatentRatioField, runDot } from './dot.js';

process.env.REFINERY_THREADS ??= '1';

describe('DOT on the dcgan32 fixture (images, NCHW)', () => {
  const dir = join(fixturesDir(), 'dcgan32');
  const pair = loadPair({ generator: join(dir, 'generator.onnx'), discriminator: join(dir, 'discriminator.onnx') });

  it('the latent field gives logit and grad_z of the PyTorch goldens', async () => {
    const field = await LatentRatioField.create(pair);
    try {
      const z = readNpyFloat32(join(dir, 'z.npy'));
      const ev = await field.logRatioAndGrad(z);
      assert.ok(relError(ev.logRatio, readNpyFloat32(join(dir, 'logit.npy')).data) < 1e-4);
      const gz = readNpyFloat32(join(dir, 'grad_z.npy')).data;
      assert.ok(relError(ev.grad, gz) < 1e-3, `grad_z rel ${relError(ev.grad, gz)}`);
    } finally {
      await field.release();
    }
  });

  it('the first Adam step from x = y moves every coordinate by lr along sign(grad_x)', async () => {
    // At x = y the smooth cost's gradient is 0, so grad phi = -grad_x / K; with beta1 = 0 the
    // bias-corrected Adam step is -lr * g / (|g| + 1e-8) per coordinate. (The authors' cost adds
    // delta / |delta 1| to every coordinate of the gradient at x = y.)
    const x = readNpyFloat32(join(dir, 'x.npy'));
    const gradX = readNpyFloat32(join(dir, 'grad_x.npy')).data;
    const field = await DataTarget.create(pair, true);
    try {
      const lr = 0.01;
      const { state } = await dotKernel(field, { ...DOT_DEFAULTS, cost: 'smooth', stepSize: lr, kEff: 3 }).step(dotInit(x), RowStreams.range([0], 0));
      let checked = 0;
      for (let i = 0; i < gradX.length; i++) {
        if (Math.abs(gradX[i]) < 1e-3) continue; // where Adam's 1e-8 is negligible
        checked++;
        const move = state.position[i] - x.data[i];
        assert.ok(Math.abs(move - lr * Math.sign(gradX[i])) < 1e-6, `coordinate ${i}: ${move}`);
      }
      assert.ok(checked > gradX.length / 10, `${checked} coordinates checked`);
    } finally {
      await field.release();
    }
  });

  it('runs end to end in both spaces with an estimated K_eff', async () => {
    for (const space of ['data', 'latent'] as const) {
      const out = await runDot({ pair, n: 3, seed: 1, batchSize: 2 }, { space, numSteps: 3, kEffPool: 8 });
      assert.equal(out.samples.length, 3 * 3 * 32 * 32);
      assert.ok(out.samples.every(Number.isFinite));
      assert.ok((out.summary.kEff as number) > 0);
      assert.ok((out.summary.transportCost as number) > 0);
      assert.equal(out.latents?.length, space === 'latent' ? 3 * 100 : undefined);
    }
  });
});
