/**
 * Atomic file writes: data goes to a temporary file next to the target, is flushed to disk and then
 * renamed over the target, so readers see either the old or the new file, never a partial one.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as nodePath from 'node:path';

function tempPath(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Best effort: make the rename durable by syncing the directory (not possible on every platform). */
function syncDirSync(path: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(nodePath.dirname(path), 'r');
    fs.fsyncSync(fd);
  } catch {
    // Directories cannot be opened or synced on some platforms (Windows); the rename is still atomic.
  } finally {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // ignore
      }
    }
  }
}

async function syncDir(path: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(nodePath.dirname(path), 'r');
    await handle.sync();
  } catch {
    // see syncDirSync
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Write `data` to `path` atomically (synchronously): write `path.tmp-<pid>-<random hex>` in the same
 * directory, fsync it, rename it over `path`. The temporary file is removed if anything fails, and
 * the original error is rethrown.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const bytes = toBytes(data);
  const tmp = tempPath(path);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx');
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // ignore
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      // the temporary file may never have been created
    }
    throw e;
  }
  syncDirSync(path);
}

/** Asynchronous variant of `writeFileAtomic`, with the same guarantees. */
export async function writeFileAtomicAsync(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = toBytes(data);
  const tmp = tempPath(path);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, 'wx');
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, path);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await fsp.unlink(tmp).catch(() => undefined);
    throw e;
  }
  await syncDir(path);
}
