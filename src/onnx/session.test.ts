import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertRefineryError } from '../testing/assert.js';
import { spinning } from './session.js';

test('REFINERY_SPIN: spinning by default, off with 0, anything else refused by name', () => {
  const saved = process.env.REFINERY_SPIN;
  try {
    delete process.env.REFINERY_SPIN;
    assert.equal(spinning(), true);
    process.env.REFINERY_SPIN = '0';
    assert.equal(spinning(), false);
    process.env.REFINERY_SPIN = '1';
    assert.equal(spinning(), true);
    process.env.REFINERY_SPIN = 'yes';
    assertRefineryError(() => spinning(), 'invalid_argument', 'REFINERY_SPIN');
  } finally {
    if (saved === undefined) delete process.env.REFINERY_SPIN;
    else process.env.REFINERY_SPIN = saved;
  }
});
