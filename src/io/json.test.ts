import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RefineryError } from '../errors.js';
import { readJsonFile } from './json.js';

const root = mkdtempSync(join(tmpdir(), 'refinery-json-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('readJsonFile parses a JSON file; broken or missing ones are invalid_file naming the file and what was expected', () => {
  const good = join(root, 'good.json');
  writeFileSync(good, '{"run": {"id": "abc"}, "n": [1, 2]}\n');
  assert.deepEqual(readJsonFile(good, 'a summary'), { run: { id: 'abc' }, n: [1, 2] });
  const broken = join(root, 'broken.json');
  writeFileSync(broken, '{"run": ');
  for (const p of [broken, join(root, 'missing.json')]) {
    assert.throws(
      () => readJsonFile(p, 'the JSON summary of a shard'),
      (e: unknown) =>
        e instanceof RefineryError && e.code === 'invalid_file' && e.issues[0].path === p && e.issues[0].expected === 'the JSON summary of a shard',
    );
  }
});
