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

/** `promise` rejects with a RefineryError with `code` whose first issue is at `path` (when given). */
export async function rejectsWith(promise: Promise<unknown>, code: string, path?: string): Promise<RefineryError> {
  let caught: unknown;
  await assert.rejects(promise, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof RefineryError, `expected a RefineryError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (path !== undefined) assert.equal(caught.issues[0]?.path, path, caught.message);
  return caught;
}

/** A predicate for assert.rejects: a RefineryError with `code` and an issue at `path` (when given). */
export const isRefineryError =
  (code: string, path?: string) =>
  (e: unknown): boolean =>
    e instanceof RefineryError && e.code === code && (path === undefined || e.issues.some((i) => i.path === path));
