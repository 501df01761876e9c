import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeSummaries } from './summary.js';

test('summaries merge: counts add, rates average weighted by rows', () => {
  const m = mergeSummaries([
    { rows: 100, summary: { method: 'x', acceptance: 0.5, nonFinite: 2 } },
    { rows: 300, summary: { method: 'x', acceptance: 0.9, nonFinite: 1 } },
  ]);
  assert.equal(m.method, 'x');
  assert.ok(Math.abs((m.acceptance as number) - 0.8) < 1e-12);
  assert.equal(m.nonFinite, 3);
});
