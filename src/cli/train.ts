/**
 * `refinery train --model mlp|dcgan`: train a base GAN and write a run folder (generator.onnx,
 * discriminator.onnx, meta.json). The two models share the GAN loop and most options; the
 * defaults are each model's own (MLP_DEFAULTS, DCGAN_DEFAULTS), so commander sets none.
 */
import type { Command } from 'commander';
import { DATASET_NAMES } from '../data/dataset.js';
import { IMAGE_DATASET_NAMES } from '../data/images.js';
import { fail } from '../errors.js';
import { DCGAN_DEFAULTS } from '../train/dcgan.js';
import { GAN_LOSSES, MLP_DEFAULTS } from '../train/mlpgan.js';
import { GAN_MODELS, trainGan, type TrainGanOptions } from '../train/train.js';
import { printResult, signal } from './common.js';
import { choiceArg, intArg, numberArg } from './parse.js';
import { progress } from './progress.js';

const TRAIN_MODELS = GAN_MODELS;
type Model = (typeof TRAIN_MODELS)[number];

const M = MLP_DEFAULTS;
const C = DCGAN_DEFAULTS;
const rate = numberArg((n) => n > 0 && n < 1, 'a number in (0, 1)');
const both = (key: keyof typeof M & keyof typeof C) => (M[key] === C[key] ? `default ${M[key]}` : `default mlp ${M[key]}, dcgan ${C[key]}`);

/** Options read by one model only; giving one to the other model is an error. */
const ONLY: Record<string, { model: Model; flag: string }> = {
  hidden: { model: 'mlp', flag: '--hidden' },
  activation: { model: 'mlp', flag: '--activation' },
  realDir: { model: 'dcgan', flag: '--real-dir' },
  grayscale: { model: 'dcgan', flag: '--grayscale' },
  width: { model: 'dcgan', flag: '--width' },
  pixelNorm: { model: 'dcgan', flag: '--no-pixel-norm' },
};

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a base GAN (an MLP on 2-D data, or a DCGAN on images); writes generator.onnx, discriminator.onnx, meta.json')
    .requiredOption('--out <dir>', 'run folder to write')
    .option('--model <m>', `${TRAIN_MODELS.join(' or ')} (default mlp)`, choiceArg(TRAIN_MODELS))
    .option('--dataset <name>', `mlp: ${DATASET_NAMES.join(', ')} (default ${M.dataset}); dcgan: ${IMAGE_DATASET_NAMES.join(', ')} (default ${C.dataset})`)
    .option('--real-dir <dir>', 'dcgan: train on a folder of PNG images (all the same size) instead of --dataset')
    .option('--grayscale', 'dcgan with --real-dir: read the images as one channel (default: one channel when all are grey)')
    .option('--loss <loss>', `one of ${GAN_LOSSES.join(', ')} (${both('loss')})`, choiceArg(GAN_LOSSES))
    .option('--spectral-norm', `spectral normalisation of D (default: mlp off, dcgan on)`)
    .option('--no-spectral-norm', 'no spectral normalisation of D')
    .option('--steps <n>', `generator updates (${both('steps')})`, intArg(1))
    .option('--batch-size <n>', `batch size (${both('batchSize')})`, intArg(1))
    .option('--latent-dim <n>', `latent dimension (${both('latentDim')})`, intArg(1))
    .option('--hidden <n>', `mlp: hidden units per layer (default ${M.hidden})`, intArg(1))
    .option('--layers <n>', `mlp: hidden layers (default ${M.layers}); dcgan: stride-2 layers in G and D (default ${C.layers})`, intArg(1))
    .option('--width <n>', `dcgan: channels of D's first layer, doubled per layer (default ${C.width})`, intArg(1))
    .option('--no-pixel-norm', 'dcgan: no pixel normalisation in G')
    .option('--activation <a>', `mlp: relu, leaky_relu or tanh (default ${M.activation})`, choiceArg(['relu', 'leaky_relu', 'tanh'] as const))
    .option('--lr-g <x>', `generator learning rate (${both('lrG')})`, rate)
    .option('--lr-d <x>', `discriminator learning rate (${both('lrD')})`, rate)
    .option(
      '--beta1 <x>',
      `Adam beta1 (${both('beta1')})`,
      numberArg((n) => n >= 0 && n < 1, 'a number in [0, 1)'),
    )
    .option(
      '--beta2 <x>',
      `Adam beta2 (${both('beta2')})`,
      numberArg((n) => n >= 0 && n < 1, 'a number in [0, 1)'),
    )
    .option('--d-steps <n>', `D updates per G update (${both('dSteps')})`, intArg(1))
    .option('--finetune-d <n>', `extra D-only steps with G frozen, so D estimates the final density ratio (${both('finetuneD')})`, intArg(0))
    .option(
      '--gp-weight <x>',
      `WGAN-GP penalty weight (${both('gpWeight')})`,
      numberArg((n) => n >= 0, 'a non-negative number'),
    )
    .option('--seed <n>', 'random seed (default 0)', intArg())
    .option('--checkpoint-every <n>', `steps between checkpoints (${both('checkpointEvery')})`, intArg(1))
    .option('--resume', 'continue from the checkpoint in --out', false)
    .option('--json', 'print the result as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts, command: Command) => {
      const model: Model = opts.model ?? 'mlp';
      for (const [key, o] of Object.entries(ONLY)) {
        if (command.getOptionValueSource(key) === 'cli' && o.model !== model)
          fail('invalid_argument', o.flag, `an option of --model ${o.model}`, `${o.flag} with --model ${model}`);
      }
      if (model === 'dcgan' && opts.realDir !== undefined && opts.dataset !== undefined)
        fail('invalid_argument', '--real-dir', 'either --real-dir or --dataset', 'both');
      // Only training options given on the command line override the model's defaults (--json,
      // --quiet and --model are not training options: they must not enter the resume fingerprint).
      const given = Object.fromEntries(
        Object.entries(opts).filter(([k]) => command.getOptionValueSource(k) === 'cli' && !['json', 'quiet', 'model'].includes(k)),
      );
      const bar = progress('train', !opts.quiet);
      const hooks = {
        onProgress: (p: { step: number; steps: number; lossD: number; lossG: number }) =>
          bar.update(p.step, p.steps, `loss_d ${p.lossD.toFixed(3)} loss_g ${p.lossG.toFixed(3)}`),
        signal: signal(),
      };
      const r = await trainGan({ ...given, model, out: opts.out, ...hooks } as TrainGanOptions).finally(() => bar.stop());
      const { pair: _pair, ...result } = r;
      printResult(
        opts.json,
        result,
        `trained ${model} ${r.steps} steps in ${r.seconds.toFixed(1)} s (loss_d ${r.lossD.toFixed(4)}, loss_g ${r.lossG.toFixed(4)}); wrote ${r.dir}/generator.onnx, discriminator.onnx, meta.json`,
      );
    });
}
