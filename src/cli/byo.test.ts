/**
 * Bring your own model: a PyTorch-style image GAN written as ONNX (BatchNormalization in eval mode,
 * nearest upsampling, max and average pooling, a self-attention block) goes through
 * `refinery refine` with every method, end to end.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readNpy, writeNpy } from '../io/npyfile.js';
import { inline } from '../onnx/compose.js';
import { encodeGraph } from '../onnx/model.js';
import { float, Graph, int, ints, str } from '../onnx/graph.js';
import { Rng } from '../rng.js';
import { repoRoot } from '../testing/fixtures.js';
import { gradCheck } from '../testing/gradcheck.js';
import { METHOD_IDS, METHODS } from '../refine/registry.js';

const main = join(repoRoot, 'dist', 'cli', 'main.js');
const root = mkdtempSync(join(tmpdir(), 'refinery-byo-'));
after(() => rmSync(root, { recursive: true, force: true }));

const LATENT = 8;

function weight(g: Graph, shape: number[], seed: number, scale: number): string {
  const n = shape.reduce((a, b) => a * b, 1);
  return g.float32(new Rng(seed).fillNormal(new Float32Array(n), 0, scale), shape);
}

/** G: z -> Gemm -> [4, 4, 4] -> BatchNorm (eval) -> ReLU -> Resize x2 (nearest) -> Conv 3x3 -> Tanh: [1, 8, 8]. */
function generator(): Graph {
  const g = new Graph();
  const z = g.addInput('z', 'float32', ['batch', LATENT]);
  const h = g.op('Gemm', [z, weight(g, [LATENT, 64], 1, 0.5), weight(g, [64], 2, 0.1)]);
  const img = g.op('Reshape', [h, g.int64s([-1, 4, 4, 4])]);
  const bn = g.op(
    'BatchNormalization',
    [img, weight(g, [4], 3, 0.3), weight(g, [4], 4, 0.1), weight(g, [4], 5, 0.2), g.float32(Float32Array.of(0.5, 1.5, 0.8, 2), [4])],
    { epsilon: float(1e-5) },
  );
  const up = g.op('Resize', [g.op('Relu', [bn]), '', g.float32(Float32Array.of(1, 1, 2, 2), [4])], {
    mode: str('nearest'),
    coordinate_transformation_mode: str('asymmetric'),
    nearest_mode: str('floor'),
  });
  const x = g.op('Tanh', [g.op('Conv', [up, weight(g, [1, 4, 3, 3], 6, 0.3), weight(g, [1], 7, 0.1)], { pads: ints([1, 1, 1, 1]) })]);
  g.outputs = [g.op('Identity', [x])];
  return g;
}

/** D: x -> Conv 3x3 (8) -> LeakyReLU -> MaxPool 2 -> self-attention over the 16 positions -> AveragePool 2 -> Flatten -> Gemm -> logit. */
function discriminator(): Graph {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 1, 8, 8]);
  const c = g.op('LeakyRelu', [g.op('Conv', [x, weight(g, [8, 1, 3, 3], 11, 0.5), weight(g, [8], 12, 0.1)], { pads: ints([1, 1, 1, 1]) })], {
    alpha: float(0.2),
  });
  const p = g.op('MaxPool', [c], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) });
  const seq = g.op('Transpose', [g.op('Reshape', [p, g.int64s([0, 8, 16])])], { perm: ints([0, 2, 1]) });
  const q = g.op('MatMul', [seq, weight(g, [8, 8], 13, 0.3)]);
  const k = g.op('MatMul', [seq, weight(g, [8, 8], 14, 0.3)]);
  const v = g.op('MatMul', [seq, weight(g, [8, 8], 15, 0.3)]);
  const att = g.op('Softmax', [g.op('Div', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: ints([0, 2, 1]) })]), g.scalar(Math.sqrt(8))])], {
    axis: int(-1),
  });
  const mixed = g.op('Add', [seq, g.op('MatMul', [att, v])]);
  const back = g.op('Reshape', [g.op('Transpose', [mixed], { perm: ints([0, 2, 1]) }), g.int64s([0, 8, 4, 4])]);
  const pooled = g.op('AveragePool', [back], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) });
  const logit = g.op('Gemm', [g.op('Flatten', [pooled], { axis: int(1) }), weight(g, [32, 1], 16, 0.3), weight(g, [1], 17, 0.1)]);
  g.outputs = [g.op('Identity', [logit])];
  return g;
}

