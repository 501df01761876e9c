/**
 * Scale-out through the real CLI: `refine --shard i/n` and `--shard auto` (the environment of a
 * Slurm array task and of a Kubernetes Indexed Job pod), `refinery merge` equal byte for byte to
 * one unsharded run, merge refusing shards that do not make one run, and a resume with another
 * batch size. (deploy/slurm/test.sh runs the same on a real Slurm when one can be started.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fixturesDir, repoRoot } from '../testing/fixtures.js';

const main = join(repoRoot, 'dist', 'cli', 'main.js');
const root = mkdtempSync(join(tmpdir(), 'refinery-scale-'));
after(() => rmSync(root, { recursive: true, force: true }));
const p = (f: string) => join(root, f);
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

/** The environment without any scheduler's variables, plus `extra`. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, REFINERY_THREADS: '1' };
  for (const k of Object.keys(e)) if (k.startsWith('SLURM_') || k === 'JOB_COMPLETION_INDEX' || k === 'REFINERY_SHARD_COUNT') delete e[k];
  return { ...e, ...extra };
}

function cli(args: string[], extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: env(extra) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: { code: number | null; stderr: string }): void {
  assert.equal(r.code, 0, r.stderr);
}

function refused(r: { code: number | null; stderr: string; stdout: string }, ...words: string[]): void {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^refinery: [a-z_]+: /);
  for (const w of words) assert.ok(r.stderr.includes(w), `stderr lacks ${JSON.stringify(w)}:\n${r.stderr}`);
}

// mlp2d's D is a critic: sir takes it as the log ratio only when told to.
const RUN = ['refine', '--run', join(fixturesDir(), 'mlp2d'), '--n', '203', '--seed', '9', '--critic-as-ratio', '--quiet'];
const DDLS = [...RUN, '--method', 'ddls', '--num-steps', '3'];

test('shards i/n merged equal one run byte for byte; merge checks the shards belong to one run', () => {
  ok(cli([...DDLS, '--out', p('single.npy')]));
  for (let i = 0; i < 3; i++) ok(cli([...DDLS, '--out', p('sh.npy'), '--shard', `${i}/3`, '--batch-size', String(7 + i), '--chunk-size', '30']));
  const shards = [2, 0, 1].map((i) => p(`sh.shard-${i}-of-3.npy`));
  const merged = cli(['merge', '--out', p('merged.npy'), '--json', ...shards]);
  ok(merged);
  assert.equal(sha(p('merged.npy')), sha(p('single.npy')));
  const record = JSON.parse(readFileSync(p('merged.json'), 'utf8'));
  const single = JSON.parse(readFileSync(p('single.json'), 'utf8'));
  assert.equal(record.sha256, single.sha256);
  assert.equal(record.run.id, single.run.id);
  assert.deepEqual(record.shape, [203, 2]);
  assert.equal(record.shard, null);
  assert.equal(record.merged.length, 3);

  // Missing a shard, a shard twice, the single run's file, another run's shard, a changed file, OUT over an input.
  refused(cli(['merge', '--out', p('m2.npy'), shards[0], shards[1]]), 'shards', 'missing shard 1');
  refused(cli(['merge', '--out', p('m2.npy'), shards[0], shards[0], shards[1]]), 'twice');
  refused(cli(['merge', '--out', p('m2.npy'), p('single.npy')]), 'unsharded');
  ok(cli([...DDLS, '--seed', '10', '--out', p('other.npy'), '--shard', '1/3']));
  refused(cli(['merge', '--out', p('m2.npy'), shards[1], shards[2], p('other.shard-1-of-3.npy')]), 'shards of one run');
  copyFileSync(shards[1], p('bad.shard-0-of-3.npy'));
  copyFileSync(shards[1].replace(/npy$/, 'json'), p('bad.shard-0-of-3.json'));
  const bytes = readFileSync(p('bad.shard-0-of-3.npy'));
  bytes[bytes.length - 1] ^= 1;
  writeFileSync(p('bad.shard-0-of-3.npy'), bytes);
  refused(cli(['merge', '--out', p('m2.npy'), shards[0], p('bad.shard-0-of-3.npy'), shards[2]]), 'changed since it was written');
  refused(cli(['merge', '--out', shards[0], ...shards]), '--out');
});

test('--shard auto reads a Slurm array task and a Kubernetes Indexed Job pod; bad environments are named', () => {
  ok(cli([...RUN, '--method', 'sir', '--sir-group', '16', '--out', p('sir.npy')]));
  // Slurm array --array=1-4: task ids 1..4, index = id - min.
  for (let id = 1; id <= 4; id++) {
    const slurm = { SLURM_ARRAY_TASK_ID: String(id), SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '4' };
    ok(cli([...RUN, '--method', 'sir', '--sir-group', '16', '--out', p('slurm.npy'), '--shard', 'auto'], slurm));
  }
  ok(cli(['merge', '--out', p('slurm-merged.npy'), ...[0, 1, 2, 3].map((i) => p(`slurm.shard-${i}-of-4.npy`))]));
  assert.equal(sha(p('slurm-merged.npy')), sha(p('sir.npy')));
  // Kubernetes Indexed Job with completions 2: JOB_COMPLETION_INDEX and REFINERY_SHARD_COUNT.
  for (let i = 0; i < 2; i++) {
    ok(
      cli([...RUN, '--method', 'sir', '--sir-group', '16', '--out', p('k8s.npy'), '--shard', 'auto'], {
        JOB_COMPLETION_INDEX: String(i),
        REFINERY_SHARD_COUNT: '2',
      }),
    );
  }
  ok(cli(['merge', '--out', p('k8s-merged.npy'), p('k8s.shard-0-of-2.npy'), p('k8s.shard-1-of-2.npy')]));
  assert.equal(sha(p('k8s-merged.npy')), sha(p('sir.npy')));

  const sirAuto = [...RUN, '--method', 'sir', '--out', p('x.npy'), '--shard', 'auto'];
  refused(cli(sirAuto), '--shard', 'SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX');
  refused(cli(sirAuto, { JOB_COMPLETION_INDEX: '0' }), 'REFINERY_SHARD_COUNT');
  refused(
    cli(sirAuto, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '2', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '6', SLURM_ARRAY_TASK_STEP: '3' }),
    'contiguous',
  );
  refused(cli([...RUN, '--method', 'sir', '--out', p('x.npy'), '--shard', '3/3']), '--shard', '0 <= i < count');
  refused(cli([...RUN, '--method', 'sir', '--out', p('x.npy'), '--shard', 'half']), '--shard', 'i/n');
  refused(cli([...RUN, '--method', 'sir', '--n', '2', '--out', p('x.npy'), '--shard', '2/3']), '--shard', 'count <= n');
});

test('a run killed after its first chunk resumes with another batch size to the same bytes', () => {
  const args = [...DDLS, '--chunk-size', '50', '--out', p('res.npy')];
  const killed = spawnSync(process.execPath, [main, ...args, '--batch-size', '64'], { env: env({ REFINERY_FAULT: 'chunk-written@2' }) });
  assert.equal(killed.signal, 'SIGKILL');
  ok(cli([...args, '--batch-size', '9', '--resume']));
  assert.equal(sha(p('res.npy')), sha(p('single.npy')));
});

test('--device cuda without the CUDA provider is a clear error naming --device and how to install it', () => {
  refused(cli([...DDLS, '--out', p('gpu.npy'), '--device', 'cuda']), '--device', 'ONNXRUNTIME_NODE_INSTALL=cuda12');
  refused(cli([...DDLS, '--out', p('gpu.npy'), '--device', 'tpu']), '--device');
});
