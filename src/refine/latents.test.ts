/**
 * Start latents (`refine` with `latents`, e.g. an encoder's codes of real data to refine
 * reconstructions): every dynamics method started from the latents it would draw itself gives
 * the bytes of a run without them, so row i starts at latents row i; other latents give other
 * samples (the control); a run with latents is cut-invariant like any other; bad latents and
 * selection methods are refused, naming `latents`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadPair } from '../models/load.js';
import { Rng } from '../rng.js';
import { sampleLatents } from '../run/latent.js';
import { rejectsWith } from '../testing/assert.js';
import { fixturesDir } from '../testing/fixtures.js';
import { SMALL_SETTINGS as SMALL } from '../testing/small.js';
import { refineToFile } from './file.js';
import { refine, type RefineOptions } from './refine.js';
import { METHODS, METHOD_IDS } from './registry.js';

const pair = loadPair({ run: join(fixturesDir(), 'mlp2d') });
const n = 23;
const d = pair.meta.latentDim;
const seed = 4;
const own = sampleLatents(pair.meta.latentPrior, seed, 0, n, d);
// Real samples for the methods that train on them first (the dre-* density-ratio networks).
const real = { data: new Rng(9).fillNormal(new Float32Array(400)), shape: [200, 2] };
const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const DYNAMICS = METHOD_IDS.filter((id) => METHODS[id].family === 'dynamics');

test('dynamics methods given the latents they would draw give the same bytes; other latents other samples; cut-invariant', async () => {
  assert.deepEqual([...DYNAMICS].sort(), ['dcd', 'ddls', 'dgflow', 'dot', 'dot-latent', 'dre-ddls', 'dre-dgflow', 'dre-dot-latent']);
  for (const method of DYNAMICS) {
    const base = { method, n, seed, batchSize: 8, ...(METHODS[method].needsReal ? { real } : {}), ...SMALL[method] } as RefineOptions;
    const plain = (await refine(pair, base)).samples.data;
    const given = (await refine(pair, { ...base, latents: { data: own, shape: [n, d] } })).samples.data;
    assert.ok(bytes(given).equals(bytes(plain)), `${method}: the prior's own latents given explicitly changed the samples`);
    // Row 0 moved elsewhere: its sample changes, the other rows do not.
    const moved = Float32Array.from(own);
    for (let j = 0; j < d; j++) moved[j] += 3;
    const other = (await refine(pair, { ...base, latents: { data: moved, shape: [n, d] } })).samples.data;
    const size = other.length / n;
    assert.ok(!bytes(other.subarray(0, size)).equals(bytes(plain.subarray(0, size))), `${method}: row 0 ignored its start latent`);
    // Global quantities (DOT's K_eff) come from their own seeded pools: rows do not interact through their starts.
    assert.ok(bytes(other.subarray(size)).equals(bytes(plain.subarray(size))), `${method}: moving row 0 changed other rows`);
    const cut = await refine(pair, { ...base, latents: { data: moved, shape: [n, d] }, batchSize: 5, chunkSize: 7 });
    const shards = [];
    for (let index = 0; index < 3; index++)
      shards.push((await refine(pair, { ...base, latents: { data: moved, shape: [n, d] }, shard: { index, count: 3 } })).samples.data);
    assert.ok(bytes(cut.samples.data).equals(bytes(other)), `${method}: chunks of 7, batches of 5 differ`);
    assert.ok(Buffer.concat(shards.map(bytes)).equals(bytes(other)), `${method}: 3 shards differ`);
  }
});

test('bad latents and selection methods are refused, naming latents', async () => {
  const ok = { data: own, shape: [n, d] };
  await rejectsWith(refine(pair, { method: 'drs', n, latents: ok, burnIn: 100, criticAsRatio: true }), 'invalid_argument', 'latents');
  await rejectsWith(refine(pair, { method: 'ddls', n: n + 1, latents: ok }), 'shape_mismatch', 'latents');
  await rejectsWith(refine(pair, { method: 'ddls', n, latents: { data: own, shape: [n, d, 1] } }), 'shape_mismatch', 'latents');
  const bad = Float32Array.from(own);
  bad[2 * d + 1] = Number.NaN;
  await rejectsWith(refine(pair, { method: 'ddls', n, latents: { data: bad, shape: [n, d] } }), 'invalid_argument', 'latents row 2');
  await rejectsWith(refine(pair, { method: 'ddls', n, latents: [1, 2] as never }), 'invalid_argument', 'latents');
});

test('refineToFile: a run stopped part-way resumes from the same start latents to the bytes of a whole run, and refuses other latents', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'refinery-latents-'));
  try {
    const moved = Float32Array.from(own, (v) => v + 0.5);
    const base = { method: 'ddls', n, seed, numSteps: 3, chunkSize: 5, latents: { data: moved, shape: [n, d] } } as RefineOptions;
    const whole = await refineToFile(pair, base, { out: join(dir, 'whole.npy') });
    const out = join(dir, 'part.npy');
    const ctl = new AbortController();
    await rejectsWith(
      refineToFile(pair, { ...base, signal: ctl.signal, onProgress: (p) => p.stage === 'ddls' && p.done >= 10 && ctl.abort() }, { out }),
      'cancelled',
    );
    const other = { ...base, latents: { data: own, shape: [n, d] } } as RefineOptions;
    await rejectsWith(refineToFile(pair, other, { out, resume: true }), 'invalid_argument', 'resume');
    const resumed = await refineToFile(pair, base, { out, resume: true });
    assert.ok(resumed.resumedChunks >= 2, `resumed ${resumed.resumedChunks} chunks`);
    assert.equal(resumed.sha256, whole.sha256);
    assert.equal(JSON.parse(readFileSync(resumed.summaryFile, 'utf8')).provenance.sha256.latents.length, 64);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
