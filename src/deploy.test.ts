/**
 * The deployment files under deploy/ do what the README says:
 * - Slurm: deploy/slurm/test.sh starts a real one-node Slurm (Debian's slurmctld, slurmd, munge)
 *   and runs deploy/slurm/submit.sh, a 4-task array of `refine --shard auto` and its merge,
 *   compared byte for byte with one run. Needs root and the packages; CI installs them and sets
 *   REFINERY_REQUIRE_SLURM=1, elsewhere the test is skipped saying why.
 * - Kubernetes (no cluster can start offline here): the Indexed Job's own container command runs
 *   once per index with the environment Kubernetes gives a pod (JOB_COMPLETION_INDEX) plus the
 *   manifest's env, then the merge Job's command; the result must equal one run byte for byte.
 *   The manifests' consistency (Indexed, REFINERY_SHARD_COUNT = completions, the merge's glob)
 *   is checked too.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'yaml';
import { fixturesDir, repoRoot } from './testing/fixtures.js';

const main = join(repoRoot, 'dist', 'cli', 'main.js');
const root = mkdtempSync(join(tmpdir(), 'refinery-deploy-'));
after(() => rmSync(root, { recursive: true, force: true }));
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

function has(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
}

test('Slurm: a 4-task array of refine --shard auto and its merge on a real one-node Slurm equal one run', (t) => {
  const missing = ['munged', 'slurmctld', 'slurmd', 'sbatch'].filter((b) => !has(b));
  const why =
    missing.length > 0 ? `no ${missing.join(', ')} (apt-get install slurmctld slurmd slurm-client munge)` : process.getuid?.() !== 0 ? 'not root' : '';
  if (why) {
    assert.notEqual(process.env.REFINERY_REQUIRE_SLURM, '1', `REFINERY_REQUIRE_SLURM=1 but ${why}`);
    t.skip(why);
    return;
  }
  const r = spawnSync(
    'bash',
    [join(repoRoot, 'deploy', 'slurm', 'test.sh'), join(fixturesDir(), 'mlp2d'), '--method', 'ddls', '--n', '203', '--num-steps', '3', '--seed', '4'],
    { encoding: 'utf8', env: { ...process.env, REFINERY_THREADS: '1' }, timeout: 300_000 },
  );
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^slurm: 4-task array \(jobs array \d+ merge \d+\) merged by job \d+ = one run, sha256 [0-9a-f]{64}$/m);
});

interface Container {
  command: string[];
  env?: { name: string; value: string }[];
}

function container(file: string): { spec: Record<string, unknown>; c: Container } {
  const job = parse(readFileSync(join(repoRoot, 'deploy', 'kubernetes', file), 'utf8'));
  assert.equal(job.kind, 'Job');
  return { spec: job.spec, c: job.spec.template.spec.containers[0] };
}

test('Kubernetes: the Indexed Job and the merge Job, run as their pods would, equal one run', () => {
  const { spec, c } = container('refine-job.yaml');
  assert.equal(spec.completionMode, 'Indexed');
  const count = spec.completions as number;
  const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
  assert.equal(env.REFINERY_SHARD_COUNT, String(count), 'REFINERY_SHARD_COUNT = completions');
  assert.deepEqual(c.command.slice(0, 4), ['npx', '--no-install', 'refinery', 'refine']);
  assert.ok(c.command.join(' ').includes('--shard auto'));
  const merge = container('merge-job.yaml').c;
  assert.ok(merge.command[2].includes(`samples.shard-*-of-${count}.npy`));

  // /data as the pods see it: the run folder and the output folder.
  const data = join(root, 'data');
  mkdirSync(join(data, 'out'), { recursive: true });
  symlinkSync(join(fixturesDir(), 'mlp2d'), join(data, 'run'));
  // The manifest's command, on this machine and with a small n and few steps.
  const small: Record<string, string> = { '--n': '157', '--num-steps': '3' };
  const args = c.command.slice(3).map((a, i, all) => small[all[i - 1]] ?? a.replaceAll('/data', data));
  for (let index = 0; index < count; index++) {
    const r = spawnSync(process.execPath, [main, ...args], {
      encoding: 'utf8',
      env: { ...process.env, ...env, REFINERY_THREADS: '1', JOB_COMPLETION_INDEX: String(index) },
    });
    assert.equal(r.status, 0, r.stderr);
  }
  const m = spawnSync('sh', ['-c', merge.command[2].replace('npx --no-install refinery', `"${process.execPath}" "${main}"`).replaceAll('/data', data)], {
    encoding: 'utf8',
  });
  assert.equal(m.status, 0, m.stderr);
  const single = args
    .map((a) => a.replace(join(data, 'out', 'samples.npy'), join(root, 'single.npy')))
    .filter((a, i, all) => a !== '--shard' && all[i - 1] !== '--shard');
  const s = spawnSync(process.execPath, [main, ...single], { encoding: 'utf8', env: { ...process.env, REFINERY_THREADS: '1' } });
  assert.equal(s.status, 0, s.stderr);
  assert.equal(sha(join(data, 'out', 'samples.npy')), sha(join(root, 'single.npy')));
});
