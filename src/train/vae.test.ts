/**
 * The VAE trainer learns (against an untrained control), resumes to the same bytes, writes a run
 * that samples, and refuses bad options naming them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sampleDataset } from '../data/sample.js';
import { frechetDistance } from '../metrics/frechet.js';
import { loadPair } from '../models/load.js';
import { sample } from '../refine/sample.js';
import { rejectsWith } from '../testing/assert.js';
import { trainVae, VAE_DEFAULTS } from './vae.js';

const small = { ...VAE_DEFAULTS, hidden: 64, layers: 2, batchSize: 128, checkpointEvery: 100 };

test('a VAE on grid25 learns the data (Frechet distance far below an untrained decoder) and resumes to the same bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'refinery-vae-'));
  try {
    const real = sampleDataset('grid25', 4000, { seed: 9 });
    const fd = async (run: string) => {
      const s = await sample(loadPair({ run }, false), { n: 4000, seed: 1 });
      return (await frechetDistance(real, s.samples)).distance;
    };
    await trainVae({ ...small, out: join(dir, 'untrained'), steps: 1 });
    const r = await trainVae({ ...small, out: join(dir, 'trained'), steps: 600 });
    assert.ok(Number.isFinite(r.loss) && r.kl > 0, JSON.stringify(r));
    const [before, after] = [await fd(join(dir, 'untrained')), await fd(join(dir, 'trained'))];
    // Untrained, the decoder maps N(0, I) to a small cloud (the data's variance is 8 per coordinate); trained, the moments match.
    assert.ok(before > 1 && after < 0.1 * before, `FD untrained ${before}, trained ${after}`);
    const ctl = new AbortController();
    await rejectsWith(
      trainVae(
        { ...small, out: join(dir, 'split'), steps: 600 },
        {
          signal: ctl.signal,
          onProgress: (p) => {
            if (p.step === 250) ctl.abort();
          },
        },
      ),
      'cancelled',
    );
    const resumed = await trainVae({ ...small, out: join(dir, 'split'), steps: 600, resume: true });
    assert.equal(resumed.resumedFrom, 250);
    for (const f of ['generator.onnx', 'encoder.onnx'])
      assert.ok(readFileSync(join(dir, 'split', f)).equals(readFileSync(join(dir, 'trained', f))), `${f} differs after resume`);
    const meta = JSON.parse(readFileSync(join(dir, 'trained', 'meta.json'), 'utf8'));
    assert.equal(meta.model, 'vae');
    assert.equal(meta.latent_dim, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a VAE on images (shapes28) trains a convolutional encoder and decoder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'refinery-vae-'));
  try {
    const r = await trainVae({ ...small, dataset: 'shapes28', out: dir, steps: 3, batchSize: 8, latentDim: 4, width: 4, layers: 2, lr: 5e-4 });
    assert.deepEqual(r.meta.dataShape, [1, 28, 28]);
    const s = await sample(loadPair({ run: dir }, false), { n: 3, seed: 0 });
    assert.equal(s.samples.data.length, 3 * 28 * 28);
    assert.ok(s.samples.data.every((v) => v >= -1 && v <= 1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad VAE options are refused naming the option', async () => {
  await rejectsWith(trainVae({ ...small, out: '/tmp/never', likelihoodStd: 0 }), 'invalid_argument', 'likelihoodStd');
  await rejectsWith(trainVae({ ...small, out: '/tmp/never', dataset: 'moons' }), 'invalid_argument', 'dataset');
  await rejectsWith(trainVae({ ...small, out: '/tmp/never', dataset: 'shapes28', layers: 3 }), 'invalid_argument', 'layers');
});
