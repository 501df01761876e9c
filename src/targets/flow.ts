/**
 * The drift field of Discriminator Gradient flow (DGflow, Ansari, Ang & Soh, ICLR 2021) as one
 * ONNX graph: the potential V = f'(u) of an f-divergence evaluated at the frozen density ratio
 * u(x) = p_g(x) / p_data(x) = exp(-logRatio(x)), and its emitted backward pass, drift = -grad V.
 *
 * With l = logRatio (the discriminator's estimate of log p_data/p_g, plus an optional corrector's
 * logit) and u = e^{-l}, the chain rule gives -grad f'(u) = u f''(u) grad l, i.e. a weight s(l) on
 * grad l. Up to additive constants, which do not change the drift:
 *
 *   KL    f(u) = u log u                          f'(u) = log u + 1          V = -l               s = 1
 *   JS    f(u) = u log u - (1 + u) log((1+u)/2)   f'(u) = log(2u / (1 + u))  V = -softplus(l)     s = sigmoid(l)
 *   log D f(u) = (1 + u) log(1 + u) - 2 log 2     f'(u) = log(1 + u) + 1     V = softplus(-l)     s = sigmoid(-l)
 *
 * (In terms of r = e^l = p_data/p_g: V_KL = -log r, V_JS = -log(1 + r), V_logD = log(1 + 1/r).)
 * Softplus/Sigmoid keep every weight finite for any finite logit.
 *
 * Data space: the input is x and l = logRatio(x). Latent space: the input is z and
 * l = logRatio(G(z)); this is the paper's latent-space DGflow (Algorithm 1 and the authors'
 * release), where the latent ratio rho_0/mu_Z = p0(z) / (p0(z) e^{l(G(z))}) = e^{-l(G(z))} carries
 * no prior term. `priorDrift` adds grad log p0(z) (= -z for a normal prior, 0 inside the box of a
 * uniform one) to the drift: with KL and noise gamma = 1 the flow is then exactly DDLS's Langevin
 * dynamics on p0(z) e^{l(G(z))}. That variant is not the paper's algorithm.
 */
import { fail } from '../errors.js';
import { differentiate } from '../onnx/autodiff.js';
import { inline } from '../onnx/compose.js';
import { Graph } from '../onnx/graph.js';
import { filled, fmtShape } from '../onnx/ops/util.js';
import { Session, type SessionOptions } from '../onnx/session.js';
import type { ModelPair } from '../models/pair.js';
import type { Tensor } from '../tensor.js';
import { appendGenerator, appendLogRatio, priorEnergy } from './logratio.js';
import { discriminatorGraph } from '../models/pair.js';

/** The f-divergences DGflow can follow: KL, Jensen-Shannon and log D. */
export const DIVERGENCES = ['kl', 'js', 'logd'] as const;
/** The f-divergence whose (entropy-regularised) gradient flow DGflow simulates. */
export type Divergence = (typeof DIVERGENCES)[number];
/** Where DGflow runs: in data space (moving x) or in latent space (moving z; the samples are G(z)). */
export const FLOW_SPACES = ['data', 'latent'] as const;
/** Where DGflow runs: 'data' or 'latent'. */
export type FlowSpace = (typeof FLOW_SPACES)[number];

export interface FlowGraphOptions {
  space: FlowSpace;
  divergence: Divergence;
  /**
   * Density-ratio corrector: a graph x -> [batch, 1] (or [batch]) whose output, a logit, is added
   * to the discriminator's logRatio (DGflow's correction for generators that were not trained
   * with this discriminator, e.g. VAEs and normalizing flows).
   */
  corrector?: Graph;
  /** Latent space only: add grad log p0(z) to the drift (the DDLS-like variant; see above). */
  priorDrift?: boolean;
}

