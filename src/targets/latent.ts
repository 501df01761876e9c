/**
 * Latent-space target of DDLS-style methods: energy E(z) = -log p0(z) - logRatio(G(z)) and its
 * gradient, computed by one ONNX graph (G then D, then the emitted backward pass).
 */
import { differentiate, onesLike } from '../onnx/autodiff.js';
import type { Graph } from '../onnx/graph.js';
import { Session, type SessionOptions } from '../onnx/session.js';
import type { ModelPair } from '../models/pair.js';
import type { Tensor } from '../tensor.js';
import { latentLogRatio, priorEnergy } from './logratio.js';

export interface LatentEvaluation {
  /** E(z) per row. */
  energy: Float32Array;
  /** dE/dz, [batch, latentDim]. */
  grad: Float32Array;
  /** logRatio(G(z)) per row. */
  logRatio: Float32Array;
}

export interface LatentTargetOptions extends SessionOptions {
  /** Multiplies logRatio in the energy (1 = the exact DDLS energy). */
  temperature?: number;
}

/** Build the latent energy graph: inputs z; outputs energy [batch], grad [batch, d], logRatio [batch]. */
export function latentEnergyGraph(pair: ModelPair, options: LatentTargetOptions = {}): Graph {
  const { g, z, logRatio } = latentLogRatio(pair);
  const weighted = options.temperature === undefined || options.temperature === 1 ? logRatio : g.op('Mul', [logRatio, g.scalar(options.temperature)]);
  // Uniform prior: -log p0 is constant inside the box (the kernel keeps z inside).
  const prior = priorEnergy(g, z, pair.meta.latentPrior);
  const energy = prior ? g.op('Sub', [prior, weighted]) : g.op('Neg', [weighted]);
  const grad = differentiate(g, { [energy]: onesLike(g, energy) }, [z]).get(z)!;
  g.outputs = [g.op('Identity', [energy]), g.op('Identity', [grad]), g.op('Identity', [logRatio])];
  return g;
}

export class LatentTarget {
  private constructor(
    private readonly session: Session,
    readonly latentDim: number,
    private readonly names: string[],
  ) {}

  static async create(pair: ModelPair, options: LatentTargetOptions = {}): Promise<LatentTarget> {
    const g = latentEnergyGraph(pair, options);
    return new LatentTarget(await Session.create(g, { device: pair.device, ...options }), pair.meta.latentDim, g.outputs);
  }

  async evaluate(z: Tensor): Promise<LatentEvaluation> {
    const out = await this.session.runRows({ z });
    const [e, gr, lr] = this.names;
    return { energy: out[e].data, grad: out[gr].data, logRatio: out[lr].data };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
