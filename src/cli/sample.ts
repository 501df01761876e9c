/** `refinery sample`: generator samples (no refinement) into a .npy file, streamed. */
import type { Command } from 'commander';
import { LATENT_PRIORS } from '../models/meta.js';
import { loadPair } from '../models/load.js';
import { DEVICES } from '../onnx/device.js';
import { sampleToFile } from '../refine/file.js';
import { printResult, signal } from './common.js';
import { choiceArg, intArg } from './parse.js';
import { progressStages } from './progress.js';

export function registerSample(program: Command): void {
  program
    .command('sample')
    .description('draw samples from a generator (no refinement) into a .npy file')
    .option('--run <dir>', 'run folder from `refinery train`')
    .option('--generator <file>', 'generator ONNX file')
    .option('--latent-prior <p>', `${LATENT_PRIORS.join(' or ')} (required without a meta.json, checked against it otherwise)`, choiceArg(LATENT_PRIORS))
    .requiredOption('--out <file>', 'output .npy file')
    .option('--n <n>', 'number of samples', intArg(1), 10000)
    .option('--seed <n>', 'random seed', intArg(), 0)
    .option('--batch-size <n>', 'rows per generator call', intArg(1), 4096)
    .option('--device <d>', `where the generator runs: ${DEVICES.join(' or ')}`, choiceArg(DEVICES), 'cpu')
    .option('--png <file>', 'also write a picture of the samples (scatter for 2-D data, grid for images)')
    .option('--overwrite', 'replace an earlier --out (and --png); otherwise refused', false)
    .option('--json', 'print the result as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts) => {
      const pair = loadPair({ run: opts.run, generator: opts.generator, latentPrior: opts.latentPrior }, false);
      const bar = progressStages(!opts.quiet);
      const r = await sampleToFile(
        pair,
        { n: opts.n, seed: opts.seed, batchSize: opts.batchSize, device: opts.device, signal: signal(), onProgress: bar.update },
        { out: opts.out, png: opts.png, overwrite: opts.overwrite, names: { out: '--out', png: '--png' } },
      ).finally(() => bar.stop());
      printResult(opts.json, { ...r, n: opts.n, seed: opts.seed, generator: pair.files.generator }, `wrote ${opts.n} samples to ${r.out}`);
    });
}
