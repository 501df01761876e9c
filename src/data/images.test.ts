import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { PNG } from 'pngjs';
import { RefineryError } from '../errors.js';
import { readNpy } from '../io/npyfile.js';
import { Rng } from '../rng.js';
import {
  drawShape,
  getImageDataset,
  imageFolderDataset,
  openImageFolder,
  readImageFolder,
  renderShape,
  SHAPES28_CLASSES,
  SHAPES28_SIZE,
  shapes28,
  writeImageFolder,
} from './images.js';

const root = mkdtempSync(join(tmpdir(), 'refinery-images-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Write a PNG whose pixel (x, y) has colour f(x, y) = [r, g, b] (alpha 255 unless given). */
function writePng(path: string, width: number, height: number, f: (x: number, y: number) => number[]): void {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b, a = 255] = f(x, y);
      png.data.set([r, g, b, a], 4 * (y * width + x));
    }
  }
  writeFileSync(path, PNG.sync.write(png));
}

const grey = (v: number) => [v, v, v];
/** Distinct grey levels for image k (values 0..255). */
const level = (k: number, x: number, y: number) => (k * 61 + x * 17 + y * 29) % 256;

const checkError =
  (code: string, pathIncludes: string, receivedIncludes?: string) =>
  (e: unknown): true => {
    assert.ok(e instanceof RefineryError, `expected a RefineryError, got ${e}`);
    assert.equal(e.code, code);
    assert.ok(e.issues[0].path.includes(pathIncludes), `path ${e.issues[0].path} should name ${pathIncludes}`);
    if (receivedIncludes) assert.ok(e.issues[0].received.includes(receivedIncludes), `received ${e.issues[0].received} should say ${receivedIncludes}`);
    return true;
  };

function expectError(fn: () => unknown, code: string, pathIncludes: string, receivedIncludes?: string): void {
  assert.throws(fn, checkError(code, pathIncludes, receivedIncludes));
}

async function expectRejection(promise: Promise<unknown>, code: string, pathIncludes: string, receivedIncludes?: string): Promise<void> {
  await assert.rejects(promise, checkError(code, pathIncludes, receivedIncludes));
}

test('a folder of grey PNGs reads back as [n, 1, h, w] in [-1, 1] (or [0, 1]), files sorted', async () => {
  const dir = join(root, 'grey');
  mkdirSync(dir);
  const [w, h] = [5, 4];
  // Written out of order: the reader sorts by name.
  for (const k of [2, 0, 1]) writePng(join(dir, `img${k}.png`), w, h, (x, y) => grey(level(k, x, y)));
  const f = await readImageFolder(dir);
  assert.deepEqual(f.shape, [3, 1, h, w]);
  assert.deepEqual(f.files, ['img0.png', 'img1.png', 'img2.png']);
  assert.deepEqual([...f.labels], [-1, -1, -1]);
  for (let k = 0; k < 3; k++) {
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) assert.equal(f.data[(k * h + y) * w + x], Math.fround(-1 + (2 / 255) * level(k, x, y)));
  }
  const unit = await readImageFolder(dir, { range: [0, 1] });
  assert.equal(unit.data[7], Math.fround(level(0, 2, 1) / 255));
  assert.equal(Math.min(...unit.data) >= 0 && Math.max(...unit.data) <= 1, true);
  // Forced RGB: grey replicated in three planes.
  const rgb = await readImageFolder(dir, { grayscale: false });
  assert.deepEqual(rgb.shape, [3, 3, h, w]);
  for (let c = 0; c < 3; c++) assert.equal(rgb.data[c * h * w + 6], f.data[6]);
});

