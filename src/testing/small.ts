/** Small settings of each method (a few steps), so that tests over every method run in seconds. Test-only helper. */
import type { MethodId } from '../refine/registry.js';

export const SMALL_SETTINGS: Record<MethodId, Record<string, unknown>> = {
  drs: { burnIn: 200 },
  mh: { chainLength: 8 },
  sir: { pool: 5, sirGroup: 8 },
  'dre-rs': { burnIn: 200, dreSteps: 20 },
  'dre-mh': { chainLength: 8, dreSteps: 20 },
  'dre-sir': { pool: 5, sirGroup: 8, dreSteps: 20 },
  ddls: { numSteps: 4 },
  'dre-ddls': { numSteps: 4, dreSteps: 20 },
  dcd: { numSteps: 4 },
  dot: { numSteps: 4 },
  'dot-latent': { numSteps: 4 },
  'dre-dot-latent': { numSteps: 4, dreSteps: 20 },
  dgflow: { numSteps: 4 },
  'dre-dgflow': { numSteps: 4, dreSteps: 20 },
};
