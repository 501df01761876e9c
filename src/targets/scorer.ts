/**
 * Scoring generator proposals from their latents: logRatio(G(z)) per row, in one graph (G then
 * D), so that the samples never leave onnxruntime. The selection methods keep only latents and
 * scores of their proposals and generate the samples they return (SIR, DRS, MH-GAN).
 *
 * Why not G, then D on G's output: each output crosses into a fresh JavaScript buffer. On the
 * 2-core machine of the README's benchmarks, a 3 MB output (256 samples of 32x32x3) cost 768
 * page faults and about 9 ms per call (a Relu over 786,432 floats ran in 0.5 ms or 9.5 ms by
 * that alone), against 11 ms for that generator's forward pass.
 */
import { type Graph, int } from '../onnx/graph.js';
import { Session, type SessionOptions } from '../onnx/session.js';
import type { ModelPair } from '../models/pair.js';
import type { Tensor } from '../tensor.js';
import { latentLogRatio } from './logratio.js';

/**
 * Inputs z [batch, latentDim]; output score [batch] = logRatio(G(z)), NaN for a row whose G(z)
 * holds a NaN or an infinity (x * 0 is NaN exactly there, and a row's sum of those is added).
 */
export function latentScoreGraph(pair: Pick<ModelPair, 'generator' | 'discriminator' | 'meta'>): Graph {
  const { g, x, logRatio } = latentLogRatio(pair);
  const axes = pair.meta.dataShape.map((_, i) => i + 1);
  const guard = g.op('ReduceSum', [g.op('Mul', [x, g.scalar(0)]), g.int64s(axes)], { keepdims: int(0) });
  g.outputs = [g.op('Add', [logRatio, guard])];
  return g;
}

export class LatentScorer {
  private constructor(
    private readonly session: Session,
    private readonly output: string,
  ) {}

  static async create(pair: Pick<ModelPair, 'generator' | 'discriminator' | 'meta' | 'device'>, options: SessionOptions = {}): Promise<LatentScorer> {
    const g = latentScoreGraph(pair);
    return new LatentScorer(await Session.create(g, { device: pair.device, ...options }), g.outputs[0]);
  }

  /** logRatio(G(z)) per row of z [rows, latentDim] (NaN where G(z) is not finite). */
  async score(z: Tensor): Promise<Float32Array> {
    return (await this.session.runRows({ z }, [this.output]))[this.output].data;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
