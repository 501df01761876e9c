import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RefineryError } from '../errors.js';
import { Rng } from '../rng.js';
import { rejectsWith } from '../testing/assert.js';
import { BIMODAL, exactPair, infPair, sampleMixture } from '../testing/exact.js';
import { refineToFile } from './file.js';
import type { MethodDefinition } from './method.js';
import { keyOfFlag, type OptionSpec } from './options.js';
import { planRefine, type RefineOptions, refine } from './refine.js';
import { METHOD_IDS, METHODS, type MethodId } from './registry.js';

const pair = exactPair(BIMODAL);
const real = { data: sampleMixture(BIMODAL, 200, new Rng(5)), shape: [200, 2] };

/** Small, fast settings for every method. */
const QUICK: { [K in MethodId]: Partial<RefineOptions> } = {
  drs: { burnIn: 200 },
  mh: { chainLength: 5 },
  sir: { pool: 3 },
  'dre-rs': { burnIn: 200, dreSteps: 20 },
  'dre-mh': { chainLength: 5, dreSteps: 20 },
  'dre-sir': { pool: 3, dreSteps: 20 },
  ddls: { numSteps: 3 },
  'dre-ddls': { numSteps: 3, dreSteps: 20 },
  dcd: { numSteps: 3 },
  dot: { numSteps: 3 },
  'dot-latent': { numSteps: 3 },
  'dre-dot-latent': { numSteps: 3, dreSteps: 20 },
  dgflow: { numSteps: 3 },
  'dre-dgflow': { numSteps: 3, dreSteps: 20 },
} as never;

test('the registry: every method declares each option once, flags match keys, defaults are declared options', () => {
  assert.deepEqual(METHOD_IDS, [
    'drs',
    'mh',
    'sir',
    'dre-rs',
    'dre-mh',
    'dre-sir',
    'ddls',
    'dre-ddls',
    'dcd',
    'dot',
    'dot-latent',
    'dre-dot-latent',
    'dgflow',
    'dre-dgflow',
  ]);
  const flags = new Map<string, string>();
  for (const def of Object.values(METHODS) as MethodDefinition<MethodId, object>[]) {
    assert.ok(def.summary.length > 20 && def.reference.length > 5, def.id);
    for (const [key, spec] of Object.entries(def.options as Record<string, OptionSpec>)) {
      assert.equal(keyOfFlag(spec.flag), key, `${def.id}: ${spec.flag} is the flag of ${key}`);
      assert.ok(spec.description.length > 5, `${def.id}.${key} has a description`);
      // One flag, one type: the command line parses a shared flag once for every method.
      const kind = JSON.stringify(spec.type.kind);
      if (flags.has(key)) assert.equal(flags.get(key), kind, `${key} has one type across methods`);
      flags.set(key, kind);
    }
    for (const key of Object.keys(def.defaults)) assert.ok(key in def.options, `${def.id}: default ${key} is a declared option`);
  }
});

test('every method refines through refine(): samples [n, 2], latents where the method has them, its summary', async () => {
  for (const id of METHOD_IDS) {
    const r = await refine(pair, { method: id, n: 20, seed: 1, real, ...QUICK[id] } as RefineOptions);
    assert.equal(r.method, id);
    assert.deepEqual(r.samples.shape, [20, 2], id);
    assert.equal(r.samples.data.length, 40);
    assert.ok(r.samples.data.every(Number.isFinite), id);
    const base: Record<string, string> = {
      'dre-rs': 'drs',
      'dre-mh': 'mh',
      'dre-sir': 'sir',
      'dre-ddls': 'ddls',
      'dre-dot-latent': 'dot-latent',
      'dre-dgflow': 'dgflow',
    };
    assert.equal(r.summary.method, base[id] ?? id);
    const latent = ['drs', 'mh', 'sir', 'dre-rs', 'dre-mh', 'dre-sir', 'ddls', 'dre-ddls', 'dot-latent', 'dre-dot-latent', 'dgflow', 'dre-dgflow'].includes(id);
    assert.equal(r.latents !== undefined, latent, `${id} latents`);
    if (r.latents) assert.deepEqual(r.latents.shape, [20, 2]);
    if (id.startsWith('dre-')) assert.equal((r.reports.dre as { method: string }).method, 'dre-f-sp');
  }
});

test('same seed and options give the same samples; another seed other samples; chunks draw their own seeds', async () => {
  const o: RefineOptions = { method: 'ddls', n: 50, seed: 3, numSteps: 4, chunkSize: 20, batchSize: 8 };
  const a = await refine(pair, o);
  const b = await refine(pair, o);
  assert.deepEqual(a.samples.data, b.samples.data);
  const c = await refine(pair, { ...o, seed: 4 });
  assert.notDeepEqual(a.samples.data, c.samples.data);
  assert.equal(a.chunks, 3);
});

