/**
 * `mergeShards`: assemble the outputs of a run split with `shard` (refineToFile, `refine --shard
 * i/n`) into the file one unsharded run writes: OUT.npy equal to it byte for byte, and OUT.json
 * with the shards' summaries merged.
 *
 * Before anything is written it checks that the shards belong to one run (the same run id: method,
 * options, n, seed, calibration, the models' and real samples' SHA-256), that they are exactly
 * shards 0..count-1 of it, that each .npy is the file its summary describes (SHA-256, header,
 * shape), and that OUT is none of them. The shard files are streamed (memory stays flat), and the
 * output unit is written as refineToFile writes it (array to a temporary file, summary, rename).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { RefineryError, fail, type Issue } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readJsonFile } from '../io/json.js';
import { lockOutputs } from '../io/lock.js';
import { npyHeader } from '../io/npy.js';
import { checkDiskSpace, checkEarlierOutputs, checkOutputs } from '../io/paths.js';
import { mergeSummaries } from '../run/summary.js';
import type { RefineSummary } from './refine.js';
import { shardRows } from './shard.js';

/** What `mergeShards` returns. */
export interface MergeResult {
  /** The .npy file written. */
  out: string;
  /** Its summary (OUT.json). */
  summaryFile: string;
  /** Shape of the merged array: [n, ...dataShape]. */
  shape: number[];
  /** SHA-256 of OUT.npy (equal to that of an unsharded run of the same options). */
  sha256: string;
  /** The run id the shards share. */
  run: string;
  /** Shards merged. */
  shards: number;
  /** The shards' summaries, merged. */
  summary: RefineSummary;
}

interface ShardRecord {
  file: string;
  record: Record<string, unknown>;
  index: number;
  count: number;
  start: number;
  end: number;
  shape: number[];
  sha256: string;
  runId: string;
  total: number;
}

const BLOCK = 1 << 24;

function readRecord(npy: string, option: string): ShardRecord {
  const json = npy.replace(/\.npy$/, '.json');
  if (!npy.endsWith('.npy')) fail('invalid_argument', option, 'the .npy output of `refine --shard i/n`', npy);
  if (!existsSync(npy)) fail('invalid_argument', option, 'the .npy output of a shard', `${npy} (no such file)`);
  if (!existsSync(json)) fail('invalid_argument', option, `the summary ${basename(json)} beside ${basename(npy)}`, `${json} (no such file)`);
  const record = readJsonFile(json, 'the JSON summary of a shard') as Record<string, unknown>;
  const run = record.run as { id?: unknown; n?: unknown } | undefined;
  const shard = record.shard as { index?: unknown; count?: unknown; start?: unknown; end?: unknown } | null | undefined;
  if (typeof run?.id !== 'string' || typeof run.n !== 'number') fail('invalid_file', json, 'a summary with the run id (written by refine)', 'no run id');
  if (!shard || typeof shard.index !== 'number' || typeof shard.count !== 'number' || typeof shard.start !== 'number' || typeof shard.end !== 'number') {
    fail('invalid_argument', option, 'the output of a sharded run (refine --shard i/n)', `${npy}, the output of an unsharded run`);
  }
  const shape = record.shape as number[];
  if (!Array.isArray(shape) || typeof record.sha256 !== 'string') fail('invalid_file', json, 'a summary with the shape and SHA-256 of its .npy', 'neither');
  return {
    file: npy,
    record,
    index: shard.index,
    count: shard.count,
    start: shard.start,
    end: shard.end,
    shape,
    sha256: record.sha256 as string,
    runId: run.id,
    total: run.n,
  };
}

/**
 * Merge the shard outputs `inputs` (their .npy files, in any order; each with its .json beside
 * it) into `file.out` (see the module doc).
 */
