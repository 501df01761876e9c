/**
 * `refinery refine`: apply one refinement method to N samples of a generator, streamed in
 * chunks to a .npy file (resumable), with a JSON summary beside it and an optional PNG.
 */
import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { CALIBRATION_METHODS, calibrate, type Calibration } from '../calibration/calibrate.js';
import { getDataset } from '../data/dataset.js';
import { readImageFolder } from '../data/images.js';
import { fail } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readNpyFloat32 } from '../io/npy.js';
import { D_OUTPUTS, LATENT_PRIORS, parseDOutput, parseLatentPrior } from '../models/meta.js';
import { loadPair } from '../models/pair.js';
import { trainDreFsp, type DreFspResult } from '../methods/estimators/drefsp.js';
import { loadGraph } from '../onnx/model.js';
import { Rng } from '../rng.js';
import { runStreamed } from '../run/stream.js';
import { printResult, signal } from './common.js';
import { METHODS, methodIds, methodOptions, type MethodSpec } from './methods.js';
import { choiceArg, intArg } from './parse.js';
import { progress } from './progress.js';
import { Preview } from './preview.js';

export function registerRefine(program: Command): void {
  const cmd = program
    .command('refine')
    .description('refine samples of a generator with its discriminator; writes OUT.npy and OUT.json (summary)')
    .option('--run <dir>', 'run folder from `refinery train` (generator.onnx, discriminator.onnx, meta.json)')
    .option('--generator <file>', 'generator ONNX file: z [batch, latent_dim] -> x')
    .option('--discriminator <file>', 'discriminator ONNX file: x -> [batch, 1]')
    .option('--latent-prior <p>', `${LATENT_PRIORS.join(' or ')} (checked against meta.json)`)
    .option('--d-output <kind>', `what D outputs: ${D_OUTPUTS.join(', ')} (checked against meta.json)`)
    .requiredOption('--method <id>', `one of ${methodIds().join(', ')}`, choiceArg(methodIds()))
    .option('--n <n>', 'samples to return', intArg(1), 10000)
    .option('--seed <n>', 'random seed', intArg(), 0)
    .requiredOption('--out <file>', 'output .npy file (the summary goes to the same name with .json)')
    .option('--batch-size <n>', 'rows per model call', intArg(1), 10000)
    .option('--chunk-size <n>', 'samples per resumable chunk', intArg(1), 10000)
    .option('--resume', 'continue an interrupted run of the same command', false)
    .option('--real <file>', 'held-out real samples (.npy [m, ...data shape], or a folder of PNG images) for MH starts, calibration and DRE')
    .option('--dataset <name>', 'draw held-out real samples from a built-in dataset instead of --real')
    .option('--real-n <n>', 'real samples drawn with --dataset', intArg(1), 10000)
    .option(
      '--calibrate <how>',
      `calibrate D into a density ratio on held-out real data first: ${CALIBRATION_METHODS.join(', ')}`,
      choiceArg(CALIBRATION_METHODS),
      'none',
    )
    .option('--png <file>', 'also write a picture of the samples (scatter for 2-D data, grid for images)')
    .option('--json', 'print the summary as JSON', false)
    .option('--quiet', 'no progress on stderr', false);
  for (const o of methodOptions()) cmd.option(o.flags, o.description, o.parse as (v: string) => unknown);
  cmd.action(async (opts, command: Command) => {
    const spec: MethodSpec = METHODS[opts.method as string];
    // An option the chosen method does not read is a mistake, not something to ignore silently.
    for (const o of methodOptions()) {
      if (command.getOptionValueSource(o.key) === 'cli' && !spec.options.includes(o.key)) {
        fail(
          'invalid_argument',
          o.flag,
          `an option of --method ${spec.id} (${spec.options.map((k) => methodOptions().find((m) => m.key === k)!.flag).join(', ') || 'none'})`,
          `${o.flag} given`,
        );
      }
    }
    if (!opts.out.endsWith('.npy')) fail('invalid_argument', '--out', 'a file name ending in .npy', opts.out);
    let pair = loadPair(
      {
        run: opts.run,
        generator: opts.generator,
        discriminator: opts.discriminator,
        latentPrior: opts.latentPrior === undefined ? undefined : parseLatentPrior(opts.latentPrior, '--latent-prior'),
        dOutput: opts.dOutput === undefined ? undefined : parseDOutput(opts.dOutput, '--d-output'),
      },
      spec.needsDiscriminator,
    );
    const real = readReal(opts, pair.meta.dataShape, spec, pair.meta.outputRange);
    if (opts.calibrate !== 'none' && real === undefined)
      fail('invalid_argument', '--real', `held-out real samples for --calibrate ${opts.calibrate} (--real FILE.npy or --dataset NAME)`, 'nothing');
    let dre: DreFspResult | undefined;
    if (spec.estimator === 'dre') {
      const features = opts.dreFeatures === undefined ? undefined : loadGraph(opts.dreFeatures);
      const o = { steps: opts.dreSteps, lambda: opts.dreLambda, hidden: opts.dreHidden, layers: opts.dreLayers, lr: opts.dreLr, numFake: opts.dreFakes };
      const dreBar = progress('dre-f-sp', !opts.quiet);
      dre = await trainDreFsp({ pair, real: real!, seed: opts.seed, features }, Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)), {
        signal: signal(),
        onProgress: (step, steps) => dreBar.update(step, steps),
      }).finally(() => dreBar.stop());
      pair = dre.pair;
    }
    let calibration: Calibration | undefined;
    if (opts.calibrate !== 'none') {
      calibration = await calibrate(pair, real, { method: opts.calibrate, seed: opts.seed, batchSize: opts.batchSize }, { signal: signal() });
    }
    const bar = progress(spec.id, !opts.quiet);
    // Options not given are left out, so each runner applies its own defaults.
    const methodOpts = Object.fromEntries(Object.entries(spec.build(opts) as Record<string, unknown>).filter(([, v]) => v !== undefined));
    const preview = opts.png ? new Preview(pair.meta) : undefined;
    const result = await runStreamed(
      spec.runner,
      {
        pair: calibration?.pair ?? pair,
        n: opts.n,
        seed: opts.seed,
        batchSize: opts.batchSize,
        real,
        hooks: { signal: signal(), onProgress: (d, t) => bar.update(Math.round(d), t) },
      },
      methodOpts as never,
      {
        out: opts.out,
        chunkSize: opts.chunkSize,
        resume: opts.resume,
        identity: {
          method: spec.id,
          options: Object.fromEntries(spec.options.map((k) => [k, opts[k] ?? null])),
          calibrate: opts.calibrate,
          dre: spec.estimator ? [opts.dreSteps, opts.dreLambda, opts.dreHidden, opts.dreLayers, opts.dreLr, opts.dreFakes, opts.dreFeatures] : null,
          generator: pair.files.generator,
          discriminator: pair.files.discriminator,
          real: opts.real ?? opts.dataset ?? null,
        },
        onChunk: (_c, samples, shape) => preview?.add(samples, shape[0]),
      },
    ).finally(async () => {
      bar.stop();
      await calibration?.release();
    });
    const summary = {
      method: spec.id,
      out: result.out,
      shape: result.shape,
      seed: opts.seed,
      options: Object.fromEntries(spec.options.filter((k) => opts[k] !== undefined).map((k) => [k, opts[k]])),
      summary: result.summary,
      calibration: calibration?.report ?? null,
      dre: dre?.report ?? null,
      chunks: result.chunks,
      resumedChunks: result.resumedChunks,
      seconds: result.seconds,
      provenance: {
        generator: pair.files.generator,
        discriminator: pair.files.discriminator || null,
        meta: pair.files.meta ?? null,
        latentPrior: pair.meta.latentPrior,
        dOutput: pair.meta.dOutput,
        real: opts.real ?? (opts.dataset ? `dataset ${opts.dataset} (n=${opts.realN})` : null),
        refinery: '0.1.0',
        node: process.version,
      },
    };
    const summaryPath = opts.out.replace(/\.npy$/, '.json');
    writeFileAtomic(summaryPath, JSON.stringify(summary, null, 2) + '\n');
    preview?.write(opts.png, `${spec.id}, n=${opts.n}`);
    const s = result.summary;
    const fmt = (k: string) => (typeof s[k] === 'number' ? ` ${k} ${(s[k] as number).toPrecision(4)}` : '');
    printResult(
      opts.json,
      summary,
      `${spec.id}: wrote ${result.shape.join('x')} to ${opts.out} in ${result.seconds.toFixed(1)} s;${fmt('acceptance')}${fmt('gradNorm')}${fmt('nonFinite')}\nsummary: ${summaryPath}`,
    );
  });
}

