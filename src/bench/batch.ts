/**
 * Batch size and throughput (section `batch` of `npm run bench`): DRS (burn-in 2,000 proposals,
 * the raw D as a ratio) on each fixture at its default batch size (`defaultBatchSize`) and at
 * fixed ones, interleaved: every repetition runs every size once, in turn, on the same pair and
 * seed (the samples are the same bytes at every size). Reports seconds per size (median of the
 * repetitions) and the default's speed-up over the former default of 10,000 rows.
 */
import { join } from 'node:path';
import { loadPair } from '../models/load.js';
import { defaultBatchSize } from '../refine/batch.js';
import { refine } from '../refine/refine.js';
import { fixturesDir, repoRoot } from '../testing/fixtures.js';

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export interface BatchRow {
  fixture: string;
  n: number;
  default_batch: number;
  /** Median seconds per batch size ("default" and the fixed sizes). */
  seconds: Record<string, number>;
  samples_per_second_default: number;
  speedup_over_10000: number;
}

const CASES = [
  { fixture: 'mlp2d', dir: () => join(fixturesDir(), 'mlp2d'), n: 20000 },
  { fixture: 'mnist_dcgan28', dir: () => join(fixturesDir(), 'mnist_dcgan28'), n: 4000 },
  { fixture: 'dcgan32', dir: () => join(fixturesDir(), 'dcgan32'), n: 4000 },
  { fixture: 'resnet32', dir: () => join(repoRoot, 'test', 'fixtures', 'bench', 'resnet32'), n: 1000 },
];

export async function measureBatch(quick: boolean, onCase: (text: string) => void = () => {}): Promise<{ method: string; rows: BatchRow[] }> {
  const rows: BatchRow[] = [];
  for (const c of CASES) {
    const pair = loadPair({ run: c.dir() });
    const n = quick ? Math.ceil(c.n / 4) : c.n;
    const sizes: (number | 'default')[] = ['default', 64, 256, 1024, 10000];
    const times = new Map<string, number[]>(sizes.map((s) => [String(s), []]));
    let reference: Float32Array | undefined;
    for (let rep = 0; rep < (quick ? 1 : 3); rep++) {
      for (const s of sizes) {
        const t = performance.now();
        const r = await refine(pair, { method: 'drs', n, seed: 0, burnIn: 2000, criticAsRatio: true, ...(s === 'default' ? {} : { batchSize: s }) });
        times.get(String(s))!.push((performance.now() - t) / 1000);
        // The same bytes at every batch size (else the comparison would not be of one computation).
        if (!reference) reference = r.samples.data;
        else if (Buffer.compare(Buffer.from(reference.buffer), Buffer.from(r.samples.data.buffer)) !== 0)
          throw new Error(`${c.fixture}: batch ${s} changed the samples`);
      }
    }
    const seconds = Object.fromEntries([...times].map(([k, v]) => [k, round(median(v))]));
    const row: BatchRow = {
      fixture: c.fixture,
      n,
      default_batch: defaultBatchSize(pair),
      seconds,
      samples_per_second_default: round(n / seconds.default, 1),
      speedup_over_10000: round(seconds['10000'] / seconds.default, 2),
    };
    onCase(`${c.fixture}: default batch ${row.default_batch}: ${seconds.default} s; 10000: ${seconds['10000']} s (x${row.speedup_over_10000})`);
    rows.push(row);
  }
  return { method: 'drs (burn-in 2000, raw D as the ratio)', rows };
}
