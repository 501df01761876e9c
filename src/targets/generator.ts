/** Running the generator alone: x = G(z). */
import { Session, type SessionOptions } from '../onnx/session.js';
import type { ModelPair } from '../models/pair.js';
import { foldLayers } from '../onnx/fuse.js';
import type { Tensor } from '../tensor.js';
import { generatorGraph } from '../models/pair.js';

export class GeneratorRunner {
  private constructor(
    private readonly session: Session,
    private readonly input: string,
    private readonly output: string,
  ) {}

  static async create(pair: Pick<ModelPair, 'generator' | 'device'>, options: SessionOptions = {}): Promise<GeneratorRunner> {
    const g = foldLayers(generatorGraph(pair));
    return new GeneratorRunner(await Session.create(g, { device: pair.device, ...options }), g.inputs[0].name, g.outputs[0]);
  }

  async generate(z: Tensor): Promise<Tensor> {
    return (await this.session.runRows({ [this.input]: z }, [this.output]))[this.output];
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
