/**
 * `refineToFile`: a `refine` run streamed to disk, for runs larger than memory or longer than one
 * sitting. Writes OUT.npy and OUT.json (the summary, with the SHA-256 of OUT.npy) and, when asked,
 * a PNG. Guarantees:
 *
 * - every output location is checked before any work starts (not an input, not another output,
 *   not a file of a run folder, writable, room on the disk), and the outputs are locked for the
 *   whole run, so two runs never write one file; an earlier OUT.npy, OUT.json, PNG or
 *   OUT.npy.parts/ is refused unless `overwrite` (or `resume`, which continues the parts);
 * - each finished chunk is written atomically to OUT.npy.parts/ as soon as it is done: an
 *   interrupted run loses at most the chunk in flight, and `resume` continues it to the
 *   bit-identical result (the parts' manifest records everything that determines the output);
 * - the final unit is written in an order that never leaves an OUT.npy without its OUT.json: the
 *   array is assembled into a temporary file, the old OUT.npy is removed, OUT.json is written, and
 *   the array is renamed into place; then the parts are removed;
 * - a run that fails on the user's input (exit 2) leaves no parts of its own behind.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RefineryError, fail } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { faultPoint } from '../io/faults.js';
import { readJsonFile } from '../io/json.js';
import { type Lock, lockOutputs } from '../io/lock.js';
import { encodeNpy, npyHeader, parseNpy } from '../io/npy.js';
import { checkDiskSpace, checkEarlierOutputs, checkOutputs, type EarlierOutputs, type NamedPath } from '../io/paths.js';
import type { ModelPair } from '../models/pair.js';
import { asGraph, type Graph, type OnnxModel } from '../onnx/graph.js';
import { encodeGraph } from '../onnx/model.js';
import { Preview } from '../plot/preview.js';
import { mergeSummaries } from '../run/summary.js';
import { checkSampleSize } from '../platform/memory.js';
import { VERSION } from '../version.js';
import { checkSampleOptions, generateRows, type SampleOptions } from './sample.js';
import type { OptionSpec } from './options.js';
import { checkChunkOutput, describeOptions, prepareRefine, type RefineOptions, type RefineSummary, resolveRefine } from './refine.js';
import { generatorGraph, discriminatorGraph } from '../models/pair.js';

/** Where `refineToFile` writes, what it may not overwrite, and what it records. */
export interface RefineFileOptions {
  /** Output .npy path; the summary goes to the same name with .json. */
  out: string;
  /**
   * Continue an interrupted run of the same options from OUT.npy.parts/; a finished one (OUT.npy
   * and the OUT.json of the same run, no parts left) is returned as it is, and one of other options
   * refused. Default false.
   */
  resume?: boolean;
  /**
   * Replace an earlier result at `out` (OUT.npy, OUT.json, the PNG) and discard an interrupted
   * run's OUT.npy.parts/. Default false: a run refuses them (before any work), unless `resume`.
   */
  overwrite?: boolean;
  /** Also draw the samples (a scatter plot for 2-D samples, a grid of the first images) to this PNG. */
  png?: string;
  /** Title of the PNG. Default: the method and n. */
  pngTitle?: string;
  /** Files the caller read for this run (real data, ...), with the option that named them: never overwritten. */
  inputs?: NamedPath[];
  /** Extra provenance recorded in the summary (e.g. where the real samples came from). */
  provenance?: Record<string, unknown>;
  /** Options by which outputs are named in errors (default 'out', 'png'). */
  names?: { out?: string; png?: string };
}

/** What `refineToFile` returns: the files written and the run's summary. */
export interface RefineFileResult {
  /** The .npy file written (OUT.npy). */
  out: string;
  /** The summary file (OUT.json). */
  summaryFile: string;
  /** The PNG written, when one was asked for. */
  png?: string;
  /** Shape of the array in OUT.npy: [n, ...dataShape]. */
  shape: number[];
  /** SHA-256 of OUT.npy. */
  sha256: string;
  /** Per-run statistics, merged over the chunks. */
  summary: RefineSummary;
  /** Chunks the run was split into: ceil(n / chunkSize). */
  chunks: number;
  /** Chunks read back from OUT.npy.parts/ of an interrupted run instead of computed (0 without `resume`; all of them when `resume` found the run finished). */
  resumedChunks: number;
  /** Wall-clock time of the call, in seconds. */
  seconds: number;
  /** Everything written to OUT.json. */
  record: Record<string, unknown>;
}

