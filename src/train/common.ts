/**
 * The file side of the GAN trainers: the run folder (locked while a trainer writes it), the
 * exported networks, and checkpoints that resume to the bit-identical result. The loop itself,
 * which runs anywhere, is loop.ts (re-exported here). A trainer supplies its networks as
 * `GanNets` (see mlpgan.ts for MLPs on R^2 and dcgan.ts for convolutional networks on images).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RefineryError, fail } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { faultPoint } from '../io/faults.js';
import { readJsonFile } from '../io/json.js';
import { lockOutput } from '../io/lock.js';
import { checkEarlierOutputs, checkOutputs, type EarlierOutputs } from '../io/paths.js';
import { encodeNpy, parseNpy } from '../io/npy.js';
import { encodeGraph } from '../onnx/model.js';
import { generatorGraph, type ModelPair } from '../models/pair.js';
import { type CheckpointStore, exportNet, type GanNets, type TrainState } from './loop.js';

export * from './loop.js';

/**
 * Run `f` holding the lock of the run folder `out` (checked first: a folder that can be written),
 * so that two trainings never write one run folder; a folder holding an earlier run is refused
 * unless `earlier` allows it (`resume` where the trainer can continue it: `resumable`).
 */
export async function withRunFolder<T>(out: string, earlier: EarlierOutputs, resumable: boolean, f: () => Promise<T>): Promise<T> {
  checkOutputs([{ path: out, option: 'out', kind: 'folder' }], []);
  mkdirSync(out, { recursive: true });
  const lock = lockOutput(out, 'out');
  try {
    checkEarlierOutputs([{ path: out, option: 'out', kind: 'folder' }], earlier, resumable);
    return await f();
  } finally {
    lock.release();
  }
}

/** Write generator.onnx (z -> x) and discriminator.onnx (x -> logit) into `dir`. */
export function writeNets(dir: string, n: GanNets, gValues: Float32Array[], dValues: Float32Array[]): void {
  writeFileAtomic(join(dir, 'generator.onnx'), encodeGraph(exportNet('generator', n.gParams, gValues, 'z', [n.latentDim], 'x', n.generator)));
  writeFileAtomic(join(dir, 'discriminator.onnx'), encodeGraph(exportNet('discriminator', n.dParams, dValues, 'x', n.dataShape, 'logit', n.discriminator)));
}

const CHECKPOINT_VERSION = 2;

