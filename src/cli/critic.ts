/**
 * `refinery finetune-critic --method dcd`: fine-tune a pair's discriminator by contrastive
 * divergence (DCD's critic training) and write a new run folder that `refine` reads like any
 * other. Defaults are FINETUNE_CRITIC_DEFAULTS (commander sets none, so that only the options
 * given enter the resume fingerprint as given).
 */
import type { Command } from 'commander';
import { DATASET_NAMES, getDataset } from '../data/dataset.js';
import { getImageDataset, IMAGE_DATASET_NAMES } from '../data/images.js';
import { fail } from '../errors.js';
import { D_OUTPUTS, LATENT_PRIORS } from '../models/meta.js';
import type { ModelPair } from '../models/pair.js';
import { loadPair } from '../models/load.js';
import { CHAIN_SPACES, CRITIC_LOSSES, CRITIC_METHODS, FINETUNE_CRITIC_DEFAULTS as F, finetuneCritic, type RealSource } from '../train/critic.js';
import { TRAIN_CORRECTOR_DEFAULTS as C, trainCorrector } from '../train/corrector.js';
import { DRE_SPECS } from '../refine/methods/dre.js';
import { trainRatio } from '../train/ratio.js';
import { pairFromFlags, printResult, signal } from './common.js';
import { registerMethodOptions } from './methods.js';
import { choiceArg, intArg, numberArg } from './parse.js';
import { progress } from './progress.js';
import { readRealSamples, readSamplesPath } from './real.js';

const positive = numberArg((n) => n > 0, 'a positive number');

/** The positives: --real (a .npy or a folder of PNGs and JPEGs) or a built-in dataset (--dataset, default the pair's). */
async function realSource(opts: { real?: string; dataset?: string }, pair: ModelPair): Promise<{ source: RealSource; description: string }> {
  const shape = pair.meta.dataShape;
  if (opts.real !== undefined && opts.dataset !== undefined) fail('invalid_argument', '--dataset', 'either --real or --dataset, not both', 'both');
  if (opts.real !== undefined) {
    return { source: await readSamplesPath(opts.real, pair.meta, '--real'), description: opts.real };
  }
  const name = opts.dataset ?? pair.meta.dataset;
  if (name === undefined) fail('invalid_argument', '--real', 'real samples (--real FILE|DIR or --dataset NAME): the pair names no dataset', 'nothing');
  if ((DATASET_NAMES as readonly string[]).includes(name)) {
    if (shape.join('x') !== '2')
      fail('invalid_argument', '--dataset', `an image dataset (${IMAGE_DATASET_NAMES.join(', ')}) for samples of shape [${shape.join(', ')}]`, name);
    const ds = getDataset(name);
    return { source: (n, rng) => ds.sample(n, rng), description: `dataset ${name}` };
  }
  if ((IMAGE_DATASET_NAMES as readonly string[]).includes(name)) {
    const ds = getImageDataset(name);
    if (ds.shape.join('x') !== shape.join('x'))
      fail('shape_mismatch', '--dataset', `a dataset of samples of shape [${shape.join(', ')}]`, `${name} [${ds.shape.join(', ')}]`);
    return { source: (n, rng) => ds.sample(n, rng), description: `dataset ${name}` };
  }
  return fail('invalid_argument', '--dataset', `one of ${[...DATASET_NAMES, ...IMAGE_DATASET_NAMES].join(', ')}`, name);
}

