import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readNpy } from '../io/npyfile.js';
import { encodeNpy } from '../io/npy.js';
import { fixturesDir, repoRoot } from '../testing/fixtures.js';

const main = join(repoRoot, 'dist', 'cli', 'main.js');
const root = mkdtempSync(join(tmpdir(), 'refinery-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env, REFINERY_THREADS: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('bad arguments exit 2 with a message naming the option, the expected and the received value', () => {
  const cases: [string[], string[]][] = [
    [
      ['train', '--out', join(root, 'x'), '--steps', '0'],
      ['--steps', 'positive integer', '"0"'],
    ],
    [
      ['train', '--out', join(root, 'x'), '--lr-d', 'fast'],
      ['--lr-d', '(0, 1)', '"fast"'],
    ],
    [
      ['demo', '--dataset', 'moons'],
      ['--dataset', 'grid25', '"moons"'],
    ],
    [
      ['demo', '--step-size', '-1'],
      ['--step-size', 'positive', '"-1"'],
    ],
    [
      ['sample', '--run', join(root, 'missing'), '--out', join(root, 's.npy')],
      ['--run', 'folder', 'missing'],
    ],
    [
      ['train', '--out', join(root, 'x'), '--prior', 'cauchy'],
      ['--prior', 'nonparametric', '"cauchy"'],
    ],
    [
      ['train', '--out', join(root, 'x'), '--model', 'vae', '--prior', 'nonparametric'],
      ['--prior', '--model mlp or dcgan or sagan'],
    ],
    [
      ['bench', 'mnist', '--methods', 'generator,dgflow', '--set', 'stepSize=fast', '--out', join(root, 'mnist-x')],
      ['--set stepSize', 'positive', '"fast"'],
    ],
    [
      ['bench', 'mnist', '--methods', 'drs', '--set', 'numSteps=3', '--out', join(root, 'mnist-x')],
      ['--set', 'burnIn', '"numSteps"'],
    ],
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
  // The bench's bad --set stops before it writes anything.
  assert.equal(existsSync(join(root, 'mnist-x')), false);
});

test('train, then sample from the run folder; --json results on stdout', () => {
  const run = join(root, 'run');
  const t = cli('train', '--out', run, '--steps', '30', '--finetune-d', '5', '--hidden', '16', '--layers', '1', '--batch-size', '32', '--json', '--quiet');
  assert.equal(t.code, 0, t.stderr);
  const result = JSON.parse(t.stdout);
  assert.equal(result.steps, 35);
  assert.equal(result.meta.dOutput, 'logit');
  assert.equal(result.meta.latentPrior, 'normal');
  for (const f of ['generator.onnx', 'discriminator.onnx', 'meta.json']) assert.ok(existsSync(join(run, f)), f);
  // Output flags are not training options: a run resumes whatever --json / --quiet say.
  const resumed = cli('train', '--out', run, '--steps', '30', '--finetune-d', '5', '--hidden', '16', '--layers', '1', '--batch-size', '32', '--resume');
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /trained mlp 35 steps/);
  const out = join(root, 'samples.npy');
  const s = cli('sample', '--run', run, '--n', '300', '--batch-size', '128', '--out', out, '--png', join(root, 's.png'), '--json', '--quiet');
  assert.equal(s.code, 0, s.stderr);
  assert.deepEqual(JSON.parse(s.stdout).shape, [300, 2]);
  const arr = readNpy(out);
  assert.deepEqual(arr.shape, [300, 2]);
  assert.ok(existsSync(join(root, 's.png')));
  // --prior: the run records it, and a latent method refines with its energy.
  const np = join(root, 'run-nonparametric');
  const tn = cli('train', '--out', np, '--steps', '5', '--finetune-d', '0', '--hidden', '16', '--layers', '1', '--prior', 'nonparametric', '--json', '--quiet');
  assert.equal(tn.code, 0, tn.stderr);
  assert.equal(JSON.parse(tn.stdout).meta.latentPrior, 'nonparametric');
  const rn = cli('refine', '--run', np, '--method', 'ddls', '--n', '50', '--num-steps', '5', '--out', join(root, 'np.npy'), '--quiet');
  assert.equal(rn.code, 0, rn.stderr);
  assert.deepEqual(readNpy(join(root, 'np.npy')).shape, [50, 2]);
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

test('malformed models, unsupported operators, shape mismatches and corrupt .npy exit 2 and write nothing', async () => {
  const { Graph } = await import('../onnx/graph.js');
  const { encodeGraph } = await import('../onnx/model.js');
  const fx = fixturesDir();
  const g = join(fx, 'mlp2d', 'generator.onnx');
  const d = join(fx, 'mlp2d', 'discriminator.onnx');
  const truncated = join(root, 'truncated.onnx');
  writeFileSync(truncated, readFileSync(join(fx, 'dcgan32', 'generator.onnx')).subarray(0, 5000));
  // A discriminator with an operator Refinery cannot differentiate (Det), in node "weird".
  const unsupported = new Graph();
  const x = unsupported.addInput('x', 'float32', ['batch', 2]);
  unsupported.add('ReduceSum', [x, unsupported.int64s([1])], {}, ['det']);
  // Built as a supported op, then renamed, since the graph builder refuses unknown operators.
  Object.assign(unsupported.nodes[unsupported.nodes.length - 1], { op: 'Det', name: 'weird' });
  unsupported.add('Identity', ['det'], {}, ['logit']);
  unsupported.outputs = ['logit'];
  const unsupportedPath = join(root, 'unsupported.onnx');
  writeFileSync(unsupportedPath, encodeGraph(unsupported));
  const corrupt = join(root, 'corrupt.npy');
  writeFileSync(corrupt, 'not an array');
  const out = join(root, 'never.npy');
  const cases: [string[], string[]][] = [
    [
      ['--generator', truncated, '--discriminator', d],
      ['truncated.onnx', 'ONNX'],
    ],
    [
      ['--generator', g, '--discriminator', unsupportedPath],
      ['Det', 'weird'],
    ],
    [
      ['--generator', g, '--discriminator', join(fx, 'dcgan32', 'discriminator.onnx')],
      ['shape', '[batch,2]', '[batch,3,32,32]'],
    ],
    [
      ['--generator', g, '--discriminator', d, '--real', corrupt],
      ['corrupt.npy', 'NUMPY'],
    ],
    [
      ['--generator', g, '--discriminator', d, '--d-output', 'logit'],
      ['--d-output', 'critic'],
    ],
  ];
  for (const [args, words] of cases) {
    const r = cli('refine', '--method', 'ddls', '--n', '10', '--num-steps', '1', '--out', out, '--quiet', ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    for (const w of words) assert.ok(r.stderr.includes(w), `${args.join(' ')}: stderr lacks ${w}:\n${r.stderr}`);
    assert.ok(!existsSync(out) && !existsSync(`${out}.parts`), 'nothing written');
  }
});

test('refine streams, resumes and writes a summary with provenance', () => {
  const run = join(root, 'run');
  const out = join(root, 'refined.npy');
  const r = cli(
    'refine',
    '--run',
    run,
    '--method',
    'ddls',
    '--n',
    '500',
    '--chunk-size',
    '200',
    '--batch-size',
    '100',
    '--num-steps',
    '3',
    '--out',
    out,
    '--png',
    join(root, 'refined.png'),
    '--json',
    '--quiet',
  );
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual(s.shape, [500, 2]);
  assert.equal(s.chunks, 3);
  assert.equal(s.provenance.generator, join(run, 'generator.onnx'));
  assert.deepEqual(JSON.parse(readFileSync(join(root, 'refined.json'), 'utf8')).shape, [500, 2]);
  assert.ok(existsSync(join(root, 'refined.png')));
  const bad = cli('refine', '--run', run, '--method', 'ddls', '--out', out, '--k-eff', '2', '--quiet');
  assert.equal(bad.code, 2);
  assert.ok(bad.stderr.includes('--k-eff') && bad.stderr.includes('--method ddls'));
});

test('refine reads held-out real images from a folder of PNGs (MH starts on an image GAN)', async () => {
  const { PNG } = await import('pngjs');
  const { writeFileSync, mkdirSync } = await import('node:fs');
  const { fixturesDir } = await import('../testing/fixtures.js');
  const dir = join(root, 'pngs');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 6; i++) {
    const png = new PNG({ width: 28, height: 28 });
    for (let p = 0; p < 28 * 28; p++) png.data.set([(p * (i + 3)) % 256, (p * (i + 3)) % 256, (p * (i + 3)) % 256, 255], 4 * p);
    writeFileSync(join(dir, `img${i}.png`), PNG.sync.write(png));
  }
  const fx = join(fixturesDir(), 'mnist_dcgan28');
  const out = join(root, 'mnist.npy');
  const r = cli(
    'refine',
    '--generator',
    join(fx, 'generator.onnx'),
    '--discriminator',
    join(fx, 'discriminator.onnx'),
    '--method',
    'mh',
    '--n',
    '6',
    '--chain-length',
    '3',
    '--real',
    dir,
    '--out',
    out,
    '--png',
    join(root, 'mnist.png'),
    '--json',
    '--quiet',
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).shape, [6, 1, 28, 28]);
  assert.ok(existsSync(join(root, 'mnist.png')));
  // A folder of images of the wrong size is refused, naming --real.
  const bad = cli(
    'refine',
    '--generator',
    join(fixturesDir(), 'dcgan32', 'generator.onnx'),
    '--discriminator',
    join(fixturesDir(), 'dcgan32', 'discriminator.onnx'),
    '--method',
    'mh',
    '--n',
    '2',
    '--real',
    dir,
    '--out',
    join(root, 'bad.npy'),
    '--quiet',
  );
  assert.equal(bad.code, 2, bad.stderr);
  assert.ok(bad.stderr.includes('--real'), bad.stderr);
});

test('train --model dcgan writes an image run; sample --png draws it as an image grid; options of the other model exit 2', async () => {
  const { imageGridPng } = await import('../plot/grid.js');
  const run = join(root, 'dcgan');
  const t = cli(
    'train',
    '--model',
    'dcgan',
    '--out',
    run,
    '--steps',
    '3',
    '--finetune-d',
    '1',
    '--width',
    '4',
    '--latent-dim',
    '4',
    '--batch-size',
    '8',
    '--json',
    '--quiet',
  );
  assert.equal(t.code, 0, t.stderr);
  const result = JSON.parse(t.stdout);
  assert.equal(result.model, 'dcgan');
  assert.deepEqual(result.meta.dataShape, [1, 28, 28]);
  assert.equal(result.meta.latentDim, 4);
  // The DCGAN's own defaults apply where an option is not given (spectral norm on, 2 layers), not the MLP's.
  assert.equal(result.meta.extra.training.spectralNorm, true);
  assert.equal(result.meta.extra.training.layers, 2);
  const out = join(root, 'dcgan-samples.npy');
  const png = join(root, 'dcgan-samples.png');
  const s = cli('sample', '--run', run, '--n', '10', '--out', out, '--png', png, '--quiet');
  assert.equal(s.code, 0, s.stderr);
  const samples = readNpy(out);
  assert.deepEqual(samples.shape, [10, 1, 28, 28]);
  assert.ok(
    readFileSync(png).equals(imageGridPng(samples.data as Float32Array, samples.shape, { range: [-1, 1] })),
    'sample --png is the image grid of the samples',
  );
  const off = cli(
    'train',
    '--model',
    'dcgan',
    '--out',
    join(root, 'dcgan-nosn'),
    '--steps',
    '1',
    '--finetune-d',
    '0',
    '--width',
    '2',
    '--latent-dim',
    '2',
    '--batch-size',
    '4',
    '--no-spectral-norm',
    '--no-pixel-norm',
    '--json',
    '--quiet',
  );
  assert.equal(off.code, 0, off.stderr);
  assert.equal(JSON.parse(off.stdout).meta.extra.training.spectralNorm, false);
  assert.equal(JSON.parse(off.stdout).meta.extra.training.pixelNorm, false);
  // SAGAN: its own defaults (hinge, spectral norm in G and D), attention in the exported nets.
  const sagan = cli(
    'train',
    '--model',
    'sagan',
    '--out',
    join(root, 'sagan'),
    '--steps',
    '2',
    '--finetune-d',
    '1',
    '--width',
    '8',
    '--latent-dim',
    '4',
    '--batch-size',
    '4',
    '--json',
    '--quiet',
  );
  assert.equal(sagan.code, 0, sagan.stderr);
  const st = JSON.parse(sagan.stdout).meta.extra.training;
  assert.deepEqual([st.loss, st.spectralNorm, st.spectralNormG, st.lrG, st.lrD], ['hinge', true, true, 1e-4, 4e-4]);
  assert.ok(readFileSync(join(root, 'sagan', 'discriminator.onnx')).includes('Softmax'));
  const cases: [string[], string[]][] = [
    [
      ['--model', 'dcgan', '--no-spectral-norm-g'],
      ['--no-spectral-norm-g', '--model sagan'],
    ],
    [
      ['--model', 'dcgan', '--hidden', '16'],
      ['--hidden', '--model mlp'],
    ],
    [
      ['--width', '8'],
      ['--width', '--model dcgan'],
    ],
    [
      ['--model', 'mlp', '--no-pixel-norm'],
      ['--no-pixel-norm', '--model dcgan'],
    ],
    [
      ['--model', 'dcgan', '--dataset', 'grid25'],
      ['--dataset', 'shapes28', '"grid25"'],
    ],
    [
      ['--model', 'gan'],
      ['--model', 'mlp, dcgan', '"gan"'],
    ],
    [
      ['--model', 'dcgan', '--real-dir', join(root, 'pngs'), '--dataset', 'shapes28'],
      ['--real-dir', 'either'],
    ],
  ];
  for (const [args, words] of cases) {
    const dir = join(root, 'never');
    const r = cli('train', '--out', dir, '--steps', '1', '--quiet', ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    for (const w of words) assert.ok(r.stderr.includes(w), `${args.join(' ')}: stderr lacks ${w}:\n${r.stderr}`);
    assert.ok(!existsSync(dir), 'nothing written');
  }
});

test('refine --method drs on a critic (mlp2d) exits 2 asking for --calibrate or --critic-as-ratio; with the flag it runs', async () => {
  const { fixturesDir } = await import('../testing/fixtures.js');
  const run = join(fixturesDir(), 'mlp2d');
  const out = join(root, 'critic.npy');
  const bad = cli('refine', '--run', run, '--method', 'drs', '--n', '20', '--burn-in', '100', '--out', out, '--quiet');
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--calibrate/);
  assert.match(bad.stderr, /--critic-as-ratio/);
  assert.ok(!existsSync(out), 'nothing written');
  const ok = cli('refine', '--run', run, '--method', 'drs', '--n', '20', '--burn-in', '100', '--out', out, '--critic-as-ratio', '--quiet');
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(readNpy(out).shape, [20, 2]);
});

test('finetune-critic --method dcd writes a run that refine reads; it resumes, keeps the input run intact and refuses bad options with exit 2', () => {
  const run = join(root, 'cd-base');
  assert.equal(cli('train', '--out', run, '--steps', '20', '--finetune-d', '0', '--hidden', '16', '--layers', '1', '--batch-size', '32', '--quiet').code, 0);
  const before = readFileSync(join(run, 'discriminator.onnx'));
  const out = join(root, 'cd-run');
  const args = ['finetune-critic', '--method', 'dcd', '--run', run, '--out', out, '--steps', '8', '--batch-size', '32', '--num-steps', '3', '--space', 'data'];
  const r = cli(...args, '--json', '--quiet');
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.steps, 8);
  assert.equal(result.real, 'dataset grid25');
  const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
  assert.equal(meta.critic_training.method, 'dcd');
  assert.equal(meta.critic_training.space, 'data');
  assert.ok(readFileSync(join(run, 'discriminator.onnx')).equals(before), 'the input run is not written');
  assert.ok(!readFileSync(join(out, 'discriminator.onnx')).equals(before), 'D changed');
  const again = cli(...args, '--steps', '10', '--resume', '--quiet');
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /for 10 steps/);
  const refined = cli('refine', '--run', out, '--method', 'dcd', '--n', '50', '--out', join(root, 'cd.npy'), '--quiet');
  assert.equal(refined.code, 0, refined.stderr);
  for (const [extra, words] of [
    [
      ['--loss', 'wgan'],
      ['--loss', 'cd, ns, hinge', '"wgan"'],
    ],
    [
      ['--space', 'pixel'],
      ['--space', '"pixel"'],
    ],
    [
      ['--out', run],
      ['--out', 'not an input'],
    ],
  ] as const) {
    const bad = cli('finetune-critic', '--run', run, '--out', join(root, 'cd-bad'), ...extra);
    assert.equal(bad.code, 2, `${extra.join(' ')}: ${bad.stderr}`);
    for (const w of words) assert.ok(bad.stderr.includes(w), `${extra.join(' ')}: stderr lacks ${w}:\n${bad.stderr}`);
  }
});

