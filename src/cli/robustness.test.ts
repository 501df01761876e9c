/**
 * Nothing lost, nothing corrupted, no crash: the audit of files, resume and bad input, kept as a
 * test suite. Each case runs the real CLI: outputs that would overwrite inputs, concurrent runs,
 * kills (SIGKILL at named points, and Ctrl-C) followed by --resume compared byte for byte with an
 * uninterrupted run, unusable output locations, sizes that cannot fit, corrupt resume state,
 * leftovers, and messages that name the option the user gave.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { lockOutputs } from '../io/lock.js';
import { readNpy, writeNpy } from '../io/npyfile.js';
import { Graph, int } from '../onnx/graph.js';
import { encodeGraph } from '../onnx/model.js';
import { Rng } from '../rng.js';
import { fixturesDir, repoRoot } from '../testing/fixtures.js';

const main = join(repoRoot, 'dist', 'cli', 'main.js');
const root = mkdtempSync(join(tmpdir(), 'refinery-robust-'));
chmodSync(root, 0o755);
after(() => rmSync(root, { recursive: true, force: true }));

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], extraEnv: Record<string, string> = {}, user?: { uid: number; gid: number }): Result {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env, REFINERY_THREADS: '1', ...extraEnv }, ...user });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 2 with one message in Refinery's format naming `option`, nothing on stdout. */
function refused(r: Result, option: string, ...words: string[]): void {
  assert.equal(r.code, 2, `exit ${r.code} (signal ${r.signal})\n${r.stderr}`);
  // One format: refinery: <code>: <option ...>: expected ..., received ...
  assert.ok(new RegExp(`^refinery: [a-z_]+: ${option.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`).test(r.stderr), `stderr names ${option} first:\n${r.stderr}`);
  for (const w of words) assert.ok(r.stderr.includes(w), `stderr lacks ${JSON.stringify(w)}:\n${r.stderr}`);
  assert.equal(r.stdout, '');
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const p = (...parts: string[]) => join(root, ...parts);
const fx = () => join(fixturesDir(), 'mlp2d');
const TRAIN = ['--steps', '40', '--finetune-d', '10', '--hidden', '16', '--layers', '1', '--batch-size', '32', '--checkpoint-every', '10', '--quiet'];
const RUN = p('run');
let real = '';

before(() => {
  const t = cli(['train', '--out', RUN, ...TRAIN]);
  assert.equal(t.code, 0, t.stderr);
  real = p('real.npy');
  writeNpy(real, { data: new Rng(1).fillNormal(new Float32Array(200 * 2)), shape: [200, 2] });
});

// ---------------------------------------------------------------------------------------------
// Outputs never overwrite inputs

test('an output that is an input, another output or a file of the run folder is refused, and the input is untouched', () => {
  const before = { real: sha(real), meta: sha(join(RUN, 'meta.json')), g: sha(join(RUN, 'generator.onnx')) };
  const refine = (...a: string[]) => cli(['refine', '--run', RUN, '--method', 'mh', '--n', '20', '--chain-length', '2', '--quiet', ...a]);
  refused(refine('--real', real, '--out', real), '--out', 'an input', '--real');
  refused(refine('--out', join(RUN, 'meta.npy')), '--out', 'meta.json');
  refused(refine('--out', p('a.npy'), '--png', join(RUN, 'generator.onnx')), '--png', '.png');
  refused(refine('--out', p('a.npy'), '--png', join(RUN, 'checkpoint.png')), '--png', "run folder's own files");
  refused(refine('--out', p('same.npy'), '--png', p('same.npy')), '--png', '.png');
  // Through a symbolic link: the same file, after resolving links.
  const link = p('link.npy');
  symlinkSync(real, link);
  refused(refine('--real', real, '--out', link), '--out', 'an input');
  refused(cli(['sample', '--run', RUN, '--out', join(RUN, 'generator.onnx')]), '--out', '.npy');
  refused(cli(['sample', '--run', RUN, '--out', p('s.txt')]), '--out', '.npy');
  refused(cli(['eval', '--dataset', 'grid25', '--fake', real, '--curves-png', real]), '--curves-png', '.png');
  const png = p('curves.png');
  symlinkSync(real, png);
  refused(cli(['eval', '--dataset', 'grid25', '--fake', real, '--metrics', 'prd', '--curves-png', png]), '--curves-png', 'an input');
  assert.deepEqual({ real: sha(real), meta: sha(join(RUN, 'meta.json')), g: sha(join(RUN, 'generator.onnx')) }, before);
  assert.ok(!existsSync(p('a.npy')) && !existsSync(p('a.json')) && !existsSync(join(RUN, 'meta.npy')));
});

test('an earlier result is never replaced unasked: each command refuses it (exit 2) and leaves it as it was; --overwrite replaces it, --resume continues', () => {
  // refine: OUT.npy and its summary; then --overwrite replaces both.
  const refineArgs = ['refine', '--run', RUN, '--method', 'sir', '--n', '40', '--quiet'];
  const out = p('earlier.npy');
  assert.equal(cli([...refineArgs, '--out', out]).code, 0);
  const kept = { npy: sha(out), json: sha(p('earlier.json')) };
  refused(cli([...refineArgs, '--seed', '1', '--out', out]), '--out', `${out} exists`, '--overwrite');
  assert.deepEqual({ npy: sha(out), json: sha(p('earlier.json')) }, kept);
  // The summary alone (an OUT.npy removed by hand) and a --png are results too.
  const png = p('earlier-plot.png');
  writeFileSync(png, 'a picture');
  refused(cli([...refineArgs, '--out', p('fresh.npy'), '--png', png]), '--png', 'exists');
  assert.equal(readFileSync(png, 'utf8'), 'a picture');
  assert.ok(!existsSync(p('fresh.npy')) && !existsSync(p('fresh.npy.parts')), 'nothing written by the refused run');
  refused(cli([...refineArgs, '--out', out, '--resume', '--overwrite']), '--overwrite', 'either');
  assert.equal(cli([...refineArgs, '--seed', '1', '--out', out, '--overwrite']).code, 0);
  assert.notEqual(sha(out), kept.npy);
  assert.equal(JSON.parse(readFileSync(p('earlier.json'), 'utf8')).seed, 1);
  // --resume of the finished run returns it as it is (not written again); of other options, or of an
  // OUT.npy changed since its summary, it is refused and the files are kept.
  const finished = { sha: sha(out), mtime: statSync(out).mtimeMs, json: sha(p('earlier.json')) };
  const again = cli([...refineArgs, '--seed', '1', '--out', out, '--resume', '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).sha256, finished.sha);
  assert.deepEqual({ sha: sha(out), mtime: statSync(out).mtimeMs, json: sha(p('earlier.json')) }, finished);
  refused(cli([...refineArgs, '--seed', '2', '--out', out, '--resume']), '--resume', 'the options of the finished run');
  const changed = readFileSync(out);
  changed[changed.length - 1] ^= 1;
  writeFileSync(out, changed);
  refused(cli([...refineArgs, '--seed', '1', '--out', out, '--resume']), '--out', 'SHA-256');
  assert.equal(cli([...refineArgs, '--seed', '1', '--out', out, '--overwrite']).code, 0);
  assert.equal(sha(out), finished.sha);
  // train: a finished run folder (the suite's own) is refused, byte for byte kept; --resume
  // continues it (already at its last step: the same networks); --overwrite trains afresh.
  const files = ['generator.onnx', 'discriminator.onnx', 'meta.json'];
  const run = Object.fromEntries(files.map((f) => [f, sha(join(RUN, f))]));
  refused(cli(['train', '--out', RUN, ...TRAIN, '--seed', '3']), '--out', 'meta.json', '--resume');
  assert.deepEqual(Object.fromEntries(files.map((f) => [f, sha(join(RUN, f))])), run);
  const copy = p('run-copy');
  assert.equal(cli(['train', '--out', copy, ...TRAIN]).code, 0);
  assert.equal(cli(['train', '--out', copy, ...TRAIN, '--resume']).code, 0);
  for (const f of ['generator.onnx', 'discriminator.onnx']) assert.equal(sha(join(copy, f)), run[f], f);
  assert.equal(cli(['train', '--out', copy, ...TRAIN, '--seed', '3', '--overwrite']).code, 0);
  assert.notEqual(sha(join(copy, 'generator.onnx')), run['generator.onnx']);
  // An empty folder is no earlier output.
  mkdirSync(p('empty-run'));
  assert.equal(cli(['train', '--out', p('empty-run'), ...TRAIN]).code, 0);
  // sample, eval's saved statistics and the demo refuse an existing output before any work.
  refused(cli(['sample', '--run', RUN, '--n', '10', '--out', out]), '--out', 'exists');
  assert.equal(cli(['sample', '--run', RUN, '--n', '10', '--out', out, '--overwrite']).code, 0);
  const stats = p('stats.npz');
  writeFileSync(stats, 'earlier statistics');
  refused(cli(['eval', '--dataset', 'grid25', '--fake', real, '--save-stats', stats]), '--save-stats', 'exists');
  assert.equal(readFileSync(stats, 'utf8'), 'earlier statistics');
  // eval's outputs are locked too: a second writer of the same statistics is refused, naming the holder.
  const held = lockOutputs([{ path: p('held.npz'), option: 'test' }]);
  try {
    refused(cli(['eval', '--dataset', 'grid25', '--fake', real, '--save-stats', p('held.npz')]), '--save-stats', 'locked by pid', String(process.pid));
  } finally {
    held.release();
  }
  assert.equal(cli(['eval', '--dataset', 'grid25', '--fake', real, '--save-stats', p('held.npz'), '--quiet']).code, 0);
  assert.ok(existsSync(p('held.npz')) && !existsSync(p('held.npz.lock')));
  refused(cli(['demo', '--out', copy, '--quiet']), '--out', 'generator.onnx', '--overwrite');
  assert.ok(!existsSync(join(copy, 'run')), 'the refused demo wrote nothing');
});

test('two runs never write one file: a second run on a locked output is refused naming the holder; a dead holder is no obstacle', async () => {
  const out = p('locked.npy');
  const args = ['refine', '--generator', join(fx(), 'generator.onnx'), '--discriminator', join(fx(), 'discriminator.onnx'), '--method', 'ddls', '--n', '3000'];
  const a = spawn(process.execPath, [main, ...args, '--num-steps', '4000', '--chunk-size', '500', '--seed', '1', '--out', out, '--quiet'], {
    env: { ...process.env, REFINERY_THREADS: '1' },
  });
  const exited = new Promise<number | null>((resolve) => a.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 200 && !existsSync(`${out}.lock-holder.json`); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(`${out}.lock-holder.json`), 'the first run holds the lock');
  const b = cli([...args, '--num-steps', '1', '--seed', '2', '--out', out, '--quiet']);
  refused(b, '--out', 'locked by pid', String(a.pid));
  // Kill the holder without warning: its lock is stale. Its finished chunks are work: a run
  // without --resume or --overwrite is refused, naming them; --overwrite proceeds.
  for (let i = 0; i < 200 && !existsSync(join(`${out}.parts`, 'manifest.json')); i++) await new Promise((r) => setTimeout(r, 50));
  a.kill('SIGKILL');
  await exited;
  refused(cli([...args, '--num-steps', '1', '--seed', '2', '--out', out, '--quiet']), '--out (its parts folder', 'manifest.json');
  const c = cli([...args, '--num-steps', '1', '--seed', '2', '--out', out, '--quiet', '--overwrite']);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(JSON.parse(readFileSync(p('locked.json'), 'utf8')).seed, 2);
  assert.ok(!existsSync(`${out}.lock`) && !existsSync(`${out}.lock-holder.json`), 'the lock is released');
});

// ---------------------------------------------------------------------------------------------
// Kills and resume: byte-identical results

test('training killed while writing a checkpoint (arrays written, manifest not yet; manifest written) resumes to the bit-identical run', () => {
  const full = p('train-full');
  assert.equal(cli(['train', '--out', full, ...TRAIN]).code, 0);
  for (const point of ['checkpoint-arrays-written@2', 'checkpoint-manifest-written@3', 'checkpoint-arrays-written@5']) {
    const dir = p(`train-${point.replace(/[@]/g, '-')}`);
    const killed = cli(['train', '--out', dir, ...TRAIN], { REFINERY_FAULT: point });
    assert.equal(killed.signal, 'SIGKILL', `${point}: killed (${killed.code} ${killed.stderr})`);
    const resumed = cli(['train', '--out', dir, ...TRAIN, '--resume']);
    assert.equal(resumed.code, 0, `${point}: ${resumed.stderr}`);
    for (const f of ['generator.onnx', 'discriminator.onnx']) assert.equal(sha(join(dir, f)), sha(join(full, f)), `${point}: ${f}`);
    // Exactly one checkpoint's arrays are left.
    assert.equal(readdirSync(dir).filter((f) => /^checkpoint-state-/.test(f)).length, 1, point);
  }
  // A corrupt checkpoint array is refused on --resume, naming the file.
  const state = readdirSync(full).find((f) => f.startsWith('checkpoint-state-'))!;
  const bytes = readFileSync(join(full, state));
  bytes[bytes.length - 1] ^= 1;
  writeFileSync(join(full, state), bytes);
  refused(cli(['train', '--out', full, ...TRAIN, '--steps', '50', '--resume']), join(full, state), 'corrupt');
});

test('refine killed between chunks, after assembling and after the summary resumes to the bit-identical file; OUT.npy never lacks its summary', () => {
  const args = (out: string) => ['refine', '--run', RUN, '--method', 'ddls', '--n', '500', '--chunk-size', '100', '--num-steps', '3', '--out', out, '--quiet'];
  const full = p('r-full.npy');
  assert.equal(cli(args(full)).code, 0);
  for (const point of ['chunk-written@2', 'chunk-written@5', 'assembling@2', 'assembled', 'summary-written']) {
    const out = p(`r-${point.replace('@', '-')}.npy`);
    const killed = cli(args(out), { REFINERY_FAULT: point });
    assert.equal(killed.signal, 'SIGKILL', point);
    // Never an array without the summary that describes it.
    if (existsSync(out)) assert.equal(JSON.parse(readFileSync(out.replace(/npy$/, 'json'), 'utf8')).sha256, sha(out), point);
    assert.ok(existsSync(`${out}.parts`), `${point}: the finished chunks are kept`);
    const resumed = cli([...args(out), '--resume', '--json']);
    assert.equal(resumed.code, 0, `${point}: ${resumed.stderr}`);
    assert.equal(sha(out), sha(full), point);
    const summary = JSON.parse(readFileSync(out.replace(/npy$/, 'json'), 'utf8'));
    assert.equal(summary.sha256, sha(out));
    assert.ok(!existsSync(`${out}.parts`));
    assert.deepEqual(
      readdirSync(root).filter((f) => f.startsWith(`r-${point.replace('@', '-')}.npy.tmp-`)),
      [],
      `${point}: no temporary file is left`,
    );
  }
});

test('Ctrl-C stops after the current step with a message saying how to resume; the resumed run is bit-identical', async () => {
  const out = p('sigint.npy');
  const args = ['refine', '--run', RUN, '--method', 'ddls', '--n', '2000', '--chunk-size', '200', '--num-steps', '200', '--quiet'];
  const full = p('sigint-full.npy');
  assert.equal(cli([...args, '--out', full]).code, 0);
  const a = spawn(process.execPath, [main, ...args, '--out', out], { env: { ...process.env, REFINERY_THREADS: '1' } });
  let stderr = '';
  a.stderr.on('data', (d) => {
    stderr += d;
  });
  const code = new Promise<number | null>((resolve) => a.on('exit', (c) => resolve(c)));
  for (let i = 0; i < 400 && !existsSync(join(`${out}.parts`, 'chunk-000001.npy')); i++) await new Promise((r) => setTimeout(r, 25));
  a.kill('SIGINT');
  assert.equal(await code, 130, stderr);
  assert.match(stderr, /--resume/);
  const resumed = cli([...args, '--out', out, '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(sha(out), sha(full));
});

test('a corrupt parts manifest or a file where the parts folder goes is refused (exit 2) and left as it is', () => {
  const out = p('corrupt.npy');
  mkdirSync(`${out}.parts`);
  writeFileSync(join(`${out}.parts`, 'manifest.json'), '{"identity": ');
  const args = ['refine', '--run', RUN, '--method', 'sir', '--n', '50', '--out', out, '--quiet'];
  refused(cli([...args, '--resume']), join(`${out}.parts`, 'manifest.json'), 'with --overwrite instead of --resume');
  assert.ok(existsSync(join(`${out}.parts`, 'manifest.json')));
  // Without --resume they are refused (an interrupted run's chunks are work); --overwrite discards
  // them and starts afresh.
  refused(cli(args), '--out (its parts folder', '--overwrite) replaces it');
  assert.ok(existsSync(join(`${out}.parts`, 'manifest.json')));
  assert.equal(cli([...args, '--overwrite']).code, 0);
  const file = p('file.npy');
  writeFileSync(`${file}.parts`, 'x');
  refused(cli(['refine', '--run', RUN, '--method', 'sir', '--n', '50', '--out', file, '--quiet']), '--out (its parts folder', 'not an existing file');
  assert.equal(readFileSync(`${file}.parts`, 'utf8'), 'x');
});

// ---------------------------------------------------------------------------------------------
// Unusable output locations, huge sizes: exit 2 before any work, nothing written

test('unusable output locations are refused before any work: read-only folder, a file as parent, a folder as output', () => {
  const ro = p('readonly');
  mkdirSync(ro);
  chmodSync(ro, 0o555);
  // Root writes anywhere: run as nobody then.
  const user = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
  const refine = (...a: string[]) => cli(['refine', '--run', RUN, '--method', 'sir', '--n', '20', '--quiet', ...a], {}, user);
  chmodSync(RUN, 0o755);
  refused(refine('--out', join(ro, 'x.npy')), '--out', 'not writable');
  const w = p('writable');
  mkdirSync(w);
  chmodSync(w, 0o777);
  refused(refine('--out', join(w, 'ok.npy'), '--png', join(ro, 'x.png')), '--png', 'not writable');
  assert.deepEqual(readdirSync(w), [], 'the .npy and .json are not written when the PNG cannot be');
  writeFileSync(p('plain.txt'), 'x');
  refused(refine('--out', join(p('plain.txt'), 'x.npy')), '--out', 'is a file');
  mkdirSync(p('dir.npy'));
  refused(refine('--out', p('dir.npy')), '--out', 'existing folder');
  refused(cli(['sample', '--run', RUN, '--n', '5', '--out', join(ro, 's.npy')], {}, user), '--out', 'not writable');
  refused(cli(['train', '--out', join(p('plain.txt'), 'run'), ...TRAIN]), '--out', 'is a file');
  refused(cli(['demo', '--out', p('plain.txt')]), '--out', 'not an existing file');
});

test('write-protected outputs and folders are refused whoever runs: root too (a shared fixture made read-only by its owner)', () => {
  const fixture = p('protected');
  mkdirSync(fixture);
  const golden = join(fixture, 'x.npy');
  writeFileSync(golden, 'golden');
  chmodSync(golden, 0o444);
  const refine = (out: string) => cli(['refine', '--run', RUN, '--method', 'sir', '--n', '20', '--quiet', '--out', out]);
  refused(refine(golden), '--out', process.getuid?.() === 0 ? 'write-protected (mode 444)' : 'read-only');
  chmodSync(fixture, 0o555);
  refused(refine(join(fixture, 'new.npy')), '--out', process.getuid?.() === 0 ? 'write-protected (mode 555)' : 'not writable');
  chmodSync(fixture, 0o755);
  assert.deepEqual(readdirSync(fixture), ['x.npy']);
  assert.equal(readFileSync(golden, 'utf8'), 'golden');
  // control: the same folder and a new file in it once writable
  const ok = refine(join(fixture, 'new.npy'));
  assert.equal(ok.code, 0, ok.stderr);
});

test('sizes that cannot fit are refused naming the option and the bytes, before anything is allocated or written', () => {
  refused(cli(['sample', '--run', RUN, '--n', '1000000000000', '--out', p('big.npy')]), '--n', 'TB');
  refused(cli(['refine', '--run', RUN, '--method', 'drs', '--n', '1000000000000', '--out', p('big.npy')]), '--n', 'TB');
  refused(cli(['refine', '--run', RUN, '--method', 'sir', '--pool', '1000000000', '--out', p('big.npy')]), '--pool', 'TB');
  refused(cli(['refine', '--run', RUN, '--method', 'mh', '--dataset', 'grid25', '--real-n', '1000000000000', '--out', p('big.npy')]), '--real-n', 'TB');
  refused(cli(['demo', '--n', '1000000000000', '--out', p('bigdemo')]), '--n', 'TB');
  // A generator whose samples are [1e12] or [4e9] values: one sample does not fit.
  for (const size of [1e12, 4e9]) {
    const g = new Graph();
    const z = g.addInput('z', 'float32', ['batch', 2]);
    const col = g.op('ReduceSum', [z, g.int64s([1])], { keepdims: int(1) });
    g.add('Expand', [col, g.int64s([1, size])], {}, ['x']);
    g.outputs = ['x'];
    const gPath = p(`huge-${size}.onnx`);
    writeFileSync(gPath, encodeGraph(g));
    refused(cli(['sample', '--generator', gPath, '--latent-prior', 'normal', '--n', '10', '--out', p('huge.npy')]), '--generator', 'per sample');
  }
  assert.ok(!existsSync(p('big.npy')) && !existsSync(p('huge.npy')) && !existsSync(p('bigdemo')));
});

// ---------------------------------------------------------------------------------------------
// Leftovers and housekeeping

test('a run refused for its input leaves no parts behind', () => {
  const out = p('left.npy');
  const base = ['refine', '--run', RUN, '--out', out, '--n', '50', '--quiet'];
  const cases: [string[], Record<string, string>, string][] = [
    [['--method', 'ddls', '--num-steps', '1'], { REFINERY_THREADS: 'many' }, 'REFINERY_THREADS'],
    [['--method', 'mh', '--mh-init', 'real'], {}, '--real'],
    [['--method', 'drs', '--burn-in', '10', '--max-proposals', '20', '--gamma', '100'], {}, '--max-proposals'],
  ];
  for (const [args, env, option] of cases) {
    refused(cli([...base, ...args], env), option);
    assert.ok(!existsSync(`${out}.parts`) && !existsSync(out), `${option}: nothing left`);
  }
  // A corrector that does not fit the data.
  const corrector = new Graph();
  const x = corrector.addInput('x', 'float32', ['batch', 3]);
  corrector.add('ReduceSum', [x, corrector.int64s([1])], { keepdims: int(1) }, ['logit']);
  corrector.outputs = ['logit'];
  writeFileSync(p('corrector.onnx'), encodeGraph(corrector));
  refused(cli([...base, '--method', 'dgflow', '--corrector', p('corrector.onnx')]), '--corrector');
  assert.ok(!existsSync(`${out}.parts`));
});

test('--resume removes temporary files of dead writers; Refinery writes nothing outside the paths named (no onnxruntime logs or telemetry)', () => {
  const out = p('tmpclean.npy');
  writeFileSync(`${out}.tmp-99999999`, 'stale');
  writeFileSync(p('tmpclean.json.tmp-99999999-abc'), 'stale');
  const home = p('home');
  const tmp = p('tmp');
  mkdirSync(home);
  mkdirSync(tmp);
  const r = cli(['refine', '--run', RUN, '--method', 'ddls', '--n', '20', '--num-steps', '2', '--out', out, '--resume', '--quiet'], {
    HOME: home,
    TMPDIR: tmp,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!existsSync(`${out}.tmp-99999999`) && !existsSync(p('tmpclean.json.tmp-99999999-abc')));
  assert.deepEqual(readdirSync(tmp), [], 'no files in $TMPDIR');
  assert.deepEqual(readdirSync(home), [], 'no files in $HOME');
});

test('messages name the option given; numbers are read strictly; one error format; Fortran-order .npy is read', () => {
  refused(cli(['eval', '--dataset', 'grid25', '--real-n', '100', '--fake', real, '--metrics', 'pr', '--pr-k', '100000']), '--pr-k');
  refused(cli(['eval', '--dataset', 'grid25', '--fake', real, '--metrics', '']), '--metrics');
  refused(cli(['eval', '--dataset', 'grid25', '--fake', real, '--metrics', 'likelihood']), '--run', 'likelihood');
  refused(cli(['eval', '--dataset', 'grid25', '--fake', real, '--run', RUN, '--likelihood-lambda', '0']), '--likelihood-lambda', '"0"');
  // The likelihood metric runs from the CLI: fake and real samples under the run's GAN.
  const lik = cli([
    'eval',
    '--dataset',
    'grid25',
    '--real-n',
    '100',
    '--fake',
    real,
    '--run',
    RUN,
    '--metrics',
    'likelihood',
    '--likelihood-samples',
    '300',
    '--likelihood-lambda',
    '0.5',
    '--json',
    '--quiet',
  ]);
  assert.equal(lik.code, 0, lik.stderr);
  const l = JSON.parse(lik.stdout).likelihood;
  assert.ok(Number.isFinite(l.fake.mean) && Number.isFinite(l.real.mean) && l.samples === 300 && l.lambda === 0.5 && l.cost === 'l1', JSON.stringify(l));
  refused(cli(['sample', '--run', RUN, '--n', '0x10', '--out', p('n.npy')]), '--n', '"0x10"');
  refused(cli(['sample', '--run', RUN, '--seed', '1e30', '--out', p('n.npy')]), '--seed', '"1e30"');
  refused(cli(['sample', '--run', RUN, '--seed', '9007199254740993', '--out', p('n.npy')]), '--seed');
  refused(cli(['refine', '--run', RUN, '--method', 'ddls', '--step-size', 'fast', '--out', p('n.npy')]), '--step-size', '"fast"');
  refused(cli(['refine', '--run', RUN, '--method', 'ddls', '--metropolis', '--noise', '0.5', '--out', p('n.npy')]), '--noise', 'metropolis');
  // MH with held-out reals holding NaN rows, or none at all, is refused like calibration and DRE.
  const nan = p('nan.npy');
  const bad = new Float32Array(20);
  bad[7] = Number.NaN;
  writeNpy(nan, { data: bad, shape: [10, 2] });
  refused(cli(['refine', '--run', RUN, '--method', 'mh', '--real', nan, '--out', p('n.npy')]), '--real row 3', 'finite');
  const empty = p('empty.npy');
  writeNpy(empty, { data: new Float32Array(0), shape: [0, 2] });
  refused(cli(['refine', '--run', RUN, '--method', 'mh', '--real', empty, '--out', p('n.npy')]), '--real', 'at least 1');
  // A bring-your-own pair without meta.json must say its latent prior and what D outputs.
  const byo = p('byo');
  mkdirSync(byo);
  for (const f of ['generator.onnx', 'discriminator.onnx']) writeFileSync(join(byo, f), readFileSync(join(fx(), f)));
  const r = cli([
    'refine',
    '--generator',
    join(byo, 'generator.onnx'),
    '--discriminator',
    join(byo, 'discriminator.onnx'),
    '--method',
    'sir',
    '--out',
    p('n.npy'),
  ]);
  refused(r, '--latent-prior', '--d-output');
  // Fortran order (numpy's layout of a transposed array) is read like any other layout.
  const fortran = p('fortran.npy');
  const header = "{'descr': '<f4', 'fortran_order': True, 'shape': (50, 2), }";
  const data = new Rng(3).fillNormal(new Float32Array(100));
  const pre = Buffer.from(`\x93NUMPY\x01\x00`, 'latin1');
  const padded = header + ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const len = Buffer.alloc(2);
  len.writeUInt16LE(padded.length);
  writeFileSync(fortran, Buffer.concat([pre, len, Buffer.from(padded, 'latin1'), Buffer.from(data.buffer)]));
  const e = cli(['eval', '--real', fortran, '--fake', fortran, '--metrics', 'fd', '--json']);
  assert.equal(e.code, 0, e.stderr);
  assert.ok(Math.abs(JSON.parse(e.stdout).fd.distance) < 1e-9);
  assert.deepEqual(readNpy(fortran).shape, [50, 2]);
});