export function registerCritic(program: Command): void {
  program
    .command('finetune-critic')
    .description("fine-tune a pair's discriminator by contrastive divergence (DCD); writes a run folder with the new discriminator.onnx")
    .requiredOption('--out <dir>', 'run folder to write (generator.onnx copied, discriminator.onnx fine-tuned, meta.json)')
    .option('--method <m>', `${CRITIC_METHODS.join(', ')} (default ${F.method})`, choiceArg(CRITIC_METHODS))
    .option('--run <dir>', 'run folder of the pair to start from')
    .option('--generator <file>', 'generator ONNX file: z [batch, latent_dim] -> x')
    .option('--discriminator <file>', 'discriminator ONNX file: x -> [batch, 1]')
    .option('--latent-prior <p>', `${LATENT_PRIORS.join(' or ')} (required without a meta.json)`, choiceArg(LATENT_PRIORS))
    .option('--d-output <kind>', `what D outputs: ${D_OUTPUTS.join(', ')} (required without a meta.json)`, choiceArg(D_OUTPUTS))
    .option('--real <path>', 'real samples (.npy [m, ...data shape], or a folder of PNG or JPEG images)')
    .option('--dataset <name>', "a built-in dataset to draw real samples from (default: the pair's meta.json dataset)")
    .option('--loss <l>', `${CRITIC_LOSSES.join(', ')} (default ${F.loss}: maximum likelihood of p_g exp(D))`, choiceArg(CRITIC_LOSSES))
    .option(
      '--reg <x>',
      `cd loss: weight of mean D^2 on both sides (default ${F.reg})`,
      numberArg((n) => n >= 0, 'a non-negative number'),
    )
    .option(
      '--space <s>',
      `where the negative chains run: ${CHAIN_SPACES.join(' (DDLS kernel) or ')} (DCD kernel) (default ${F.space})`,
      choiceArg(CHAIN_SPACES),
    )
    .option('--num-steps <n>', `Langevin steps per negative chain (default ${F.numSteps})`, intArg(0))
    .option('--step-size <x>', `Langevin step size of the chains (default ${F.stepSize})`, positive)
    .option(
      '--noise <x>',
      `noise multiplier of the chains (default ${F.noise})`,
      numberArg((n) => n >= 0, 'a non-negative number'),
    )
    .option('--clip <x>', `data chains: per-row clip of |grad D| (default ${F.clip})`, positive)
    .option('--steps <n>', `D updates (default ${F.steps})`, intArg(1))
    .option('--batch-size <n>', `real samples and negatives per update (default ${F.batchSize})`, intArg(1))
    .option(
      '--lr <x>',
      `Adam learning rate (default ${F.lr})`,
      numberArg((n) => n > 0 && n < 1, 'a number in (0, 1)'),
    )
    .option('--lr-decay', 'decay the learning rate linearly to 0 over --steps')
    .option(
      '--beta1 <x>',
      `Adam beta1 (default ${F.beta1})`,
      numberArg((n) => n >= 0 && n < 1, 'a number in [0, 1)'),
    )
    .option(
      '--beta2 <x>',
      `Adam beta2 (default ${F.beta2})`,
      numberArg((n) => n >= 0 && n < 1, 'a number in [0, 1)'),
    )
    .option('--seed <n>', `random seed (default ${F.seed})`, intArg())
    .option('--checkpoint-every <n>', `steps between checkpoints (default ${F.checkpointEvery})`, intArg(1))
    .option('--resume', 'continue from the checkpoint in --out', false)
    .option('--overwrite', 'train afresh into an --out that holds an earlier run, replacing it (otherwise refused)', false)
    .option('--json', 'print the result as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts, command: Command) => {
      const pair = pairFromFlags(opts);
      const real = await realSource(opts, pair);
      const notTraining = ['json', 'quiet', 'run', 'generator', 'discriminator', 'latentPrior', 'dOutput', 'real', 'dataset', 'out', 'overwrite'];
      const given = Object.fromEntries(Object.entries(opts).filter(([k]) => command.getOptionValueSource(k) === 'cli' && !notTraining.includes(k)));
      const bar = progress('finetune-critic', !opts.quiet);
      const r = await finetuneCritic(pair, {
        ...given,
        out: opts.out,
        overwrite: opts.overwrite,
        real: real.source,
        signal: signal(),
        onProgress: (p) => bar.update(p.step, p.steps, `loss ${p.loss.toFixed(3)} D(real) ${p.dReal.toFixed(3)} D(neg) ${p.dNegative.toFixed(3)}`),
      }).finally(() => bar.stop());
      printResult(
        opts.json,
        { ...r, real: real.description },
        `fine-tuned ${r.trained.length} tensors of D for ${r.steps} steps in ${r.seconds.toFixed(1)} s (loss ${r.loss.toFixed(4)}, D(real) ${r.dReal.toFixed(3)}, D(negatives) ${r.dNegative.toFixed(3)}); wrote ${r.dir}/generator.onnx, discriminator.onnx, meta.json`,
      );
    });

  program
    .command('train-corrector')
    .description("train a density-ratio corrector for a model without a discriminator (a VAE) from a GAN's D; writes a run folder every method refines")
    .requiredOption('--gan <dir>', 'run folder of a GAN trained on the same data (its generator and discriminator)')
    .requiredOption('--target <dir>', 'run folder of the model to refine (generator.onnx + meta.json, e.g. from train --model vae)')
    .requiredOption('--out <dir>', 'run folder to write: generator.onnx (the target), discriminator.onnx (D + corrector), corrector.onnx, meta.json')
    .option('--steps <n>', `logistic-regression steps (default ${C.steps})`, intArg(1))
    .option('--batch-size <n>', `GAN and target samples per step (default ${C.batchSize})`, intArg(1))
    .option(
      '--lr <x>',
      `Adam learning rate (default ${C.lr})`,
      numberArg((n) => n > 0 && n < 1, 'a number in (0, 1)'),
    )
    .option('--no-lr-decay', 'keep the learning rate constant (default: decayed linearly to 0 over --steps)')
    .option('--seed <n>', `random seed (default ${C.seed})`, intArg())
    .option('--checkpoint-every <n>', `steps between checkpoints (default ${C.checkpointEvery})`, intArg(1))
    .option('--resume', 'continue from the checkpoint in --out', false)
    .option('--overwrite', 'train afresh into an --out that holds an earlier run, replacing it (otherwise refused)', false)
    .option('--json', 'print the result as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts, command: Command) => {
      const gan = loadPair({ run: opts.gan });
      const target = loadPair({ run: opts.target }, false);
      const given = Object.fromEntries(
        Object.entries(opts).filter(([k]) => command.getOptionValueSource(k) === 'cli' && !['json', 'quiet', 'gan', 'target', 'out', 'overwrite'].includes(k)),
      );
      const bar = progress('train-corrector', !opts.quiet);
      const r = await trainCorrector(gan, target, {
        ...given,
        out: opts.out,
        overwrite: opts.overwrite,
        signal: signal(),
        onProgress: (p) => bar.update(p.step, p.steps, `loss ${p.loss.toFixed(3)}`),
      }).finally(() => bar.stop());
      printResult(
        opts.json,
        r,
        `trained the corrector (${r.trained.length} tensors from the GAN's D) for ${r.steps} steps in ${r.seconds.toFixed(1)} s (logistic loss ${r.loss.toFixed(4)}); wrote ${r.dir}/generator.onnx, discriminator.onnx (D + corrector), corrector.onnx, meta.json`,
      );
    });
  const ratio = program
    .command('train-ratio')
    .description(
      'train the DRE-F-SP density-ratio network of the dre-* methods once; writes a run folder whose discriminator.onnx is the network, which every method refines along',
    )
    .requiredOption('--out <dir>', 'run folder to write: generator.onnx (copied), discriminator.onnx (the network, x -> log ratio), meta.json')
    .option('--run <dir>', 'run folder of the generator (its discriminator, if any, is not read)')
    .option('--generator <file>', 'generator ONNX file: z [batch, latent_dim] -> x')
    .option('--latent-prior <p>', `${LATENT_PRIORS.join(' or ')} (required without a meta.json, checked against it otherwise)`, choiceArg(LATENT_PRIORS))
    .option('--real <path>', 'held-out real samples (.npy [m, ...data shape], or a folder of PNG or JPEG images)')
    .option('--dataset <name>', 'draw held-out real samples from a built-in 2-D dataset instead of --real')
    .option('--real-n <n>', 'real samples drawn with --dataset', intArg(1), 10000)
    .option('--seed <n>', 'random seed: the --seed of the refine runs whose dre-* network this is', intArg(), 0);
  registerMethodOptions(ratio, Object.keys(DRE_SPECS));
  ratio
    .option('--overwrite', 'write into an --out that holds an earlier run, replacing it (otherwise refused)', false)
    .option('--json', 'print the result as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts, command: Command) => {
      const pair = loadPair({ run: opts.run, generator: opts.generator, latentPrior: opts.latentPrior }, false);
      const real = await readRealSamples(opts, pair.meta);
      if (real === undefined) fail('invalid_argument', '--real', 'held-out real samples (--real FILE|DIR or --dataset NAME)', 'nothing');
      const given = Object.fromEntries(Object.keys(DRE_SPECS).flatMap((k) => (command.getOptionValueSource(k) === 'cli' ? [[k, opts[k]]] : [])));
      const bar = progress('train-ratio', !opts.quiet);
      const r = await trainRatio(pair, {
        ...given,
        out: opts.out,
        overwrite: opts.overwrite,
        real: real.tensor,
        seed: opts.seed,
        signal: signal(),
        onProgress: (done, total) => bar.update(done, total, ''),
      }).finally(() => bar.stop());
      const rep = r.report;
      printResult(
        opts.json,
        { ...r, real: real.description },
        `trained the DRE-F-SP network on ${rep.nReal} real and ${rep.nFake} generated samples in ${rep.seconds.toFixed(1)} s (loss ${rep.loss.toFixed(4)}, accuracy ${rep.accuracy.toFixed(3)}${rep.earlyStop ? `, kept step ${rep.earlyStop.step}` : ''}${rep.ks?.overfit ? ', OVERFIT by the KS check' : ''}); wrote ${r.dir}/generator.onnx, discriminator.onnx, meta.json`,
      );
    });
}