test('train --model vae, then train-corrector from a GAN run: the corrected run refines with dgflow and drs; GAN options exit 2 with vae', () => {
  const gan = join(root, 'vc-gan');
  assert.equal(cli('train', '--out', gan, '--steps', '20', '--finetune-d', '0', '--hidden', '16', '--layers', '1', '--batch-size', '32', '--quiet').code, 0);
  const vae = join(root, 'vc-vae');
  const v = cli('train', '--model', 'vae', '--out', vae, '--steps', '30', '--hidden', '16', '--layers', '1', '--batch-size', '32', '--json', '--quiet');
  assert.equal(v.code, 0, v.stderr);
  assert.equal(JSON.parse(v.stdout).meta.extra.model, 'vae');
  for (const f of ['generator.onnx', 'encoder.onnx', 'meta.json']) assert.ok(existsSync(join(vae, f)), f);
  const out = join(root, 'vc-corrected');
  const c = cli('train-corrector', '--gan', gan, '--target', vae, '--out', out, '--steps', '5', '--batch-size', '32', '--quiet');
  assert.equal(c.code, 0, c.stderr);
  for (const f of ['generator.onnx', 'discriminator.onnx', 'corrector.onnx', 'meta.json']) assert.ok(existsSync(join(out, f)), f);
  assert.ok(readFileSync(join(out, 'generator.onnx')).equals(readFileSync(join(vae, 'generator.onnx'))), 'the target generator, unchanged');
  for (const method of ['dgflow', 'drs']) {
    const r = cli('refine', '--run', out, '--method', method, '--n', '40', '--out', join(root, `vc-${method}.npy`), '--quiet');
    assert.equal(r.code, 0, `${method}: ${r.stderr}`);
  }
  const bad = cli('train', '--model', 'vae', '--out', join(root, 'vc-bad'), '--loss', 'hinge');
  assert.equal(bad.code, 2);
  assert.ok(bad.stderr.includes('--loss') && bad.stderr.includes('--model mlp or dcgan'), bad.stderr);
  const noD = cli('train-corrector', '--gan', vae, '--target', vae, '--out', join(root, 'vc-bad2'));
  assert.equal(noD.code, 2, noD.stderr);
});