test('bad options: all problems at once, each naming its key; a typo is an error, not a silent default', async () => {
  await rejectsWith(refine(pair, { method: 'ddls', n: 10, numStep: 5 } as never), 'invalid_argument', 'numStep');
  const e = await refine(pair, { method: 'ddls', n: 0, seed: 1.5, stepSize: -1, metropolis: 'yes' } as never).catch((x: unknown) => x);
  assert.ok(e instanceof RefineryError);
  assert.deepEqual(e.issues.map((i) => i.path).sort(), ['metropolis', 'n', 'seed', 'stepSize']);
  await rejectsWith(refine(pair, { method: 'ddls', n: 10, seed: 2 ** 60 }), 'invalid_argument', 'seed');
  await rejectsWith(refine(pair, { method: 'langevin', n: 10 } as never), 'invalid_argument', 'method');
  // An option of another method.
  await rejectsWith(refine(pair, { method: 'drs', n: 10, numSteps: 5 } as never), 'invalid_argument', 'numSteps');
  // Checks across options.
  await rejectsWith(refine(pair, { method: 'ddls', n: 10, metropolis: true, noise: 0.5 }), 'invalid_argument', 'noise');
  await rejectsWith(refine(pair, { method: 'drs', n: 10, exact: true, gamma: 1 }), 'invalid_argument', 'gamma');
  await rejectsWith(refine(pair, { method: 'dgflow', n: 10, space: 'data', priorDrift: true }), 'invalid_argument', 'priorDrift');
  await rejectsWith(refine(pair, { method: 'dgflow', n: 10, corrector: new Uint8Array(3) as never }), 'invalid_argument', 'corrector');
});

test('real samples are checked the same way for every method: shape, finite values, at least one row', async () => {
  const nan = Float32Array.from(real.data);
  nan[7] = Number.NaN;
  for (const method of ['mh', 'drs', 'dre-rs'] as const) {
    await rejectsWith(refine(pair, { method, n: 5, real: { data: nan, shape: [200, 2] } }), 'invalid_argument', 'real row 3');
    await rejectsWith(refine(pair, { method, n: 5, real: { data: new Float32Array(0), shape: [0, 2] } }), 'invalid_argument', 'real');
    await rejectsWith(refine(pair, { method, n: 5, real: { data: real.data, shape: [100, 4] } }), 'shape_mismatch', 'real');
  }
  await rejectsWith(refine(pair, { method: 'dre-rs', n: 5 }), 'invalid_argument', 'real');
  await rejectsWith(refine(pair, { method: 'drs', n: 5, calibrate: 'logistic' }), 'invalid_argument', 'real');
});

test('sizes that cannot fit in memory are refused before anything is allocated, naming the option', async () => {
  // In memory, the whole output must fit; streamed to a file, one chunk must.
  const e = await rejectsWith(refine(pair, { method: 'sir', n: 1e15 }), 'invalid_argument', 'n');
  assert.match(e.issues[0].received, /PB/);
  await rejectsWith(planRefine(pair, { method: 'sir', n: 1e15, chunkSize: 1e12 }), 'invalid_argument', 'chunkSize');
  await rejectsWith(planRefine(pair, { method: 'sir', n: 1e12, chunkSize: 1e12 }), 'invalid_argument', 'n');
  // A pool of a billion proposals per sample: refused naming the pool.
  await rejectsWith(planRefine(pair, { method: 'sir', n: 10000, pool: 1e9 }), 'invalid_argument', 'pool');
  // A generator whose one sample does not fit.
  const huge = { ...pair, meta: { ...pair.meta, dataShape: [4e12] } };
  await rejectsWith(planRefine(huge, { method: 'sir', n: 1 }), 'invalid_model', 'generator');
});

test('progress reaches n; an aborted signal stops the run with a cancelled error', async () => {
  const seen: number[] = [];
  await refine(pair, { method: 'sir', n: 30, chunkSize: 10, onProgress: (p) => seen.push(p.done) });
  assert.equal(seen[seen.length - 1], 30);
  assert.ok(seen.every((v, i) => i === 0 || v >= seen[i - 1]));
  const stop = new AbortController();
  stop.abort();
  await rejectsWith(refine(pair, { method: 'ddls', n: 10, signal: stop.signal }), 'cancelled');
});

test('calibration and DRE run once per run, before the chunks, and are reported', async () => {
  const plan = await planRefine(pair, { method: 'dre-sir', n: 30, chunkSize: 10, real, dreSteps: 10, calibrate: 'logistic' });
  assert.equal(plan.chunks, 3);
  assert.ok(plan.reports.dre);
  assert.equal(plan.calibration?.method, 'logistic');
  assert.equal(plan.pair.meta.dOutput, 'logit');
  assert.match(plan.pair.files.discriminator, /calibration/);
});