/** SHA-256 of a graph's ONNX encoding. */
export function graphSha256(g: Graph): string {
  return createHash('sha256').update(encodeGraph(g)).digest('hex');
}

/** SHA-256 of a file's bytes, read in blocks. */
function fileSha256(path: string): string {
  const hash = createHash('sha256');
  const buf = new Uint8Array(1 << 24);
  const fd = openSync(path, 'r');
  try {
    for (let r = readSync(fd, buf, 0, buf.length, null); r > 0; r = readSync(fd, buf, 0, buf.length, null)) hash.update(buf.subarray(0, r));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * The summary of the finished result at `out` that `resume` finds when no parts folder is left:
 * that of the same run (run id and slice), with OUT.npy the file it describes. A result of other
 * options is refused (resuming continues a run; it does not replace another one), as is an
 * OUT.npy changed since.
 */
function finishedRecord(out: string, summaryFile: string, runId: string, shard: unknown, option: string): Record<string, unknown> {
  const record = readJsonFile(summaryFile, 'the JSON summary of a finished run (or run with --overwrite instead of --resume)') as Record<string, unknown>;
  const previous = (record.run as { id?: unknown } | undefined)?.id;
  if (previous !== runId || JSON.stringify(record.shard ?? null) !== JSON.stringify(shard)) {
    throw new RefineryError('invalid_argument', [
      {
        path: 'resume',
        expected: `the options of the finished run in ${summaryFile} (run ${String(previous).slice(0, 12)}, shard ${JSON.stringify(record.shard ?? null)}; overwrite replaces it)`,
        received: `run ${runId.slice(0, 12)}, shard ${JSON.stringify(shard)}`,
      },
    ]);
  }
  const sha = fileSha256(out);
  if (sha !== record.sha256)
    fail(
      'invalid_file',
      option,
      `the array its summary ${summaryFile} describes (SHA-256 ${String(record.sha256).slice(0, 16)}…; overwrite computes it again)`,
      `SHA-256 ${sha.slice(0, 16)}…`,
    );
  return record;
}

/** SHA-256 of an array's bytes. */
function arraySha256(a: Float32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');
}

interface Manifest {
  identity: string;
}

function readManifest(path: string): Manifest {
  const m = readJsonFile(path, 'the JSON manifest of an interrupted run (or run with --overwrite instead of --resume to start afresh)');
  if (typeof m !== 'object' || m === null || typeof (m as Manifest).identity !== 'string') {
    fail(
      'invalid_file',
      path,
      'a manifest { identity } of an interrupted run (or run with --overwrite instead of --resume to start afresh)',
      JSON.stringify(m).slice(0, 80),
    );
  }
  return m as Manifest;
}

/** A finished chunk read back from the parts folder, or undefined when it is missing or unreadable (then it is recomputed). */
function readChunk(
  partPath: string,
  infoPath: string,
  rows: number,
  rowSize: number,
): { samples: Float32Array; info: { rows: number; shape: number[]; summary: Record<string, unknown> } } | undefined {
  if (!existsSync(partPath) || !existsSync(infoPath)) return undefined;
  try {
    const info = JSON.parse(readFileSync(infoPath, 'utf8'));
    const arr = parseNpy(readFileSync(partPath), partPath);
    if (!(arr.data instanceof Float32Array) || arr.data.length !== rows * rowSize || info.rows !== rows) return undefined;
    return { samples: arr.data, info };
  } catch {
    return undefined;
  }
}

/** Remove temporary files of writers that died (`name.tmp-*`) in `dir`. Only called under the output lock. */
function removeStaleTemps(dir: string, names: string[]): void {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) if (names.some((n) => f.startsWith(`${n}.tmp-`))) rmSync(join(dir, f), { force: true });
}

/** Where a run's outputs go, what it read, and what it may do with earlier outputs there. */
interface OutputFiles extends EarlierOutputs {
  out: string;
  png?: string;
  inputs?: NamedPath[];
}

/**
 * Check a run's outputs before any work (see checkOutputs; the .npy and .png names; room for
 * `bytes` on the disk), make their folders and lock them; then refuse earlier outputs there
 * unless `file` allows them (checkEarlierOutputs; `resumable`: the run can continue its own).
 * Returns the lock.
 */
function guardOutputs(
  pair: ModelPair,
  file: OutputFiles,
  names: { out: string; png: string },
  extra: (NamedPath & { kind?: 'file' | 'folder' })[],
  bytes: number,
  how: string,
  resumable: boolean,
): Lock {
  const { out } = file;
  if (typeof out !== 'string' || !out.endsWith('.npy')) fail('invalid_argument', names.out, 'a file name ending in .npy', String(out));
  if (file.png !== undefined && !file.png.toLowerCase().endsWith('.png')) fail('invalid_argument', names.png, 'a file name ending in .png', file.png);
  const inputs: NamedPath[] = [...(file.inputs ?? [])];
  if (pair.files.generator) inputs.push({ path: pair.files.generator, option: 'generator' });
  if (pair.files.discriminator) inputs.push({ path: pair.files.discriminator, option: 'discriminator' });
  if (pair.files.meta) inputs.push({ path: pair.files.meta, option: 'meta.json' });
  const outputs = [{ path: out, option: names.out }, ...extra, ...(file.png ? [{ path: file.png, option: names.png }] : [])];
  const runDirs = [pair.files.generator, pair.files.discriminator].filter((p): p is string => !!p).map((p) => dirname(p));
  checkOutputs(outputs, inputs, runDirs);
  if (bytes > 0) checkDiskSpace(out, bytes, 'n', `the output, ${how}`);
  mkdirSync(dirname(out) || '.', { recursive: true });
  if (file.png) mkdirSync(dirname(file.png) || '.', { recursive: true });
  const lock = lockOutputs([{ path: out, option: names.out }, ...(file.png ? [{ path: file.png, option: names.png }] : [])]);
  try {
    checkEarlierOutputs(outputs, { overwrite: file.overwrite, resume: file.resume }, resumable);
  } catch (e) {
    lock.release();
    throw e;
  }
  return lock;
}

/**
 * Run `refine` streamed to `file.out` (see the module doc). The result and OUT.json hold the
 * merged summary, the options, the preparation and calibration reports and the provenance.
 */
export async function refineToFile(pair: ModelPair, options: RefineOptions, file: RefineFileOptions): Promise<RefineFileResult> {
  const t0 = performance.now();
  const names = { out: file.names?.out ?? 'out', png: file.names?.png ?? 'png' };
  const out = file.out;
  if (typeof out !== 'string' || !out.endsWith('.npy')) fail('invalid_argument', names.out, 'a file name ending in .npy', String(out));
  const summaryFile = out.replace(/\.npy$/, '.json');
  const partsDir = `${out}.parts`;
  const preview = file.png ? new Preview(pair.meta) : undefined;

  const n = (options as { n?: unknown }).n;
  const lock = guardOutputs(
    pair,
    file,
    names,
    [
      { path: summaryFile, option: `${names.out} (its summary ${basename(summaryFile)})` },
      { path: partsDir, option: `${names.out} (its parts folder ${basename(partsDir)})`, kind: 'folder' },
    ],
    typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? 2 * 4 * n * pair.meta.dataShape.reduce((a, b) => a * b, 1) : 0,
    'twice (the chunks, then the assembled file)',
    true,
  );
  let createdParts = false;
  try {
    removeStaleTemps(dirname(out), [basename(out), basename(summaryFile)]);
    removeStaleTemps(partsDir, ['manifest.json', 'chunk']);
    // What the run is; its preparation (DRE-F-SP's training, the calibration) waits until it is known to be needed.
    const head = resolveRefine(pair, options);
    const specs = head.method.options as Record<string, OptionSpec>;
    const identityOptions: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(head.options)) {
      if (v === undefined) continue;
      identityOptions[k] =
        specs[k]?.type.kind === 'model' ? `sha256:${graphSha256(asGraph(v as OnnxModel, k))}` : v === Number.POSITIVE_INFINITY ? 'Infinity' : v;
    }
    const models = {
      generator: graphSha256(generatorGraph(pair)),
      discriminator: discriminatorGraph(pair) ? graphSha256(discriminatorGraph(pair)) : null,
    };
    const realSha = head.real ? arraySha256(head.real) : null;
    const latentsSha = head.latents ? arraySha256(head.latents) : null;
    // What determines the run's rows (not how it is cut: chunk size, batch size, shards).
    const runIdentity = {
      method: head.method.id,
      options: identityOptions,
      n: head.total,
      seed: head.seed,
      calibrate: head.calibrate,
      models,
      real: realSha,
      // Start latents (refining reconstructions): a run from other latents is another run.
      ...(latentsSha ? { latents: latentsSha } : {}),
      latentPrior: pair.meta.latentPrior,
      dOutput: pair.meta.dOutput,
    };
    const runId = createHash('sha256').update(JSON.stringify(runIdentity)).digest('hex');
    const shard = head.shard ? { ...head.shard, start: head.first, end: head.first + head.n } : null;
    // What the parts folder's layout depends on too: the slice and the chunks.
    const identity = JSON.stringify({ run: runIdentity, shard, chunkSize: head.chunkSize });

    // A finished run resumed: its result is returned as it is, nothing computed again.
    if (file.resume && !existsSync(partsDir) && existsSync(out) && existsSync(summaryFile) && (!file.png || existsSync(file.png))) {
      const record = finishedRecord(out, summaryFile, runId, shard, names.out);
      const chunks = typeof record.chunks === 'number' ? record.chunks : head.chunks;
      const seconds = (performance.now() - t0) / 1000;
      return {
        out,
        summaryFile,
        png: file.png,
        shape: record.shape as number[],
        sha256: record.sha256 as string,
        summary: record.summary as RefineSummary,
        chunks,
        resumedChunks: chunks,
        seconds,
        record,
      };
    }
    const plan = await prepareRefine(head);

    const manifestPath = join(partsDir, 'manifest.json');
    if (existsSync(partsDir)) {
      if (file.resume) {
        if (existsSync(manifestPath)) {
          const previous = readManifest(manifestPath).identity;
          if (previous !== identity) {
            throw new RefineryError('invalid_argument', [
              { path: 'resume', expected: `the options of the interrupted run in ${partsDir} (${previous})`, received: identity },
            ]);
          }
        }
      } else {
        rmSync(partsDir, { recursive: true, force: true });
      }
    }
    if (!existsSync(partsDir)) {
      mkdirSync(partsDir, { recursive: true });
      createdParts = true;
    }
    writeFileAtomic(manifestPath, `${JSON.stringify({ identity })}\n`);

    const partPath = (c: number) => join(partsDir, `chunk-${String(c).padStart(6, '0')}.npy`);
    const infoPath = (c: number) => join(partsDir, `chunk-${String(c).padStart(6, '0')}.json`);
    const shape = [plan.n, ...pair.meta.dataShape];
    const summaries: { rows: number; summary: Record<string, unknown> }[] = [];
    let resumedChunks = 0;
    for (let c = 0; c < plan.chunks; c++) {
      const start = c * plan.chunkSize;
      const rows = plan.rows(c);
      const done = file.resume ? readChunk(partPath(c), infoPath(c), rows, plan.rowSize) : undefined;
      if (done) {
        summaries.push({ rows, summary: done.info.summary });
        preview?.add(done.samples, rows);
        resumedChunks++;
      } else {
        const result = await plan.runChunk(c);
        checkChunkOutput(plan, c, result);
        const summary = { ...result.summary, seconds: result.seconds };
        writeFileAtomic(partPath(c), encodeNpy({ data: result.samples, shape: [rows, ...pair.meta.dataShape] }));
        writeFileAtomic(infoPath(c), `${JSON.stringify({ rows, shape: [rows, ...pair.meta.dataShape], summary })}\n`);
        summaries.push({ rows, summary });
        preview?.add(result.samples, rows);
        faultPoint('chunk-written');
      }
      plan.onProgress?.({ stage: plan.method.id, done: start + rows, total: plan.n });
    }

    // The final unit: assemble to a temporary file, picture, then old array out, summary in, array in.
    const tmp = `${out}.tmp-${process.pid}`;
    const sha256 = assemble(tmp, shape, plan.chunks, partPath);
    faultPoint('assembled');
    if (preview && file.png) preview.write(file.png, file.pngTitle ?? `${plan.method.id}, n=${plan.n}`);
    const summary = mergeSummaries(summaries) as RefineSummary;
    const seconds = (performance.now() - t0) / 1000;
    const record: Record<string, unknown> = {
      method: plan.method.id,
      out,
      shape,
      sha256,
      seed: plan.seed,
      n: plan.n,
      run: { id: runId, n: plan.total },
      shard,
      options: describeOptions(plan.options, specs),
      summary,
      calibration: plan.calibration ?? null,
      ...Object.fromEntries(Object.entries(plan.reports)),
      chunkSize: plan.chunkSize,
      batchSize: plan.batchSize,
      chunks: plan.chunks,
      resumedChunks,
      seconds,
      provenance: {
        generator: pair.files.generator || null,
        discriminator: pair.files.discriminator || null,
        meta: pair.files.meta ?? null,
        sha256: { ...models, real: realSha, ...(latentsSha ? { latents: latentsSha } : {}) },
        latentPrior: pair.meta.latentPrior,
        dOutput: pair.meta.dOutput,
        ...file.provenance,
        refinery: VERSION,
        node: process.version,
      },
    };
    if (existsSync(out)) unlinkSync(out);
    writeFileAtomic(summaryFile, `${JSON.stringify(record, null, 2)}\n`);
    faultPoint('summary-written');
    renameSync(tmp, out);
    rmSync(partsDir, { recursive: true, force: true });
    return { out, summaryFile, png: file.png, shape, sha256, summary, chunks: plan.chunks, resumedChunks, seconds, record };
  } catch (e) {
    // A run refused for its input cannot be resumed as it is: leave none of its own parts behind.
    if (createdParts && e instanceof RefineryError && e.isUserError) rmSync(partsDir, { recursive: true, force: true });
    throw e;
  } finally {
    lock.release();
  }
}

