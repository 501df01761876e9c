/**
 * Library code prints nothing: progress and results go through callbacks and return values; only
 * the command line (src/cli), the benchmarks (src/bench) and test helpers write to the console.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './testing/fixtures.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('no library module writes to the console, stdout or stderr', () => {
  const src = join(repoRoot, 'src');
  const library = sources(src).filter((p) => {
    const r = relative(src, p);
    return !r.endsWith('.test.ts') && !/^(cli|bench|testing)\//.test(r);
  });
  assert.ok(library.length > 50);
  const offenders = library.filter((p) => /\bconsole\.|process\.(stdout|stderr)/.test(readFileSync(p, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')));
  assert.deepEqual(
    offenders.map((p) => relative(src, p)),
    [],
  );
  // The check can fail: the CLI does write to stderr.
  assert.match(readFileSync(join(src, 'cli', 'progress.ts'), 'utf8'), /process\.stderr/);
});
