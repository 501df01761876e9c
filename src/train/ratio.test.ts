/**
 * trainRatio writes the network that every dre-* method trains for itself: refining along the run
 * folder it writes gives the dre-* method's samples bit for bit, for a selection method and a
 * latent dynamics method, and the same training report. Negative control: a folder trained with
 * another seed gives other samples (so the comparison can fail).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadPair } from '../models/load.js';
import { refine } from '../refine/refine.js';
import { Rng } from '../rng.js';
import { rejectsWith } from '../testing/assert.js';
import { BIMODAL, exactPair, sampleMixture } from '../testing/exact.js';
import { trainRatio } from './ratio.js';

process.env.REFINERY_THREADS ??= '1';

const root = mkdtempSync(join(tmpdir(), 'refinery-ratio-'));
after(() => rmSync(root, { recursive: true, force: true }));

// The "GAN": the identity on N(0, I) with a D of 0 (not read); the reals: a two-mode mixture.
const pair = () => exactPair(BIMODAL, { scale: 0 });
const real = { data: sampleMixture(BIMODAL, 1000, new Rng(4, 1)), shape: [1000, 2] };
const DRE = { dreSteps: 200, dreFakes: 2000 };

test("refining along the folder trainRatio writes gives the dre-* methods' samples bit for bit; a folder of another seed does not", async () => {
  const out = join(root, 'ratio');
  const r = await trainRatio(pair(), { out, real, seed: 4, ...DRE });
  assert.deepEqual(
    r.files,
    ['generator.onnx', 'discriminator.onnx', 'meta.json'].map((f) => join(out, f)),
  );
  const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
  assert.equal(meta.d_output, 'logit');
  assert.equal(meta.producer, 'refinery train-ratio');
  assert.equal(meta.ratio.nReal, r.report.nReal);
  const saved = loadPair({ run: out });
  const other = join(root, 'ratio-seed5');
  await trainRatio(pair(), { out: other, real, seed: 5, ...DRE });
  const fromSeed5 = loadPair({ run: other });
  for (const [base, dre, extra] of [
    ['drs', 'dre-rs', { burnIn: 500 }],
    ['ddls', 'dre-ddls', { numSteps: 20, stepSize: 0.05 }],
  ] as const) {
    const direct = await refine(pair(), { method: dre, n: 300, seed: 4, real, ...DRE, ...extra });
    const along = await refine(saved, { method: base, n: 300, seed: 4, ...extra });
    assert.ok(Buffer.from(along.samples.data.buffer).equals(Buffer.from(direct.samples.data.buffer)), `${base} along the folder vs ${dre}`);
    const { seconds: _a, ...reportDirect } = direct.reports.dre as Record<string, unknown>;
    const { seconds: _b, ...reportSaved } = r.report as unknown as Record<string, unknown>;
    assert.deepEqual(reportSaved, reportDirect);
    const control = await refine(fromSeed5, { method: base, n: 300, seed: 4, ...extra });
    assert.ok(!Buffer.from(control.samples.data.buffer).equals(Buffer.from(direct.samples.data.buffer)), `${base}: the seed-5 network gave the same samples`);
  }
});

test('trainRatio: bad options, reals of another shape and an output over its own input are refused, naming the argument', async () => {
  await rejectsWith(trainRatio(pair(), { out: join(root, 'x'), real, dreSteps: 0 }), 'invalid_argument', 'dreSteps');
  await rejectsWith(trainRatio(pair(), { out: join(root, 'x'), real, stepSize: 0.1 } as never), 'invalid_argument', 'stepSize');
  await rejectsWith(trainRatio(pair(), { out: join(root, 'x'), real, dreActivation: 'gelu' as never }), 'invalid_argument', 'dreActivation');
  await rejectsWith(trainRatio(pair(), { out: join(root, 'x'), real, seed: 0.5 }), 'invalid_argument', 'seed');
  await rejectsWith(trainRatio(pair(), { out: join(root, 'x'), real: { data: new Float32Array(30), shape: [10, 3] } }), 'shape_mismatch', 'real');
  const out = join(root, 'self');
  await trainRatio(pair(), { out, real, dreSteps: 5 });
  const before = readFileSync(join(out, 'discriminator.onnx'));
  await rejectsWith(trainRatio(loadPair({ run: out }), { out, real, dreSteps: 5 }), 'invalid_argument', 'out');
  assert.ok(readFileSync(join(out, 'discriminator.onnx')).equals(before), 'the refused run wrote over its input');
});
