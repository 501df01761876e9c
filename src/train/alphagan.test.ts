/**
 * The alpha-GAN trainer: its two loss graphs compute the paper's four losses and give each network
 * the gradient of its own loss (checked against an independent float64 evaluation and central
 * differences; the encoder's gradient of the generator's loss is the negative control); it learns
 * (samples onto the ring, reconstructions close to the data, against an untrained control);
 * resumes to the same bytes through both phases; trains on images; refuses bad options by name.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sampleDataset } from '../data/sample.js';
import { encodeLatents } from '../models/encoder.js';
import { loadPair } from '../models/load.js';
import { loadGraph } from '../onnx/modelfile.js';
import { Session } from '../onnx/session.js';
import { sample } from '../refine/sample.js';
import { Rng } from '../rng.js';
import { GeneratorRunner } from '../targets/generator.js';
import { rejectsWith } from '../testing/assert.js';
import { topSingularValues } from '../testing/shapes.js';
import { ALPHAGAN_DEFAULTS, type AlphaGanOptions, alphaAutoencoderGraph, alphaCriticGraph, alphaGanNets, trainAlphaGan } from './alphagan.js';
import { feedParams } from './common.js';
import { initParams, type ParamSpec } from './mlp.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'refinery-alphagan-'));

/** An MLP's output in float64: Gemm layers (W [out, in]), ReLU or leaky ReLU (0.2) between them. */
function mlp(values: Float32Array[], x: number[], leaky: boolean): number[] {
  let h = x;
  const layers = values.length / 2;
  for (let l = 0; l < layers; l++) {
    const [w, b] = [values[2 * l], values[2 * l + 1]];
    const out = b.length;
    const next = Array.from({ length: out }, (_, o) => h.reduce((a, v, i) => a + w[o * h.length + i] * v, b[o]));
    h = l + 1 < layers ? next.map((v) => (v > 0 ? v : leaky ? 0.2 * v : 0)) : next;
  }
  return h;
}

const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));

