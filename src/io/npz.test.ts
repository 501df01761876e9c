import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { zipSync } from 'fflate';
import { assertRefineryError } from '../testing/assert.js';
import { encodeNpy } from './npy.js';
import { readNpz, writeNpz } from './npz.js';

const root = mkdtempSync(join(tmpdir(), 'refinery-npz-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('writeNpz and readNpz round-trip; stored and deflated archives (np.savez, np.savez_compressed) read alike', () => {
  const p = join(root, 'a.npz');
  const mu = { data: Float64Array.of(1, 2, 3), shape: [3] };
  const sigma = { data: Float64Array.from({ length: 9 }, (_, k) => k), shape: [3, 3] };
  writeNpz(p, { mu, sigma });
  const back = readNpz(p);
  assert.deepEqual(back.mu.data, mu.data);
  assert.deepEqual(back.sigma.shape, [3, 3]);
  const stored = join(root, 'stored.npz');
  writeFileSync(stored, zipSync({ 'mu.npy': encodeNpy(mu), 'notes.txt': new Uint8Array(2) }, { level: 0 }));
  assert.deepEqual(Object.keys(readNpz(stored)), ['mu']);
});

test('a file that is not a zip, or a missing file, is an invalid_file naming it', () => {
  const bad = join(root, 'bad.npz');
  writeFileSync(bad, 'not a zip');
  assertRefineryError(() => readNpz(bad), 'invalid_file', bad);
  assertRefineryError(() => readNpz(join(root, 'missing.npz')), 'invalid_file', join(root, 'missing.npz'));
});
