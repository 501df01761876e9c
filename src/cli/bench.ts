/** `refinery bench table1` (the 25-Gaussian Table 1) and `refinery bench mnist` (the MNIST image table), over seeds. */
import type { Command } from 'commander';
import { formatMnist, MNIST_METHODS, MNIST_TRAIN, runMnistBench } from '../bench/mnist.js';
import { GAN_LOSSES } from '../train/common.js';
import { formatAlphaGanBench, runAlphaGanBench } from '../bench/alphagan.js';
import { BENCH_PRIORS, formatPriorBench, runPriorBench } from '../bench/prior.js';
import { formatTable1, runTable1, TABLE1_BASES, TABLE1_METHODS, TABLE1_WGAN_METHODS, table1Methods } from '../bench/table1.js';
import { fail } from '../errors.js';
import { printResult, signal } from './common.js';
import { choiceArg, intArg, numberArg } from './parse.js';
import { runVaeBench, VAE_METHODS } from '../bench/vae.js';

/** The --methods list: a comma-separated subset of the benchmark's method ids (undefined: all). */
function methodList(value: unknown, rows: { id: string }[]): string[] | undefined {
  if (value === undefined) return undefined;
  const ids = rows.map((m) => m.id);
  const methods = String(value)
    .split(',')
    .map((s) => s.trim());
  for (const m of methods) if (!ids.includes(m)) fail('invalid_argument', '--methods', `a comma-separated subset of ${ids.join(', ')}`, JSON.stringify(m));
  return methods;
}

