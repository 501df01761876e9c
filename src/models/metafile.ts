/** Reading and writing meta.json files (Node.js only; in memory, use `parseMeta` and `metaJson`). */
import { readFileSync } from 'node:fs';
import { RefineryError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { type ModelMeta, metaJson, parseMeta } from './meta.js';

/** Read meta.json (snake_case keys as in the fixtures: latent_dim, latent_prior, data_shape, d_output). */
export function readMeta(path: string): ModelMeta {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new RefineryError('invalid_file', [
      { path, expected: 'a JSON object', received: e instanceof SyntaxError ? `invalid JSON (${e.message})` : String((e as NodeJS.ErrnoException).code ?? e) },
    ]);
  }
  return parseMeta(raw, path);
}

/** Write meta.json for `meta` atomically. */
export function writeMeta(path: string, meta: ModelMeta): void {
  writeFileAtomic(path, metaJson(meta));
}
