/**
 * `refinery refine`: the command-line shell over `refineToFile`. It reads the models and the real
 * samples, turns flags into the library's options and prints the result; everything else (checks,
 * locking, streaming, resuming, the summary) is the library's.
 */
import type { Command } from 'commander';
import { CALIBRATION_METHODS } from '../calibration/calibrate.js';
import { encodeLatents } from '../models/encoder.js';
import { D_OUTPUTS, LATENT_PRIORS } from '../models/meta.js';
import type { ModelPair } from '../models/pair.js';
import { loadGraph } from '../onnx/modelfile.js';
import { readNpyFloat32 } from '../io/npyfile.js';
import { fail } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICES } from '../onnx/device.js';
import { refineToFile } from '../refine/file.js';
import { parseShard, shardFileName } from '../refine/shard.js';
import type { RefineOptions } from '../refine/refine.js';
import { METHOD_IDS, METHODS, type MethodId } from '../refine/registry.js';
import { pairFromFlags, printResult, signal } from './common.js';
import { givenMethodOptions, registerMethodOptions } from './methods.js';
import { choiceArg, intArg } from './parse.js';
import { progressStages } from './progress.js';
import { readRealSamples, readSamplesPath } from './real.js';

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
    .option('--overwrite', "replace an earlier result at --out (OUT.npy, OUT.json, --png) and discard an interrupted run's chunks; otherwise refused", false)
    .option(
      '--shard <i/n|auto>',
      'produce only shard i of n (rows floor(i N/n) .. floor((i+1) N/n)) into OUT.shard-i-of-n.npy; auto: from SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX + REFINERY_SHARD_COUNT; join them with `refinery merge`',
    )
    .option('--device <d>', `where the models run: ${DEVICES.join(' or ')}`, choiceArg(DEVICES), 'cpu')
    .option('--real <path>', 'held-out real samples (.npy [m, ...data shape], or a folder of PNG or JPEG images) for MH starts, calibration and DRE')
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
    .option(
      '--reconstruct <path>',
      'refine reconstructions: start each row at the code of a real sample (.npy or folder of PNGs or JPEGs) from the encoder; --n defaults to its rows (dynamics methods)',
    )
    .option(
      '--encoder <file>',
      'encoder ONNX for --reconstruct: x -> z or [mu, logvar] (default: encoder.onnx in --run, written by train --model alphagan or vae)',
    )
    .option('--latents <file>', 'start latents .npy [n, latent_dim] instead of draws of the prior; --n defaults to its rows (dynamics methods)')
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
    const real = await readRealSamples(opts, pair.meta);
    const start = await readStartLatents(opts, pair);
    if (start && command.getOptionValueSource('n') !== 'cli') opts.n = start.tensor.shape[0];
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
      latents: start?.tensor,
      calibrate: opts.calibrate,
      criticAsRatio: opts.criticAsRatio,
      signal: signal(),
      onProgress: bar.update,
      ...methodOptions,
    } as RefineOptions;
    const r = await refineToFile(pair, options, {
      out,
      resume: opts.resume,
      overwrite: opts.overwrite,
      png: opts.png,
      inputs: [...(real?.file ? [{ path: real.file, option: '--real' }] : []), ...(start?.inputs ?? [])],
      provenance: { real: real?.description ?? null, ...(start ? { latents: start.description } : {}) },
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

/** The run's start latents: --latents (a .npy), or --reconstruct (real samples through the encoder); undefined for neither. */
async function readStartLatents(
  opts: { latents?: string; reconstruct?: string; encoder?: string; run?: string },
  pair: ModelPair,
): Promise<{ tensor: Tensor; inputs: { path: string; option: string }[]; description: string } | undefined> {
  if (opts.latents !== undefined && opts.reconstruct !== undefined)
    fail('invalid_argument', '--latents', 'either --latents or --reconstruct, not both', `--latents ${opts.latents} and --reconstruct ${opts.reconstruct}`);
  if (opts.encoder !== undefined && opts.reconstruct === undefined)
    fail('invalid_argument', '--encoder', 'an option of --reconstruct', '--encoder without --reconstruct');
  if (opts.latents !== undefined) {
    if (!existsSync(opts.latents)) fail('invalid_file', '--latents', 'an existing .npy file [n, latent_dim]', opts.latents);
    const t = readNpyFloat32(opts.latents);
    const k = pair.meta.latentDim;
    if (t.shape.length !== 2 || t.shape[1] !== k)
      fail('shape_mismatch', '--latents', `an array of shape [n, ${k}] (the generator's latent size)`, `[${t.shape.join(', ')}]`);
    return { tensor: t, inputs: [{ path: opts.latents, option: '--latents' }], description: opts.latents };
  }
  if (opts.reconstruct === undefined) return undefined;
  const encoder = opts.encoder ?? (opts.run !== undefined ? join(opts.run, 'encoder.onnx') : undefined);
  if (encoder === undefined || !existsSync(encoder))
    fail(
      'invalid_argument',
      '--encoder',
      'an encoder ONNX for --reconstruct (--encoder F.onnx, or a --run folder with encoder.onnx: train --model alphagan or vae)',
      encoder ?? 'none',
    );
  const x = await readSamplesPath(opts.reconstruct, pair.meta, '--reconstruct');
  const z = await encodeLatents(loadGraph(encoder), x, { latentDim: pair.meta.latentDim, path: '--encoder' });
  return {
    tensor: z,
    inputs: [
      { path: opts.reconstruct, option: '--reconstruct' },
      { path: encoder, option: '--encoder' },
    ],
    description: `codes of ${opts.reconstruct} (${x.shape[0]} samples) from ${encoder}`,
  };
}