test('colour PNGs read as three planes; grayscale: true gives luma; class subfolders give labels', async () => {
  const dir = join(root, 'rgb');
  mkdirSync(join(dir, 'b'), { recursive: true });
  mkdirSync(join(dir, 'a'));
  const colour = (k: number) => (x: number, y: number) => [level(k, x, y), (level(k, x, y) + 40) % 256, (level(k, x, y) + 90) % 256];
  writePng(join(dir, 'b', 'x.png'), 3, 2, colour(0));
  writePng(join(dir, 'a', 'y.png'), 3, 2, colour(1));
  writeFileSync(join(dir, '.DS_Store'), 'hidden files are skipped');
  const f = await readImageFolder(dir);
  assert.deepEqual(f.shape, [2, 3, 2, 3]);
  assert.deepEqual(f.files, [join('a', 'y.png'), join('b', 'x.png')]);
  assert.deepEqual(f.classes, ['a', 'b']);
  assert.deepEqual([...f.labels], [0, 1]);
  // Image 0 is a/y.png (colour(1)); pixel (x=2, y=1) is at offset 5 of each 2x3 plane.
  const [r, g, b] = colour(1)(2, 1);
  assert.deepEqual(
    [f.data[5], f.data[6 + 5], f.data[12 + 5]],
    [r, g, b].map((v) => Math.fround(-1 + (2 / 255) * v)),
  );
  const luma = await readImageFolder(dir, { grayscale: true, range: [0, 255] });
  assert.deepEqual(luma.shape, [2, 1, 2, 3]);
  assert.ok(Math.abs(luma.data[5] - (0.299 * r + 0.587 * g + 0.114 * b)) < 1e-3);
  // Sampling from the folder returns whole stored images.
  const ds = await imageFolderDataset(dir);
  const s = ds.sampleLabeled(20, new Rng(3));
  for (let i = 0; i < 20; i++) {
    const k = s.labels[i];
    assert.deepEqual([...s.data.subarray(i * 18, (i + 1) * 18)], [...f.data.subarray(k * 18, (k + 1) * 18)]);
  }
  assert.ok(new Set(s.labels).size === 2, 'both images drawn in 20 draws');
});

test('transparent pixels are composited onto black', async () => {
  const dir = join(root, 'alpha');
  mkdirSync(dir);
  writePng(join(dir, 'a.png'), 2, 1, (x) => [200, 200, 200, x === 0 ? 255 : 51]);
  const f = await readImageFolder(dir, { range: [0, 255] });
  assert.deepEqual([...f.data], [200, 40]);
});

test('mixed sizes are refused, naming the file and both sizes', async () => {
  const dir = join(root, 'mixed');
  mkdirSync(dir);
  writePng(join(dir, 'a.png'), 4, 4, () => grey(0));
  writePng(join(dir, 'b.png'), 4, 5, () => grey(0));
  await expectRejection(readImageFolder(dir), 'shape_mismatch', 'b.png', '4x5');
  await assert.rejects(readImageFolder(dir), /4x4/);
});

test('a file neither PNG nor JPEG, a corrupt PNG, an empty or missing folder are refused, naming the file', async () => {
  const dir = join(root, 'notpng');
  mkdirSync(dir);
  writePng(join(dir, 'a.png'), 4, 4, () => grey(9));
  writeFileSync(join(dir, 'notes.txt'), 'not an image');
  await expectRejection(readImageFolder(dir), 'invalid_file', 'notes.txt');
  const corrupt = join(root, 'corrupt');
  mkdirSync(corrupt);
  writeFileSync(join(corrupt, 'c.png'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('garbage')]));
  await expectRejection(readImageFolder(corrupt), 'invalid_file', 'c.png');
  const empty = join(root, 'empty');
  mkdirSync(empty);
  await expectRejection(readImageFolder(empty), 'invalid_argument', 'realDir');
  await expectRejection(readImageFolder(join(root, 'missing')), 'invalid_argument', 'realDir');
  await expectRejection(readImageFolder(dir, { range: [1, 1] }), 'invalid_argument', 'range');
});

/** scripts/reference/jpeg_golden.py's JPEGs and PIL's decoding of them. */
const JPEG_FIXTURES = fileURLToPath(new URL('../../test/fixtures/jpeg/', import.meta.url));

