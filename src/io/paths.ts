/**
 * Output locations, checked before any work starts: an output never overwrites an input (after
 * resolving links), two outputs of one run never share a path, every output can be written (its
 * folder exists or can be made, is not a file, is writable; the output is not a folder; neither
 * it nor its folder is write-protected by its permission bits, even for root), and the disk has
 * room for what the run will write; and, once the outputs are locked, that none holds an earlier
 * result the run was not told to replace or continue (checkEarlierOutputs).
 */
import { accessSync, constants, existsSync, lstatSync, readdirSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { RefineryError, type Issue } from '../errors.js';
import { formatBytes } from '../platform/memory.js';

/** A file path and the option (or role) it came from, for error messages. */
export interface NamedPath {
  /** The file path as given. */
  path: string;
  /** The option (or role) that named it, e.g. 'out' or 'generator'. */
  option: string;
}

/** The absolute path with every link resolved; for a path that does not exist yet, its existing ancestor is resolved. */
export function canonicalPath(p: string): string {
  const abs = resolve(p);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = dirname(abs);
  if (parent === abs) return abs;
  return join(canonicalPath(parent), basename(abs));
}

/** The nearest ancestor of `p` (or `p` itself) that exists. */
function existingAncestor(p: string): string {
  let cur = resolve(p);
  while (!existsSync(cur)) {
    const up = dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  return cur;
}

/** Files of a run folder written by `refinery train`: never an output of another command. */
export const RUN_FILES = ['generator.onnx', 'discriminator.onnx', 'meta.json', 'checkpoint'];

/**
 * Whether nobody may write `p` by its permission bits (e.g. 0444, 0555). Root may write it all
 * the same (its access check passes), and would silently replace a file that its owner protected
 * (a shared fixture, a published result): Refinery refuses, as `rm` asks first.
 */
function writeProtected(p: string): boolean {
  return (statSync(p).mode & 0o222) === 0;
}

/** The permission bits of `p` in octal, e.g. '444'. */
function mode(p: string): string {
  return (statSync(p).mode & 0o777).toString(8);
}

/** What is wrong with writing a file at `p`, or undefined. `kind` says what `p` is for ('file' or 'folder'). */
export function writableIssue(out: NamedPath, kind: 'file' | 'folder' = 'file'): Issue | undefined {
  const abs = resolve(out.path);
  const issue = (expected: string, received: string): Issue => ({ path: out.option, expected, received });
  if (existsSync(abs)) {
    const st = lstatSync(abs);
    if (kind === 'file' && statSync(abs).isDirectory()) return issue('a file path (not an existing folder)', `the folder ${out.path}`);
    if (kind === 'folder' && !statSync(abs).isDirectory()) return issue('a folder path (not an existing file)', `the file ${out.path}`);
    if (st.isSymbolicLink() || st.isFile() || st.isDirectory()) {
      try {
        accessSync(abs, constants.W_OK);
      } catch {
        return issue('a writable location', `${out.path} is read-only`);
      }
      if (writeProtected(abs)) return issue('a writable location', `${out.path} is write-protected (mode ${mode(abs)})`);
    }
  }
  const ancestor = existingAncestor(dirname(abs));
  if (!statSync(ancestor).isDirectory()) return issue('a path inside a folder', `${out.path}: ${ancestor} is a file`);
  try {
    accessSync(ancestor, constants.W_OK | constants.X_OK);
  } catch {
    return issue('a location in a writable folder', `${out.path}: the folder ${ancestor} is not writable`);
  }
  if (writeProtected(ancestor))
    return issue('a location in a writable folder', `${out.path}: the folder ${ancestor} is write-protected (mode ${mode(ancestor)})`);
  return undefined;
}

/**
 * Check the outputs of a run against its inputs and each other, and that each can be written.
 * `protectedDirs`: run folders whose own files (RUN_FILES) must not be written. All problems are
 * reported at once (RefineryError invalid_argument naming each output's option).
 */
export function checkOutputs(outputs: (NamedPath & { kind?: 'file' | 'folder' })[], inputs: NamedPath[], protectedDirs: string[] = []): void {
  const issues: Issue[] = [];
  const seen = new Map<string, NamedPath>();
  for (const i of inputs) seen.set(canonicalPath(i.path), i);
  const guarded = protectedDirs.map((d) => canonicalPath(d));
  for (const o of outputs) {
    const c = canonicalPath(o.path);
    const clash = seen.get(c);
    if (clash) {
      issues.push({
        path: o.option,
        expected: `a path that is not ${inputs.includes(clash) ? 'an input' : 'another output'} of this run`,
        received: `${o.path}, the same file as ${clash.option} ${clash.path}`,
      });
      continue;
    }
    const dir = dirname(c);
    const name = basename(c);
    if (guarded.includes(dir) && RUN_FILES.some((f) => name === f || name.startsWith(`${f}.`) || name.startsWith(`${f}-`))) {
      issues.push({
        path: o.option,
        expected: "a path outside the run folder's own files (generator.onnx, discriminator.onnx, meta.json, checkpoint*)",
        received: o.path,
      });
      continue;
    }
    seen.set(c, o);
    const w = writableIssue(o, o.kind);
    if (w) issues.push(w);
  }
  if (issues.length > 0) throw new RefineryError('invalid_argument', issues);
}

/** Free bytes on the file system that holds `p` (or its nearest existing ancestor); undefined when unknown. */
export function freeDiskBytes(p: string): number | undefined {
  try {
    const s = statfsSync(existingAncestor(dirname(resolve(p))));
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}

/** Refuse a run that would write more than the disk holds. */
export function checkDiskSpace(p: string, bytes: number, option: string, what: string): void {
  const free = freeDiskBytes(p);
  if (free !== undefined && bytes > free) {
    throw new RefineryError('invalid_argument', [
      { path: option, expected: `an output that fits on the disk of ${p} (${formatBytes(free)} free)`, received: `${what}: ${formatBytes(bytes)}` },
    ]);
  }
}

/**
 * What a run does with what an earlier run left at its outputs: refuse it (the default), replace
 * it (`overwrite`), or, where the writer can, continue the run that left it (`resume`).
 */
export interface EarlierOutputs {
  /** Replace an earlier output (and discard an interrupted run's work). Default false. */
  overwrite?: boolean;
  /** Continue the interrupted run that wrote the outputs. Default false. */
  resume?: boolean;
}

/**
 * Refuse outputs that already hold something (a file, or a folder with entries other than hidden
 * ones) unless `policy` allows it: `overwrite`, or `resume` where the writer can continue
 * (`resumable`). A name used twice thus never replaces a computed result or discards an
 * interrupted run's work unasked. Something of the other kind in an output's place (a folder
 * where a file goes) is left to checkOutputs. All are reported at once, naming each option.
 */
export function checkEarlierOutputs(outputs: (NamedPath & { kind?: 'file' | 'folder' })[], policy: EarlierOutputs, resumable: boolean): void {
  if (policy.overwrite && policy.resume && resumable)
    throw new RefineryError('invalid_argument', [{ path: 'overwrite', expected: 'either resume or overwrite', received: 'both' }]);
  if (policy.overwrite || (resumable && policy.resume)) return;
  const issues: Issue[] = [];
  for (const o of outputs) {
    if (!existsSync(o.path)) continue;
    const folder = statSync(o.path).isDirectory();
    if (folder !== (o.kind === 'folder')) continue;
    let received = `${o.path} exists`;
    if (folder) {
      const entries = readdirSync(o.path).filter((e) => !e.startsWith('.'));
      if (entries.length === 0) continue;
      const shown = entries.sort().slice(0, 6).join(', ');
      received = `the folder ${o.path} holds ${shown}${entries.length > 6 ? `, … (${entries.length} entries)` : ''}`;
    }
    const how = resumable ? 'overwrite (--overwrite) replaces it, resume (--resume) continues the run that wrote it' : 'overwrite (--overwrite) replaces it';
    issues.push({ path: o.option, expected: `a path that holds no earlier output (${how})`, received });
  }
  if (issues.length > 0) throw new RefineryError('invalid_argument', issues);
}
