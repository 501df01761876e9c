import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RefineryError } from '../errors.js';
import { fixturesDir } from '../testing/fixtures.js';
import { formatMnist, MNIST_METHODS, MNIST_TRAIN, mnistGan, mnistTableStem, mnistTag, mnistVariants } from './mnist.js';

const rows = (...ids: string[]) => MNIST_METHODS.filter((m) => ids.includes(m.id));
const issue = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof RefineryError && e.code === 'invalid_argument', String(e));
    return e.issues[0];
  }
  assert.fail('no error');
};

test('mnistVariants: --set changes and renames the rows whose method declares the option, parsed by its type', () => {
  const none = mnistVariants(MNIST_METHODS, []);
  assert.deepEqual(none, MNIST_METHODS);
  const v = mnistVariants(rows('generator', 'drs', 'ddls', 'dre-dgflow'), ['stepSize=0.02', 'numSteps=50']);
  assert.deepEqual(
    v.map((m) => m.id),
    ['generator', 'drs', 'ddls@stepSize=0.02,numSteps=50', 'dre-dgflow@stepSize=0.02,numSteps=50'],
  );
  assert.equal(v[0].options, undefined);
  assert.deepEqual(
    v[1],
    MNIST_METHODS.find((m) => m.id === 'drs'),
  );
  assert.deepEqual(v[3].options, { ...MNIST_METHODS.find((m) => m.id === 'dre-dgflow')!.options, stepSize: 0.02, numSteps: 50 });
  // The table's rows are left as they were.
  assert.equal((MNIST_METHODS.find((m) => m.id === 'dre-dgflow')!.options as { stepSize: number }).stepSize, 0.03);
  const c = mnistVariants(rows('generator', 'drs', 'dre-sir'), ['calibrate=isotonic', 'sirReplace=true']);
  assert.deepEqual(
    c.map((m) => m.id),
    ['generator', 'drs@calibrate=isotonic', 'dre-sir@calibrate=isotonic,sirReplace=true'],
  );
  assert.equal((c[2].options as { sirReplace: boolean }).sirReplace, true);
  assert.deepEqual((c[2].options as { dreLambdas?: number[] }).dreLambdas, undefined);
  assert.deepEqual((mnistVariants(rows('dre-rs'), ['dreLambdas=0.01,0.1'])[0].options as { dreLambdas: number[] }).dreLambdas, [0.01, 0.1]);
});

test('mnistVariants: a malformed item, an option no selected row has, or a bad value is an error naming --set', () => {
  const dg = rows('generator', 'dgflow');
  assert.deepEqual(
    issue(() => mnistVariants(dg, ['stepSize'])),
    { path: '--set', expected: 'KEY=VALUE (e.g. stepSize=0.02)', received: '"stepSize"' },
  );
  assert.equal(issue(() => mnistVariants(dg, ['=1'])).path, '--set');
  const unknown = issue(() => mnistVariants(dg, ['burnIn=5']));
  assert.equal(unknown.path, '--set');
  assert.match(unknown.expected, /numSteps.*calibrate/);
  assert.equal(unknown.received, '"burnIn"');
  assert.equal(issue(() => mnistVariants(dg, ['stepSize=fast'])).path, '--set stepSize');
  assert.equal(issue(() => mnistVariants(dg, ['stepSize=-1'])).received, '"-1"');
  assert.equal(issue(() => mnistVariants(dg, ['numSteps=2.5'])).path, '--set numSteps');
  assert.equal(issue(() => mnistVariants(rows('dre-sir'), ['sirReplace=yes'])).expected, 'true or false');
  assert.equal(issue(() => mnistVariants(rows('dre-sir'), ['dreFeatures=x.onnx'])).path, '--set dreFeatures');
  assert.equal(issue(() => mnistVariants(dg, ['calibrate=platt'])).path, '--set calibrate');
  // The generator alone has no options.
  assert.equal(issue(() => mnistVariants(rows('generator'), ['stepSize=0.1'])).path, '--set');
});