export function mergeShards(
  inputs: string[],
  file: {
    out: string;
    /** Replace an earlier OUT.npy and OUT.json; otherwise refused. Default false. */
    overwrite?: boolean;
    names?: { inputs?: string; out?: string };
  },
): MergeResult {
  const names = { inputs: file.names?.inputs ?? 'inputs', out: file.names?.out ?? 'out' };
  if (!Array.isArray(inputs) || inputs.length === 0) fail('invalid_argument', names.inputs, 'the .npy outputs of the shards of one run', 'none');
  const out = file.out;
  if (typeof out !== 'string' || !out.endsWith('.npy')) fail('invalid_argument', names.out, 'a file name ending in .npy', String(out));
  const summaryFile = out.replace(/\.npy$/, '.json');
  const shards = inputs.map((p) => readRecord(p, names.inputs));

  // One run, every shard exactly once.
  const issues: Issue[] = [];
  const first = shards[0];
  for (const s of shards.slice(1)) {
    if (s.runId !== first.runId) {
      issues.push({
        path: names.inputs,
        expected: `shards of one run (run ${first.runId.slice(0, 12)} of ${first.file}: same method, options, n, seed and models)`,
        received: `${s.file} of run ${s.runId.slice(0, 12)}`,
      });
    }
    if (s.count !== first.count)
      issues.push({ path: names.inputs, expected: `shards of a ${first.count}-way split`, received: `${s.file}, shard of ${s.count}` });
  }
  if (issues.length > 0) throw new RefineryError('invalid_argument', issues);
  const count = first.count;
  const byIndex = new Map<number, ShardRecord>();
  for (const s of shards) {
    const twin = byIndex.get(s.index);
    if (twin) fail('invalid_argument', names.inputs, `each shard once`, `shard ${s.index}/${count} twice: ${twin.file} and ${s.file}`);
    byIndex.set(s.index, s);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0)
    fail(
      'invalid_argument',
      names.inputs,
      `all ${count} shards of the run`,
      `${shards.length}; missing shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
    );
  const ordered = Array.from({ length: count }, (_, i) => byIndex.get(i)!);
  const rowShape = first.shape.slice(1);
  for (const s of ordered) {
    const want = shardRows(first.total, { index: s.index, count });
    if (s.start !== want.start || s.end !== want.end || s.shape[0] !== s.end - s.start || s.shape.slice(1).join() !== rowShape.join()) {
      fail(
        'invalid_file',
        s.file,
        `rows ${want.start}..${want.end} of the run, shape [${want.end - want.start}, ${rowShape.join(', ')}]`,
        `rows ${s.start}..${s.end}, shape [${s.shape.join(', ')}]`,
      );
    }
  }
  const shape = [first.total, ...rowShape];

  const outputs = [
    { path: out, option: names.out },
    { path: summaryFile, option: `${names.out} (its summary ${basename(summaryFile)})` },
  ];
  checkOutputs(
    outputs,
    ordered.flatMap((s) => [
      { path: s.file, option: names.inputs },
      { path: s.file.replace(/\.npy$/, '.json'), option: names.inputs },
    ]),
  );
  const bytes = 4 * shape.reduce((a, b) => a * b, 1);
  checkDiskSpace(out, bytes, names.out, 'the merged array');
  mkdirSync(dirname(out) || '.', { recursive: true });
  const lock = lockOutputs([{ path: out, option: names.out }]);
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    checkEarlierOutputs(outputs, { overwrite: file.overwrite }, false);
    const hash = createHash('sha256');
    const fd = openSync(tmp, 'w');
    try {
      const write = (b: Uint8Array) => {
        let off = 0;
        while (off < b.length) off += writeSync(fd, b, off, b.length - off);
        hash.update(b);
      };
      write(npyHeader('<f4', shape));
      const buf = new Uint8Array(BLOCK);
      for (const s of ordered) copyShard(s, buf, write);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const sha256 = hash.digest('hex');
    const summary = mergeSummaries(ordered.map((s) => ({ rows: s.end - s.start, summary: s.record.summary as Record<string, unknown> }))) as RefineSummary;
    const sum = (k: string) => ordered.reduce((a, s) => a + (typeof s.record[k] === 'number' ? (s.record[k] as number) : 0), 0);
    const record: Record<string, unknown> = {
      ...first.record,
      out,
      shape,
      sha256,
      n: first.total,
      shard: null,
      summary,
      chunks: sum('chunks'),
      resumedChunks: sum('resumedChunks'),
      seconds: sum('seconds'),
      merged: ordered.map((s) => ({ file: s.file, sha256: s.sha256, start: s.start, end: s.end, seconds: s.record.seconds })),
    };
    if (existsSync(out)) unlinkSync(out);
    writeFileAtomic(summaryFile, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(tmp, out);
    return { out, summaryFile, shape, sha256, run: first.runId, shards: count, summary };
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    lock.release();
  }
}

/** Stream one shard's data into `write`, checking its header and its SHA-256 against its summary. */
function copyShard(s: ShardRecord, buf: Uint8Array, write: (b: Uint8Array) => void): void {
  const header = npyHeader('<f4', s.shape);
  const size = statSync(s.file).size;
  const dataBytes = 4 * s.shape.reduce((a, b) => a * b, 1);
  if (size !== header.length + dataBytes)
    fail('invalid_file', s.file, `${header.length + dataBytes} bytes (shape [${s.shape.join(', ')}] float32)`, `${size} bytes`);
  const hash = createHash('sha256');
  const fd = openSync(s.file, 'r');
  try {
    const head = new Uint8Array(header.length);
    readFully(fd, head, 0);
    hash.update(head);
    if (!head.every((b, k) => b === header[k])) fail('invalid_file', s.file, `the float32 .npy header of shape [${s.shape.join(', ')}]`, 'another header');
    // Data is written as it is read; the hash is checked before the merged file is renamed into place.
    for (let pos = header.length; pos < size; ) {
      const len = Math.min(buf.length, size - pos);
      const chunk = buf.subarray(0, len);
      readFully(fd, chunk, pos);
      hash.update(chunk);
      write(chunk);
      pos += len;
    }
  } finally {
    closeSync(fd);
  }
  const got = hash.digest('hex');
  if (got !== s.sha256)
    fail(
      'invalid_file',
      s.file,
      `the array its summary describes (SHA-256 ${s.sha256.slice(0, 16)}…)`,
      `SHA-256 ${got.slice(0, 16)}… (changed since it was written)`,
    );
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let off = 0;
  while (off < into.length) {
    const r = readSync(fd, into, off, into.length - off, position + off);
    if (r === 0) fail('invalid_file', 'shard', `${into.length} bytes`, `${off} (file truncated while reading)`);
    off += r;
  }
}
