/** The Node.js host: onnxruntime-node, the machine's cores and memory, the process environment. */
import { availableParallelism, totalmem } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Host } from './host.js';

// onnxruntime's telemetry writes $TMPDIR/mat-debug-<pid>.log and ~/.cache/Microsoft/... in every
// process; Refinery writes nothing outside the paths its user names. Read by onnxruntime when its
// environment starts (the first session), so set before it; an explicit setting wins.
process.env.ORT_DISABLE_TELEMETRY ??= '1';

export const NODE_HOST: Host = {
  name: 'node',
  ort: ort as unknown as Host['ort'],
  cores: () => availableParallelism(),
  totalMemoryBytes: () => totalmem(),
  setting: (name) => process.env[name],
  // CUDA first; operators it lacks (and the shape work around them) run on the CPU.
  providers: (device) => (device === 'cuda' ? ['cuda', 'cpu'] : ['cpu']),
};
