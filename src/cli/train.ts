import type { Command } from 'commander';
import { DATASET_NAMES } from '../data/dataset.js';
import { GAN_LOSSES, TRAIN_DEFAULTS, trainGan } from '../train/gan.js';
import { printResult, signal } from './common.js';
import { choiceArg, intArg, numberArg } from './parse.js';
import { progress } from './progress.js';

const D = TRAIN_DEFAULTS;
const rate = numberArg((n) => n > 0 && n < 1, 'a number in (0, 1)');

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train an MLP GAN on a built-in 2-D dataset; writes generator.onnx, discriminator.onnx, meta.json')
    .requiredOption('--out <dir>', 'run folder to write')
    .option('--dataset <name>', `one of ${DATASET_NAMES.join(', ')}`, choiceArg(DATASET_NAMES), D.dataset)
    .option('--loss <loss>', `one of ${GAN_LOSSES.join(', ')}`, choiceArg(GAN_LOSSES), D.loss)
    .option('--spectral-norm', 'spectral normalisation of D', false)
    .option('--steps <n>', 'generator updates', intArg(1), D.steps)
    .option('--batch-size <n>', 'batch size', intArg(1), D.batchSize)
    .option('--latent-dim <n>', 'latent dimension', intArg(1), D.latentDim)
    .option('--hidden <n>', 'hidden units per layer', intArg(1), D.hidden)
    .option('--layers <n>', 'hidden layers', intArg(1), D.layers)
    .option('--activation <a>', 'relu, leaky_relu or tanh', choiceArg(['relu', 'leaky_relu', 'tanh'] as const), D.activation)
    .option('--lr-g <x>', 'generator learning rate', rate, D.lrG)
    .option('--lr-d <x>', 'discriminator learning rate', rate, D.lrD)
    .option('--beta1 <x>', 'Adam beta1', numberArg((n) => n >= 0 && n < 1, 'a number in [0, 1)'), D.beta1)
    .option('--beta2 <x>', 'Adam beta2', numberArg((n) => n >= 0 && n < 1, 'a number in [0, 1)'), D.beta2)
    .option('--d-steps <n>', 'D updates per G update', intArg(1), D.dSteps)
    .option('--finetune-d <n>', 'extra D-only steps with G frozen, so D estimates the final density ratio', intArg(0), D.finetuneD)
    .option('--gp-weight <x>', 'WGAN-GP penalty weight', numberArg((n) => n >= 0, 'a non-negative number'), D.gpWeight)
    .option('--seed <n>', 'random seed', intArg(), D.seed)
    .option('--checkpoint-every <n>', 'steps between checkpoints', intArg(1), D.checkpointEvery)
    .option('--resume', 'continue from the checkpoint in --out', false)
    .option('--json', 'print the result as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts) => {
      const bar = progress('train', !opts.quiet);
      const r = await trainGan({ ...D, ...opts }, { onProgress: (p) => bar.update(p.step, p.steps, `loss_d ${p.lossD.toFixed(3)} loss_g ${p.lossG.toFixed(3)}`), signal: signal() });
      bar.stop();
      printResult(opts.json, r, `trained ${r.steps} steps in ${r.seconds.toFixed(1)} s (loss_d ${r.lossD.toFixed(4)}, loss_g ${r.lossG.toFixed(4)}); wrote ${r.dir}/generator.onnx, discriminator.onnx, meta.json`);
    });
}