test('train-ratio writes the dre-* network as a run folder: refine along it equals the dre-* method, also for a VAE without D; misuse exits 2', () => {
  const gan = join(root, 'tr-gan');
  assert.equal(cli('train', '--out', gan, '--steps', '20', '--finetune-d', '0', '--hidden', '16', '--layers', '1', '--batch-size', '32', '--quiet').code, 0);
  const out = join(root, 'tr-ratio');
  const dre = ['--dataset', 'grid25', '--real-n', '1000', '--dre-steps', '20', '--seed', '3'];
  const t = cli('train-ratio', '--run', gan, '--out', out, ...dre, '--json', '--quiet');
  assert.equal(t.code, 0, t.stderr);
  const result = JSON.parse(t.stdout);
  assert.equal(result.report.steps, 20);
  assert.equal(result.real, 'dataset grid25 (n=1000, seed 3)');
  const along = join(root, 'tr-sir.npy');
  const direct = join(root, 'tr-dre-sir.npy');
  assert.equal(cli('refine', '--run', out, '--method', 'sir', '--n', '50', '--seed', '3', '--out', along, '--quiet').code, 0);
  assert.equal(cli('refine', '--run', gan, '--method', 'dre-sir', '--n', '50', ...dre, '--out', direct, '--quiet').code, 0);
  assert.ok(readFileSync(along).equals(readFileSync(direct)), 'sir along the folder and dre-sir differ');
  const vae = join(root, 'tr-vae');
  assert.equal(cli('train', '--model', 'vae', '--out', vae, '--steps', '30', '--hidden', '16', '--layers', '1', '--batch-size', '32', '--quiet').code, 0);
  const vr = cli('train-ratio', '--run', vae, '--out', join(root, 'tr-vae-ratio'), ...dre, '--quiet');
  assert.equal(vr.code, 0, vr.stderr);
  const refined = cli(
    'refine',
    '--run',
    join(root, 'tr-vae-ratio'),
    '--method',
    'dgflow',
    '--n',
    '40',
    '--num-steps',
    '3',
    '--out',
    join(root, 'tr-vae.npy'),
    '--quiet',
  );
  assert.equal(refined.code, 0, refined.stderr);
  for (const [extra, words] of [
    [
      ['--dre-steps', '0', '--dataset', 'grid25'],
      ['--dre-steps', 'positive integer', '"0"'],
    ],
    [['--step-size', '0.1', '--dataset', 'grid25'], ['--step-size']],
    [[], ['--real', 'nothing']],
    [
      ['--out', gan, '--dataset', 'grid25'],
      ['--out', 'not an input'],
    ],
  ] as const) {
    const bad = cli('train-ratio', '--run', gan, '--out', join(root, 'tr-bad'), ...extra);
    assert.equal(bad.code, 2, `${extra.join(' ')}: ${bad.stderr}`);
    for (const w of words) assert.ok(bad.stderr.includes(w), `${extra.join(' ')}: stderr lacks ${w}:\n${bad.stderr}`);
  }
});

