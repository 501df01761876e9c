/** Assertions shared by tests. */
import assert from 'node:assert/strict';
import { RefineryError } from '../errors.js';

/** `fn` throws a RefineryError with `code` whose first issue is at `path`. */
export function assertRefineryError(fn: () => unknown, code: string, path: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RefineryError);
    assert.equal(e.code, code);
    assert.equal(e.issues[0].path, path);
    return true;
  });
}
