import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './testing/fixtures.js';
import { VERSION } from './version.js';

test('VERSION is the version in package.json', () => {
  assert.equal(VERSION, JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
});
