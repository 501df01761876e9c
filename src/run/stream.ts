/**
 * Streaming runs: a method runner applied to N samples in chunks, each chunk's samples written
 * atomically to `<out>.parts/` as soon as it is done, so memory stays flat in N, an interrupted
 * run loses at most the chunk in flight, and `resume` continues to the bit-identical result.
 * The final .npy is assembled from the parts (streamed, then renamed into place) and the parts
 * are removed.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RefineryError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { encodeNpy, npyHeader, parseNpy } from '../io/npy.js';
import { Rng } from '../rng.js';
import type { MethodRunner, RefineOutput, RunContext } from './types.js';

export interface StreamOptions {
  /** Output .npy path. */
  out: string;
  /** Samples per chunk (each chunk is one runner call with its own seed). */
  chunkSize: number;
  /** Continue from `<out>.parts/` when it holds a run with the same identity. */
  resume: boolean;
  /** Everything that determines the result (method, options, seed, models): checked on resume. */
  identity: Record<string, unknown>;
  /** Called with each chunk's samples as it is done or read back on resume (e.g. to keep a preview). */
  onChunk?: (c: number, samples: Float32Array, shape: number[]) => void;
}

export interface StreamResult {
  out: string;
  n: number;
  shape: number[];
  chunks: number;
  resumedChunks: number;
  summary: Record<string, unknown>;
  seconds: number;
}

/** The seed of chunk c: a 31-bit integer drawn from Rng(seed, CHUNK_STREAM, c). */
export function chunkSeed(seed: number, c: number): number {
  return new Rng(seed, 0x636b, c).int(0x7fffffff);
}

/** Fields of per-chunk summaries that add up over chunks (the rest are averaged, weighted by rows). */
const SUMMED = new Set(['nonFinite', 'proposals', 'accepted', 'restarts', 'rejected', 'clipped', 'seconds']);

export function mergeSummaries(parts: { rows: number; summary: Record<string, unknown> }[]): Record<string, unknown> {
  const total = parts.reduce((a, p) => a + p.rows, 0);
  const merged: Record<string, unknown> = {};
  for (const { rows, summary } of parts) {
    for (const [k, v] of Object.entries(summary)) {
      if (typeof v === 'number') merged[k] = ((merged[k] as number | undefined) ?? 0) + (SUMMED.has(k) ? v : (v * rows) / total);
      else if (!(k in merged)) merged[k] = v;
    }
  }
  return merged;
}

export async function runStreamed<O>(runner: MethodRunner<O>, ctx: RunContext, options: O, s: StreamOptions): Promise<StreamResult> {
  const t0 = performance.now();
  const partsDir = `${s.out}.parts`;
  const manifestPath = join(partsDir, 'manifest.json');
  const identity = JSON.stringify({ ...s.identity, n: ctx.n, seed: ctx.seed, chunkSize: s.chunkSize, batchSize: ctx.batchSize });
  mkdirSync(dirname(s.out) || '.', { recursive: true });
  if (existsSync(partsDir)) {
    const previous = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as { identity: string }).identity : undefined;
    if (s.resume && previous !== undefined && previous !== identity) {
      throw new RefineryError('invalid_argument', [
        { path: '--resume', expected: `the options of the interrupted run in ${partsDir} (${previous})`, received: identity },
      ]);
    }
    if (!s.resume) rmSync(partsDir, { recursive: true, force: true });
  }
  mkdirSync(partsDir, { recursive: true });
  writeFileAtomic(manifestPath, JSON.stringify({ identity }) + '\n');

  const chunks = Math.ceil(ctx.n / s.chunkSize);
  const partPath = (c: number) => join(partsDir, `chunk-${String(c).padStart(6, '0')}.npy`);
  const infoPath = (c: number) => join(partsDir, `chunk-${String(c).padStart(6, '0')}.json`);
  const summaries: { rows: number; summary: Record<string, unknown> }[] = [];
  let shape: number[] | undefined;
  let resumedChunks = 0;
  for (let c = 0; c < chunks; c++) {
    const start = c * s.chunkSize;
    const rows = Math.min(s.chunkSize, ctx.n - start);
    if (existsSync(infoPath(c)) && existsSync(partPath(c))) {
      const info = JSON.parse(readFileSync(infoPath(c), 'utf8')) as { rows: number; shape: number[]; summary: Record<string, unknown> };
      summaries.push({ rows: info.rows, summary: info.summary });
      shape = info.shape;
      resumedChunks++;
      if (s.onChunk) s.onChunk(c, parseNpy(readFileSync(partPath(c)), partPath(c)).data as Float32Array, info.shape);
      ctx.hooks?.onProgress?.(start + rows, ctx.n);
      continue;
    }
    const out: RefineOutput = await runner(
      {
        ...ctx,
        n: rows,
        seed: chunkSeed(ctx.seed, c),
        batchSize: Math.min(ctx.batchSize, rows),
        hooks: { ...ctx.hooks, onProgress: (done, total) => ctx.hooks?.onProgress?.(start + (done / total) * rows, ctx.n) },
      },
      options,
    );
    const rowSize = out.samples.length / rows;
    shape = [rows, ...(ctx.pair.meta.dataShape.reduce((a, b) => a * b, 1) === rowSize ? ctx.pair.meta.dataShape : [rowSize])];
    writeFileAtomic(partPath(c), encodeNpy(out.samples, shape));
    const summary = { ...out.summary, seconds: out.seconds };
    writeFileAtomic(infoPath(c), JSON.stringify({ rows, shape, summary }) + '\n');
    summaries.push({ rows, summary });
    s.onChunk?.(c, out.samples, shape);
    ctx.hooks?.onProgress?.(start + rows, ctx.n);
  }
  const finalShape = [ctx.n, ...(shape ?? []).slice(1)];
  assemble(s.out, finalShape, chunks, partPath);
  rmSync(partsDir, { recursive: true, force: true });
  return { out: s.out, n: ctx.n, shape: finalShape, chunks, resumedChunks, summary: mergeSummaries(summaries), seconds: (performance.now() - t0) / 1000 };
}

/** Concatenate the chunk files into one float32 .npy: written to a temporary file, then renamed. */
function assemble(out: string, shape: number[], chunks: number, partPath: (c: number) => string): void {
  const tmp = `${out}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, npyHeader('<f4', shape));
    for (let c = 0; c < chunks; c++) {
      const part = parseNpy(readFileSync(partPath(c)), partPath(c));
      const data = part.data as Float32Array;
      writeSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, out);
}
