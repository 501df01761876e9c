/**
 * Reading an onnxruntime profile (the Chrome-trace JSON that `enableProfiling` writes): kernel
 * time per operator type, over the runs after the warm-up ones. The first runs of a session
 * allocate its buffers and take several times as long as the others, so a profile averaged over
 * all runs overstates the operators that allocate.
 */

/** One event of the trace, as onnxruntime writes it (the fields used here). */
export interface ProfileEvent {
  cat: string;
  name: string;
  /** Start, microseconds. */
  ts: number;
  /** Duration, microseconds. */
  dur: number;
  args?: { op_name?: string };
}

export interface OperatorShare {
  op: string;
  /** Kernel time per run, ms. */
  ms: number;
  /** Share of the kernel time of all operators. */
  share: number;
}

export interface ProfileSummary {
  /** The runs measured (after `skip` warm-up runs). */
  runs: number;
  /** Kernel time per run, all operators, ms. */
  kernelMs: number;
  /** Per operator type, largest first. */
  operators: OperatorShare[];
}

/**
 * Kernel time per operator type per run, over the runs after the first `skip` ones (each run is a
 * `model_run` event of the Session category; a node's kernel is a `*_kernel_time` event of the
 * Node category that starts inside it).
 */
export function profileByOperator(events: ProfileEvent[], skip = 2): ProfileSummary {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const kept = runs.slice(skip);
  if (kept.length === 0) throw new Error(`a profile with more than ${skip} runs (it has ${runs.length})`);
  const totals = new Map<string, number>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !e.args?.op_name) continue;
    if (!kept.some((r) => e.ts >= r.ts && e.ts < r.ts + r.dur)) continue;
    totals.set(e.args.op_name, (totals.get(e.args.op_name) ?? 0) + e.dur);
  }
  const all = [...totals.values()].reduce((a, v) => a + v, 0);
  const operators = [...totals].map(([op, us]) => ({ op, ms: us / kept.length / 1000, share: all > 0 ? us / all : 0 })).sort((a, b) => b.ms - a.ms);
  return { runs: kept.length, kernelMs: all / kept.length / 1000, operators };
}
