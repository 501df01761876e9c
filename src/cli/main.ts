#!/usr/bin/env node
/**
 * The `refinery` command line. Results go to stdout (`--json` for JSON), progress to stderr. Every
 * error, whether found by the option parser or by the library, is printed in one format,
 * `refinery: <code>: <option>: expected <...>, received <...>`, naming the option the user gave;
 * bad input exits 2, a stop (Ctrl-C) 130, an internal error 1.
 */
import { existsSync } from 'node:fs';
import { type Command, CommanderError, type Option, Command as CommandClass } from 'commander';
import { type Issue, RefineryError } from '../errors.js';
import { VERSION } from '../version.js';
import { registerClassifier } from './classifier.js';
import { registerCritic } from './critic.js';
import { registerDemo } from './demo.js';
import { registerEval } from './eval.js';
import { registerExportImages } from './images.js';
import { registerMerge } from './merge.js';
import { registerRefine } from './refine.js';
import { registerSample } from './sample.js';
import { registerTrain } from './train.js';

const program = new CommandClass();
program
  .name('refinery')
  .description('Refine samples of a trained generative model with its discriminator (DRS, MH-GAN, SIR, DDLS, ...).')
  .version(VERSION)
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: () => {} });
registerTrain(program);
registerClassifier(program);
registerCritic(program);
registerSample(program);
registerRefine(program);
registerMerge(program);
registerEval(program);
registerExportImages(program);
// The benchmarks are developer tools: present in a source checkout, not in the published package.
if (existsSync(new URL('./bench.js', import.meta.url))) (await import('./bench.js')).registerBench(program);
registerDemo(program);

/** Every command exits instead of calling process.exit, and prints errors only through the handler below. */
function quiet(cmd: Command): void {
  cmd.exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: () => {} });
  for (const c of cmd.commands) quiet(c);
}
quiet(program);

let active: Command = program;
program.hook('preAction', (_self, action) => {
  active = action;
});

const controller = new AbortController();
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(130);
  process.stderr.write('\nrefinery: stopping after the current step (Ctrl-C again to quit at once)\n');
  controller.abort();
});
(globalThis as { refinerySignal?: AbortSignal }).refinerySignal = controller.signal;

/** The command that the arguments name (for options in messages), even when parsing failed before its action. */
function commandOf(args: string[]): Command {
  let cmd: Command = program;
  for (const a of args) {
    const sub = cmd.commands.find((c) => c.name() === a);
    if (!sub) break;
    cmd = sub;
  }
  return cmd;
}

/** An option key of the library ('batchSize', or 'real row 3') as the flag of this command ('--batch-size', '--real row 3'). */
function flagOf(cmd: Command, path: string): string {
  const [head, ...rest] = path.split(' ');
  if (head.startsWith('-') || /[/\\]/.test(head)) return path;
  const opt = cmd.options.find((o: Option) => o.attributeName() === head && o.long && !o.negate);
  return opt?.long ? [opt.long, ...rest].join(' ') : path;
}

function fmtIssues(issues: Issue[]): string {
  return issues.map((i) => `${i.path}: expected ${i.expected}, received ${i.received}`).join('\n  ');
}

/** Commander's messages, as issues: a pattern of the message and the issue it makes. */
const COMMANDER_MESSAGES: [RegExp, (r: RegExpExecArray, cmd: Command) => Issue][] = [
  [
    /^option '(-[^ ']+)[^']*' argument '(.*)' is invalid\. (?:expected )?(.*?)(?:, received .*)?$/s,
    (r) => ({ path: r[1], expected: r[3], received: JSON.stringify(r[2]) }),
  ],
  [
    /^unknown option '([^']*)'/,
    (r, cmd) => ({ path: r[1], expected: `an option of refinery${cmd === program ? '' : ` ${cmd.name()}`} (see --help)`, received: r[1] }),
  ],
  [/^required option '(-[^ ']+)[^']*' not specified/, (r) => ({ path: r[1], expected: 'a value (the option is required)', received: 'nothing' })],
  [/^option '(-[^ ']+)[^']*' argument missing/, (r) => ({ path: r[1], expected: 'a value after the option', received: 'nothing' })],
  [
    /^unknown command '([^']*)'/,
    (r) => ({ path: 'command', expected: `one of ${program.commands.map((c) => c.name()).join(', ')}`, received: JSON.stringify(r[1]) }),
  ],
  [
    /^too many arguments(?: for '[^']*')?\. Expected (\d+) arguments? but got (\d+)/,
    (r) => ({ path: 'arguments', expected: `${r[1]} positional arguments (options start with --)`, received: r[2] }),
  ],
];

function commanderIssue(e: CommanderError, cmd: Command): Issue {
  const m = e.message.replace(/^error: /, '');
  for (const [pattern, issue] of COMMANDER_MESSAGES) {
    const r = pattern.exec(m);
    if (r) return issue(r, cmd);
  }
  return { path: cmd.name(), expected: 'valid arguments', received: m };
}

const args = process.argv.slice(2);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  const cmd = active === program ? commandOf(args) : active;
  if (e instanceof CommanderError) {
    // Help and version exit 0; usage errors (unknown option, bad value, missing argument) exit 2.
    if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') {
      process.exitCode = 0;
    } else {
      process.stderr.write(
        `refinery: invalid_argument: ${fmtIssues([commanderIssue(e, cmd)])}\n(run refinery ${cmd === program ? '' : `${cmd.name()} `}--help for usage)\n`,
      );
      process.exitCode = 2;
    }
  } else if (e instanceof RefineryError) {
    const issues = e.issues.map((i) => ({ ...i, path: flagOf(cmd, i.path) }));
    const resumable = ['train', 'refine', 'finetune-critic', 'train-corrector'].includes(cmd.name());
    const hint = e.code === 'cancelled' && resumable ? '\nrerun the same command with --resume to continue from where it stopped' : '';
    process.stderr.write(`refinery: ${e.code}: ${issues.length > 0 ? fmtIssues(issues) : e.message}${hint}\n`);
    process.exitCode = e.code === 'cancelled' ? 130 : e.isUserError ? 2 : 1;
  } else {
    process.stderr.write(`refinery: internal error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
}