test('train --model alphagan writes an encoder; refine --reconstruct refines the codes of real data, --latents starts from given latents; misuse exits 2', () => {
  const run = join(root, 'ag');
  const t = cli(
    'train',
    '--model',
    'alphagan',
    '--out',
    run,
    '--steps',
    '20',
    '--finetune-d',
    '5',
    '--hidden',
    '16',
    '--layers',
    '1',
    '--batch-size',
    '32',
    '--rec-weight',
    '2',
    '--json',
    '--quiet',
  );
  assert.equal(t.code, 0, t.stderr);
  assert.equal(JSON.parse(t.stdout).meta.extra.model, 'alphagan');
  for (const f of ['generator.onnx', 'discriminator.onnx', 'encoder.onnx', 'meta.json']) assert.ok(existsSync(join(run, f)), f);
  const real = join(root, 'ag-real.npy');
  assert.equal(cli('sample', '--run', run, '--n', '30', '--out', real, '--quiet').code, 0);
  const out = join(root, 'ag-rec.npy');
  const r = cli('refine', '--run', run, '--method', 'ddls', '--num-steps', '3', '--reconstruct', real, '--out', out, '--json', '--quiet');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readNpy(out).shape, [30, 2], 'one refined reconstruction per real row (--n from the file)');
  assert.ok(JSON.parse(readFileSync(out.replace(/\.npy$/, '.json'), 'utf8')).provenance.latents.includes('encoder.onnx'));
  const latents = join(root, 'ag-z.npy');
  writeFileSync(latents, encodeNpy({ data: Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), shape: [12, 2] }));
  const z = cli('refine', '--run', run, '--method', 'dot-latent', '--num-steps', '2', '--latents', latents, '--out', join(root, 'ag-z-out.npy'), '--quiet');
  assert.equal(z.code, 0, z.stderr);
  assert.deepEqual(readNpy(join(root, 'ag-z-out.npy')).shape, [12, 2]);
  const wide = join(root, 'ag-z3.npy');
  writeFileSync(wide, encodeNpy({ data: new Float32Array(36), shape: [12, 3] }));
  const misuse: [string[], string][] = [
    [['--reconstruct', real, '--method', 'drs'], 'latents'],
    [['--encoder', join(run, 'encoder.onnx'), '--method', 'ddls'], '--encoder'],
    [['--reconstruct', real, '--latents', real, '--method', 'ddls'], '--latents'],
    [['--latents', wide, '--method', 'ddls'], '--latents'],
  ];
  for (const [args, name] of misuse) {
    const m = cli('refine', '--run', run, '--out', join(root, 'ag-bad.npy'), '--quiet', ...args);
    assert.equal(m.code, 2, `${args.join(' ')}: ${m.stderr}`);
    assert.ok(m.stderr.includes(name), `${args.join(' ')}: ${m.stderr}`);
  }
  const noEncoder = cli(
    'refine',
    '--run',
    join(fixturesDir(), 'mlp2d'),
    '--method',
    'ddls',
    '--reconstruct',
    real,
    '--out',
    join(root, 'ag-bad.npy'),
    '--quiet',
  );
  assert.equal(noEncoder.code, 2, noEncoder.stderr);
  assert.ok(noEncoder.stderr.includes('--encoder'), noEncoder.stderr);
  const wrong = cli('train', '--model', 'alphagan', '--out', join(root, 'ag-bad'), '--loss', 'hinge');
  assert.equal(wrong.code, 2);
  assert.ok(wrong.stderr.includes('--loss'), wrong.stderr);
});

