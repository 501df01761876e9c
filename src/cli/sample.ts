import { dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { writeNpy } from '../io/npy.js';
import { LATENT_PRIORS, parseLatentPrior } from '../models/meta.js';
import { loadPair } from '../models/pair.js';
import { Rng } from '../rng.js';
import { samplePrior } from '../run/latent.js';
import { GeneratorRunner } from '../targets/generator.js';
import { printResult } from './common.js';
import { intArg } from './parse.js';
import { Preview } from './preview.js';
import { progress } from './progress.js';

export function registerSample(program: Command): void {
  program
    .command('sample')
    .description('draw samples from a generator (no refinement) into a .npy file')
    .option('--run <dir>', 'run folder from `refinery train`')
    .option('--generator <file>', 'generator ONNX file')
    .option('--latent-prior <p>', `${LATENT_PRIORS.join(' or ')} (checked against meta.json)`)
    .requiredOption('--out <file>', 'output .npy file')
    .option('--n <n>', 'number of samples', intArg(1), 10000)
    .option('--seed <n>', 'random seed', intArg(), 0)
    .option('--batch-size <n>', 'rows per generator call', intArg(1), 4096)
    .option('--png <file>', 'also write a picture of the samples (scatter for 2-D data, grid for images)')
    .option('--json', 'print the result as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts) => {
      const pair = loadPair(
        {
          run: opts.run,
          generator: opts.generator,
          latentPrior: opts.latentPrior === undefined ? undefined : parseLatentPrior(opts.latentPrior, '--latent-prior'),
        },
        false,
      );
      const { latentDim: d, dataShape, latentPrior } = pair.meta;
      const size = dataShape.reduce((a, b) => a * b, 1);
      const preview = opts.png ? new Preview(pair.meta) : undefined;
      const out = new Float32Array(opts.n * size);
      const gen = await GeneratorRunner.create(pair);
      const bar = progress('sample', !opts.quiet);
      try {
        for (let c = 0, start = 0; start < opts.n; c++, start += opts.batchSize) {
          const rows = Math.min(opts.batchSize, opts.n - start);
          const z = samplePrior(latentPrior, rows, d, new Rng(opts.seed, 0, c));
          out.set((await gen.generate({ data: z, shape: [rows, d] })).data, start * size);
          bar.update(start + rows, opts.n);
        }
      } finally {
        bar.stop();
        await gen.release();
      }
      mkdirSync(dirname(opts.out), { recursive: true });
      writeNpy(opts.out, out, [opts.n, ...dataShape]);
      if (preview) {
        preview.add(out, opts.n);
        preview.write(opts.png, `generator, n=${opts.n}`);
      }
      printResult(
        opts.json,
        { out: opts.out, n: opts.n, shape: [opts.n, ...dataShape], seed: opts.seed, generator: pair.files.generator },
        `wrote ${opts.n} samples to ${opts.out}`,
      );
    });
}
