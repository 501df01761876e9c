/**
 * The contract of refinement kernels (BlackJAX style): a pure `init` and `step` over an explicit
 * state, each step returning a per-step info record. Kernels never loop over steps, report
 * progress or hold resources; drivers do.
 */
import type { RowStreams } from '../rng.js';

export interface StepInfo {
  /** Mean acceptance of the step's proposals (1 for unadjusted dynamics). */
  acceptance: number;
  /** Mean L2 norm of the gradient used (0 for selection methods). */
  gradNorm: number;
  /** Rows whose value or gradient was NaN/Inf at this step (kept at their previous position). */
  nonFinite: number;
  /** Anything else a kernel reports (energy, step size, ...). */
  [key: string]: number;
}

export interface Kernel<State> {
  readonly name: string;
  /** One step; row r draws only from rows.row(r) (its own stream at this step). */
  step(state: State, rows: RowStreams): Promise<{ state: State; info: StepInfo }>;
}
