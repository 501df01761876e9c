/** Reading and writing .npy files (Node.js only; in memory, use `parseNpy` and `encodeNpy`). */
import * as fs from 'node:fs';
import { fail } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { writeFileAtomic } from './atomic.js';
import { encodeNpy, type NpyArray, type NpyInput, npyToFloat32, parseNpy } from './npy.js';

function readBytes(path: string): Uint8Array {
  try {
    return fs.readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return fail('invalid_file', path, 'a readable .npy file', err.message ?? String(e));
  }
}

/** Read a .npy file; errors name `path`. */
export function readNpy(path: string): NpyArray {
  return parseNpy(readBytes(path), path);
}

/** Read a .npy file as a float32 tensor, converting other numeric dtypes; errors name `path`. */
export function readNpyFloat32(path: string): Tensor {
  return npyToFloat32(readNpy(path));
}

/** Write a .npy file atomically (see `encodeNpy`); takes what `readNpy` returns. */
export function writeNpy(path: string, array: NpyInput): void {
  writeFileAtomic(path, encodeNpy(array));
}
