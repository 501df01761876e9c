/**
 * Shards: one run of n rows cut into `count` contiguous slices, each produced by its own process
 * (a Slurm array task, a pod of a Kubernetes Indexed Job) and merged afterwards (merge.ts). Since
 * row i of a run depends only on (seed, i), a shard's rows are the rows a whole run writes there.
 */
import { fail } from '../errors.js';

/** One slice of a run split into `count` shards (`index` counts from 0). */
export interface RefineShard {
  /** Which shard, 0 <= index < count. */
  index: number;
  /** Shards the run is split into, 1 <= count <= n. */
  count: number;
}

/** Rows [start, end) of shard `index` of `count` of a run of `n` rows: floor(index n / count) up to floor((index + 1) n / count). */
export function shardRows(n: number, shard: RefineShard | undefined): { start: number; end: number } {
  if (shard === undefined) return { start: 0, end: n };
  return { start: Math.floor((shard.index * n) / shard.count), end: Math.floor(((shard.index + 1) * n) / shard.count) };
}

/** The environment variables `shardFromEnvironment` reads. */
export const SHARD_ENVIRONMENT = {
  slurm: ['SLURM_ARRAY_TASK_ID', 'SLURM_ARRAY_TASK_COUNT', 'SLURM_ARRAY_TASK_MIN', 'SLURM_ARRAY_TASK_MAX', 'SLURM_ARRAY_TASK_STEP'],
  kubernetes: ['JOB_COMPLETION_INDEX', 'REFINERY_SHARD_COUNT'],
} as const;

function envInt(env: Record<string, string | undefined>, name: string, option: string, min: number): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min)
    fail('invalid_argument', `${option} (${name})`, `an integer >= ${min}`, JSON.stringify(v));
  return n;
}

/**
 * The shard of this process from its scheduler's environment:
 * - a Slurm array task: index SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT
 *   (the array must be contiguous: `--array=0-N` or `1-N`, step 1);
 * - a pod of a Kubernetes Indexed Job: index JOB_COMPLETION_INDEX of REFINERY_SHARD_COUNT (set it
 *   to the Job's `completions`; Kubernetes does not pass the count itself).
 * An environment with neither is an error naming what was looked for.
 */
export function shardFromEnvironment(env: Record<string, string | undefined>, option = 'shard'): RefineShard {
  const slurmId = envInt(env, 'SLURM_ARRAY_TASK_ID', option, 0);
  if (slurmId !== undefined) {
    const count = envInt(env, 'SLURM_ARRAY_TASK_COUNT', option, 1);
    if (count === undefined)
      fail('invalid_argument', option, 'SLURM_ARRAY_TASK_COUNT beside SLURM_ARRAY_TASK_ID (a Slurm job array)', 'no SLURM_ARRAY_TASK_COUNT');
    const min = envInt(env, 'SLURM_ARRAY_TASK_MIN', option, 0) ?? 0;
    const max = envInt(env, 'SLURM_ARRAY_TASK_MAX', option, 0);
    const step = envInt(env, 'SLURM_ARRAY_TASK_STEP', option, 1) ?? 1;
    if (step !== 1 || (max !== undefined && max - min + 1 !== count)) {
      fail(
        'invalid_argument',
        option,
        'a contiguous Slurm array (--array=0-N or 1-N, step 1, no % list)',
        `min ${min}, max ${max ?? '?'}, step ${step}, count ${count}`,
      );
    }
    return checkShard({ index: slurmId - min, count }, option);
  }
  const k8sIndex = envInt(env, 'JOB_COMPLETION_INDEX', option, 0);
  if (k8sIndex !== undefined) {
    const count = envInt(env, 'REFINERY_SHARD_COUNT', option, 1);
    if (count === undefined) {
      fail('invalid_argument', option, "REFINERY_SHARD_COUNT beside JOB_COMPLETION_INDEX (set it to the Indexed Job's completions)", 'no REFINERY_SHARD_COUNT');
    }
    return checkShard({ index: k8sIndex, count }, option);
  }
  return fail(
    'invalid_argument',
    option,
    'auto inside a scheduler: SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (a Slurm array task) or JOB_COMPLETION_INDEX and REFINERY_SHARD_COUNT (a Kubernetes Indexed Job)',
    'none of them in the environment',
  );
}

function checkShard(s: RefineShard, option: string): RefineShard {
  if (!(Number.isSafeInteger(s.index) && Number.isSafeInteger(s.count) && s.count >= 1 && s.index >= 0 && s.index < s.count)) {
    fail('invalid_argument', option, 'a shard index i with 0 <= i < count', `index ${s.index} of ${s.count}`);
  }
  return s;
}

/** Parse `i/n` (0 <= i < n) or `auto` (see `shardFromEnvironment`). */
export function parseShard(text: string, env: Record<string, string | undefined>, option = 'shard'): RefineShard {
  if (text === 'auto') return shardFromEnvironment(env, option);
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) return fail('invalid_argument', option, 'i/n (shard i of n, counting from 0) or auto', JSON.stringify(text));
  return checkShard({ index: Number(m[1]), count: Number(m[2]) }, option);
}

/** Where shard `s` of a run writing `out` writes: NAME.shard-II-of-NN.npy beside it. */
export function shardFileName(out: string, s: RefineShard): string {
  const width = String(s.count - 1).length;
  return out.replace(/\.npy$/, `.shard-${String(s.index).padStart(width, '0')}-of-${s.count}.npy`);
}