test('the gradient of D(G(z)) through that model matches finite differences (and a 1% error fails)', async () => {
  const gen = generator();
  const disc = discriminator();
  const build = (g: Graph, [z]: string[]) => {
    const x = inline(g, gen, 'g/', { z })[gen.outputs[0]];
    return inline(g, disc, 'd/', { x })[disc.outputs[0]];
  };
  const inputs = [{ name: 'z', shape: [3, LATENT] }];
  const r = await gradCheck(build, inputs, { directions: 6, eps: 1e-3 });
  assert.ok(r.worst < 3e-3, `worst ${r.worst}: ${JSON.stringify(r.details)}`);
  const bad = await gradCheck(build, inputs, { directions: 6, eps: 1e-3, corrupt: 1.01 });
  assert.ok(bad.worst > 3e-3, `corrupted gradient passed (worst ${bad.worst})`);
});

test('a PyTorch-style image GAN (BatchNorm, upsampling, max/average pooling, self-attention) refines with every method', () => {
  const gPath = join(root, 'G.onnx');
  const dPath = join(root, 'D.onnx');
  writeFileSync(gPath, encodeGraph(generator()));
  writeFileSync(dPath, encodeGraph(discriminator()));
  // Held-out "real" images for MH starts and the DRE critics.
  const real = new Rng(99).fillUniform(new Float32Array(64 * 64), -1, 1);
  writeNpy(join(root, 'real.npy'), { data: real, shape: [64, 1, 8, 8] });
  const base = [
    '--generator',
    gPath,
    '--discriminator',
    dPath,
    '--latent-prior',
    'normal',
    '--d-output',
    'logit',
    '--n',
    '12',
    '--batch-size',
    '6',
    '--real',
    join(root, 'real.npy'),
    '--json',
    '--quiet',
  ];
  const extra: Record<string, string[]> = {
    mh: ['--chain-length', '3'],
    'dre-mh': ['--chain-length', '3'],
    drs: ['--burn-in', '64'],
    'dre-rs': ['--burn-in', '64'],
  };
  const gen = join(root, 'gen.npy');
  const s = spawnSync(process.execPath, [main, 'sample', '--generator', gPath, '--latent-prior', 'normal', '--n', '12', '--out', gen, '--quiet'], {
    encoding: 'utf8',
  });
  assert.equal(s.status, 0, s.stderr);
  const before = readFileSync(gen);
  for (const id of METHOD_IDS) {
    const args = [...base, ...(extra[id] ?? [])];
    if (id.startsWith('dre-')) args.push('--dre-steps', '5');
    if (METHODS[id].family === 'dynamics') args.push('--num-steps', '3');
    const out = join(root, `${id}.npy`);
    const r = spawnSync(process.execPath, [main, 'refine', '--method', id, '--out', out, ...args], {
      encoding: 'utf8',
      env: { ...process.env, REFINERY_THREADS: '1' },
    });
    assert.equal(r.status, 0, `${id}: exit ${r.status}\n${r.stderr}`);
    const summary = JSON.parse(r.stdout);
    assert.deepEqual(summary.shape, [12, 1, 8, 8], id);
    const arr = readNpy(out);
    assert.ok((arr.data as Float32Array).every(Number.isFinite), `${id}: non-finite samples`);
    assert.ok(!readFileSync(out).equals(before), `${id}: samples identical to the generator's`);
    if (summary.summary.nonFinite !== undefined) assert.equal(summary.summary.nonFinite, 0, `${id}: non-finite steps`);
  }
});