test('refineToFile --resume of a finished run: neither DRE-F-SP nor the calibration is run again; an unfinished one prepares as before', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'refinery-prepare-'));
  try {
    const out = join(dir, 'dre.npy');
    const options = { method: 'dre-sir', n: 30, chunkSize: 10, real, dreSteps: 10, calibrate: 'logistic', pool: 3 } as RefineOptions;
    const stages = async (file: { out: string; resume?: boolean }) => {
      const seen = new Set<string>();
      const r = await refineToFile(pair, { ...options, onProgress: (p) => seen.add(p.stage) }, file);
      return { r, seen: [...seen].sort() };
    };
    const first = await stages({ out });
    assert.deepEqual(first.seen, ['calibrate', 'dre', 'dre-sir']);
    const again = await stages({ out, resume: true });
    assert.deepEqual(again.seen, [], 'nothing prepared or drawn again');
    assert.equal(again.r.resumedChunks, 3);
    assert.equal(again.r.sha256, first.r.sha256);
    // Negative control: a run not yet finished (its other half) prepares, then draws.
    const shard = await stages({ out: join(dir, 'shard.npy'), resume: true });
    assert.deepEqual(shard.seen, ['calibrate', 'dre', 'dre-sir']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a +Inf region of D stays non-finite through isotonic calibration: rejected and counted by every selection method', async () => {
  const pair = infPair();
  for (const method of ['sir', 'drs', 'mh'] as const) {
    const r = await refine(pair, { method, n: 300, seed: 2, real, calibrate: 'isotonic', ...QUICK[method] } as RefineOptions);
    let inside = 0;
    for (let i = 0; i < 300; i++) if (r.samples.data[2 * i] >= 1.5) inside++;
    assert.equal(inside, 0, `${method}: samples from the +Inf region`);
    assert.ok((r.summary.nonFinite ?? 0) > 0, `${method}: non-finite scores counted (${r.summary.nonFinite})`);
  }
  // Negative control: without the region's scores being non-finite (the raw pair), samples do land there.
  const plain = await refine(exactPair(BIMODAL), { method: 'sir', n: 300, seed: 2, real, calibrate: 'isotonic', pool: 3 });
  let landed = 0;
  for (let i = 0; i < 300; i++) if (plain.samples.data[2 * i] >= 1.5) landed++;
  assert.ok(landed > 10, `the region is reachable (${landed} samples)`);
});

test('a critic is not a ratio: drs, mh and sir refuse an uncalibrated critic unless told to take it as one', async () => {
  // The exact log ratio, declared a critic: the same numbers, but nothing says they are a ratio.
  const critic = { ...pair, meta: { ...pair.meta, dOutput: 'critic' as const } };
  for (const method of ['drs', 'mh', 'sir'] as const) {
    const e = await rejectsWith(refine(critic, { method, n: 5, real, ...QUICK[method] } as RefineOptions), 'invalid_argument', 'calibrate');
    assert.match(e.issues[0].expected, /criticAsRatio: true/);
    assert.match(e.issues[0].expected, /not log p_data\/p_g/);
    // Told to, or calibrated first, they run, and the raw critic then gives the logit pair's samples.
    const raw = await refine(critic, { method, n: 5, real, criticAsRatio: true, ...QUICK[method] } as RefineOptions);
    const asLogit = await refine(pair, { method, n: 5, real, ...QUICK[method] } as RefineOptions);
    assert.deepEqual(raw.samples.data, asLogit.samples.data);
    await refine(critic, { method, n: 5, real, calibrate: 'logistic', ...QUICK[method] } as RefineOptions);
  }
  // Methods made for critics, and DRE-F-SP (its own ratio network), take one as it is.
  for (const method of ['ddls', 'dot', 'dre-sir'] as const) await refine(critic, { method, n: 5, real, ...QUICK[method] } as RefineOptions);
  await rejectsWith(refine(critic, { method: 'sir', n: 5, criticAsRatio: 'yes' } as never), 'invalid_argument', 'criticAsRatio');
});

test('DRS burn-in by default: 10 proposals per sample of the whole run, between 1,000 and 10,000; the same in every shard', async () => {
  const pair = exactPair(BIMODAL);
  const burnIn = async (o: Partial<RefineOptions>) => (await refine(pair, { method: 'drs', n: 300, seed: 1, ...o } as RefineOptions)).summary.burnIn;
  assert.equal(await burnIn({}), 3000);
  assert.equal(await burnIn({ n: 20 }), 1000);
  assert.equal(await burnIn({ n: 4000 }), 10000);
  assert.equal(await burnIn({ burnIn: 123 }), 123);
  // A shard of 150 rows of the 300-row run uses the run's 3,000 (not 1,500): the same bytes as the whole run.
  const whole = await refine(pair, { method: 'drs', n: 300, seed: 1 });
  const halves = await Promise.all([0, 1].map((index) => refine(pair, { method: 'drs', n: 300, seed: 1, shard: { index, count: 2 } })));
  for (const h of halves) assert.equal(h.summary.burnIn, 3000);
  const joined = new Float32Array(whole.samples.data.length);
  joined.set(halves[0].samples.data);
  joined.set(halves[1].samples.data, halves[0].samples.data.length);
  assert.deepEqual(joined, whole.samples.data);
});
