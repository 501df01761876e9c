/**
 * How much memory this machine has, so that sizes that cannot fit are refused before anything is
 * allocated (a clear error naming the option, instead of a crash or a swapping machine), as the
 * platform (platform/host.ts) tells it.
 */
import { fail } from '../errors.js';
import { host } from './host.js';

/** Bytes of memory of this machine. */
export function totalMemoryBytes(): number {
  return host().totalMemoryBytes();
}

/** Bytes as text: "12.3 GB". */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${v} bytes` : `${v.toPrecision(3)} ${units[u]}`;
}

/** The largest typed array a JavaScript engine allocates (elements of 4 bytes, 2^32 - 1 here). */
const MAX_ARRAY_BYTES = 4 * (2 ** 32 - 1);

/**
 * Refuse an allocation of `bytes` that cannot fit: more than the machine's memory (or the largest
 * typed array). The error names `path` (the option that sets the size) and the bytes needed.
 */
export function checkMemory(bytes: number, path: string, what: string): void {
  const limit = Math.min(totalMemoryBytes(), MAX_ARRAY_BYTES);
  if (!(bytes <= limit)) {
    fail('invalid_argument', path, `a size that fits in memory (${formatBytes(limit)} here)`, `${what}: ${formatBytes(bytes)}`);
  }
}

/**
 * Refuse a generator whose one sample cannot fit (working copies of a sample and its gradient),
 * naming the generator and its output shape.
 */
export function checkSampleSize(pair: { meta: { dataShape: number[] } }, path = 'generator'): void {
  const size = pair.meta.dataShape.reduce((a, b) => a * b, 1);
  const limit = Math.min(totalMemoryBytes(), MAX_ARRAY_BYTES);
  if (!(4 * 4 * size <= limit)) {
    fail(
      'invalid_model',
      path,
      `samples that fit in memory (${formatBytes(limit)} here)`,
      `output shape [batch, ${pair.meta.dataShape.join(', ')}]: ${formatBytes(4 * size)} per sample`,
    );
  }
}
