#!/usr/bin/env node
/** The `refinery` command line. Results go to stdout (`--json` for JSON), progress to stderr. */
import { Command, CommanderError } from 'commander';
import { RefineryError } from '../errors.js';
import { registerBench } from './bench.js';
import { registerDemo } from './demo.js';
import { registerEval } from './eval.js';
import { registerRefine } from './refine.js';
import { registerSample } from './sample.js';
import { registerTrain } from './train.js';

const program = new Command();
program
  .name('refinery')
  .description('Refine samples of a trained generative model with its discriminator (DRS, MH-GAN, SIR, DDLS, ...).')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  .showHelpAfterError('(run with --help for usage)');
registerTrain(program);
registerSample(program);
registerRefine(program);
registerEval(program);
registerBench(program);
registerDemo(program);

const controller = new AbortController();
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(130);
  process.stderr.write('\nstopping after the current step (Ctrl-C again to quit now)\n');
  controller.abort();
});
(globalThis as { refinerySignal?: AbortSignal }).refinerySignal = controller.signal;

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Help and version exit 0; usage errors (unknown option, bad value, missing argument) exit 2.
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof RefineryError) {
    process.stderr.write(`refinery: ${e.code}: ${e.message}\n`);
    process.exitCode = e.code === 'cancelled' ? 130 : e.isUserError ? 2 : 1;
  } else {
    process.stderr.write(`refinery: internal error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
}
