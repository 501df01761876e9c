import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefineryError } from './errors.js';
import { Rng } from './rng.js';

test('different seed lists give different streams (no collisions among chunk/step streams)', () => {
  const seen = new Map<string, string>();
  for (const seed of [0, 5, 11]) {
    for (let a = 0; a < 3; a++) {
      for (let c = 0; c < 40; c++) {
        for (let t = 0; t < 20; t++) {
          const r = new Rng(seed, a, c, t);
          const key = `${r.nextU32()},${r.nextU32()}`;
          const who = `${seed},${a},${c},${t}`;
          assert.ok(!seen.has(key), `Rng(${who}) repeats Rng(${seen.get(key)})`);
          seen.set(key, who);
        }
      }
    }
  }
  // Permuted words and prefixes are other streams too.
  assert.notEqual(new Rng(1, 0, 1).nextU32(), new Rng(1, 1, 0).nextU32());
  assert.notEqual(new Rng(1).nextU32(), new Rng(1, 0).nextU32());
});

test('a stream is reproducible from its seed; fork does not advance it', () => {
  const a = new Rng(42, 7);
  const b = new Rng(42, 7);
  a.fork(1);
  for (let i = 0; i < 100; i++) assert.equal(a.uniform(), b.uniform());
});

test('uniform and normal draws have the right moments (tolerances from n)', () => {
  const n = 200000;
  const r = new Rng(3);
  let su = 0;
  let sn = 0;
  let sn2 = 0;
  for (let i = 0; i < n; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1);
    su += u;
    const z = r.normal();
    sn += z;
    sn2 += z * z;
  }
  assert.ok(Math.abs(su / n - 0.5) < 4 * Math.sqrt(1 / 12 / n));
  assert.ok(Math.abs(sn / n) < 4 / Math.sqrt(n));
  assert.ok(Math.abs(sn2 / n - 1) < 4 * Math.sqrt(2 / n));
  const p = r.permutation(50);
  assert.deepEqual(
    [...p].sort((x, y) => x - y),
    Array.from({ length: 50 }, (_, i) => i),
  );
});

test('bad seeds are named', () => {
  assert.throws(
    () => new Rng(),
    (e: unknown) => e instanceof RefineryError && e.issues[0].path === 'seed',
  );
  assert.throws(
    () => new Rng(1.5),
    (e: unknown) => e instanceof RefineryError && e.issues[0].path === 'seed',
  );
});
