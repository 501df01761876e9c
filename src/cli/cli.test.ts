import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readNpy } from '../io/npy.js';
import { repoRoot } from '../testing/fixtures.js';

const main = join(repoRoot, 'dist', 'cli', 'main.js');
const root = mkdtempSync(join(tmpdir(), 'refinery-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env, REFINERY_THREADS: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('bad arguments exit 2 with a message naming the option, the expected and the received value', () => {
  const cases: [string[], string[]][] = [
    [['train', '--out', join(root, 'x'), '--steps', '0'], ['--steps', 'positive integer', '"0"']],
    [['train', '--out', join(root, 'x'), '--lr-d', 'fast'], ['--lr-d', '(0, 1)', '"fast"']],
    [['demo', '--dataset', 'moons'], ['--dataset', 'grid25', '"moons"']],
    [['demo', '--step-size', '-1'], ['--step-size', 'positive', '"-1"']],
    [['sample', '--run', join(root, 'missing'), '--out', join(root, 's.npy')], ['--run', 'folder', 'missing']],
    [['sample', '--out', join(root, 's.npy')], ['--generator']],
    [['train'], ['--out']],
    [['demo', '--bogus'], ['--bogus']],
  ];
  for (const [args, words] of cases) {
    const r = cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    for (const w of words) assert.ok(r.stderr.includes(w), `${args.join(' ')}: stderr lacks ${w}:\n${r.stderr}`);
    assert.equal(r.stdout, '');
  }
});

test('train, then sample from the run folder; --json results on stdout', () => {
  const run = join(root, 'run');
  const t = cli('train', '--out', run, '--steps', '30', '--finetune-d', '5', '--hidden', '16', '--layers', '1', '--batch-size', '32', '--json', '--quiet');
  assert.equal(t.code, 0, t.stderr);
  const result = JSON.parse(t.stdout);
  assert.equal(result.steps, 35);
  assert.equal(result.meta.dOutput, 'logit');
  for (const f of ['generator.onnx', 'discriminator.onnx', 'meta.json']) assert.ok(existsSync(join(run, f)), f);
  const out = join(root, 'samples.npy');
  const s = cli('sample', '--run', run, '--n', '300', '--batch-size', '128', '--out', out, '--png', join(root, 's.png'), '--json', '--quiet');
  assert.equal(s.code, 0, s.stderr);
  assert.deepEqual(JSON.parse(s.stdout).shape, [300, 2]);
  const arr = readNpy(out);
  assert.deepEqual(arr.shape, [300, 2]);
  assert.ok(existsSync(join(root, 's.png')));
  // Same seed, same samples; batch size does not change them (seeds are per chunk of the same size).
  const again = join(root, 'again.npy');
  assert.equal(cli('sample', '--run', run, '--n', '300', '--batch-size', '128', '--out', again, '--quiet').code, 0);
  assert.ok(readFileSync(out).equals(readFileSync(again)));
});

test('demo writes the plot, the metrics and the samples', () => {
  const out = join(root, 'demo');
  const r = cli('demo', '--out', out, '--train-steps', '40', '--finetune-d', '10', '--num-steps', '5', '--n', '400', '--json', '--quiet');
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  assert.equal(res.before.numModes, 25);
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
  assert.equal(metrics.n, 400);
  assert.ok(metrics.metrics.generator.highQualityPercent >= 0 && metrics.metrics.ddls.highQualityPercent <= 100);
  assert.ok(readFileSync(join(out, 'before-after.png')).subarray(1, 4).toString() === 'PNG');
  assert.deepEqual(readNpy(join(out, 'ddls-samples.npy')).shape, [400, 2]);
});
