/**
 * The penalised D losses against their formulas, computed here in float64 on a small case with a
 * D whose input gradient differs between samples: G(z) = z + a, D(x) = x w + b + (q/2)|x|^2, so
 * grad_x D = w + q x. The loss graph's value must match, and its parameter gradients must match
 * central finite differences of the formula.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefineryError } from '../errors.js';
import { int } from '../onnx/graph.js';
import { Session } from '../onnx/session.js';
import { Rng } from '../rng.js';
import { discriminatorLossGraph, feedParams, type GanLoss, type GanNets } from './loop.js';
import type { ParamSpec } from './mlp.js';

const B = 6;
const dParams: ParamSpec[] = [
  { name: 'w', shape: [2, 1] },
  { name: 'b', shape: [1] },
  { name: 'q', shape: [1] },
];
const nets: GanNets = {
  latentDim: 2,
  dataShape: [2],
  gParams: [{ name: 'a', shape: [2] }],
  dParams,
  generator: (g, z, [a]) => g.op('Add', [z, a]),
  discriminator: (g, x, [w, b, q]) => {
    const sq = g.op('ReduceSum', [g.op('Mul', [x, x]), g.int64s([1])], { keepdims: int(1) });
    return g.op('Add', [g.op('Add', [g.op('MatMul', [x, w]), b]), g.op('Mul', [g.op('Mul', [sq, q]), g.scalar(0.5)])]);
  },
  initParams: () => [],
};

/** The D loss of `loss` in float64, for D params [w0, w1, b, q]. */
function formula(loss: GanLoss, p: number[], real: Float32Array, fake: number[], eps: Float32Array, lambda: number): number {
  const [w0, w1, b, q] = p;
  const D = (x0: number, x1: number) => x0 * w0 + x1 * w1 + b + 0.5 * q * (x0 * x0 + x1 * x1);
  let fakeTerm = 0;
  let realTerm = 0;
  const slopes: number[] = [];
  for (let i = 0; i < B; i++) {
    const [r0, r1, f0, f1] = [real[2 * i], real[2 * i + 1], fake[2 * i], fake[2 * i + 1]];
    fakeTerm += (loss === 'lgan' ? Math.exp(D(f0, f1)) : D(f0, f1)) / B;
    realTerm += (loss === 'lgan' ? Math.exp(-D(r0, r1)) : -D(r0, r1)) / B;
    const h0 = eps[i] * r0 + (1 - eps[i]) * f0;
    const h1 = eps[i] * r1 + (1 - eps[i]) * f1;
    slopes.push(Math.hypot(w0 + q * h0, w1 + q * h1));
  }
  const penalty = loss === 'lgan' ? Math.max(...slopes) ** 2 : slopes.reduce((s, k) => s + (k - 1) ** 2, 0) / B;
  return fakeTerm + realTerm + lambda * penalty;
}

for (const loss of ['wgan-gp', 'lgan'] as const) {
  test(`${loss}: the D loss graph's value and parameter gradients match the formula (finite differences)`, async () => {
    const rng = new Rng(41, loss.length);
    const real = rng.fillNormal(new Float32Array(2 * B));
    const z = rng.fillNormal(new Float32Array(2 * B));
    const eps = rng.fillUniform(new Float32Array(B));
    const a = Float32Array.of(0.3, -0.2);
    const p = [0.7, -0.4, 0.1, 0.5];
    const lambda = 0.8;
    const fake = Array.from(z, (v, i) => Math.fround(v + a[i % 2]));
    const s = await Session.create(discriminatorLossGraph(nets, loss, lambda));
    const out = await s.run({
      ...feedParams(dParams, [Float32Array.of(p[0], p[1]), Float32Array.of(p[2]), Float32Array.of(p[3])]),
      ...feedParams(nets.gParams, [a]),
      real: { data: real, shape: [B, 2] },
      z: { data: z, shape: [B, 2] },
      eps: { data: eps, shape: [B, 1] },
    });
    await s.release();
    const [value, gw, gb, gq] = s.outputNames.map((name) => out[name].data);
    const expected = formula(loss, p, real, fake, eps, lambda);
    assert.ok(Math.abs(value[0] - expected) < 1e-5 * Math.max(1, Math.abs(expected)), `loss ${value[0]} vs ${expected}`);
    const got = [gw[0], gw[1], gb[0], gq[0]];
    const h = 1e-6;
    for (let k = 0; k < 4; k++) {
      const up = [...p];
      const down = [...p];
      up[k] += h;
      down[k] -= h;
      const fd = (formula(loss, up, real, fake, eps, lambda) - formula(loss, down, real, fake, eps, lambda)) / (2 * h);
      assert.ok(Math.abs(got[k] - fd) < 1e-3 * Math.max(1, Math.abs(fd)), `${loss}: dL/dp${k} ${got[k]} vs ${fd}`);
    }
    // Negative control: the other loss's formula is not this graph's value.
    const other = formula(loss === 'lgan' ? 'wgan-gp' : 'lgan', p, real, fake, eps, lambda);
    assert.ok(Math.abs(value[0] - other) > 1e-2, 'the two losses coincide on this case');
  });
}

