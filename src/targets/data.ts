/** Data-space target: logRatio(x) and its gradient with respect to x (DCD, DOT, DGflow in data space). */
import { differentiate, onesLike } from '../onnx/autodiff.js';
import { Graph } from '../onnx/graph.js';
import { Session, type SessionOptions } from '../onnx/session.js';
import type { ModelPair } from '../models/pair.js';
import type { Tensor } from '../tensor.js';
import { appendLogRatio } from './logratio.js';
import { discriminatorGraph } from '../models/pair.js';

export class DataTarget {
  private constructor(
    private readonly session: Session,
    private readonly names: string[],
  ) {}

  /** Session with inputs x; outputs logRatio [batch] and (when `withGradient`) d logRatio / dx. */
  static async create(pair: Pick<ModelPair, 'discriminator' | 'meta' | 'device'>, withGradient: boolean, options: SessionOptions = {}): Promise<DataTarget> {
    const g = new Graph();
    const x = g.addInput('x', 'float32', ['batch', ...pair.meta.dataShape]);
    const logRatio = appendLogRatio(g, discriminatorGraph(pair), x, pair.meta.dOutput);
    g.outputs = [g.op('Identity', [logRatio])];
    if (withGradient) g.outputs.push(g.op('Identity', [differentiate(g, { [logRatio]: onesLike(g, logRatio) }, [x]).get(x)!]));
    return new DataTarget(await Session.create(g, { device: pair.device, ...options }), g.outputs);
  }

  async logRatio(x: Tensor): Promise<Float32Array> {
    return (await this.session.runRows({ x }, [this.names[0]]))[this.names[0]].data;
  }

  async logRatioAndGrad(x: Tensor): Promise<{ logRatio: Float32Array; grad: Float32Array }> {
    const out = await this.session.runRows({ x });
    return { logRatio: out[this.names[0]].data, grad: out[this.names[1]].data };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
