/**
 * The package as a user gets it: `npm pack`, then an install of the tarball into an empty project,
 * offline (from the npm cache, with the lockfile entries of Refinery's dependencies), then an ESM
 * import by package name that refines samples through the public API, and a TypeScript consumer
 * type-checked under moduleResolution node16 and bundler (a typo in a method option must be a
 * compile error). Also checks what the tarball holds: no tests, test helpers or benchmarks, a
 * LICENSE, source maps that carry their sources.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixturesDir, repoRoot } from './testing/fixtures.js';
import { METHOD_IDS } from './refine/registry.js';

const root = mkdtempSync(join(tmpdir(), 'refinery-package-'));
after(() => rmSync(root, { recursive: true, force: true }));
const consumer = join(root, 'consumer');
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_update_notifier: 'false' };
let tarball = '';
let files: string[] = [];

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A lockfile for the consumer: Refinery from the tarball, its dependencies as pinned in Refinery's own lockfile. */
function consumerLock(pkg: { version: string; dependencies: Record<string, string>; bin: Record<string, string>; engines: Record<string, string> }): unknown {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  const spec = `file:${tarball}`;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', version: '1.0.0', dependencies: { refinery: spec } },
    'node_modules/refinery': {
      version: pkg.version,
      resolved: spec,
      integrity,
      license: 'MIT',
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [k, v] of Object.entries(lock.packages)) {
    if (!k.startsWith('node_modules/') || v.dev) continue;
    const name = k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length);
    // Where the lockfile omits the tarball address, it is the registry's standard one (found in the cache by integrity).
    packages[k] = { resolved: `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${v.version}.tgz`, ...v };
  }
  return { name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages };
}

before(() => {
  const out = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', root], repoRoot);
  const info = JSON.parse(out.slice(out.indexOf('['), out.lastIndexOf(']') + 1)) as { filename: string; files: { path: string }[] }[];
  tarball = join(root, info[0].filename);
  files = info[0].files.map((f) => f.path);
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  mkdirSync(consumer);
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify({
      name: 'consumer',
      version: '1.0.0',
      private: true,
      type: 'module',
      dependencies: { refinery: `file:${tarball}` },
      allowScripts: { 'onnxruntime-node': false },
    }),
  );
  writeFileSync(join(consumer, 'package-lock.json'), JSON.stringify(consumerLock(pkg), null, 2));
  run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], consumer);
});