test('eval --fake DIR of JPEGs: the pixels PIL decodes (FD 0 against them as a .npy; a one-level shift gives its exact mean term); a .npy of uint8 pixels reads as the folder does, streamed through features too', async () => {
  const jpegs = join(repoRoot, 'test', 'fixtures', 'jpeg');
  const golden = readNpy(join(jpegs, 'golden.npy'));
  const [n, h, w] = golden.shape;
  const pixels = golden.data as Uint8Array;
  const asNpy = (shift: number) => {
    // [n, h, w, 3] bytes → [n, 3, h, w] in [-1, 1], as an image folder reads them
    const data = new Float32Array(n * 3 * h * w);
    for (let i = 0; i < n; i++)
      for (let p = 0; p < h * w; p++) for (let k = 0; k < 3; k++) data[(i * 3 + k) * h * w + p] = -1 + (2 / 255) * (pixels[(i * h * w + p) * 3 + k] + shift);
    const file = join(root, `jpeg-golden-${shift}.npy`);
    writeFileSync(file, encodeNpy({ data, shape: [n, 3, h, w] }));
    return file;
  };
  const fd = (real: string) => {
    const r = cli('eval', '--fake', join(jpegs, 'images'), '--real', real, '--metrics', 'fd', '--json', '--quiet');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).fd;
  };
  assert.ok(fd(asNpy(0)).distance < 1e-9);
  // Reading a folder whole shows its progress (a line at the end when stderr is not a terminal).
  const shown = cli('eval', '--fake', join(jpegs, 'images'), '--real', asNpy(0), '--metrics', 'fd');
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stderr, /reading --fake: 5\/5 \(100%\)/);
  const shifted = fd(asNpy(1));
  const expected = 3 * h * w * (2 / 255) ** 2;
  assert.ok(Math.abs(shifted.meanTerm - expected) < 1e-6 * expected, `mean term ${shifted.meanTerm} against ${expected}`);
  // The same pixels as a .npy of uint8 [n, 3, h, w] (torch-fidelity's format) map to [-1, 1] as the folder's do: the same bits.
  const bytes = new Uint8Array(n * 3 * h * w);
  for (let i = 0; i < n; i++) for (let p = 0; p < h * w; p++) for (let k = 0; k < 3; k++) bytes[(i * 3 + k) * h * w + p] = pixels[(i * h * w + p) * 3 + k];
  const u8 = join(root, 'jpeg-golden-u8.npy');
  writeFileSync(u8, encodeNpy({ data: bytes, shape: [n, 3, h, w] }));
  assert.equal(fd(u8).meanTerm, 0);
  // Through a feature extractor the folder is streamed (a batch of 2 images at a time): the same values as the array.
  const { Graph, int, ints } = await import('../onnx/graph.js');
  const { encodeGraph } = await import('../onnx/model.js');
  const g = new Graph();
  g.add('ReduceMean', [g.addInput('x', 'float32', ['batch', 3, h, w])], { axes: ints([2, 3]), keepdims: int(0) }, ['f']);
  g.outputs = ['f'];
  const means = join(root, 'channel-means.onnx');
  writeFileSync(means, encodeGraph(g));
  const featured = (fake: string) => {
    const r = cli('eval', '--fake', fake, '--real', asNpy(1), '--features', means, '--batch-size', '2', '--metrics', 'fd,kid', '--json', '--quiet');
    assert.equal(r.code, 0, r.stderr);
    const { fd: f, kid } = JSON.parse(r.stdout);
    return { f, kid };
  };
  assert.deepEqual(featured(join(jpegs, 'images')), featured(u8));
  // Channels last ([n, h, w, 3], numpy's image layout) is refused naming the option, not read as something else.
  const last = join(root, 'jpeg-golden-nhwc.npy');
  writeFileSync(last, encodeNpy({ data: pixels, shape: [n, h, w, 3] }));
  const r = cli('eval', '--fake', last, '--real', join(jpegs, 'images'), '--metrics', 'fd', '--quiet');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--fake: expected samples of the real data's shape \[n, 3, 16, 24\], received \[5, 16, 24, 3\]/);
});

