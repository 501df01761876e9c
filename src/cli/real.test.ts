import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pixelsToRange } from '../data/images.js';
import { encodeNpy } from '../io/npy.js';
import { rejectsWith } from '../testing/assert.js';
import { readSamplesFile } from './real.js';

const root = mkdtempSync(join(tmpdir(), 'refinery-real-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('readSamplesFile: a .npy of uint8 is pixels mapped to the range (lo + (hi - lo) p / 255); other dtypes are taken as they are; a missing path names the option', async () => {
  const pixels = Uint8Array.from([0, 1, 127, 128, 254, 255]);
  const u8 = join(root, 'u8.npy');
  writeFileSync(u8, encodeNpy({ data: pixels, shape: [2, 3] }));
  const mapped = await readSamplesFile(u8, '--fake', [0, 1]);
  assert.deepEqual(mapped.shape, [2, 3]);
  assert.deepEqual(
    [...mapped.data],
    [...pixels].map((p) => Math.fround(p / 255)),
  );
  assert.deepEqual(mapped.data, pixelsToRange(pixels, [0, 1]));
  const symmetric = (await readSamplesFile(u8, '--fake', [-1, 1])).data;
  assert.equal(symmetric[0], -1);
  assert.equal(symmetric[5], 1);
  // The same numbers as uint16 are not pixels: taken as they are.
  const u16 = join(root, 'u16.npy');
  writeFileSync(u16, encodeNpy({ data: Uint16Array.from(pixels), shape: [2, 3] }));
  assert.deepEqual([...(await readSamplesFile(u16, '--fake', [0, 1])).data], [...pixels]);
  await rejectsWith(readSamplesFile(join(root, 'missing.npy'), '--real', [0, 1]), 'invalid_file', '--real');
});