/** Stages reported on stderr with the seconds since the start (unless quiet), and Ctrl-C. */
function stageHooks(quiet: boolean): { signal?: AbortSignal; onStage: (text: string) => void } {
  const t0 = Date.now();
  return { signal: signal(), onStage: (s) => !quiet && process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${s}\n`) };
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('reproducible benchmarks');
  bench
    .command('table1')
    .description('train the base GAN per seed on the 25-Gaussian grid and run every refinement method on 10k samples')
    .option('--seeds <n>', 'seeds (0 .. n-1)', intArg(1), 5)
    .option('--n <n>', 'samples per method', intArg(1), 10000)
    .option(
      '--base <loss>',
      `base GAN loss: ${TABLE1_BASES.join(' or ')} (WGAN-GP and LGAN run the critic methods: ${TABLE1_WGAN_METHODS.map((m) => m.id).join(', ')})`,
      choiceArg(TABLE1_BASES),
      'ns',
    )
    .option('--methods <list>', `comma-separated subset of ${TABLE1_METHODS.map((m) => m.id).join(', ')}`)
    .option('--train-steps <n>', 'GAN training steps per seed', intArg(1))
    .option('--out <dir>', 'output folder (runs are reused when present)', 'refinery-table1')
    .option('--json', 'print the result as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts) => {
      const methods = methodList(opts.methods, table1Methods(opts.base));
      const r = await runTable1({ base: opts.base, seeds: opts.seeds, n: opts.n, out: opts.out, methods, trainSteps: opts.trainSteps }, stageHooks(opts.quiet));
      printResult(opts.json, r, `${formatTable1(r.rows, opts.seeds)}\n\ntable: ${r.files.table}\njson: ${r.files.json}\nplot: ${r.files.plot}`);
    });
  bench
    .command('vae')
    .description("train a VAE on the 25-Gaussian grid per seed, its corrector from Table 1's GAN, and refine its samples with DGflow and others")
    .option('--seeds <n>', 'seeds (0 .. n-1)', intArg(1), 5)
    .option('--n <n>', 'samples per method', intArg(1), 10000)
    .option('--methods <list>', `comma-separated subset of ${VAE_METHODS.map((m) => m.id).join(', ')}`)
    .option('--out <dir>', 'output folder (runs are reused when present; the same as bench table1 reuses its GANs)', 'refinery-table1')
    .option('--json', 'print the result as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts) => {
      const methods = methodList(opts.methods, VAE_METHODS);
      const r = await runVaeBench({ seeds: opts.seeds, n: opts.n, out: opts.out, methods }, stageHooks(opts.quiet));
      printResult(opts.json, r, `${formatTable1(r.rows, opts.seeds)}\n\ntable: ${r.files.table}\njson: ${r.files.json}\nplot: ${r.files.plot}`);
    });
  bench
    .command('mnist')
    .description(
      "train the DCGAN (or SAGAN) on MNIST per seed, refine n samples with every method, measure FID, IS and classes in the digit classifier's feature space",
    )
    .option('--seeds <n>', 'seeds (0 .. n-1)', intArg(1), 3)
    .option('--n <n>', 'samples per method', intArg(1), 10000)
    .option('--methods <list>', `comma-separated subset of ${MNIST_METHODS.map((m) => m.id).join(', ')}`)
    .option('--model <m>', 'the base GAN: dcgan or sagan (outputs get the suffix -sagan)', choiceArg(['dcgan', 'sagan'] as const), 'dcgan')
    .option(
      '--loss <loss>',
      `the GAN loss, one of ${GAN_LOSSES.join(', ')} (default: the model's; another adds -LOSS to the outputs' suffix)`,
      choiceArg(GAN_LOSSES),
    )
    .option('--d-steps <n>', "D updates per G update (default: the model's, 1; another adds -dN to the suffix)", intArg(1))
    .option(
      '--reuse-samples',
      'score the samples an earlier run saved in --out (same method options and --n) instead of refining again; their seconds are unknown',
      false,
    )
    .option(
      '--set <key=value>',
      'an option for the selected rows whose method declares it, e.g. stepSize=0.02 (repeatable; the row becomes METHOD@KEY=VALUE)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--width <n>', "channels of D's first layer, doubled per layer (default: the model's, 32; another adds -wN to the suffix)", intArg(1))
    .option('--train-steps <n>', `GAN steps per seed (default ${MNIST_TRAIN.steps}; another adds -tN to the suffix)`, intArg(1))
    .option('--finetune-d <n>', `D-only steps after training (default ${MNIST_TRAIN.finetuneD}; another adds -fN to the suffix)`, intArg(0))
    .option('--out <dir>', 'output folder (the classifier and runs are reused when present)', 'refinery-mnist')
    .option('--json', 'print the result as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts) => {
      const methods = methodList(opts.methods, MNIST_METHODS);
      const r = await runMnistBench(
        {
          seeds: opts.seeds,
          n: opts.n,
          out: opts.out,
          methods,
          trainSteps: opts.trainSteps,
          finetuneD: opts.finetuneD,
          width: opts.width,
          model: opts.model,
          loss: opts.loss,
          dSteps: opts.dSteps,
          reuseSamples: opts.reuseSamples,
          set: opts.set,
        },
        stageHooks(opts.quiet),
      );
      printResult(
        opts.json,
        r,
        `digit classifier: ${(100 * r.classifier.accuracy).toFixed(2)}% held-out\n\n${formatMnist(r.rows, opts.seeds, r.reference)}\n\ntable: ${r.files.table}\njson: ${r.files.json}\ngrids: ${r.files.grids}`,
      );
    });
  bench
    .command('prior')
    .description(
      "compare latent priors (normal, uniform, Singh et al.'s non-parametric prior) on the MNIST DCGAN: FID, IS and confident digits along straight lines between latents (t = 0, 0.25, 0.5), and after DDLS",
    )
    .option('--n <n>', 'latent pairs (images per point)', intArg(1), 10000)
    .option('--seed <n>', 'seed of the GANs and the latents', intArg(0), 0)
    .option('--priors <list>', 'comma-separated subset of normal, uniform, nonparametric')
    .option('--train-steps <n>', 'GAN steps per prior', intArg(1))
    .option('--finetune-d <n>', 'D-only steps after training', intArg(0))
    .option('--out <dir>', 'output folder (the classifier and runs are reused when present)', 'refinery-prior')
    .option('--json', 'print the result as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts) => {
      const names = ['normal', 'uniform', 'nonparametric'];
      const priors =
        opts.priors === undefined
          ? undefined
          : String(opts.priors)
              .split(',')
              .map((s) => s.trim());
      for (const p of priors ?? [])
        if (!names.includes(p)) fail('invalid_argument', '--priors', `a comma-separated subset of ${names.join(', ')}`, JSON.stringify(p));
      const r = await runPriorBench(
        {
          n: opts.n,
          seed: opts.seed,
          out: opts.out,
          priors: priors?.map((p) => BENCH_PRIORS[names.indexOf(p)]),
          trainSteps: opts.trainSteps,
          finetuneD: opts.finetuneD,
        },
        stageHooks(opts.quiet),
      );
      printResult(opts.json, r, `${formatPriorBench(r.rows)}\n\ntable: ${r.files.table}\njson: ${r.files.json}\ngrid: ${r.files.grid}`);
    });
  bench
    .command('alphagan')
    .description(
      'alpha-GAN (Rosca et al.) on MNIST: samples (generator, DRS, DDLS) and reconstructions of the held-out digits refined from their codes (DDLS, DOT in latent space): FID, IS, confident digits, pixel error, labels kept',
    )
    .option('--n <n>', 'samples from the prior', intArg(1), 10000)
    .option('--seed <n>', 'seed of the alpha-GAN and the samples', intArg(0), 0)
    .option('--train-steps <n>', 'alpha-GAN training steps', intArg(1))
    .option('--finetune-d <n>', 'D-only steps after training', intArg(0))
    .option(
      '--rec-weight <x>',
      'weight of the reconstruction term',
      numberArg((v) => v >= 0, 'a non-negative number'),
    )
    .option('--out <dir>', 'output folder (the classifier and the run are reused when present)', 'refinery-alphagan')
    .option('--json', 'print the result as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts) => {
      const r = await runAlphaGanBench(
        { n: opts.n, seed: opts.seed, out: opts.out, trainSteps: opts.trainSteps, finetuneD: opts.finetuneD, recWeight: opts.recWeight },
        stageHooks(opts.quiet),
      );
      printResult(opts.json, r, `${formatAlphaGanBench(r.rows)}\n\ntable: ${r.files.table}\njson: ${r.files.json}\ngrid: ${r.files.grid}`);
    });
}
