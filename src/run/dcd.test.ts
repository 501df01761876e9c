import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readNpyFloat32 } from '../io/npyfile.js';
import { dcdInit, dcdKernel } from '../methods/dynamics/dcd.js';
import { loadPair } from '../models/load.js';
import { RowStreams } from '../rng.js';
import { DataTarget } from '../targets/data.js';
import { fixturesDir, relError } from '../testing/fixtures.js';
import { runDcd } from './dcd.js';

process.env.REFINERY_THREADS ??= '1';

describe('DCD on the dcgan32 fixture (images, NCHW)', () => {
  const dir = join(fixturesDir(), 'dcgan32');
  const pair = loadPair({ generator: join(dir, 'generator.onnx'), discriminator: join(dir, 'discriminator.onnx') });

  it('uses grad_x of the PyTorch golden and takes the exact noiseless step', async () => {
    const x = readNpyFloat32(join(dir, 'x.npy'));
    const gradX = readNpyFloat32(join(dir, 'grad_x.npy'));
    const field = await DataTarget.create(pair, true);
    try {
      const init = await dcdInit(field, x);
      assert.ok(relError(init.grad, gradX.data) < 1e-3, `grad_x rel ${relError(init.grad, gradX.data)}`);
      const eps = 0.5;
      const { state, info } = await dcdKernel(field, { stepSize: eps, noise: 0, clip: Infinity }).step(init, RowStreams.range([0], 0));
      assert.equal(info.nonFinite, 0);
      const expected = Float32Array.from(x.data, (v, i) => v + (eps / 2) * gradX.data[i]);
      assert.ok(relError(state.position, expected) < 1e-5);
      assert.deepEqual(state.rowShape, [3, 32, 32]);
    } finally {
      await field.release();
    }
  });

  it('runs end to end with a [-1, 1] box', async () => {
    const out = await runDcd({ pair, n: 3, seed: 1, batchSize: 2 }, { numSteps: 3, stepSize: 0.05, box: [-1, 1] });
    assert.equal(out.samples.length, 3 * 3 * 32 * 32);
    assert.ok(out.samples.every((v) => Number.isFinite(v) && v >= -1 && v <= 1));
    assert.equal(out.summary.nonFinite, 0);
    assert.ok((out.summary.gradNorm as number) > 0);
  });
});