test('export-images: a refine output as a folder of PNGs, in the output range the run records; eval reads the folder', async () => {
  const { parseMeta, metaJson } = await import('../models/meta.js');
  const { readImageFolder } = await import('../data/images.js');
  const { copyFileSync, mkdirSync, readdirSync } = await import('node:fs');
  const fx = join(fixturesDir(), 'dcgan32');
  const run = join(root, 'export-run');
  mkdirSync(run);
  for (const f of ['generator.onnx', 'discriminator.onnx']) copyFileSync(join(fx, f), join(run, f));
  // the same pair, recorded as a [0, 1] generator: the export reads the range from the run
  const meta = parseMeta(JSON.parse(readFileSync(join(fx, 'meta.json'), 'utf8')));
  writeFileSync(join(run, 'meta.json'), metaJson({ ...meta, outputRange: [0, 1], extra: {} }));
  const out = join(root, 'exported.npy');
  const r = cli('refine', '--run', run, '--method', 'sir', '--n', '5', '--out', out, '--quiet');
  assert.equal(r.code, 0, r.stderr);
  const dir = join(root, 'exported');
  const e = cli('export-images', out, '--out', dir, '--json');
  assert.equal(e.code, 0, e.stderr);
  const result = JSON.parse(e.stdout);
  assert.deepEqual(result.range, [0, 1]);
  assert.ok(String(result.rangeFrom).includes('meta.json'));
  assert.deepEqual(readdirSync(dir), ['000000.png', '000001.png', '000002.png', '000003.png', '000004.png']);
  const x = readNpy(out);
  const back = await readImageFolder(dir, { range: [0, 1] });
  assert.deepEqual(back.shape, x.shape);
  const values = x.data as Float32Array;
  for (let i = 0; i < values.length; i++) {
    const p = Math.round(Math.min(1, Math.max(0, values[i])) * 255);
    assert.equal(back.data[i], Math.fround((1 / 255) * p), `value ${i}`);
  }
  // an explicit range wins; an existing folder and a non-image array are refused
  const e2 = cli('export-images', out, '--out', join(root, 'exported-b'), '--range', '-1,1', '--json');
  assert.deepEqual(JSON.parse(e2.stdout).range, [-1, 1]);
  const again = cli('export-images', out, '--out', dir);
  assert.equal(again.code, 2);
  assert.match(
    again.stderr,
    /--out: expected a path that holds no earlier output \(overwrite \(--overwrite\) replaces it\), received the folder .* holds 000000.png/,
  );
  const replaced = cli('export-images', out, '--out', dir, '--range', '-1,1', '--overwrite', '--json');
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.deepEqual((await readImageFolder(dir, { range: [-1, 1] })).data, (await readImageFolder(join(root, 'exported-b'), { range: [-1, 1] })).data);
  // a folder replaced whole never holds the input
  const inside = join(dir, 'inside.npy');
  copyFileSync(out, inside);
  const holds = cli('export-images', inside, '--out', dir, '--range', '0,1', '--overwrite');
  assert.equal(holds.code, 2);
  assert.match(holds.stderr, /--out: expected a folder that does not hold the input/);
  assert.ok(existsSync(inside));
  rmSync(inside);
  // no recorded range (sample writes no summary): --range or --run is required, --run reads its meta.json
  const sampled = join(root, 'sampled.npy');
  assert.equal(cli('sample', '--run', run, '--n', '2', '--out', sampled, '--quiet').code, 0);
  const none = cli('export-images', sampled, '--out', join(root, 'sampled'));
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--range: expected the value range/);
  const viaRun = cli('export-images', sampled, '--out', join(root, 'sampled'), '--run', run, '--json');
  assert.equal(viaRun.code, 0, viaRun.stderr);
  assert.deepEqual(JSON.parse(viaRun.stdout).range, [0, 1]);
  const z = cli('export-images', join(fx, 'z.npy'), '--out', join(root, 'z-images'), '--range', '-1,1');
  assert.equal(z.code, 2);
  assert.match(z.stderr, /images \[n, 1 or 3, height, width\]/);
  const ev = cli('eval', '--real', dir, '--fake', join(root, 'exported-b'), '--metrics', 'fd', '--json', '--quiet');
  assert.equal(ev.code, 0, ev.stderr);
  assert.ok(JSON.parse(ev.stdout).fd.distance > 0);
});
