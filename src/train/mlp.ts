/** Multi-layer perceptrons as ONNX subgraphs, with their parameters as separate tensors. */
import { type Graph, float, int } from '../onnx/graph.js';
import type { Rng } from '../rng.js';

/** Activation of an MLP's hidden layers: ReLU, LeakyReLU (slope 0.2) or tanh. */
export type Activation = 'relu' | 'leaky_relu' | 'tanh';

export interface MlpSpec {
  /** Layer widths, input first: [2, 128, 128, 128, 1]. */
  sizes: number[];
  activation: Activation;
  /** Activation after the last layer ('none' for GANs on R^2 and logits). */
  output: 'none' | 'tanh' | 'sigmoid';
}

/** One weight [out, in] (PyTorch layout, used with Gemm transB=1) and one bias [out] per layer. */
export interface ParamSpec {
  name: string;
  shape: number[];
}

export function mlpParams(spec: MlpSpec, prefix: string): ParamSpec[] {
  const out: ParamSpec[] = [];
  for (let l = 0; l + 1 < spec.sizes.length; l++) {
    out.push({ name: `${prefix}${l}.weight`, shape: [spec.sizes[l + 1], spec.sizes[l]] });
    out.push({ name: `${prefix}${l}.bias`, shape: [spec.sizes[l + 1]] });
  }
  return out;
}

/** PyTorch's default Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases. */
export function initParams(params: ParamSpec[], rng: Rng): Float32Array[] {
  return params.map((p) => {
    const fanIn = p.shape.length === 2 ? p.shape[1] : params.find((q) => q.name === p.name.replace('.bias', '.weight'))!.shape[1];
    const bound = 1 / Math.sqrt(fanIn);
    return rng.fillUniform(new Float32Array(p.shape.reduce((a, b) => a * b, 1)), -bound, bound);
  });
}

/** Append the MLP on `input` to g, reading parameters from the named values. Returns the output. */
export function appendMlp(g: Graph, spec: MlpSpec, input: string, params: string[]): string {
  let h = input;
  const layers = spec.sizes.length - 1;
  for (let l = 0; l < layers; l++) {
    h = g.op('Gemm', [h, params[2 * l], params[2 * l + 1]], { transB: int(1) });
    if (l + 1 < layers) {
      if (spec.activation === 'relu') h = g.op('Relu', [h]);
      else if (spec.activation === 'leaky_relu') h = g.op('LeakyRelu', [h], { alpha: float(0.2) });
      else h = g.op('Tanh', [h]);
    }
  }
  if (spec.output === 'tanh') h = g.op('Tanh', [h]);
  else if (spec.output === 'sigmoid') h = g.op('Sigmoid', [h]);
  return h;
}