test('the tarball ships the library, the CLI, README and LICENSE, and no tests, test helpers or benchmarks', () => {
  for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js'])
    assert.ok(files.includes(f), `${f} is shipped`);
  const unwanted = files.filter((f) => /\.test\.|^dist\/testing\/|^dist\/bench\/|^dist\/cli\/bench\.|^src\//.test(f));
  assert.deepEqual(unwanted, []);
  // Source maps carry their sources (the .ts files are not shipped).
  const maps = files.filter((f) => f.endsWith('.js.map'));
  assert.ok(maps.length > 20);
  for (const m of maps) {
    const map = JSON.parse(readFileSync(join(consumer, 'node_modules', 'refinery', m), 'utf8')) as { sources: string[]; sourcesContent?: string[] };
    assert.equal(map.sourcesContent?.length, map.sources.length, `${m} embeds its sources`);
  }
});

test('an ESM program imports refinery by name and refines samples through the public API', () => {
  const fx = join(fixturesDir(), 'mlp2d');
  writeFileSync(
    join(consumer, 'main.mjs'),
    `import { loadPair, pairFromBytes, refine, sample, evaluate, sampleDataset, RefineryError, METHOD_IDS, VERSION } from 'refinery';
import { readFileSync } from 'node:fs';
const pair = loadPair({ generator: ${JSON.stringify(join(fx, 'generator.onnx'))}, discriminator: ${JSON.stringify(join(fx, 'discriminator.onnx'))} });
const same = pairFromBytes({ generator: readFileSync(${JSON.stringify(join(fx, 'generator.onnx'))}), discriminator: readFileSync(${JSON.stringify(join(fx, 'discriminator.onnx'))}), latentPrior: 'uniform[-1,1]', dOutput: 'critic' });
const r = await refine(pair, { method: 'sir', n: 64, seed: 1, criticAsRatio: true });
const r2 = await refine(same, { method: 'sir', n: 64, seed: 1, criticAsRatio: true });
const g = await sample(pair, { n: 64 });
const ev = await evaluate(sampleDataset('grid25', 200), r.samples, { metrics: ['fd', 'mmd'] });
let code = null;
try { await refine(pair, { method: 'ddls', n: 4, stepSzie: 1 }); } catch (e) { code = e instanceof RefineryError ? e.issues[0].path : String(e); }
console.log(JSON.stringify({ version: VERSION, methods: METHOD_IDS.length, shape: r.samples.shape, same: r.samples.data.every((v, i) => v === r2.samples.data[i]), sampleShape: g.samples.shape, fd: ev.metrics.fd.distance, code }));
`,
  );
  const out = JSON.parse(run(process.execPath, ['main.mjs'], consumer).trim().split('\n').pop()!);
  assert.equal(out.version, JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
  assert.equal(out.methods, METHOD_IDS.length);
  assert.deepEqual(out.shape, [64, 2]);
  assert.equal(out.same, true, 'a pair from bytes refines like the pair from files');
  assert.deepEqual(out.sampleShape, [64, 2]);
  assert.ok(out.fd > 0);
  assert.equal(out.code, 'stepSzie');
});

test('the package installs its CLI: refinery --version and an error in the one format', () => {
  const bin = join(consumer, 'node_modules', '.bin', 'refinery');
  assert.match(run(bin, ['--version'], consumer), /^\d+\.\d+\.\d+/);
  const r = spawnSync(bin, ['refine', '--method', 'nope', '--out', 'x.npy'], { cwd: consumer, env, encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^refinery: invalid_argument: --method: expected one of drs, mh/);
  // The benchmarks are not shipped, so the installed CLI has no bench command.
  assert.doesNotMatch(execFileSync(bin, ['--help'], { cwd: consumer, env, encoding: 'utf8' }), /\bbench\b/);
});

const CONSUMER_TS = `import { type MethodId, type RefineOptions, type RefineResult, type DdlsOptions, METHOD_DEFAULTS, loadPair, refine, readNpy, writeNpy, trainGan, calibrate, evaluate, sampleDataset } from 'refinery';

export async function main(): Promise<RefineResult> {
  const pair = loadPair({ run: 'runs/grid' });
  const options: RefineOptions = { method: 'ddls', n: 100, seed: 0, numSteps: 10, stepSize: 0.01, metropolis: true };
  const r = await refine(pair, options);
  const ddls: Partial<DdlsOptions> = METHOD_DEFAULTS.ddls;
  const id: MethodId = r.method;
  // What readNpy returns, writeNpy takes.
  writeNpy('copy.npy', readNpy('samples.npy'));
  const { pair: trained } = await trainGan({ out: 'runs/x', model: 'dcgan', width: 16 });
  const cal = await calibrate(trained, sampleDataset('grid25', 100), { method: 'isotonic' });
  const m = (await evaluate(sampleDataset('grid25', 100), r.samples, { metrics: ['fd'] })).metrics.fd?.distance;
  void ddls; void id; void cal.report.after; void m;
  // @ts-expect-error a typo in an option name is a compile error
  await refine(pair, { method: 'ddls', n: 10, stepSzie: 0.1 });
  // @ts-expect-error an option of another method is a compile error
  await refine(pair, { method: 'drs', n: 10, numSteps: 5 });
  // @ts-expect-error an option of the other GAN model is a compile error
  await trainGan({ out: 'runs/y', model: 'mlp', width: 16 });
  // @ts-expect-error an unknown method
  await refine(pair, { method: 'langevin', n: 10 });
  return r;
}
`;

for (const resolution of ['node16', 'bundler'] as const) {
  test(`a TypeScript consumer type-checks against the package (moduleResolution ${resolution}), typos included as errors`, () => {
    const dir = join(consumer, `ts-${resolution}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'main.ts'), CONSUMER_TS);
    const compilerOptions = {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      target: 'ES2022',
      module: resolution === 'node16' ? 'node16' : 'esnext',
      moduleResolution: resolution,
      types: ['node'],
      typeRoots: [join(repoRoot, 'node_modules', '@types')],
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['main.ts'] }));
    // node16 resolution reads "type": "module" from the nearest package.json: the consumer's.
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: dir, env, encoding: 'utf8' });
    assert.equal(r.status, 0, `tsc (${resolution}) failed:\n${r.stdout}${r.stderr}`);
    assert.ok(readdirSync(dir).includes('main.ts'));
  });
}