test("the loss graphs compute the paper's losses, and each network gets the gradient of its own loss", async () => {
  const o: AlphaGanOptions = { ...ALPHAGAN_DEFAULTS, out: 'unused', hidden: 5, layers: 1, codeHidden: 4, latentDim: 2 };
  const n = alphaGanNets(o);
  const rng = new Rng(3);
  const P = {
    g: initParams(n.gParams, rng.fork(1)),
    e: initParams(n.eParams, rng.fork(2)),
    d: initParams(n.dParams, rng.fork(3)),
    c: initParams(n.cParams, rng.fork(4)),
  };
  const B = 6;
  const x = rng.fillNormal(new Float32Array(B * 2));
  const z = rng.fillNormal(new Float32Array(B * 2));
  const lambda = 0.7;
  const row = (a: Float32Array, i: number) => Array.from(a.subarray(2 * i, 2 * i + 2));
  /** The four losses in float64 from the parameters. */
  const losses = (p: typeof P) => {
    let [lD, lC, rec, dHat, dGen, cHat] = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < B; i++) {
      const zHat = mlp(p.e, row(x, i), false);
      const xHat = mlp(p.g, zHat, false);
      const xGen = mlp(p.g, row(z, i), false);
      const [dx, dh, dg] = [mlp(p.d, row(x, i), false)[0], mlp(p.d, xHat, false)[0], mlp(p.d, xGen, false)[0]];
      const [cz, ch] = [mlp(p.c, row(z, i), true)[0], mlp(p.c, zHat, true)[0]];
      lD += softplus(-dx) + softplus(dh) + softplus(dg);
      lC += softplus(-cz) + softplus(ch);
      rec += row(x, i).reduce((a, v, j) => a + Math.abs(v - xHat[j]), 0) / 2;
      dHat += dh;
      dGen += dg;
      cHat += ch;
    }
    return { D: lD / B, C: lC / B, E: (lambda * rec - cHat) / B, G: (lambda * rec - dHat - dGen) / B, rec: rec / B };
  };
  const feeds = (p: typeof P) => ({
    ...feedParams(n.gParams, p.g),
    ...feedParams(n.eParams, p.e),
    ...feedParams(n.dParams, p.d),
    ...feedParams(n.cParams, p.c),
    x: { data: x, shape: [B, 2] },
    z: { data: z, shape: [B, 2] },
  });
  const critic = alphaCriticGraph(n);
  const auto = alphaAutoencoderGraph(n, lambda);
  const [cs, as] = [await Session.create(critic), await Session.create(auto)];
  try {
    const want = losses(P);
    const outC = await cs.run(feeds(P));
    const outA = await as.run(feeds(P));
    const value = (out: typeof outC, name: string) => out[name].data[0];
    const close = (got: number, exp: number, what: string) =>
      assert.ok(Math.abs(got - exp) <= 1e-5 * (1 + Math.abs(exp)), `${what}: graph ${got}, formula ${exp}`);
    close(value(outC, critic.outputs[0]), want.D, 'L_D');
    close(value(outC, critic.outputs[1]), want.C, 'L_C');
    close(value(outA, auto.outputs[0]), want.E, 'L_E');
    close(value(outA, auto.outputs[1]), want.G, 'L_G');
    close(value(outA, auto.outputs[2]), want.rec, 'rec');

    // Gradients: outputs after the losses, in the order [D, C] (critic) and [E, G] (auto-encoder).
    const gradOf = (out: typeof outC, names: string[], specs: ParamSpec[][], net: number, param: number) => {
      const offset = specs.slice(0, net).reduce((a, s) => a + s.length, 0);
      return out[names[offset + param]].data as Float32Array;
    };
    const h = 1e-3;
    const fd = (net: 'g' | 'e' | 'd' | 'c', param: number, i: number, loss: (l: ReturnType<typeof losses>) => number) => {
      const bump = (s: number) => {
        const p = { ...P, [net]: P[net].map((v, k) => (k === param ? Float32Array.from(v, (w, j) => (j === i ? w + s : w)) : v)) };
        return loss(losses(p));
      };
      return (bump(h) - bump(-h)) / (2 * h);
    };
    const pick = new Rng(9);
    let controlGap = 0;
    for (const [net, specs, names, loss, index] of [
      ['d', [n.dParams, n.cParams], critic.outputs.slice(2), (l: ReturnType<typeof losses>) => l.D + l.C, 0],
      ['c', [n.dParams, n.cParams], critic.outputs.slice(2), (l: ReturnType<typeof losses>) => l.D + l.C, 1],
      ['e', [n.eParams, n.gParams], auto.outputs.slice(3), (l: ReturnType<typeof losses>) => l.E, 0],
      ['g', [n.eParams, n.gParams], auto.outputs.slice(3), (l: ReturnType<typeof losses>) => l.G, 1],
    ] as const) {
      const out = net === 'd' || net === 'c' ? outC : outA;
      for (let param = 0; param < P[net].length; param++) {
        const grad = gradOf(out, names as unknown as string[], specs as unknown as ParamSpec[][], index, param);
        for (let t = 0; t < 3; t++) {
          const i = Math.floor(pick.uniform() * grad.length);
          const num = fd(net, param, i, loss);
          assert.ok(Math.abs(grad[i] - num) <= 2e-3 * (1 + Math.abs(num)), `${net} param ${param}[${i}]: graph ${grad[i]}, central difference ${num}`);
          if (net === 'e') controlGap = Math.max(controlGap, Math.abs(grad[i] - fd('e', param, i, (l) => l.G)));
        }
      }
    }
    // Negative control: the generator's loss (with D's terms) gives the encoder another gradient.
    assert.ok(controlGap > 1e-2, `E's gradient of L_G equals that of L_E (gap ${controlGap})`);
  } finally {
    await cs.release();
    await as.release();
  }
});

/** Mean distance of 2-D points to the circle of radius 2 (ring8's radius). */
function ringDistance(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length / 2; i++) s += Math.abs(Math.hypot(x[2 * i], x[2 * i + 1]) - 2);
  return s / (x.length / 2);
}

