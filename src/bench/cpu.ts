/**
 * What the bench records of the CPU. `os.cpus()` gives a model name only, and on this project's
 * virtual machines that name ("AMD EPYC") covered two machines whose sgemm peaks differ about
 * twofold (about 300 GFLOP/s on 2 cores on 2026-11-27, 115-149 on 2026-11-28, the latter with
 * AVX2 and no AVX-512), so the JSON could not tell them apart. On Linux the bench also reads
 * /proc/cpuinfo: vendor, family, model number and the vector extensions that select onnxruntime's
 * MLAS kernels (AVX-512 doubles their vector width, and the channel block of the NCHWc layout
 * goes from 8 to 16).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export interface CpuInfo {
  /** The model name (`os.cpus()`, as the kernel reports it). */
  model: string;
  /** /proc/cpuinfo's vendor_id, cpu family and model (null where there is none). */
  vendor: string | null;
  family: number | null;
  model_number: number | null;
  /** The vector extensions among VECTOR_FLAGS that the CPU reports, in that order. */
  vector_extensions: string[];
}

/** The flags that choose onnxruntime's CPU kernels, widest last. */
export const VECTOR_FLAGS = ['sse4_2', 'avx', 'fma', 'avx2', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16', 'amx_tile', 'amx_bf16'] as const;

/** The first processor's fields of a /proc/cpuinfo text (the rest of CpuInfo but the model name). */
export function parseCpuinfo(text: string): Omit<CpuInfo, 'model'> {
  const first = text.split(/\n\s*\n/)[0] ?? '';
  const fields = new Map<string, string>();
  for (const line of first.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) fields.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const num = (key: string) => {
    const v = fields.get(key);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
  };
  const flags = new Set((fields.get('flags') ?? '').split(/\s+/));
  return {
    vendor: fields.get('vendor_id') ?? null,
    family: num('cpu family'),
    model_number: num('model'),
    vector_extensions: VECTOR_FLAGS.filter((f) => flags.has(f)),
  };
}

/** This machine's CpuInfo: /proc/cpuinfo where it can be read, the model name alone elsewhere. */
export function cpuInfo(): CpuInfo {
  const model = cpus()[0]?.model ?? 'unknown';
  let text: string | undefined;
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    text = undefined;
  }
  if (text === undefined) return { model, vendor: null, family: null, model_number: null, vector_extensions: [] };
  return { model, ...parseCpuinfo(text) };
}
