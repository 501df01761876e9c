/**
 * `refinery refine`: the command-line shell over `refineToFile`. It reads the models and the real
 * samples, turns flags into the library's options and prints the result; everything else (checks,
 * locking, streaming, resuming, the summary) is the library's.
 */
import type { Command } from 'commander';
import { CALIBRATION_METHODS } from '../calibration/calibrate.js';
import { D_OUTPUTS, LATENT_PRIORS } from '../models/meta.js';
import { DEVICES } from '../onnx/device.js';
import { refineToFile } from '../refine/file.js';
import { parseShard, shardFileName } from '../refine/shard.js';
import type { RefineOptions } from '../refine/refine.js';
import { METHOD_IDS, METHODS, type MethodId } from '../refine/registry.js';
import { pairFromFlags, printResult, signal } from './common.js';
import { givenMethodOptions, registerMethodOptions } from './methods.js';
import { choiceArg, intArg } from './parse.js';
import { progressStages } from './progress.js';
import { readRealSamples } from './real.js';

export function registerRefine(program: Command): void {
  const cmd = program
    .command('refine')
    .description('refine samples of a generator with its discriminator; writes OUT.npy and OUT.json (summary)')
    .option('--run <dir>', 'run folder from `refinery train` (generator.onnx, discriminator.onnx, meta.json)')
    .option('--generator <file>', 'generator ONNX file: z [batch, latent_dim] -> x')
    .option('--discriminator <file>', 'discriminator ONNX file: x -> [batch, 1]')
    .option('--latent-prior <p>', `${LATENT_PRIORS.join(' or ')} (required without a meta.json, checked against it otherwise)`, choiceArg(LATENT_PRIORS))
    .option('--d-output <kind>', `what D outputs: ${D_OUTPUTS.join(', ')} (required without a meta.json, checked against it otherwise)`, choiceArg(D_OUTPUTS))
    .requiredOption('--method <id>', `one of ${METHOD_IDS.join(', ')}`, choiceArg(METHOD_IDS))
    .option('--n <n>', 'samples to return', intArg(1), 10000)
    .option('--seed <n>', 'random seed', intArg(), 0)
    .requiredOption('--out <file>', 'output .npy file (the summary goes to the same name with .json)')
    .option('--batch-size <n>', 'rows per model call (default: about 24 MiB of intermediate values of G then D, 64 to 10000 rows)', intArg(1))
    .option('--chunk-size <n>', 'samples per resumable chunk', intArg(1), 10000)
    .option('--resume', 'continue an interrupted run of the same command', false)
    .option(
      '--shard <i/n|auto>',
      'produce only shard i of n (rows floor(i N/n) .. floor((i+1) N/n)) into OUT.shard-i-of-n.npy; auto: from SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX + REFINERY_SHARD_COUNT; join them with `refinery merge`',
    )
    .option('--device <d>', `where the models run: ${DEVICES.join(' or ')}`, choiceArg(DEVICES), 'cpu')
    .option('--real <path>', 'held-out real samples (.npy [m, ...data shape], or a folder of PNG images) for MH starts, calibration and DRE')
    .option('--dataset <name>', 'draw held-out real samples from a built-in dataset instead of --real')
    .option('--real-n <n>', 'real samples drawn with --dataset', intArg(1), 10000)
    .option(
      '--calibrate <how>',
      `calibrate D into a density ratio on held-out real data first: ${CALIBRATION_METHODS.join(', ')}`,
      choiceArg(CALIBRATION_METHODS),
      'none',
    )
    .option(
      '--critic-as-ratio',
      'let drs, mh and sir use an uncalibrated critic (--d-output critic) as the log density ratio (otherwise they need --calibrate)',
      false,
    )
    .option('--png <file>', 'also write a picture of the samples (scatter for 2-D data, grid for images)')
    .option('--json', 'print the summary as JSON', false)
    .option('--quiet', 'no progress on stderr', false);
  registerMethodOptions(cmd);
  cmd.action(async (opts, command: Command) => {
    const method = opts.method as MethodId;
    const methodOptions = givenMethodOptions(command, method);
    const pair = pairFromFlags(opts);
    const shard = opts.shard === undefined ? undefined : parseShard(opts.shard, process.env, '--shard');
    const out = shard ? shardFileName(opts.out, shard) : opts.out;
    const real = readRealSamples(opts, pair.meta);
    const bar = progressStages(!opts.quiet);
    const options = {
      method,
      n: opts.n,
      seed: opts.seed,
      batchSize: opts.batchSize,
      chunkSize: opts.chunkSize,
      shard,
      device: opts.device,
      real: real?.tensor,
      calibrate: opts.calibrate,
      criticAsRatio: opts.criticAsRatio,
      signal: signal(),
      onProgress: bar.update,
      ...methodOptions,
    } as RefineOptions;
    const r = await refineToFile(pair, options, {
      out,
      resume: opts.resume,
      png: opts.png,
      inputs: real?.file ? [{ path: real.file, option: '--real' }] : [],
      provenance: { real: real?.description ?? null },
      names: { out: '--out', png: '--png' },
    }).finally(() => bar.stop());
    const s = r.summary;
    const fmt = (k: string) => (typeof s[k] === 'number' ? ` ${k} ${(s[k] as number).toPrecision(4)}` : '');
    printResult(
      opts.json,
      r.record,
      `${METHODS[method].id}${shard ? ` shard ${shard.index}/${shard.count}` : ''}: wrote ${r.shape.join('x')} to ${r.out} in ${r.seconds.toFixed(1)} s;${fmt('acceptance')}${fmt('gradNorm')}${fmt('nonFinite')}\nsummary: ${r.summaryFile}`,
    );
  });
}
