import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readNpy } from './npyfile.js';
import { decodeJpeg, isJpeg } from './jpeg.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/jpeg/', import.meta.url));

test('decodings asked at once each get their own result and their own libjpeg messages', async () => {
  const good = readFileSync(join(FIXTURES, 'images', 'a.jpg'));
  const truncated = good.subarray(0, Math.floor(good.length / 2));
  assert.ok(isJpeg(good) && isJpeg(truncated) && !isJpeg(Buffer.from('GIF89a')));
  const pil = readNpy(join(FIXTURES, 'golden.npy')).data as Uint8Array;
  await decodeJpeg(good); // the decoder made, so that the decodings below interleave at once
  const results = await Promise.allSettled([decodeJpeg(truncated), decodeJpeg(good), decodeJpeg(truncated), decodeJpeg(good)]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'fulfilled', 'rejected', 'fulfilled'],
  );
  for (const r of results) {
    if (r.status === 'rejected') assert.match(String(r.reason), /Premature end of JPEG file/);
    else {
      assert.deepEqual([r.value.width, r.value.height], [24, 16]);
      // the first image of the fixtures, as PIL decodes it (RGB of RGBA)
      for (let p = 0; p < 24 * 16; p++) for (let k = 0; k < 3; k++) assert.equal(r.value.data[4 * p + k], pil[3 * p + k]);
    }
  }
});

test("libjpeg's warnings other than a truncated file pass, as PIL lets them: extraneous bytes before the end marker decode to PIL's pixels", async () => {
  const good = readFileSync(join(FIXTURES, 'images', 'a.jpg'));
  assert.deepEqual([...good.subarray(good.length - 2)], [0xff, 0xd9]);
  const extraneous = Buffer.concat([good.subarray(0, good.length - 2), Buffer.from([0x12]), good.subarray(good.length - 2)]);
  const pil = readNpy(join(FIXTURES, 'golden.npy')).data as Uint8Array; // PIL gives the clean file's pixels for this one too
  const r = await decodeJpeg(extraneous);
  for (let p = 0; p < 24 * 16; p++) for (let k = 0; k < 3; k++) assert.equal(r.data[4 * p + k], pil[3 * p + k]);
});