function readReal(
  opts: { real?: string; dataset?: string; realN: number; seed: number },
  dataShape: number[],
  spec: MethodSpec,
  outputRange?: [number, number],
): Float32Array | undefined {
  if (opts.real !== undefined && opts.dataset !== undefined)
    fail('invalid_argument', '--dataset', 'either --real or --dataset, not both', `--real ${opts.real} and --dataset ${opts.dataset}`);
  let real: Float32Array | undefined;
  if (opts.real !== undefined) {
    if (!existsSync(opts.real)) fail('invalid_file', '--real', 'an existing .npy file or folder of PNG images', opts.real);
    const t = statSync(opts.real).isDirectory()
      ? (() => {
          const f = readImageFolder(opts.real, { range: outputRange ?? [-1, 1], grayscale: dataShape[0] === 1, option: '--real' });
          return { data: f.data, shape: f.shape as number[] };
        })()
      : readNpyFloat32(opts.real);
    const want = dataShape.join('x');
    if (t.shape.slice(1).join('x') !== want)
      fail('shape_mismatch', '--real', `an array of shape [m, ${dataShape.join(', ')}] (the generator's sample shape)`, `[${t.shape.join(', ')}]`);
    real = t.data;
  } else if (opts.dataset !== undefined) {
    if (dataShape.length !== 1 || dataShape[0] !== 2)
      fail('invalid_argument', '--dataset', 'a generator of 2-D samples (built-in datasets are 2-D)', `samples of shape [${dataShape.join(', ')}]`);
    real = getDataset(opts.dataset).sample(opts.realN, new Rng(opts.seed, 0x7265616c));
  }
  if (spec.needsReal && real === undefined)
    fail('invalid_argument', '--real', `held-out real samples for --method ${spec.id} (--real FILE.npy or --dataset NAME)`, 'nothing');
  return real;
}
