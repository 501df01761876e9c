/** The README's operator table lists exactly the operators the registry knows. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { supportedOps } from './registry.js';

test("the README's operator table names every supported operator, and no other", () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('| operators | gradient | tested how |');
  assert.ok(start >= 0, 'the README has the operator table');
  const end = readme.indexOf('\n\n', start);
  const firstColumn = readme
    .slice(start, end)
    .split('\n')
    .slice(2)
    .map((row) => row.split('|')[1]);
  const listed = firstColumn.flatMap((cell) => [...cell.matchAll(/`([A-Za-z][A-Za-z0-9]*)`/g)].map((m) => m[1])).sort();
  assert.deepEqual(listed, supportedOps());
});
