/**
 * `refinery export-images`: the images of a .npy (what `refine`, `sample` and `merge` write) as a
 * folder of PNG files, one per sample, for tools that read image folders (pytorch-fid,
 * torch-fidelity, `refinery eval --fake DIR`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import type { Command } from 'commander';
import { writeImageFolder } from '../data/images.js';
import { describe, fail } from '../errors.js';
import { canonicalPath, checkEarlierOutputs, checkOutputs } from '../io/paths.js';
import { lockOutput } from '../io/lock.js';
import { npyToFloat32 } from '../io/npy.js';
import { readNpy } from '../io/npyfile.js';
import { parseMeta } from '../models/meta.js';
import { parseNumberText } from '../refine/options.js';
import { printResult } from './common.js';

/** `lo,hi` with lo < hi, both finite, else an error naming --range. */
function parseRange(text: string): [number, number] {
  const parts = text.split(',').map((p) => parseNumberText(p) ?? Number.NaN);
  if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[0] < parts[1])) {
    fail('invalid_argument', '--range', 'two finite numbers lo,hi with lo < hi (e.g. -1,1 for a tanh generator, 0,1 for a sigmoid one)', describe(text));
  }
  return [parts[0], parts[1]];
}

/**
 * The generator output range recorded for the run that wrote `npy`: its summary (`.json` beside
 * it, written by refine and merge; sample writes none) names the run's meta.json, whose output
 * range `train` records. Undefined when any of it is missing.
 */
function recordedRange(npy: string): { range: [number, number]; source: string } | undefined {
  try {
    const summary = JSON.parse(readFileSync(npy.replace(/\.npy$/i, '.json'), 'utf8')) as { provenance?: { meta?: unknown } };
    const meta = summary.provenance?.meta;
    if (typeof meta !== 'string' || !existsSync(meta)) return undefined;
    const range = parseMeta(JSON.parse(readFileSync(meta, 'utf8')), meta).outputRange;
    return range ? { range, source: meta } : undefined;
  } catch {
    return undefined;
  }
}

/** The output range recorded in `dir`/meta.json, else an error naming --run. */
function runRange(dir: string): { range: [number, number]; source: string } {
  const meta = join(dir, 'meta.json');
  if (!existsSync(meta)) fail('invalid_file', '--run', 'a run folder with a meta.json', dir);
  const range = parseMeta(JSON.parse(readFileSync(meta, 'utf8')), meta).outputRange;
  if (!range) fail('invalid_argument', '--run', 'a meta.json that records the output range (output_range)', `${meta} without one; pass --range`);
  return { range, source: meta };
}

export function registerExportImages(program: Command): void {
  program
    .command('export-images')
    .description('write the images of a .npy [n, channels, height, width] (from refine, sample or merge) as a folder of PNG files, one per sample, in order')
    .argument('<npy>', 'a .npy of images: [n, 1 or 3, height, width], or [n, height, width] for grey ones')
    .requiredOption('--out <dir>', 'the folder to write (000000.png, 000001.png, ...): a new or empty one, unless --overwrite')
    .option('--range <lo,hi>', 'the values that map to black and white, e.g. -1,1 (tanh) or 0,1 (sigmoid)')
    .option(
      '--run <dir>',
      "a run folder whose meta.json records the generator's output range (default: the run named by the .npy's summary, as refine and merge write it)",
    )
    .option('--overwrite', 'replace an --out folder that holds files (the whole folder)', false)
    .option('--json', 'print the result as JSON', false)
    .action((npy: string, opts: { out: string; range?: string; run?: string; overwrite: boolean; json: boolean }) => {
      if (!npy.toLowerCase().endsWith('.npy') || !existsSync(npy)) fail('invalid_file', 'npy', 'an existing .npy file of images', npy);
      const range = opts.range !== undefined ? parseRange(opts.range) : undefined;
      checkOutputs([{ path: opts.out, option: '--out', kind: 'folder' }], [{ path: npy, option: 'npy' }]);
      // A folder replaced whole must not hold the input.
      if (canonicalPath(npy).startsWith(canonicalPath(opts.out) + sep))
        fail('invalid_argument', '--out', 'a folder that does not hold the input', `${opts.out}, which holds ${npy}`);
      checkEarlierOutputs([{ path: opts.out, option: '--out', kind: 'folder' }], opts, false);
      const t = npyToFloat32(readNpy(npy));
      const shape = t.shape.length === 3 ? [t.shape[0], 1, t.shape[1], t.shape[2]] : t.shape;
      if (shape.length !== 4 || (shape[1] !== 1 && shape[1] !== 3)) {
        fail('shape_mismatch', 'npy', 'images [n, 1 or 3, height, width] or [n, height, width]', `shape [${t.shape.join(', ')}] in ${npy}`);
      }
      if (range !== undefined && opts.run !== undefined)
        fail('invalid_argument', '--run', 'either --range or --run, not both', `--range ${opts.range} and --run ${opts.run}`);
      const recorded = range === undefined ? (opts.run !== undefined ? runRange(opts.run) : recordedRange(npy)) : undefined;
      if (range === undefined && recorded === undefined) {
        fail(
          'invalid_argument',
          '--range',
          'the value range of the images (lo,hi: -1,1 for a tanh generator, 0,1 for a sigmoid one), or --run DIR whose meta.json records it',
          `none, and no output range is recorded for ${npy} (no summary naming a run's meta.json with one)`,
        );
      }
      const used: [number, number] = range ?? recorded!.range;
      const lock = lockOutput(opts.out, '--out');
      try {
        const { files } = writeImageFolder(opts.out, t.data, shape, used, { option: '--out', overwrite: opts.overwrite });
        const from = range ? '--range' : `recorded in ${recorded!.source}`;
        printResult(
          opts.json,
          { npy, out: opts.out, images: files.length, shape, range: used, rangeFrom: from },
          `wrote ${files.length} images of ${shape[1]}x${shape[2]}x${shape[3]} to ${opts.out}/ (${files[0]} ... ${files[files.length - 1]}); values ${used[0]}..${used[1]} (${from}) mapped to 0..255`,
        );
      } finally {
        lock.release();
      }
    });
}
