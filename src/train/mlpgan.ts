/**
 * A small, seeded GAN trainer for the built-in 2-D datasets: MLP generator and discriminator,
 * non-saturating / hinge / WGAN-GP losses, optional spectral normalisation of D, Adam. Losses and
 * gradients are ONNX graphs differentiated by Refinery itself (the WGAN-GP penalty needs the
 * gradient of a gradient). Writes generator.onnx, discriminator.onnx and meta.json; checkpoints
 * let an interrupted run resume to the bit-identical result. The networks and the loop run
 * without files in gan2d.ts (the playground trains in the page with it); the loop, losses,
 * checkpoints and exports are shared with the image trainer (common.ts).
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { writeMeta } from '../models/metafile.js';
import { folderStore, type GanHooks, type GanResult, withRunFolder } from './common.js';
import { type MlpOptions, runMlpGan, validateMlpOptions } from './gan2d.js';

export { GAN_LOSSES, type GanLoss, type TrainProgress } from './common.js';
export { exportMlp, MLP_DEFAULTS, type MlpOptions, mlpNets, validateMlpOptions } from './gan2d.js';

export type TrainResult = GanResult;

/** Train and write the run folder. `onProgress` is called every 50 steps; `signal` stops after a checkpoint. */
export async function trainMlp(options: MlpOptions, hooks: GanHooks = {}): Promise<TrainResult> {
  const o = options;
  validateMlpOptions(o);
  return withRunFolder(o.out, { resume: o.resume, overwrite: o.overwrite }, true, async () => {
    const r = await runMlpGan(o, folderStore(o.out), hooks);
    writeFileAtomic(join(o.out, 'generator.onnx'), r.generator);
    writeFileAtomic(join(o.out, 'discriminator.onnx'), r.discriminator);
    writeMeta(join(o.out, 'meta.json'), r.meta);
    return { dir: o.out, steps: r.steps, seconds: r.seconds, lossD: r.lossD, lossG: r.lossG, resumedFrom: r.resumedFrom, meta: r.meta };
  });
}
