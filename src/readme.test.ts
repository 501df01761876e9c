/**
 * Every code block of the README runs as written, so the README cannot drift from the code:
 * the command-line session (each line must exit 0), then the library examples (type-checked with
 * tsc, then run with node against this checkout's package), then the Quick start's first command
 * in a copy of the working tree (its numbers are compared with the README's). The Quick start's
 * second command, `npm test`, is this suite; the test checks that CI runs exactly it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { repoRoot } from './testing/fixtures.js';

interface Block {
  lang: string;
  code: string;
  section: string;
}

/** The fenced code blocks of a Markdown text, with the heading they sit under. */
export function codeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  let section = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const h = /^#{1,6} (.*)$/.exec(lines[i]);
    if (h) section = h[1];
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i]);
    blocks.push({ lang: open[1], code: body.join('\n'), section });
  }
  return blocks;
}

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const blocks = codeBlocks(readme);
// Inside the checkout, so that `npx refinery` and `import 'refinery'` resolve to this package.
const work = join(repoRoot, '.tmp', `readme-${process.pid}`);
mkdirSync(work, { recursive: true });
after(() => rmSync(work, { recursive: true, force: true }));
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

function sh(line: string, cwd: string): string {
  const r = spawnSync('bash', ['-c', line], { cwd, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  assert.equal(r.status, 0, `README command failed (exit ${r.status}): ${line}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

test('every code block is a shell session or TypeScript, and the library examples import only the public entry point', () => {
  assert.ok(blocks.length >= 5);
  for (const b of blocks) assert.ok(['sh', 'ts'].includes(b.lang), `block under "${b.section}" is ${b.lang || 'untagged'}`);
  for (const b of blocks.filter((x) => x.lang === 'ts')) {
    for (const m of b.code.matchAll(/from '([^']+)'/g)) assert.ok(m[1] === 'refinery' || m[1].startsWith('node:'), `import from ${m[1]}`);
  }
  // The Quick start is exactly two commands, and CI runs the second.
  const quick = blocks.filter((b) => b.section === 'Quick start');
  assert.equal(quick.length, 1);
  assert.deepEqual(quick[0].code.split('\n'), ['ONNXRUNTIME_NODE_INSTALL=skip npm ci && npx refinery demo', 'npm test']);
  assert.match(readFileSync(join(repoRoot, '.ci', 'run'), 'utf8'), /^npm test$/m);
});

test('the command-line session and the library examples run as written', () => {
  const session = blocks.filter((b) => b.lang === 'sh' && b.section !== 'Quick start');
  assert.ok(session.length >= 1);
  let evaluation = '';
  for (const b of session) {
    for (const line of b.code.split('\n').filter((l) => l.trim() !== '')) {
      const out = sh(line, work);
      if (/refinery eval .*--json/.test(line) && evaluation === '') evaluation = out;
    }
  }
  // The command-line session's evaluation, printed as JSON.
  const ev = JSON.parse(evaluation);
  assert.ok(ev.modes.recoveredModes >= 20, `the refined samples recover the grid's modes: ${JSON.stringify(ev.modes)}`);

  const ts = blocks.filter((b) => b.lang === 'ts');
  assert.ok(ts.length >= 3);
  ts.forEach((b, i) => {
    writeFileSync(join(work, `block-${i}.mts`), b.code);
  });
  const compilerOptions = {
    strict: true,
    target: 'ES2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    types: ['node'],
    typeRoots: [join(repoRoot, 'node_modules', '@types')],
    outDir: 'js',
    rootDir: '.',
  };
  writeFileSync(join(work, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['*.mts'] }));
  const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {
    cwd: work,
    env,
    encoding: 'utf8',
  });
  assert.equal(tsc.status, 0, `the README's TypeScript does not type-check:\n${tsc.stdout}${tsc.stderr}`);
  ts.forEach((_, i) => {
    sh(`node js/block-${i}.mjs`, work);
  });
  assert.ok(existsSync(join(work, 'runs', 'drs-calibrated.npy')));
  assert.ok(existsSync(join(work, 'runs', 'ring-sir.json')));
});

test("the Quick start's first command works in a fresh copy, and its numbers are the README's", () => {
  const copy = join(tmpdir(), `refinery-quickstart-${process.pid}`);
  rmSync(copy, { recursive: true, force: true });
  try {
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: repoRoot, encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const f of files) {
      if (!existsSync(join(repoRoot, f))) continue;
      mkdirSync(dirname(join(copy, f)), { recursive: true });
      cpSync(join(repoRoot, f), join(copy, f));
    }
    const quick = blocks.find((b) => b.section === 'Quick start')!;
    sh(quick.code.split('\n')[0], copy);
    const m = JSON.parse(readFileSync(join(copy, 'refinery-demo', 'metrics.json'), 'utf8'));
    assert.ok(existsSync(join(copy, 'refinery-demo', 'before-after.png')));
    const claim = /generator 25\/25 modes, ([\d.]+)% high quality → DDLS \(MALA, step\s+0\.001, 1000 steps\) 25\/25 modes, ([\d.]+)% high quality/.exec(
      readme.replace(/\n/g, ' '),
    );
    assert.ok(claim, 'the README states the demo result');
    const [gen, ddls] = [m.metrics.generator, m.metrics.ddls];
    assert.equal(gen.recoveredModes, 25);
    assert.equal(ddls.recoveredModes, 25);
    // Same seed, same numbers (a different CPU's kernels may move them a little).
    assert.ok(Math.abs(gen.highQualityPercent - Number(claim[1])) < 1, `generator ${gen.highQualityPercent}% vs README ${claim[1]}%`);
    assert.ok(Math.abs(ddls.highQualityPercent - Number(claim[2])) < 1, `ddls ${ddls.highQualityPercent}% vs README ${claim[2]}%`);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});
