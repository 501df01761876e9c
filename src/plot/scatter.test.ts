import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { MARGIN, scatterLayout, scatterPng } from './scatter.js';
import { assertRefineryError } from '../testing/assert.js';

const readPng = (b: Uint8Array): PNG => PNG.sync.read(Buffer.from(b));

const BOUNDS: [number, number, number, number] = [-1, 1, -1, 1];

function decode(buf: Uint8Array): PNG {
  return readPng(buf);
}

function pixel(png: PNG, x: number, y: number): [number, number, number] {
  const o = 4 * (y * png.width + x);
  return [png.data[o], png.data[o + 1], png.data[o + 2]];
}

test('size follows the layout: one panel', () => {
  const png = decode(scatterPng([{ title: 'a', points: new Float32Array(0) }], { bounds: BOUNDS, size: 100 }));
  const layout = scatterLayout(1, { size: 100 });
  // font scale 1 below size 300: title band 7 + 8 pixels
  assert.equal(layout.titleHeight, 15);
  assert.equal(png.width, 100 + 2 * MARGIN);
  assert.equal(png.height, MARGIN + 15 + 100 + MARGIN);
  assert.equal(png.width, layout.width);
  assert.equal(png.height, layout.height);
  // default size 400 (font scale 2)
  const big = decode(scatterPng([{ title: 'a', points: new Float32Array(0) }], { bounds: BOUNDS }));
  assert.equal(big.width, 400 + 2 * MARGIN);
  assert.equal(big.height, MARGIN + (14 + 8) + 400 + MARGIN);
});

test('a point darkens the expected pixels; background stays white', () => {
  const color: [number, number, number] = [0, 0, 200];
  const size = 100;
  const png = decode(scatterPng([{ title: '', points: new Float64Array([0.25, -0.5]), color }], { bounds: BOUNDS, size }));
  const { x0, y0 } = scatterLayout(1, { size }).plots[0];
  // u = (0.25 + 1) / 2 · 100 = 62.5 -> columns 62, 63; v = (1 + 0.5) / 2 · 100 = 75 -> rows 74, 75
  const blended = (c: number): number => Math.round(255 * 0.65 + c * 0.35);
  for (const [c, r] of [
    [62, 74],
    [63, 74],
    [62, 75],
    [63, 75],
  ]) {
    assert.deepEqual(pixel(png, x0 + c, y0 + r), color.map(blended), `pixel ${c},${r}`);
  }
  for (const [c, r] of [
    [61, 74],
    [64, 75],
    [62, 73],
    [63, 76],
    [20, 20],
    [80, 90],
  ]) {
    assert.deepEqual(pixel(png, x0 + c, y0 + r), [255, 255, 255], `pixel ${c},${r}`);
  }
  // image corners and the title band of an empty title are white
  assert.deepEqual(pixel(png, 0, 0), [255, 255, 255]);
  assert.deepEqual(pixel(png, png.width - 1, png.height - 1), [255, 255, 255]);
  for (let x = 0; x < png.width; x++) assert.deepEqual(pixel(png, x, MARGIN + 7), [255, 255, 255]);
  // grid line at x = 0 (column 50) is light grey, the frame just outside the plot area is grey
  const grid = pixel(png, x0 + 50, y0 + 10);
  assert.ok(grid[0] < 255 && grid[0] > 200 && grid[0] === grid[1] && grid[1] === grid[2]);
  const frame = pixel(png, x0 - 1, y0 + 10);
  assert.ok(frame[0] < grid[0] && frame[0] === frame[1] && frame[1] === frame[2]);
});

test('alpha blending: overlapping points are darker than one point', () => {
  const size = 100;
  const one = decode(scatterPng([{ title: '', points: new Float32Array([0.25, 0.25]) }], { bounds: BOUNDS, size }));
  const three = decode(scatterPng([{ title: '', points: new Float32Array([0.25, 0.25, 0.25, 0.25, 0.25, 0.25]) }], { bounds: BOUNDS, size }));
  const { x0, y0 } = scatterLayout(1, { size }).plots[0];
  const a = pixel(one, x0 + 62, y0 + 37);
  const b = pixel(three, x0 + 62, y0 + 37);
  assert.ok(a[0] < 255 && b[0] < a[0] && b[1] < a[1]);
});

