/** encodeLatents: z encoders pass through, [mu, logvar] encoders give mu, other widths are refused; batch size does not matter. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rejectsWith } from '../testing/assert.js';
import { identityGenerator } from '../testing/exact.js';
import { encodeLatents } from './encoder.js';

test('an encoder of width latentDim gives its output; of width 2 latentDim ([mu, logvar]) its first half; others are refused', async () => {
  // The identity on rows of 4 values: an encoder to z (latentDim 4) or to [mu, logvar] (latentDim 2).
  const encoder = identityGenerator(4);
  const x = { data: Float32Array.from({ length: 5 * 4 }, (_, i) => i), shape: [5, 4] };
  const z = await encodeLatents(encoder, x, { latentDim: 4 });
  assert.deepEqual(z.shape, [5, 4]);
  assert.deepEqual([...z.data], [...x.data]);
  const mu = await encodeLatents(encoder, x, { latentDim: 2, batchSize: 2 });
  assert.deepEqual(mu.shape, [5, 2]);
  assert.deepEqual([...mu.data], [0, 1, 4, 5, 8, 9, 12, 13, 16, 17]);
  await rejectsWith(encodeLatents(encoder, x, { latentDim: 3 }), 'shape_mismatch', 'encoder output');
  await rejectsWith(encodeLatents(encoder, x, { latentDim: 0 }), 'invalid_argument', 'latentDim');
});