test("JPEGs read as PIL decodes them (pytorch-fid's reader), bit for bit: baseline, progressive, 4:2:0, 4:2:2, 4:4:4, greyscale; with PNGs in one folder", async () => {
  const golden = readNpy(join(JPEG_FIXTURES, 'golden.npy'));
  assert.deepEqual(golden.shape, [5, 16, 24, 3]);
  const pil = golden.data as Uint8Array;
  const f = await readImageFolder(join(JPEG_FIXTURES, 'images'), { range: [0, 255] });
  assert.deepEqual(f.shape, [5, 3, 16, 24]);
  assert.deepEqual(f.files, ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg', 'e.jpg']);
  const hw = 16 * 24;
  let differing = 0;
  for (let i = 0; i < 5; i++)
    for (let p = 0; p < hw; p++) for (let k = 0; k < 3; k++) if (f.data[(i * 3 + k) * hw + p] !== pil[(i * hw + p) * 3 + k]) differing++;
  assert.equal(differing, 0, `${differing} of ${5 * hw * 3} values differ from PIL's`);
  // The greyscale JPEG alone reads as one channel; a folder of JPEGs and PNGs reads both.
  const mixed = join(root, 'jpeg-and-png');
  mkdirSync(mixed);
  writeFileSync(join(mixed, 'e.jpg'), readFileSync(join(JPEG_FIXTURES, 'images', 'e.jpg')));
  writePng(join(mixed, 'p.png'), 24, 16, (x, y) => grey(level(1, x, y)));
  const m = await readImageFolder(mixed, { range: [0, 255] });
  assert.deepEqual(m.shape, [2, 1, 16, 24]);
  for (let p = 0; p < hw; p++) assert.equal(m.data[p], pil[(4 * hw + p) * 3]);
  for (let y = 0; y < 16; y++) for (let x = 0; x < 24; x++) assert.equal(m.data[hw + y * 24 + x], level(1, x, y));
});

test("a truncated JPEG, a CMYK JPEG and a JPEG-looking file of garbage are refused naming the file and libjpeg's reason; good files decode after them", async () => {
  const bytes = readFileSync(join(JPEG_FIXTURES, 'images', 'a.jpg'));
  const cases: [string, Uint8Array, string][] = [
    ['truncated', bytes.subarray(0, Math.floor(bytes.length / 2)), 'Premature end of JPEG file'],
    ['cmyk', readFileSync(join(JPEG_FIXTURES, 'cmyk.jpg')), 'Unsupported color conversion'],
    ['garbage', Buffer.concat([bytes.subarray(0, 4), Buffer.alloc(300, 7)]), 'JPEG'],
  ];
  for (const [name, data, reason] of cases) {
    const dir = join(root, `jpeg-${name}`);
    mkdirSync(dir);
    writeFileSync(join(dir, `${name}.jpg`), data);
    await expectRejection(readImageFolder(dir), 'invalid_file', `${name}.jpg`, reason);
    // The decoder is usable again after the failure.
    assert.equal(
      (await readImageFolder(join(JPEG_FIXTURES, 'images'), { range: [0, 255] })).data[0],
      (readNpy(join(JPEG_FIXTURES, 'golden.npy')).data as Uint8Array)[0],
    );
  }
});

test('openImageFolder: images decoded when read, in any chunks, with the bits readImageFolder gives for the same channels; a bad file fails the read that reaches it', async () => {
  const dir = join(root, 'source');
  mkdirSync(join(dir, 'b'), { recursive: true });
  mkdirSync(join(dir, 'a'));
  for (let k = 0; k < 5; k++) writePng(join(dir, k < 2 ? 'a' : 'b', `${k}.png`), 5, 3, (x, y) => [level(k, x, y), level(k + 1, x, y), level(k + 2, x, y)]);
  writePng(join(dir, 'b', 'grey.png'), 5, 3, (x, y) => grey(level(9, x, y)));
  for (const channels of [1, 3] as const) {
    const whole = await readImageFolder(dir, { grayscale: channels === 1, range: [0, 1] });
    const source = await openImageFolder(dir, { channels, range: [0, 1] });
    assert.deepEqual(source.shape, whole.shape);
    assert.deepEqual([source.files, source.classes, [...source.labels]], [whole.files, whole.classes, [...whole.labels]]);
    const size = channels * 15;
    const parts = [await source.read(0, 2), await source.read(2, 3), await source.read(5, 1), await source.read(6, 0)];
    assert.deepEqual(Float32Array.from(parts.flatMap((p) => [...p])), whole.data, `channels ${channels}`);
    assert.equal(parts[0].length, 2 * size);
    await expectRejection(source.read(5, 2), 'invalid_argument', 'read');
  }
  // Only the first image is decoded on opening: a broken file or another size fails the read that reaches it.
  writeFileSync(join(dir, 'b', 'z-notes.txt'), 'not an image');
  writePng(join(dir, 'b', 'y-big.png'), 6, 3, () => grey(0));
  const source = await openImageFolder(dir, { channels: 3 });
  assert.equal(source.shape[0], 8);
  assert.equal((await source.read(0, 6)).length, 6 * 45);
  await expectRejection(source.read(6, 1), 'shape_mismatch', 'y-big.png', '6x3');
  await expectRejection(source.read(7, 1), 'invalid_file', 'z-notes.txt');
  await expectRejection(openImageFolder(dir, { channels: 2 as 3 }), 'invalid_argument', 'channels');
});

test('shapes28 is deterministic, in [-1, 1], and sample() agrees with sampleLabeled()', () => {
  const a = shapes28.sample(50, new Rng(7));
  const b = shapes28.sampleLabeled(50, new Rng(7));
  const c = shapes28.sample(50, new Rng(8));
  assert.equal(a.length, 50 * 28 * 28);
  assert.deepEqual(a, b.data);
  assert.notDeepEqual(a, c);
  assert.ok(a.every((v) => v >= -1 && v <= 1));
  assert.deepEqual(shapes28.shape, [1, 28, 28]);
  assert.equal(getImageDataset('shapes28'), shapes28);
  expectError(() => getImageDataset('cifar10'), 'invalid_argument', 'dataset');
});

test('shapes28 classes are balanced (chi-square, 4 classes)', () => {
  const n = 4000;
  const { labels } = shapes28.sampleLabeled(n, new Rng(11));
  const counts = [0, 0, 0, 0];
  for (const l of labels) counts[l]++;
  const e = n / 4;
  const chi2 = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
  // chi-square with 3 degrees of freedom: P(chi2 > 21.1) = 1e-4.
  assert.ok(chi2 < 21.1, `class counts ${counts} (chi2 ${chi2.toFixed(2)})`);
  // Negative control: the same test rejects labels with one class under-drawn by 20%.
  const biased = [e * 1.2 - 50, e + 100, e + 100, e * 0.8 + 50].map(Math.round);
  assert.ok(biased.reduce((s, c) => s + (c - e) ** 2 / e, 0) > 21.1);
});

test('shapes28 renders each class with its exact area, anti-aliased, inside the frame', () => {
  // Area of each shape in units of s^2: circle pi; square (1.7)^2; triangle of circumradius 1.3:
  // (3 sqrt(3) / 4) 1.3^2; cross of arm half-length 1, half-thickness 0.3: 2 (2 x 0.6) - 0.6^2.
  const unitArea = [Math.PI, 1.7 * 1.7, ((3 * Math.sqrt(3)) / 4) * 1.3 * 1.3, 2 * 2 * 0.6 - 0.36];
  const rng = new Rng(5);
  const img = new Float32Array(28 * 28);
  const N = SHAPES28_SIZE;
  const seen = new Set<number>();
  for (let t = 0; t < 200; t++) {
    const spec = drawShape(rng);
    seen.add(spec.cls);
    renderShape(spec, img, [0, 1]);
    let mass = 0;
    let partial = 0;
    for (const v of img) {
      mass += v;
      if (v > 0 && v < 1) partial++;
    }
    const area = unitArea[spec.cls] * spec.s * spec.s;
    // Coverage from the signed distance is exact along straight edges; corners and curvature
    // leave an error well under a pixel per corner.
    assert.ok(
      Math.abs(mass - area) < 0.02 * area + 1,
      `${SHAPES28_CLASSES[spec.cls]} s=${spec.s.toFixed(2)}: mass ${mass.toFixed(2)} vs area ${area.toFixed(2)}`,
    );
    assert.ok(partial > 8, 'edges are anti-aliased');
    for (let i = 0; i < N; i++) {
      for (const [y, x] of [
        [0, i],
        [N - 1, i],
        [i, 0],
        [i, N - 1],
      ])
        assert.equal(img[y * N + x], 0, 'the border row/column is background');
    }
  }
  assert.equal(seen.size, 4);
});

test('writeImageFolder: one PNG per image in sample order, read back as the values quantized to 8 bits; a new folder, written whole; an earlier one replaced only when asked', async () => {
  const rng = new Rng(11);
  for (const [c, range] of [
    [3, [-1, 1]],
    [1, [0, 1]],
  ] as [number, [number, number]][]) {
    const shape = [13, c, 5, 4];
    const size = c * 20;
    // values beyond the range too: they are clipped to black and white
    const data = Float32Array.from({ length: 13 * size }, () => range[0] + (range[1] - range[0]) * (1.2 * rng.uniform() - 0.1));
    const dir = join(root, `out-${c}`);
    const { files } = writeImageFolder(dir, data, shape, range);
    assert.deepEqual(readdirSync(dir), files);
    assert.equal(files[0], '000000.png');
    assert.equal(files[12], '000012.png');
    const back = await readImageFolder(dir, { range });
    assert.deepEqual(back.shape, shape);
    const [lo, hi] = range;
    const want = Float32Array.from(data, (v) => lo + ((hi - lo) / 255) * Math.round(Math.min(1, Math.max(0, (v - lo) / (hi - lo))) * 255));
    assert.deepEqual(back.data, want);
    // control: read with another range, the values differ
    assert.notDeepEqual((await readImageFolder(dir, { range: [lo - 1, hi] })).data, want);
    expectError(() => writeImageFolder(dir, data, shape, range), 'invalid_argument', 'out', 'holds 000000.png');
    assert.deepEqual((await readImageFolder(dir, { range })).data, want, 'the refused call left the folder as it was');
  }
  // overwrite replaces the folder whole (an old file the new images do not have is gone); an
  // empty folder counts as new; a file in the folder's place is refused
  const swap = join(root, 'out-3');
  writeFileSync(join(swap, 'notes.txt'), 'earlier');
  const two = Float32Array.from({ length: 2 * 60 }, (_, i) => (i % 7) / 7);
  assert.deepEqual(writeImageFolder(swap, two, [2, 3, 5, 4], [0, 1], { overwrite: true }).files, ['000000.png', '000001.png']);
  assert.deepEqual(readdirSync(swap), ['000000.png', '000001.png']);
  assert.deepEqual((await readImageFolder(swap, { range: [0, 1] })).shape, [2, 3, 5, 4]);
  assert.deepEqual(
    readdirSync(root).filter((f) => f.startsWith('out-3.')),
    [],
    'no temporary or old folder left',
  );
  const empty = join(root, 'empty-out');
  mkdirSync(empty);
  writeImageFolder(empty, two, [2, 3, 5, 4], [0, 1], { option: '--out' });
  assert.equal(readdirSync(empty).length, 2);
  writeFileSync(join(root, 'a-file'), 'x');
  expectError(() => writeImageFolder(join(root, 'a-file'), two, [2, 3, 5, 4], [0, 1], { overwrite: true }), 'invalid_argument', 'out', 'the file');
  expectError(() => writeImageFolder(join(root, 'two'), new Float32Array(2 * 2 * 9), [2, 2, 3, 3], [-1, 1]), 'shape_mismatch', 'out', '2 channels');
  expectError(() => writeImageFolder(join(root, 'flat'), new Float32Array(8), [4, 2], [-1, 1]), 'shape_mismatch', 'out', '[4, 2]');
  // a non-finite value fails the whole folder: nothing is left, not even the temporary one
  const bad = new Float32Array(3 * 4).fill(0.5);
  bad[9] = Number.NaN;
  expectError(() => writeImageFolder(join(root, 'nan'), bad, [3, 1, 2, 2], [0, 1]), 'invalid_argument', 'out image 2', 'NaN');
  assert.ok(!existsSync(join(root, 'nan')));
  assert.deepEqual(
    readdirSync(root).filter((f) => f.startsWith('nan')),
    [],
  );
});
