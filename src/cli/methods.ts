/**
 * The refinement methods the CLI offers: for each id, its runner, the method options it reads and
 * how they become the runner's options. Option parsers name the option in their errors.
 */
import { runDdls } from '../run/latent.js';
import type { MethodRunner } from '../run/types.js';
import { intArg, numberArg } from './parse.js';

export interface MethodOption {
  /** Commander flags, e.g. '--step-size <x>'. */
  flags: string;
  /** The option name, e.g. '--step-size'. */
  flag: string;
  /** Commander's camelCase key, e.g. 'stepSize'. */
  key: string;
  description: string;
  parse?: (v: string) => unknown;
}

export interface MethodSpec {
  id: string;
  summary: string;
  runner: MethodRunner<never>;
  /** Keys of the method options it reads. */
  options: string[];
  build(opts: Record<string, unknown>): unknown;
  needsDiscriminator: boolean;
  needsReal: boolean;
}

const positive = numberArg((n) => n > 0, 'a positive number');
const nonNegative = numberArg((n) => n >= 0, 'a non-negative number');

function option(flags: string, description: string, parse?: (v: string) => unknown): MethodOption {
  const flag = flags.split(' ')[0];
  const key = flag.replace(/^--(no-)?/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return { flags, flag, key, description, parse };
}

const OPTIONS: MethodOption[] = [
  option('--num-steps <n>', 'dynamics: steps per chain', intArg(1)),
  option('--step-size <x>', 'dynamics: step size', positive),
  option('--noise <x>', 'dynamics: noise multiplier (1 = Langevin, 0 = gradient descent)', nonNegative),
  option('--decay <x>', 'ddls: step-size decay per step, in (0, 1]', numberArg((n) => n > 0 && n <= 1, 'a number in (0, 1]')),
  option('--metropolis', 'ddls: Metropolis-adjusted Langevin (MALA) correction'),
];

export function methodOptions(): MethodOption[] {
  return OPTIONS;
}

const pick = <T>(v: unknown, d: T): T => (v === undefined ? d : (v as T));

export const METHODS: Record<string, MethodSpec> = {
  ddls: {
    id: 'ddls',
    summary: 'Langevin dynamics on the latent energy -log p0(z) - logRatio(G(z)) (Che et al. 2020)',
    runner: runDdls as MethodRunner<never>,
    options: ['numSteps', 'stepSize', 'noise', 'decay', 'metropolis'],
    build: (o) => ({ numSteps: pick(o.numSteps, 100), stepSize: pick(o.stepSize, 0.01), noise: pick(o.noise, 1), decay: pick(o.decay, 1), metropolis: pick(o.metropolis, false) }),
    needsDiscriminator: true,
    needsReal: false,
  },
};

export function methodIds(): string[] {
  return Object.keys(METHODS);
}