test('on ring8 the generator moves onto the ring and G(E(x)) reconstructs held-out data (against an untrained control)', async () => {
  const dir = tmp();
  try {
    const o = { ...ALPHAGAN_DEFAULTS, hidden: 64, layers: 2, finetuneD: 300 };
    const measure = async (run: string) => {
      const pair = loadPair({ run });
      const samples = (await sample(pair, { n: 2000, seed: 1 })).samples.data;
      const real = sampleDataset('ring8', 2000, { seed: 5 });
      const z = await encodeLatents(loadGraph(join(run, 'encoder.onnx')), real, { latentDim: 2 });
      const g = await GeneratorRunner.create(pair);
      const rec = (await g.generate(z)).data;
      await g.release();
      const err = rec.reduce((a, v, i) => a + Math.abs(v - real.data[i]), 0) / rec.length;
      return { ring: ringDistance(samples), rec: err };
    };
    await trainAlphaGan({ ...o, steps: 1, finetuneD: 0, out: join(dir, 'untrained') });
    const r = await trainAlphaGan({ ...o, steps: 1500, out: join(dir, 'trained') });
    assert.equal(r.steps, 1800);
    const [before, after] = [await measure(join(dir, 'untrained')), await measure(join(dir, 'trained'))];
    assert.ok(after.ring < 0.3 && after.ring < 0.25 * before.ring, `ring distance untrained ${before.ring}, trained ${after.ring}`);
    assert.ok(after.rec < 0.15 && after.rec < 0.15 * before.rec, `reconstruction error untrained ${before.rec}, trained ${after.rec}`);
    const meta = JSON.parse(readFileSync(join(dir, 'trained', 'meta.json'), 'utf8'));
    assert.equal(meta.model, 'alphagan');
    assert.equal(meta.d_output, 'logit');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an interrupted run resumes to the same bytes, in training and in the D fine-tuning phase', async () => {
  const dir = tmp();
  try {
    // Progress (and so the stops below) comes every 50 steps: step 50 is in training, 100 in fine-tuning.
    const o = { ...ALPHAGAN_DEFAULTS, hidden: 16, layers: 1, codeHidden: 8, batchSize: 32, steps: 60, finetuneD: 60, checkpointEvery: 20 };
    await trainAlphaGan({ ...o, out: join(dir, 'whole') });
    const stopAt = async (step: number, resume: boolean) => {
      const ctl = new AbortController();
      await rejectsWith(
        trainAlphaGan(
          { ...o, out: join(dir, 'split'), resume },
          {
            signal: ctl.signal,
            onProgress: (p) => {
              if (p.step === step) ctl.abort();
            },
          },
        ),
        'cancelled',
      );
    };
    await stopAt(50, false);
    await stopAt(100, true);
    const r = await trainAlphaGan({ ...o, out: join(dir, 'split'), resume: true });
    assert.equal(r.resumedFrom, 100);
    for (const f of ['generator.onnx', 'discriminator.onnx', 'encoder.onnx'])
      assert.ok(readFileSync(join(dir, 'split', f)).equals(readFileSync(join(dir, 'whole', f))), `${f} differs after two resumes`);
    const other = await trainAlphaGan({ ...o, seed: 1, out: join(dir, 'other') });
    assert.ok(!readFileSync(join(other.dir, 'encoder.onnx')).equals(readFileSync(join(dir, 'whole', 'encoder.onnx'))), 'seed 1 gave the bytes of seed 0');
    await rejectsWith(trainAlphaGan({ ...o, recWeight: 2, out: join(dir, 'split'), resume: true }), 'invalid_argument', 'recWeight');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('on images (shapes28) it trains convolutional networks: the encoder gives latentDim codes, D is spectrally normalised', async (t) => {
  const dir = tmp();
  try {
    const o = {
      ...ALPHAGAN_DEFAULTS,
      dataset: 'shapes28',
      latentDim: 8,
      layers: 2,
      width: 8,
      codeHidden: 16,
      batchSize: 16,
      steps: 100,
      finetuneD: 20,
      spectralNorm: true,
    };
    const r = await trainAlphaGan({ ...o, out: join(dir, 'sn') });
    assert.ok(Number.isFinite(r.lossD) && Number.isFinite(r.lossG));
    assert.deepEqual(r.meta.dataShape, [1, 28, 28]);
    const x = sampleDataset('shapes28', 5, { seed: 2 });
    const z = await encodeLatents(loadGraph(join(dir, 'sn', 'encoder.onnx')), x, { latentDim: 8 });
    assert.deepEqual(z.shape, [5, 8]);
    for (const [name, sigma] of topSingularValues(join(dir, 'sn', 'discriminator.onnx'))) {
      t.diagnostic(`D ${name}: ${sigma}`);
      assert.ok(sigma > 0.98 && sigma < 1.1, `D ${name}: largest singular value ${sigma}`);
    }
    // The control: the same run without spectral norm.
    const plain = await trainAlphaGan({ ...o, spectralNorm: false, out: join(dir, 'plain') });
    const sv = [...topSingularValues(join(plain.dir, 'discriminator.onnx')).values()];
    assert.ok(
      sv.some((s) => s > 1.1 || s < 0.98),
      `without spectral norm D's largest singular values ${sv}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad options name the option', async () => {
  for (const [bad, path] of [
    [{ steps: 0 }, 'steps'],
    [{ recWeight: -1 }, 'recWeight'],
    [{ dataset: 'cifar' }, 'dataset'],
    [{ lrD: 2 }, 'lrD'],
    [{ codeHidden: 1.5 }, 'codeHidden'],
    [{ dataset: 'mnist', layers: 3 }, 'layers'],
  ] as const) {
    await rejectsWith(
      trainAlphaGan({ ...ALPHAGAN_DEFAULTS, ...bad, out: join(tmpdir(), 'refinery-alphagan-never') } as AlphaGanOptions),
      'invalid_argument',
      path,
    );
  }
});
