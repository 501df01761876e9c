/**
 * The penalised D losses against their formulas, computed here in float64 on a small case with a
 * D whose input gradient differs between samples: G(z) = z + a, D(x) = x w + b + (q/2)|x|^2, so
 * grad_x D = w + q x. The loss graph's value must match, and its parameter gradients must match
 * central finite differences of the formula.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
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