/** Check that a corrector fits the pair: one input of the data shape, one output [batch, 1] or [batch]. */
export function checkCorrector(pair: Pick<ModelPair, 'meta'>, corrector: Graph): void {
  if (corrector.inputs.length !== 1) fail('invalid_model', 'corrector', 'a corrector with one input x', `${corrector.inputs.length} inputs`);
  if (corrector.outputs.length < 1) fail('invalid_model', 'corrector', 'a corrector with an output [batch, 1]', 'no outputs');
  const inShape = corrector.inputs[0].shape;
  const want = pair.meta.dataShape;
  const fits = inShape.length === want.length + 1 && inShape.every((d, i) => i === 0 || typeof d !== 'number' || d === want[i - 1]);
  if (!fits) fail('shape_mismatch', `corrector input ${corrector.inputs[0].name}`, `the data shape ${fmtShape(['batch', ...want])}`, fmtShape(inShape));
  const outShape = corrector.info(corrector.outputs[0]).shape;
  if (!(outShape.length === 1 || (outShape.length === 2 && outShape[1] === 1))) {
    fail('invalid_model', `corrector output ${corrector.outputs[0]}`, 'shape [batch, 1] or [batch]', fmtShape(outShape));
  }
}

/**
 * Build the DGflow drift graph. Input: `x` [batch, ...dataShape] (data space) or `z`
 * [batch, latentDim] (latent space). Outputs: logRatio [batch] (including the corrector) and the
 * drift -grad V, shaped like the input.
 */
export function dgflowDriftGraph(pair: ModelPair, o: FlowGraphOptions): Graph {
  if (!(DIVERGENCES as readonly string[]).includes(o.divergence))
    fail('invalid_argument', 'divergence', `one of ${DIVERGENCES.join(', ')}`, String(o.divergence));
  if (!(FLOW_SPACES as readonly string[]).includes(o.space)) fail('invalid_argument', 'space', `one of ${FLOW_SPACES.join(', ')}`, String(o.space));
  if (o.priorDrift && o.space !== 'latent') fail('invalid_argument', 'priorDrift', 'only with space latent', `space ${o.space}`);
  if (o.corrector) checkCorrector(pair, o.corrector);
  const g = new Graph();
  g.name = `dgflow_${o.divergence}_${o.space}`;
  const latent = o.space === 'latent';
  const input = latent ? g.addInput('z', 'float32', ['batch', pair.meta.latentDim]) : g.addInput('x', 'float32', ['batch', ...pair.meta.dataShape]);
  const x = latent ? appendGenerator(g, pair, input) : input;
  let l = appendLogRatio(g, discriminatorGraph(pair), x, pair.meta.dOutput);
  if (o.corrector) {
    const c = inline(g, o.corrector, 'c/', { [o.corrector.inputs[0].name]: x })[o.corrector.outputs[0]];
    l = g.op('Add', [l, g.rank(c) === 2 ? g.op('Squeeze', [c, g.int64s([1])]) : c]);
  }
  let potential =
    o.divergence === 'kl' ? g.op('Neg', [l]) : o.divergence === 'js' ? g.op('Neg', [g.op('Softplus', [l])]) : g.op('Softplus', [g.op('Neg', [l])]);
  const prior = o.priorDrift && latent ? priorEnergy(g, input, pair.meta.latentPrior) : undefined;
  if (prior) potential = g.op('Add', [potential, prior]);
  // Seeding the backward pass with -1 gives -grad V directly.
  const drift = differentiate(g, { [potential]: filled(g, potential, -1) }, [input]).get(input)!;
  g.outputs = [g.op('Identity', [l]), g.op('Identity', [drift])];
  return g;
}

/** Anything that evaluates logRatio and the DGflow drift on a batch. */
export interface DriftField {
  evaluate(x: Tensor): Promise<{ logRatio: Float32Array; drift: Float32Array }>;
}

/** A session over `dgflowDriftGraph` (one per run; release it when done). */
export class DgflowField implements DriftField {
  private constructor(
    private readonly session: Session,
    private readonly names: string[],
  ) {}

  static async create(pair: ModelPair, o: FlowGraphOptions, options: SessionOptions = {}): Promise<DgflowField> {
    const g = dgflowDriftGraph(pair, o);
    return new DgflowField(await Session.create(g, { device: pair.device, ...options }), g.outputs);
  }

  async evaluate(x: Tensor): Promise<{ logRatio: Float32Array; drift: Float32Array }> {
    const input = this.session.inputNames[0];
    const out = await this.session.runRows({ [input]: x });
    return { logRatio: out[this.names[0]].data, drift: out[this.names[1]].data };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