test('formatMnist: one column per measure (the pixel FD beside FID), mean ± sd over seeds, the held-out digits as a floor', () => {
  const score = (fid: number, seconds: number | null) => ({
    seed: 0,
    fid,
    fdPixels: fid / 10,
    is: 6,
    highQualityPercent: 50,
    classesCovered: 10,
    jsClasses: 0.01,
    seconds,
  });
  const perSeed = [score(100, 2), { ...score(120, null), seed: 1 }];
  const row = {
    method: 'generator',
    options: {},
    perSeed,
    failures: [],
    mean: { fid: 110, fdPixels: 11, is: 6, highQualityPercent: 50, classesCovered: 10, jsClasses: 0.01, seconds: 2 },
    sd: { fid: 10 * Math.SQRT2, fdPixels: Math.SQRT2, is: 0, highQualityPercent: 0, classesCovered: 0, jsClasses: 0, seconds: 0 },
  };
  const text = formatMnist([row], 2, {
    n: 2000,
    score: { fid: 4.2, fdPixels: 3.9, is: 9.36, highQualityPercent: 96.04, classesCovered: 10, jsClasses: 0.001 },
  });
  const lines = text.split('\n');
  assert.equal(lines[0], '| method | FID | FD pixels | IS | % high quality | classes | JS(classes, uniform) | seconds |');
  assert.equal(lines[2], '| generator | 110.000 ± 14.142 | 11.00 ± 1.41 | 6.00 ± 0.00 | 50.0 ± 0.0 | 10.0 ± 0.0 | 0.0100 ± 0.0000 | 2.0 (1 of 2 seeds) |');
  assert.match(lines[4], /^Real digits, as a floor: the 2000 held-out digits score FID 4\.200, FD pixels 3\.90, IS 9\.36, 96\.0% high quality/);
  assert.equal(formatMnist([row], 2).split('\n').length, 3);
});

test('mnistTableStem: the whole table keeps its name; a run of some rows, or with --set, writes beside it', () => {
  const all = MNIST_METHODS.map((m) => m.id);
  assert.equal(mnistTableStem('', all), 'mnist');
  assert.equal(mnistTableStem('-sagan', all), 'mnist-sagan');
  assert.equal(mnistTableStem('', ['generator', 'drs@calibrate=logistic']), 'mnist.generator+drs@calibrate=logistic');
  const variants = all.map((id) => `${id}@stepSize=0.02`);
  const long = mnistTableStem('', variants);
  assert.ok(long.startsWith(`mnist.${variants.join('+').slice(0, 80)}-`) && /-[0-9a-f]{12}$/.test(long), long);
  assert.notEqual(long, mnistTableStem('', variants.slice(1)));
  // The same rows in another order are another run.
  assert.notEqual(mnistTableStem('', ['drs', 'generator']), mnistTableStem('', ['generator', 'drs']));
});

test('mnistTag: one suffix part per setting that differs from the defaults, in a fixed order', () => {
  assert.equal(mnistTag('dcgan', {}), '');
  assert.equal(mnistTag('dcgan', { loss: 'ns', dSteps: 1, width: 32, trainSteps: MNIST_TRAIN.steps, finetuneD: MNIST_TRAIN.finetuneD }), '');
  assert.equal(mnistTag('dcgan', { width: 64, trainSteps: 20000 }), '-w64-t20000');
  assert.equal(mnistTag('dcgan', { finetuneD: 0, loss: 'wow', dSteps: 5 }), '-wow-d5-f0');
  assert.equal(mnistTag('sagan', { loss: 'hinge' }), '-sagan');
  assert.equal(mnistTag('sagan', { loss: 'ns' }), '-sagan-ns');
});

test('mnistGan: a run folder trained with other settings is refused, naming the setting, not scored as this run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'refinery-mnistgan-'));
  try {
    const fx = join(fixturesDir(), 'mnist_dcgan28');
    for (const f of ['generator.onnx', 'discriminator.onnx']) copyFileSync(join(fx, f), join(dir, f));
    const meta = JSON.parse(readFileSync(join(fx, 'meta.json'), 'utf8'));
    const training = { model: 'dcgan', steps: MNIST_TRAIN.steps, finetuneD: MNIST_TRAIN.finetuneD, loss: 'ns', dSteps: 1, width: 64 };
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ ...meta, training }));
    const pair = await mnistGan(dir, { model: 'dcgan', seed: 0, width: 64 });
    assert.equal(pair.meta.latentDim, 64);
    await assert.rejects(
      () => mnistGan(dir, { model: 'dcgan', seed: 0 }),
      (e: unknown) =>
        e instanceof RefineryError && /training\.width/.test(e.issues[0].path) && e.issues[0].received === '64' && /^32/.test(e.issues[0].expected),
    );
    await assert.rejects(
      () => mnistGan(dir, { model: 'dcgan', seed: 0, width: 64, trainSteps: 20000 }),
      (e: unknown) => e instanceof RefineryError && /training\.steps/.test(e.issues[0].path),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
