/** `refinery merge`: the shards of one `refine --shard` run into the file an unsharded run writes. */
import type { Command } from 'commander';
import { mergeShards } from '../refine/merge.js';
import { printResult } from './common.js';

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('join the outputs of `refine --shard i/n` (all n of one run) into OUT.npy and OUT.json, byte for byte what one unsharded run writes')
    .argument('<shards...>', 'the shard .npy files (each with its .json beside it), in any order')
    .requiredOption('--out <file>', 'the merged .npy file (its summary goes to the same name with .json)')
    .option('--overwrite', 'replace an earlier --out (and its summary); otherwise refused', false)
    .option('--json', 'print the result as JSON', false)
    .action((shards: string[], opts) => {
      const r = mergeShards(shards, { out: opts.out, overwrite: opts.overwrite, names: { inputs: 'shards', out: '--out' } });
      printResult(
        opts.json,
        r,
        `merged ${r.shards} shards of run ${r.run.slice(0, 12)} into ${r.out} (${r.shape.join('x')}, sha256 ${r.sha256.slice(0, 16)}…)\nsummary: ${r.summaryFile}`,
      );
    });
}