/** Write all of `bytes` at the file position of `fd`, and feed them to `hash`. */
function writeHashed(fd: number, hash: ReturnType<typeof createHash>, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  hash.update(bytes);
}

/** Concatenate the chunk files into one float32 .npy at `tmp` (flushed to disk); returns its SHA-256. */
function assemble(tmp: string, shape: number[], chunks: number, partPath: (c: number) => string): string {
  const hash = createHash('sha256');
  const fd = openSync(tmp, 'w');
  try {
    writeHashed(fd, hash, npyHeader('<f4', shape));
    for (let c = 0; c < chunks; c++) {
      const part = parseNpy(readFileSync(partPath(c)), partPath(c));
      const data = part.data as Float32Array;
      writeHashed(fd, hash, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      faultPoint('assembling');
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  if (statSync(tmp).size === 0) fail('internal', tmp, 'an assembled array', 'an empty file');
  return hash.digest('hex');
}

/** What `sampleToFile` returns. */
export interface SampleFileResult {
  /** The .npy file written. */
  out: string;
  /** The PNG written, when one was asked for. */
  png?: string;
  /** Shape of the array written: [n, ...dataShape]. */
  shape: number[];
  /** SHA-256 of the .npy file written. */
  sha256: string;
  /** Wall-clock time of the call, in seconds. */
  seconds: number;
}

/**
 * Draw `n` generator samples (see `sample`) straight to `file.out`: streamed in batches into a
 * temporary file, then renamed into place (memory stays flat in n); outputs checked and locked
 * as in `refineToFile`.
 */
export async function sampleToFile(
  pair: ModelPair,
  options: SampleOptions,
  file: {
    out: string;
    png?: string;
    pngTitle?: string;
    /** Replace an earlier `out` (and `png`); otherwise refused. Default false. */
    overwrite?: boolean;
    names?: { out?: string; png?: string };
  },
): Promise<SampleFileResult> {
  const t0 = performance.now();
  const names = { out: file.names?.out ?? 'out', png: file.names?.png ?? 'png' };
  const o = checkSampleOptions(options);
  checkSampleSize(pair);
  const size = pair.meta.dataShape.reduce((a, b) => a * b, 1);
  const lock = guardOutputs(pair, file, names, [], 4 * o.n * size, 'once', false);
  const tmp = `${file.out}.tmp-${process.pid}`;
  const shape = [o.n, ...pair.meta.dataShape];
  const preview = file.png ? new Preview(pair.meta) : undefined;
  try {
    removeStaleTemps(dirname(file.out), [basename(file.out)]);
    const hash = createHash('sha256');
    const fd = openSync(tmp, 'w');
    try {
      writeHashed(fd, hash, npyHeader('<f4', shape));
      await generateRows(pair, { ...o, rows: o.n, signal: options.signal }, (x, _z, start, rows) => {
        writeHashed(fd, hash, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
        preview?.add(x, rows);
        options.onProgress?.({ stage: 'sample', done: start + rows, total: o.n });
      });
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (preview && file.png) preview.write(file.png, file.pngTitle ?? `generator, n=${o.n}`);
    renameSync(tmp, file.out);
    return { out: file.out, png: file.png, shape, sha256: hash.digest('hex'), seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    lock.release();
  }
}
