/**
 * `refinery train --model mlp|dcgan|sagan|vae|alphagan`: train a base model and write a run folder
 * (generator.onnx, discriminator.onnx, meta.json; encoder.onnx for vae and alphagan). The GANs share the GAN loop and most options;
 * the defaults are each model's own (MLP_DEFAULTS, DCGAN_DEFAULTS, SAGAN_DEFAULTS), so commander
 * sets none.
 */
import type { Command } from 'commander';
import { DATASET_NAMES } from '../data/dataset.js';
import { IMAGE_DATASET_NAMES } from '../data/images.js';
import { fail } from '../errors.js';
import { LATENT_PRIORS } from '../models/meta.js';
import { DCGAN_DEFAULTS } from '../train/dcgan.js';
import { GAN_LOSSES, MLP_DEFAULTS } from '../train/mlpgan.js';
import { SAGAN_DEFAULTS } from '../train/sagan.js';
import { GAN_MODELS, trainGan, type TrainGanOptions } from '../train/train.js';
import { ALPHAGAN_DEFAULTS as AG, ALPHAGAN_IMAGE_DEFAULTS as AGI, type AlphaGanOptions, trainAlphaGan } from '../train/alphagan.js';
import { trainVae, VAE_DEFAULTS, VAE_IMAGE_DEFAULTS, type VaeOptions } from '../train/vae.js';
import { printResult, signal } from './common.js';
import { choiceArg, intArg, numberArg } from './parse.js';
import { progress } from './progress.js';

const TRAIN_MODELS = [...GAN_MODELS, 'vae', 'alphagan'] as const;
type Model = (typeof TRAIN_MODELS)[number];

const M = MLP_DEFAULTS;
const C = DCGAN_DEFAULTS;
const S = SAGAN_DEFAULTS;
const rate = numberArg((n) => n > 0 && n < 1, 'a number in (0, 1)');
/** The GANs' defaults of `key`: one value, or each model's. */
const both = (key: keyof typeof M & keyof typeof C & keyof typeof S) =>
  M[key] === C[key] && C[key] === S[key] ? `default ${M[key]}` : `default mlp ${M[key]}, dcgan ${C[key]}, sagan ${S[key]}`;

