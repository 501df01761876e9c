import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ProfileEvent, profileByOperator } from './profile.js';

/** Runs of 1 ms spaced 10 ms apart, each with a Conv of `conv` us and a Mul of 100 us. */
function trace(convs: number[]): ProfileEvent[] {
  return convs.flatMap((conv, i) => [
    { cat: 'Session', name: 'model_run', ts: 10000 * i, dur: 1000 },
    { cat: 'Node', name: `conv_${i}_kernel_time`, ts: 10000 * i + 10, dur: conv, args: { op_name: 'Conv' } },
    { cat: 'Node', name: `mul_${i}_fence_before`, ts: 10000 * i + 20, dur: 0, args: { op_name: 'Mul' } },
    { cat: 'Node', name: `mul_${i}_kernel_time`, ts: 10000 * i + 500, dur: 100, args: { op_name: 'Mul' } },
  ]);
}

test('kernel time per operator over the runs after the warm-up ones', () => {
  // Two slow warm-up runs (5 ms of Conv each), then three of 300 us.
  const p = profileByOperator(trace([5000, 5000, 300, 300, 300]));
  assert.equal(p.runs, 3);
  assert.deepEqual(
    p.operators.map((o) => [o.op, Number(o.ms.toFixed(6)), Number(o.share.toFixed(6))]),
    [
      ['Conv', 0.3, 0.75],
      ['Mul', 0.1, 0.25],
    ],
  );
  assert.equal(Number(p.kernelMs.toFixed(6)), 0.4);
  // Counting the warm-up runs gives other shares: the skip is what the summary rests on.
  const all = profileByOperator(trace([5000, 5000, 300, 300, 300]), 0);
  assert.ok(all.operators[0].share > 0.9);
  assert.throws(() => profileByOperator(trace([300, 300])), /more than 2 runs/);
});
