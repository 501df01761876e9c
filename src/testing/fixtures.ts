/** Locating the team's shared fixtures (../shared/fixtures beside the repository). Test-only helper. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (dist/testing/.. /..). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function fixturesDir(): string {
  const candidates = [process.env.REFINERY_FIXTURES, join(repoRoot, '..', 'shared', 'fixtures', 'onnx'), join(repoRoot, 'shared', 'fixtures', 'onnx')];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new Error(`ONNX fixtures not found; looked in ${candidates.filter(Boolean).join(', ')}`);
}

export const FIXTURES = ['mlp2d', 'dcgan32', 'mnist_dcgan28'] as const;

/** Relative error max|a - b| / max|b| over whole arrays. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}
