import type { Command } from 'commander';
import { DATASET_NAMES } from '../data/dataset.js';
import { DEMO_DEFAULTS, runDemo } from '../run/demo.js';
import { MLP_DEFAULTS } from '../train/mlpgan.js';
import { printResult, signal } from './common.js';
import { choiceArg, intArg, numberArg } from './parse.js';
import { progress } from './progress.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('train a GAN on a built-in dataset, refine 10k samples with DDLS, write a before/after plot and metrics')
    .option('--out <dir>', 'output folder', 'refinery-demo')
    .option('--dataset <name>', `one of ${DATASET_NAMES.join(', ')}`, choiceArg(DATASET_NAMES), DEMO_DEFAULTS.dataset)
    .option('--seed <n>', 'random seed', intArg(), DEMO_DEFAULTS.seed)
    .option('--n <n>', 'samples to refine', intArg(1), DEMO_DEFAULTS.n)
    .option('--train-steps <n>', 'GAN training steps', intArg(1), MLP_DEFAULTS.steps)
    .option('--finetune-d <n>', 'extra D-only steps after training', intArg(0), MLP_DEFAULTS.finetuneD)
    .option('--num-steps <n>', 'DDLS steps', intArg(1), DEMO_DEFAULTS.numSteps)
    .option(
      '--step-size <x>',
      'DDLS step size',
      numberArg((n) => n > 0, 'a positive number'),
      DEMO_DEFAULTS.ddls.stepSize,
    )
    .option(
      '--noise <x>',
      'DDLS noise multiplier',
      numberArg((n) => n >= 0, 'a non-negative number'),
      DEMO_DEFAULTS.ddls.noise,
    )
    .option('--no-metropolis', 'unadjusted Langevin (no MALA correction)')
    .option('--overwrite', 'run again into an --out that holds an earlier demo, replacing it (otherwise refused)', false)
    .option('--json', 'print the result as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts) => {
      const trainBar = progress('train', !opts.quiet);
      const refineBar = progress('ddls', !opts.quiet);
      const r = await runDemo(
        {
          ...DEMO_DEFAULTS,
          out: opts.out,
          overwrite: opts.overwrite,
          dataset: opts.dataset,
          seed: opts.seed,
          n: opts.n,
          numSteps: opts.numSteps,
          train: { steps: opts.trainSteps, finetuneD: opts.finetuneD },
          ddls: { ...DEMO_DEFAULTS.ddls, stepSize: opts.stepSize, noise: opts.noise, metropolis: opts.metropolis },
        },
        {
          onTrain: (p) => trainBar.update(p.step, p.steps, `loss_d ${p.lossD.toFixed(3)} loss_g ${p.lossG.toFixed(3)}`),
          onRefine: (s, total) => {
            if (s === 1) trainBar.stop();
            refineBar.update(s, total);
          },
          signal: signal(),
        },
      ).finally(() => {
        // however the demo ends: a terminal bar left running would keep the process alive
        trainBar.stop();
        refineBar.stop();
      });
      const line = (name: string, m: typeof r.before) =>
        `${name.padEnd(10)} modes ${String(m.recoveredModes).padStart(2)}/${m.numModes}  high quality ${m.highQualityPercent.toFixed(1).padStart(5)}%  std ${m.std.toFixed(4)}`;
      printResult(
        opts.json,
        r,
        [
          line('generator', r.before),
          line('ddls', r.after),
          `plot: ${r.files.plot}`,
          `metrics: ${r.files.metrics}`,
          `samples: ${r.files.before}, ${r.files.after}`,
          `models: ${r.files.run}`,
        ].join('\n'),
      );
    });
}