/** The checkpoint's manifest; the arrays it names sit beside it. */
interface CheckpointManifest {
  version: number;
  step: number;
  adamStep: [number, number];
  losses?: [number | null, number | null];
  options: Record<string, unknown>;
  /** Version 2: the array files, by role, and the SHA-256 of each. */
  files?: { state: string; spectral: string };
  sha256?: { state: string; spectral: string };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Write a checkpoint as one atomic unit. The arrays go to files named by their content
 * (checkpoint-state-<hash>.npy: float32 G values, D values, Adam m and v of G and of D, the
 * spectral u vectors rounded; checkpoint-spectral-<hash>.npy: the u vectors exactly, float64),
 * each written and flushed; then checkpoint.json, the manifest naming them with their SHA-256,
 * the step, Adam step counts, last losses and options, replaces the previous manifest in one
 * rename. A kill at any moment leaves the previous checkpoint or the new one, never a mixture;
 * arrays no manifest names are removed afterwards.
 */
export function saveCheckpoint(dir: string, s: TrainState, options: Record<string, unknown>): void {
  const parts: Float32Array[] = [...s.gValues, ...s.dValues, ...s.gAdam.m, ...s.gAdam.v, ...s.dAdam.m, ...s.dAdam.v];
  for (const sp of s.spectral) parts.push(Float32Array.from(sp.u));
  const total = parts.reduce((a, p) => a + p.length, 0);
  const flat = new Float32Array(total);
  let off = 0;
  for (const p of parts) {
    flat.set(p, off);
    off += p.length;
  }
  const u64 = new Float64Array(s.spectral.reduce((a, sp) => a + sp.u.length, 0));
  let k = 0;
  for (const sp of s.spectral) {
    u64.set(sp.u, k);
    k += sp.u.length;
  }
  const stateBytes = encodeNpy({ data: flat, shape: [total] });
  const spectralBytes = encodeNpy({ data: u64, shape: [u64.length] });
  const hashes = { state: sha256(stateBytes), spectral: sha256(spectralBytes) };
  const files = { state: `checkpoint-state-${hashes.state.slice(0, 16)}.npy`, spectral: `checkpoint-spectral-${hashes.spectral.slice(0, 16)}.npy` };
  writeFileAtomic(join(dir, files.state), stateBytes);
  writeFileAtomic(join(dir, files.spectral), spectralBytes);
  faultPoint('checkpoint-arrays-written');
  const manifest: CheckpointManifest = {
    version: CHECKPOINT_VERSION,
    step: s.step,
    adamStep: [s.gAdam.step, s.dAdam.step],
    losses: [s.lossD, s.lossG],
    options,
    files,
    sha256: hashes,
  };
  writeFileAtomic(join(dir, 'checkpoint.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  faultPoint('checkpoint-manifest-written');
  removeStaleCheckpointArrays(dir, files);
}

/** Remove array files of older checkpoints (and of the version-1 layout) that the manifest no longer names. */
function removeStaleCheckpointArrays(dir: string, keep: { state: string; spectral: string }): void {
  for (const f of readdirSync(dir)) {
    const old =
      /^checkpoint-(state|spectral)-[0-9a-f]+\.npy$/.test(f) || f === 'checkpoint.npy' || f === 'checkpoint-spectral.npy' || /^checkpoint.*\.tmp-/.test(f);
    if (old && f !== keep.state && f !== keep.spectral) rmSync(join(dir, f), { force: true });
  }
}

/** Read an array file of a checkpoint and verify it against the manifest's hash. */
function readCheckpointArray(dir: string, file: string, hash: string | undefined, manifestPath: string): ReturnType<typeof parseNpy>['data'] {
  const p = join(dir, file);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(p);
  } catch {
    return fail(
      'invalid_file',
      p,
      `the array named by ${manifestPath}`,
      'a missing file (the checkpoint is incomplete: rerun with --overwrite instead of --resume)',
    );
  }
  if (hash !== undefined && sha256(bytes) !== hash) {
    fail(
      'invalid_file',
      p,
      `the content recorded in ${manifestPath} (sha256 ${hash.slice(0, 16)}...)`,
      `other content (sha256 ${sha256(bytes).slice(0, 16)}...): the checkpoint is corrupt; rerun with --overwrite instead of --resume`,
    );
  }
  return parseNpy(bytes, p).data;
}

/**
 * Restore `s` from the checkpoint in `dir` when there is one (returns false when there is none).
 * The arrays are verified against the manifest's hashes; options that differ from the
 * checkpoint's are refused, naming the option; a checkpoint whose sizes do not fit the networks
 * is refused as an invalid file.
 */
export function loadCheckpoint(dir: string, s: TrainState, options: Record<string, unknown>): boolean {
  const jsonPath = join(dir, 'checkpoint.json');
  if (!existsSync(jsonPath)) return false;
  const info = readJsonFile(jsonPath, 'a JSON checkpoint written by `refinery train`') as CheckpointManifest;
  if (info.version !== CHECKPOINT_VERSION) {
    fail(
      'invalid_file',
      jsonPath,
      `checkpoint version ${CHECKPOINT_VERSION} (version 1 could mix two steps after a kill; rerun with --overwrite instead of --resume)`,
      String(info.version),
    );
  }
  if (!info.files || !info.sha256) fail('invalid_file', jsonPath, 'a manifest naming the checkpoint arrays and their hashes', 'none');
  // Both ways: an option the checkpoint has and this run lacks (e.g. a prior other than normal) differs too.
  for (const k of new Set([...Object.keys(options), ...Object.keys(info.options ?? {})])) {
    const v = options[k];
    if (JSON.stringify(info.options?.[k]) !== JSON.stringify(v)) {
      throw new RefineryError('invalid_argument', [
        {
          path: k,
          expected: `the value of the checkpoint being resumed (${JSON.stringify(info.options?.[k])})`,
          received: v === undefined ? 'absent (the default)' : JSON.stringify(v),
        },
      ]);
    }
  }
  const npyPath = join(dir, info.files.state);
  const spPath = join(dir, info.files.spectral);
  const flat = readCheckpointArray(dir, info.files.state, info.sha256.state, jsonPath);
  const u64 = readCheckpointArray(dir, info.files.spectral, info.sha256.spectral, jsonPath);
  const arrays = [...s.gValues, ...s.dValues, ...s.gAdam.m, ...s.gAdam.v, ...s.dAdam.m, ...s.dAdam.v];
  const need = arrays.reduce((a, p) => a + p.length, 0) + s.spectral.reduce((a, sp) => a + sp.u.length, 0);
  const needU = s.spectral.reduce((a, sp) => a + sp.u.length, 0);
  if (!(flat instanceof Float32Array) || flat.length !== need)
    fail('invalid_file', npyPath, `${need} float32 values for these networks`, `${flat.length} values`);
  if (!(u64 instanceof Float64Array) || u64.length !== needU) fail('invalid_file', spPath, `${needU} float64 values`, `${u64.length} values`);
  let off = 0;
  for (const arr of arrays) {
    arr.set(flat.subarray(off, off + arr.length));
    off += arr.length;
  }
  let k = 0;
  for (const sp of s.spectral) {
    sp.u.set(u64.subarray(k, k + sp.u.length));
    k += sp.u.length;
  }
  s.step = info.step;
  [s.gAdam.step, s.dAdam.step] = info.adamStep;
  // JSON writes NaN as null.
  s.lossD = info.losses?.[0] ?? NaN;
  s.lossG = info.losses?.[1] ?? NaN;
  return true;
}

/** Checkpoints in the run folder `dir` (saveCheckpoint / loadCheckpoint). */
export function folderStore(dir: string): CheckpointStore {
  return { load: (s, options) => loadCheckpoint(dir, s, options), save: (s, options) => saveCheckpoint(dir, s, options) };
}

/** The bytes a run folder's generator.onnx gets: the file the generator came from, as it is, or the in-memory model encoded. */
export function generatorBytes(pair: Pick<ModelPair, 'generator' | 'files'>): Uint8Array {
  const file = pair.files.generator;
  return file !== '' && existsSync(file) ? readFileSync(file) : encodeGraph(generatorGraph(pair));
}
