/**
 * NumPy `.npz` archives (a zip of `.npy` files, stored or deflated), as `np.savez` and
 * `np.savez_compressed` write them; read and written with fflate. Used for cached feature
 * statistics in pytorch-fid's format (`mu`, `sigma`).
 */
import { readFileSync } from 'node:fs';
import { unzipSync, zipSync } from 'fflate';
import { fail } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { encodeNpy, type NpyArray, type NpyInput, parseNpy } from './npy.js';

/** The arrays of an .npz file, by name (the `.npy` suffix dropped). Errors name `path`. */
export function readNpz(path: string): Record<string, NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    return fail('invalid_file', path, 'a readable .npz file', (e as NodeJS.ErrnoException).code ?? String(e));
  }
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    return fail('invalid_file', path, 'an .npz file (a zip archive of .npy files)', e instanceof Error ? e.message : String(e));
  }
  const out: Record<string, NpyArray> = {};
  for (const [name, data] of Object.entries(files)) {
    if (!name.endsWith('.npy')) continue;
    out[name.slice(0, -4)] = parseNpy(data, `${path}:${name}`);
  }
  return out;
}

/** Write arrays as an .npz file (deflated, like np.savez_compressed), atomically. */
export function writeNpz(path: string, arrays: Record<string, NpyInput>): void {
  const files: Record<string, Uint8Array> = {};
  for (const [name, a] of Object.entries(arrays)) files[`${name}.npy`] = encodeNpy(a);
  writeFileAtomic(path, zipSync(files, { level: 6, mtime: new Date('1980-01-01T00:00:00Z') }));
}
