/**
 * Exclusive locks on output files, so that two runs never write one file: proper-lockfile's
 * `<file>.lock` folder (atomic mkdir, refreshed while the run lives, stale after a while when the
 * holder died), plus `<file>.lock-holder.json` naming the holder (pid, host, start time, command)
 * so that a refused run can say who holds the lock. A lock whose holder process is gone (same
 * host, no such pid) is taken over at once instead of after the stale delay.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { RefineryError, fail } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { checkEarlierOutputs, checkOutputs, type EarlierOutputs } from './paths.js';

/** A lock not refreshed for this long belongs to a dead or frozen process and may be taken. */
const STALE_MS = 120_000;
const UPDATE_MS = 10_000;

interface Holder {
  pid: number;
  host: string;
  since: string;
  command: string;
}

const holderPath = (file: string) => `${file}.lock-holder.json`;

function readHolder(file: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(holderPath(file), 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Lock {
  /** Release the lock (idempotent). */
  release(): void;
  /** True when the lock was lost (e.g. the process froze longer than the stale delay). */
  readonly compromised: boolean;
}

/**
 * Lock `file` (which need not exist; its folder must) for this process. A file locked by another
 * live process is an error naming `option` and the holder.
 */
export function lockOutput(file: string, option: string): Lock {
  const tryLock = () =>
    lockfile.lockSync(file, {
      realpath: false,
      stale: STALE_MS,
      update: UPDATE_MS,
      onCompromised: () => {
        state.compromised = true;
      },
    });
  const state = { compromised: false };
  let unlock: () => void;
  try {
    unlock = tryLock();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
    const holder = readHolder(file);
    if (holder && holder.host === hostname() && holder.pid !== process.pid && !processAlive(holder.pid)) {
      // The holder died (kill -9, power loss) on this machine: its lock is stale now.
      rmSync(`${file}.lock`, { recursive: true, force: true });
      rmSync(holderPath(file), { force: true });
      unlock = tryLock();
    } else {
      const who = holder ? `pid ${holder.pid} on ${holder.host} since ${holder.since} (${holder.command})` : 'another process';
      throw new RefineryError('invalid_argument', [
        { path: option, expected: `an output no other run is writing (${file} is locked; wait for that run or stop it)`, received: `locked by ${who}` },
      ]);
    }
  }
  const holder: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), command: process.argv.slice(1).join(' ') };
  writeFileAtomic(holderPath(file), `${JSON.stringify(holder)}\n`);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      if (readHolder(file)?.pid === process.pid) rmSync(holderPath(file), { force: true });
      try {
        unlock();
      } catch {
        // Already released or taken over after a freeze: nothing of ours to remove.
      }
    },
    get compromised() {
      return state.compromised;
    },
  };
}

/** Lock several outputs; on failure the ones taken are released. */
export function lockOutputs(files: { path: string; option: string }[]): Lock {
  const taken: Lock[] = [];
  try {
    for (const f of files) taken.push(lockOutput(f.path, f.option));
  } catch (e) {
    for (const l of taken) l.release();
    throw e;
  }
  return {
    release: () => {
      for (const l of taken) l.release();
    },
    get compromised() {
      return taken.some((l) => l.compromised);
    },
  };
}

/** Fail when a lock was lost, naming the output (the run's files may have been written by another run). */
export function assertHeld(lock: Lock, option: string, file: string): void {
  if (lock.compromised)
    fail('internal', option, `the lock on ${file} held for the whole run`, 'a lock lost (the process was frozen longer than the stale delay)');
  if (!existsSync(`${file}.lock`)) fail('internal', option, `the lock on ${file} held for the whole run`, 'the lock folder removed');
}

/**
 * Open the run folder `out` to write a pair into (generator.onnx, discriminator.onnx, meta.json):
 * refused, naming `out`, where one of those would be a file of the pair it is made from
 * (`sources`) or cannot be written; then created and locked for this process, and refused if it
 * holds an earlier run that `earlier` does not allow (checkEarlierOutputs; `resumable`: the writer
 * can continue it).
 */
export function lockRunFolder(
  out: string,
  sources: { generator: string; discriminator: string; meta?: string },
  earlier: EarlierOutputs,
  resumable: boolean,
): Lock {
  const inputs = [
    { path: sources.generator, option: 'generator' },
    { path: sources.discriminator, option: 'discriminator' },
    ...(sources.meta ? [{ path: sources.meta, option: 'meta' }] : []),
  ].filter((i) => i.path !== '');
  checkOutputs([{ path: out, option: 'out', kind: 'folder' }], []);
  checkOutputs(
    ['generator.onnx', 'discriminator.onnx', 'meta.json'].map((f) => ({ path: join(out, f), option: 'out' })),
    inputs,
  );
  mkdirSync(out, { recursive: true });
  const lock = lockOutput(out, 'out');
  try {
    checkEarlierOutputs([{ path: out, option: 'out', kind: 'folder' }], earlier, resumable);
  } catch (e) {
    lock.release();
    throw e;
  }
  return lock;
}