/** Options read by some models only; giving one to another model is an error. */
const GANS: Model[] = ['mlp', 'dcgan', 'sagan'];
const IMAGE_GANS: Model[] = ['dcgan', 'sagan'];
const ONLY: Record<string, { models: Model[]; flag: string }> = {
  hidden: { models: ['mlp', 'vae', 'alphagan'], flag: '--hidden' },
  activation: { models: ['mlp'], flag: '--activation' },
  realDir: { models: IMAGE_GANS, flag: '--real-dir' },
  grayscale: { models: IMAGE_GANS, flag: '--grayscale' },
  width: { models: [...IMAGE_GANS, 'vae', 'alphagan'], flag: '--width' },
  pixelNorm: { models: IMAGE_GANS, flag: '--no-pixel-norm' },
  spectralNormG: { models: ['sagan'], flag: '--no-spectral-norm-g' },
  loss: { models: GANS, flag: '--loss' },
  prior: { models: GANS, flag: '--prior' },
  spectralNorm: { models: [...GANS, 'alphagan'], flag: '--spectral-norm' },
  lrG: { models: [...GANS, 'alphagan'], flag: '--lr-g' },
  lrD: { models: [...GANS, 'alphagan'], flag: '--lr-d' },
  dSteps: { models: GANS, flag: '--d-steps' },
  finetuneD: { models: [...GANS, 'alphagan'], flag: '--finetune-d' },
  gpWeight: { models: GANS, flag: '--gp-weight' },
  likelihoodStd: { models: ['vae'], flag: '--likelihood-std' },
  recWeight: { models: ['alphagan'], flag: '--rec-weight' },
  codeHidden: { models: ['alphagan'], flag: '--code-hidden' },
  lr: { models: ['vae'], flag: '--lr' },
};

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description(
      'train a base model (a GAN: MLP on 2-D data, DCGAN or SAGAN on images; a VAE; an alpha-GAN); writes generator.onnx, discriminator.onnx (GANs), encoder.onnx (vae, alphagan), meta.json',
    )
    .requiredOption('--out <dir>', 'run folder to write')
    .option('--model <m>', `${TRAIN_MODELS.join(' or ')} (default mlp)`, choiceArg(TRAIN_MODELS))
    .option(
      '--dataset <name>',
      `mlp: ${DATASET_NAMES.join(', ')} (default ${M.dataset}); dcgan, sagan: ${IMAGE_DATASET_NAMES.join(', ')} (default ${C.dataset}); vae, alphagan: any of them (default ${VAE_DEFAULTS.dataset}, ${AG.dataset})`,
    )
    .option('--real-dir <dir>', 'dcgan, sagan: train on a folder of PNG or JPEG images (all the same size) instead of --dataset')
    .option('--grayscale', 'dcgan, sagan with --real-dir: read the images as one channel (default: one channel when all are grey)')
    .option('--loss <loss>', `one of ${GAN_LOSSES.join(', ')} (${both('loss')})`, choiceArg(GAN_LOSSES))
    .option('--spectral-norm', `spectral normalisation of D (default: mlp off, dcgan and sagan on)`)
    .option('--no-spectral-norm', 'no spectral normalisation of D')
    .option('--no-spectral-norm-g', 'sagan: no spectral normalisation of G (default on)')
    .option('--steps <n>', `generator updates (${both('steps')})`, intArg(1))
    .option('--batch-size <n>', `batch size (${both('batchSize')})`, intArg(1))
    .option('--latent-dim <n>', `latent dimension (${both('latentDim')})`, intArg(1))
    .option(
      '--prior <p>',
      `latent prior of a GAN: normal, uniform (on [-1, 1]) or nonparametric (Singh et al.'s prior whose mid-points are distributed like it); default normal`,
      (v: string) => (v === 'uniform' ? 'uniform[-1,1]' : choiceArg(LATENT_PRIORS)(v)),
    )
    .option('--hidden <n>', `mlp: hidden units per layer (default ${M.hidden})`, intArg(1))
    .option('--layers <n>', `mlp: hidden layers (default ${M.layers}); dcgan, sagan: stride-2 layers in G and D (default ${C.layers})`, intArg(1))
    .option('--width <n>', `dcgan, sagan: channels of D's first layer, doubled per layer (default ${C.width})`, intArg(1))
    .option('--no-pixel-norm', 'dcgan, sagan: no pixel normalisation in G')
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
      `gradient penalty weight of --loss wgan-gp, lgan and wow (${both('gpWeight')})`,
      numberArg((n) => n >= 0, 'a non-negative number'),
    )
    .option('--seed <n>', 'random seed (default 0)', intArg())
    .option('--checkpoint-every <n>', `steps between checkpoints (${both('checkpointEvery')})`, intArg(1))
    .option(
      '--likelihood-std <x>',
      `vae: the decoder's likelihood std (default ${VAE_DEFAULTS.likelihoodStd})`,
      numberArg((n) => n > 0, 'a positive number'),
    )
    .option('--lr <x>', `vae: Adam learning rate (default points ${VAE_DEFAULTS.lr}, images ${VAE_IMAGE_DEFAULTS.lr})`, rate)
    .option(
      '--rec-weight <x>',
      `alphagan: weight of the reconstruction term, mean |x - G(E(x))| (default ${AG.recWeight})`,
      numberArg((n) => n >= 0, 'a non-negative number'),
    )
    .option(
      '--code-hidden <n>',
      `alphagan: units of the code discriminator's two hidden layers (default points ${AG.codeHidden}, images ${AGI.codeHidden})`,
      intArg(1),
    )
    .option('--resume', 'continue from the checkpoint in --out', false)
    .option('--overwrite', 'train afresh into an --out that holds an earlier run, replacing it (otherwise refused)', false)
    .option('--json', 'print the result as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts, command: Command) => {
      const model: Model = opts.model ?? 'mlp';
      for (const [key, o] of Object.entries(ONLY)) {
        if (command.getOptionValueSource(key) === 'cli' && !o.models.includes(model))
          fail('invalid_argument', o.flag, `an option of --model ${o.models.join(' or ')}`, `${o.flag} with --model ${model}`);
      }
      if (IMAGE_GANS.includes(model) && opts.realDir !== undefined && opts.dataset !== undefined)
        fail('invalid_argument', '--real-dir', 'either --real-dir or --dataset', 'both');
      // Only training options given on the command line override the model's defaults (--json,
      // --quiet, --model and --overwrite are not training options: they must not enter the resume
      // fingerprint).
      const given = Object.fromEntries(
        Object.entries(opts).filter(([k]) => command.getOptionValueSource(k) === 'cli' && !['json', 'quiet', 'model', 'overwrite'].includes(k)),
      );
      const bar = progress('train', !opts.quiet);
      if (model === 'alphagan') {
        const image = (IMAGE_DATASET_NAMES as readonly string[]).includes(String(given.dataset ?? AG.dataset));
        const a = await trainAlphaGan({ ...AG, ...(image ? AGI : {}), ...given, out: opts.out, overwrite: opts.overwrite } as AlphaGanOptions, {
          signal: signal(),
          onProgress: (p) => bar.update(p.step, p.steps, `loss_d ${p.lossD.toFixed(3)} loss_g ${p.lossG.toFixed(3)} rec ${p.reconstruction.toFixed(3)}`),
        }).finally(() => bar.stop());
        printResult(
          opts.json,
          a,
          `trained alphagan ${a.steps} steps in ${a.seconds.toFixed(1)} s (loss_d ${a.lossD.toFixed(4)}, loss_g ${a.lossG.toFixed(4)}); wrote ${a.dir}/generator.onnx, discriminator.onnx, encoder.onnx, meta.json`,
        );
        return;
      }
      if (model === 'vae') {
        const image = (IMAGE_DATASET_NAMES as readonly string[]).includes(String(given.dataset ?? VAE_DEFAULTS.dataset));
        const v = await trainVae({ ...VAE_DEFAULTS, ...(image ? VAE_IMAGE_DEFAULTS : {}), ...given, out: opts.out, overwrite: opts.overwrite } as VaeOptions, {
          signal: signal(),
          onProgress: (p) => bar.update(p.step, p.steps, `loss ${p.loss.toFixed(3)} kl ${p.kl.toFixed(3)}`),
        }).finally(() => bar.stop());
        printResult(
          opts.json,
          v,
          `trained vae ${v.steps} steps in ${v.seconds.toFixed(1)} s (negative ELBO ${v.loss.toFixed(4)}, KL ${v.kl.toFixed(4)}); wrote ${v.dir}/generator.onnx, encoder.onnx, meta.json`,
        );
        return;
      }
      const hooks = {
        onProgress: (p: { step: number; steps: number; lossD: number; lossG: number }) =>
          bar.update(p.step, p.steps, `loss_d ${p.lossD.toFixed(3)} loss_g ${p.lossG.toFixed(3)}`),
        signal: signal(),
      };
      const r = await trainGan({ ...given, model, out: opts.out, overwrite: opts.overwrite, ...hooks } as TrainGanOptions).finally(() => bar.stop());
      const { pair: _pair, ...result } = r;
      printResult(
        opts.json,
        result,
        `trained ${model} ${r.steps} steps in ${r.seconds.toFixed(1)} s (loss_d ${r.lossD.toFixed(4)}, loss_g ${r.lossG.toFixed(4)}); wrote ${r.dir}/generator.onnx, discriminator.onnx, meta.json`,
      );
    });
}