// WoW on images: G(z) = reshape(z + a) to [1, 3, 3], D(x) = <w, x> + b + (q/2)|x|^2 over the 9
// pixels, so grad_x D = w + q x; the penalty's norm is the Wasserstein-2 norm on the 4-neighbour
// grid (12 edges), theta_ij = (p_i + p_j) / 2 with p = (x + 1) / 2.
const S = 3;
const P = S * S;
const imageNets: GanNets = {
  latentDim: P,
  dataShape: [1, S, S],
  gParams: [{ name: 'a', shape: [P] }],
  dParams: [
    { name: 'w', shape: [P, 1] },
    { name: 'b', shape: [1] },
    { name: 'q', shape: [1] },
  ],
  generator: (g, z, [a]) => g.op('Reshape', [g.op('Add', [z, a]), g.int64s([0, 1, S, S])]),
  discriminator: (g, x, [w, b, q]) => {
    const flat = g.op('Flatten', [x], { axis: int(1) });
    const sq = g.op('ReduceSum', [g.op('Mul', [flat, flat]), g.int64s([1])], { keepdims: int(1) });
    return g.op('Add', [g.op('Add', [g.op('MatMul', [flat, w]), b]), g.op('Mul', [g.op('Mul', [sq, q]), g.scalar(0.5)])]);
  },
  initParams: () => [],
};

/** WoW's D loss in float64 for params [w_0..w_8, b, q]; `euclidean` gives WGAN-GP's norm instead (the negative control). */
function wowFormula(p: number[], real: Float32Array, fake: number[], eps: Float32Array, lambda: number, euclidean = false): number {
  const w = p.slice(0, P);
  const [b, q] = [p[P], p[P + 1]];
  const D = (x: number[]) => x.reduce((s, v, i) => s + v * w[i] + 0.5 * q * v * v, b);
  let total = 0;
  for (let n = 0; n < B; n++) {
    const r = Array.from(real.subarray(n * P, (n + 1) * P));
    const f = fake.slice(n * P, (n + 1) * P);
    const h = r.map((v, i) => eps[n] * v + (1 - eps[n]) * f[i]);
    const grad = h.map((v, i) => w[i] + q * v);
    let sq = 0;
    if (euclidean) for (const g of grad) sq += g * g;
    else {
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const i = y * S + x;
          for (const j of [x + 1 < S ? i + 1 : -1, y + 1 < S ? i + S : -1]) {
            if (j < 0) continue;
            const theta = ((h[i] + 1) / 2 + (h[j] + 1) / 2) / 2;
            sq += theta * (grad[i] - grad[j]) ** 2;
          }
        }
      }
    }
    total += (D(f) - D(r) + lambda * (Math.sqrt(sq) - 1) ** 2) / B;
  }
  return total;
}

test("wow: the D loss graph's value and parameter gradients match the Wasserstein-2 penalty's formula (finite differences)", async () => {
  const rng = new Rng(43);
  // Pixels in [-1, 1], as images are.
  const real = rng.fillUniform(new Float32Array(B * P), -1, 1);
  const z = rng.fillUniform(new Float32Array(B * P), -0.8, 0.8);
  const eps = rng.fillUniform(new Float32Array(B));
  const a = rng.fillUniform(new Float32Array(P), -0.2, 0.2);
  const p = Array.from(rng.fillNormal(new Float64Array(P + 2)));
  const lambda = 0.8;
  const fake = Array.from(z, (v, i) => Math.fround(v + a[i % P]));
  const s = await Session.create(discriminatorLossGraph(imageNets, 'wow', lambda));
  const out = await s.run({
    ...feedParams(imageNets.dParams, [Float32Array.from(p.slice(0, P)), Float32Array.of(p[P]), Float32Array.of(p[P + 1])]),
    ...feedParams(imageNets.gParams, [a]),
    real: { data: real, shape: [B, 1, S, S] },
    z: { data: z, shape: [B, P] },
    eps: { data: eps, shape: [B, 1, 1, 1] },
  });
  await s.release();
  const [value, gw, gb, gq] = s.outputNames.map((name) => out[name].data);
  const expected = wowFormula(p, real, fake, eps, lambda);
  assert.ok(Math.abs(value[0] - expected) < 1e-5 * Math.max(1, Math.abs(expected)), `loss ${value[0]} vs ${expected}`);
  const got = [...gw, gb[0], gq[0]];
  const h = 1e-6;
  for (let k = 0; k < P + 2; k++) {
    const up = [...p];
    const down = [...p];
    up[k] += h;
    down[k] -= h;
    const fd = (wowFormula(up, real, fake, eps, lambda) - wowFormula(down, real, fake, eps, lambda)) / (2 * h);
    assert.ok(Math.abs(got[k] - fd) < 1e-3 * Math.max(1, Math.abs(fd)), `wow: dL/dp${k} ${got[k]} vs ${fd}`);
  }
  // Negative control: WGAN-GP's Euclidean norm gives another value.
  const euclid = wowFormula(p, real, fake, eps, lambda, true);
  assert.ok(Math.abs(value[0] - euclid) > 1e-2, `WoW and WGAN-GP coincide here (${value[0]} vs ${euclid})`);
});

test('wow on 2-D points is refused, naming the loss', () => {
  assert.throws(
    () => discriminatorLossGraph(nets, 'wow', 1),
    (e: unknown) => e instanceof RefineryError && e.issues[0].path === 'loss',
  );
});