test('two panels side by side; columns wrap panels into rows', () => {
  const panel = { title: 'p', points: new Float32Array([0, 0]) };
  const one = decode(scatterPng([panel], { bounds: BOUNDS, size: 120 }));
  const two = decode(scatterPng([panel, panel], { bounds: BOUNDS, size: 120 }));
  assert.equal(two.width, 2 * one.width);
  assert.equal(two.height, one.height);
  // the second panel is the first one shifted right by one cell
  for (let y = 0; y < one.height; y++) {
    for (let x = 0; x < one.width; x++) assert.deepEqual(pixel(two, one.width + x, y), pixel(one, x, y));
  }
  const grid = decode(scatterPng([panel, panel, panel], { bounds: BOUNDS, size: 120, columns: 2 }));
  assert.equal(grid.width, 2 * one.width);
  assert.equal(grid.height, 2 * one.height);
});

test('points outside the bounds (or not finite) are skipped without error', () => {
  const empty = scatterPng([{ title: 'x', points: new Float32Array(0) }], { bounds: BOUNDS, size: 64 });
  const outside = scatterPng([{ title: 'x', points: new Float64Array([5, 5, -1.5, 0, 0, 1.01, NaN, 0, 0, Infinity]) }], { bounds: BOUNDS, size: 64 });
  assert.deepEqual(outside, empty);
  // a point exactly on the bound is drawn (clipped to the plot area)
  const edge = decode(scatterPng([{ title: 'x', points: new Float32Array([1, 1]) }], { bounds: BOUNDS, size: 64 }));
  const { x0, y0 } = scatterLayout(1, { size: 64 }).plots[0];
  assert.ok(pixel(edge, x0 + 63, y0)[0] < 255);
});

test('markers are red crosses; titles are drawn in the title band', () => {
  const size = 100;
  const png = decode(
    scatterPng([{ title: 'DRS: 99.5% (k=25)', points: new Float32Array(0) }], {
      bounds: BOUNDS,
      size,
      markers: new Float64Array([0.5, 0.5]),
    }),
  );
  const { x0, y0 } = scatterLayout(1, { size }).plots[0];
  // centre u = 75, v = 25
  assert.deepEqual(pixel(png, x0 + 75, y0 + 25), [220, 30, 30]);
  assert.deepEqual(pixel(png, x0 + 77, y0 + 27), [220, 30, 30]);
  assert.deepEqual(pixel(png, x0 + 77, y0 + 25), [255, 255, 255]);
  let dark = 0;
  for (let y = MARGIN; y < y0; y++) for (let x = 0; x < png.width; x++) if (pixel(png, x, y)[0] < 100) dark++;
  assert.ok(dark > 50, `title pixels ${dark}`);
});

test('deterministic: identical inputs give identical bytes', () => {
  const pts = new Float32Array(2000);
  for (let i = 0; i < pts.length; i++) pts[i] = Math.sin(i * 12.9898) * 1.2;
  const make = (): Uint8Array =>
    scatterPng(
      [
        { title: 'left', points: pts },
        { title: 'right', points: pts.slice().reverse(), color: [200, 40, 40] },
      ],
      { bounds: BOUNDS, size: 150, markers: new Float64Array([0, 0, 0.5, -0.5]) },
    );
  const a = make();
  const b = make();
  assert.ok(Buffer.from(a).equals(b));
  assert.equal(Buffer.from(a.subarray(1, 4)).toString('latin1'), 'PNG');
});

test('argument errors', () => {
  const check = (fn: () => unknown, path: string): void => assertRefineryError(fn, 'invalid_argument', path);
  const ok = { title: 't', points: new Float32Array(2) };
  check(() => scatterPng([], { bounds: BOUNDS }), 'panels');
  check(() => scatterPng([ok], { bounds: [1, -1, 0, 1] }), 'bounds');
  check(() => scatterPng([ok], { bounds: BOUNDS, size: 0 }), 'size');
  check(() => scatterPng([ok], { bounds: BOUNDS, columns: 0 }), 'columns');
  check(() => scatterPng([{ title: 't', points: new Float32Array(3) }], { bounds: BOUNDS }), 'panels[0].points');
  check(() => scatterPng([ok, { ...ok, color: [0, 0, 300] }], { bounds: BOUNDS }), 'panels[1].color');
  check(() => scatterPng([ok], { bounds: BOUNDS, markers: new Float64Array(3) }), 'markers');
});
