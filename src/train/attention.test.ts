import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph } from '../onnx/graph.js';
import { Session } from '../onnx/session.js';
import { Rng } from '../rng.js';
import { gradCheck } from '../testing/gradcheck.js';
import { attentionChannels, selfAttention } from './attention.js';

const [B, C, H, W] = [2, 16, 3, 4];
const K = attentionChannels(C);
const N = H * W;

/** The block in float64 from the paper's equations; `over` is the axis the softmax normalises (i: the paper's). */
function reference(x: Float32Array, w: Float32Array[], gamma: number, over: 'i' | 'j'): Float64Array {
  const [wq, wk, wv, wo] = w;
  const y = Float64Array.from(x);
  // 1x1 convolution without bias: out[b, o, n] = sum_c w[o, c] x[b, c, n].
  const conv = (wt: Float32Array, inC: number, outC: number, src: ArrayLike<number>, b: number) => {
    const out = new Float64Array(outC * N);
    for (let o = 0; o < outC; o++) for (let c = 0; c < inC; c++) for (let n = 0; n < N; n++) out[o * N + n] += wt[o * inC + c] * src[b * inC * N + c * N + n];
    return out;
  };
  for (let b = 0; b < B; b++) {
    const [f, g, h] = [conv(wq, C, K, x, b), conv(wk, C, K, x, b), conv(wv, C, K, x, b)];
    // s[j][i] = f(x_i) . g(x_j)
    const s = Array.from({ length: N }, (_, j) =>
      Array.from({ length: N }, (_, i) => {
        let a = 0;
        for (let k = 0; k < K; k++) a += f[k * N + i] * g[k * N + j];
        return a;
      }),
    );
    const beta = s.map((row) => row.slice());
    if (over === 'i') {
      for (const row of beta) {
        const m = Math.max(...row);
        const e = row.map((v) => Math.exp(v - m));
        const z = e.reduce((a, v) => a + v, 0);
        for (let i = 0; i < N; i++) row[i] = e[i] / z;
      }
    } else {
      for (let i = 0; i < N; i++) {
        const col = s.map((row) => row[i]);
        const m = Math.max(...col);
        const z = col.reduce((a, v) => a + Math.exp(v - m), 0);
        for (let j = 0; j < N; j++) beta[j][i] = Math.exp(s[j][i] - m) / z;
      }
    }
    const o = new Float64Array(K * N);
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) for (let i = 0; i < N; i++) o[k * N + j] += beta[j][i] * h[k * N + i];
    const out = conv(wo, K, C, o, 0);
    for (let c = 0; c < C; c++) for (let n = 0; n < N; n++) y[b * C * N + c * N + n] += gamma * out[c * N + n];
  }
  return y;
}

function inputs(seed: number) {
  const rng = new Rng(seed);
  const x = rng.fillNormal(new Float32Array(B * C * N));
  const w = [K * C, K * C, K * C, C * K].map((len) => rng.fillNormal(new Float32Array(len), 0, 0.4));
  return { x, w, gamma: Float32Array.of(0.7) };
}

test("the self-attention block computes SAGAN's equations (softmax over the attended positions i)", async () => {
  const { x, w, gamma } = inputs(1);
  const g = new Graph();
  const xs = g.addInput('x', 'float32', [B, C, H, W]);
  const p = [
    ...[
      [K, C, 1, 1],
      [K, C, 1, 1],
      [K, C, 1, 1],
      [C, K, 1, 1],
    ].map((shape, i) => g.float32(w[i], shape)),
    g.float32(gamma, [1]),
  ];
  g.outputs = [selfAttention(g, xs, C, [H, W], p)];
  const s = await Session.create(g, { threads: 1 });
  const y = (await s.run({ x: { data: x, shape: [B, C, H, W] } }))[g.outputs[0]].data;
  await s.release();
  const maxDiff = (ref: Float64Array) => ref.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
  const exact = maxDiff(reference(x, w, 0.7, 'i'));
  assert.ok(exact < 1e-4, `max |onnx - reference| ${exact}`);
  // Negative control: normalising over the querying positions j instead is a different block.
  const wrong = maxDiff(reference(x, w, 0.7, 'j'));
  assert.ok(wrong > 1e-2, `softmax over j differs by only ${wrong}`);
  // gamma = 0 (the block's start): the identity.
  assert.ok(maxDiff(reference(x, w, 0, 'i')) > 1e-2);
});

test('gradients of the self-attention block (input, the four 1x1 weights and gamma) match finite differences', async () => {
  const { x, w, gamma } = inputs(2);
  const shapes = [
    [K, C, 1, 1],
    [K, C, 1, 1],
    [K, C, 1, 1],
    [C, K, 1, 1],
  ];
  const spec = [
    { name: 'x', shape: [B, C, H, W], data: x },
    ...shapes.map((shape, i) => ({ name: `w${i}`, shape, data: w[i] })),
    { name: 'gamma', shape: [1], data: gamma },
  ];
  const build = (g: Graph, n: string[]) => selfAttention(g, n[0], C, [H, W], n.slice(1));
  const r = await gradCheck(build, spec, { eps: 1e-2 });
  assert.ok(r.worst < 3e-3, `worst relative error ${r.worst}: ${JSON.stringify(r.details.slice(0, 4))}`);
  const bad = await gradCheck(build, spec, { eps: 1e-2, corrupt: 1.01 });
  assert.ok(bad.worst > 3e-3, `a 1% wrong gradient passed (worst ${bad.worst})`);
});
