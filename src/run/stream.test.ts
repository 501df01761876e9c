import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RefineryError } from '../errors.js';
import { readNpy } from '../io/npy.js';
import { BIMODAL, exactPair } from '../testing/exact.js';
import { runDdls, type DdlsRunOptions } from './latent.js';
import { mergeSummaries, runStreamed } from './stream.js';
import type { MethodRunner, RunContext } from './types.js';

const root = mkdtempSync(join(tmpdir(), 'refinery-stream-'));
after(() => rmSync(root, { recursive: true, force: true }));

const pair = exactPair(BIMODAL);
const options: DdlsRunOptions = { numSteps: 5, stepSize: 0.05, noise: 1, decay: 1, metropolis: true };
const ctx = (): RunContext => ({ pair, n: 1000, seed: 3, batchSize: 128 });
const stream = (out: string, resume = false) => ({ out, chunkSize: 300, resume, identity: { method: 'ddls', options } });

test('a stream interrupted after two chunks resumes to the bit-identical file', async () => {
  const full = join(root, 'full.npy');
  const r = await runStreamed(runDdls, ctx(), options, stream(full));
  assert.deepEqual(r.shape, [1000, 2]);
  assert.equal(r.chunks, 4);
  assert.ok(!existsSync(`${full}.parts`));
  assert.deepEqual(readNpy(full).shape, [1000, 2]);

  const out = join(root, 'part.npy');
  let calls = 0;
  const failing: MethodRunner<DdlsRunOptions> = async (c, o) => {
    if (++calls === 3) throw new RefineryError('cancelled', [{ path: 'test', expected: 'to run', received: 'a stop' }]);
    return runDdls(c, o);
  };
  await assert.rejects(runStreamed(failing, ctx(), options, stream(out)), (e: unknown) => e instanceof RefineryError && e.code === 'cancelled');
  assert.ok(!existsSync(out), 'no half-written output');
  assert.ok(existsSync(`${out}.parts`));
  const resumed = await runStreamed(runDdls, ctx(), options, stream(out, true));
  assert.equal(resumed.resumedChunks, 2);
  assert.ok(readFileSync(out).equals(readFileSync(full)));
  assert.equal(resumed.summary.nonFinite, r.summary.nonFinite);
});

test('resuming with other options is refused; without --resume the parts are discarded', async () => {
  const out = join(root, 'opts.npy');
  let calls = 0;
  const failing: MethodRunner<DdlsRunOptions> = async (c, o) => {
    if (++calls === 2) throw new Error('boom');
    return runDdls(c, o);
  };
  await assert.rejects(runStreamed(failing, ctx(), options, stream(out)));
  const other = { ...options, stepSize: 0.1 };
  await assert.rejects(
    runStreamed(runDdls, ctx(), other, { ...stream(out, true), identity: { method: 'ddls', options: other } }),
    (e: unknown) => e instanceof RefineryError && e.issues[0].path === '--resume',
  );
  const fresh = await runStreamed(runDdls, ctx(), options, stream(out));
  assert.equal(fresh.resumedChunks, 0);
});

test('summaries merge: counts add, rates average weighted by rows', () => {
  const m = mergeSummaries([
    { rows: 100, summary: { method: 'x', acceptance: 0.5, nonFinite: 2 } },
    { rows: 300, summary: { method: 'x', acceptance: 0.9, nonFinite: 1 } },
  ]);
  assert.equal(m.method, 'x');
  assert.ok(Math.abs((m.acceptance as number) - 0.8) < 1e-12);
  assert.equal(m.nonFinite, 3);
});
