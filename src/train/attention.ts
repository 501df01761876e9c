/**
 * SAGAN's self-attention block (Zhang et al. 2019, "Self-Attention Generative Adversarial
 * Networks", section 3), as ONNX nodes: 1x1 convolutions, MatMul and Softmax, which Refinery's
 * autodiff differentiates and onnxruntime runs. The SAGAN trainer (sagan.ts) puts one in G and
 * one in D.
 */
import { type Graph, int, ints } from '../onnx/graph.js';
import type { ConvParam } from './dcgan.js';

/** Channels of the attention block's queries, keys and values for a feature map of `c` channels (SAGAN's C/8). */
export const attentionChannels = (c: number): number => Math.max(1, Math.floor(c / 8));

/** The parameters of a self-attention block on `c` channels, named `${prefix}.attn.*`. */
export function attentionParams(prefix: string, c: number): ConvParam[] {
  const k = attentionChannels(c);
  return [
    { name: `${prefix}.attn.query`, shape: [k, c, 1, 1], fanIn: c },
    { name: `${prefix}.attn.key`, shape: [k, c, 1, 1], fanIn: c },
    { name: `${prefix}.attn.value`, shape: [k, c, 1, 1], fanIn: c },
    { name: `${prefix}.attn.out`, shape: [c, k, 1, 1], fanIn: k },
    // gamma starts at 0 (a fan-in of 0 means a zero start in initConvParams).
    { name: `${prefix}.attn.gamma`, shape: [1], fanIn: 0 },
  ];
}

/**
 * SAGAN's self-attention (Zhang et al. 2019, eq. 1-3) on x [batch, c, h, w], N = h w positions,
 * k = c/8: queries f = W_f x, keys g = W_g x, values h = W_h x (1x1 convolutions to k channels,
 * no bias); attention beta_(j,i) = softmax over i of f(x_i) . g(x_j); o_j = W_v sum_i beta_(j,i)
 * h(x_i) (back to c channels); y = x + gamma o, gamma a learned scalar that starts at 0.
 * `p` holds the graph names of [query, key, value, out, gamma].
 */
export function selfAttention(g: Graph, x: string, c: number, [h, w]: [number, number], p: string[]): string {
  const k = attentionChannels(c);
  const flat = (weight: string) => g.op('Reshape', [g.op('Conv', [x, weight]), g.int64s([0, k, -1])]); // [batch, k, N]
  const [f, key, v] = [flat(p[0]), flat(p[1]), flat(p[2])];
  // scores[j, i] = g(x_j) . f(x_i): [batch, N, k] x [batch, k, N]; softmax over i (the last axis).
  const scores = g.op('MatMul', [g.op('Transpose', [key], { perm: ints([0, 2, 1]) }), f]);
  const beta = g.op('Softmax', [scores], { axis: int(-1) });
  // o[:, j] = sum_i beta[j, i] h(x_i): [batch, k, N] x [batch, N(i), N(j)].
  const o = g.op('MatMul', [v, g.op('Transpose', [beta], { perm: ints([0, 2, 1]) })]);
  const o4 = g.op('Reshape', [o, g.int64s([0, k, h, w])]);
  return g.op('Add', [x, g.op('Mul', [p[4], g.op('Conv', [o4, p[3]])])]);
}
