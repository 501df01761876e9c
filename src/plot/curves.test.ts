import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { PALETTE, curvesLayout, prCurvePng } from './curves.js';
import { assertRefineryError } from '../testing/assert.js';

const readPng = (b: Uint8Array): PNG => PNG.sync.read(Buffer.from(b));

function pixel(png: PNG, x: number, y: number): [number, number, number] {
  const o = 4 * (y * png.width + x);
  return [png.data[o], png.data[o + 1], png.data[o + 2]];
}

function countColor(png: PNG, rgb: readonly number[], x0 = 0, y0 = 0, x1 = png.width, y1 = png.height): number {
  let c = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const p = pixel(png, x, y);
      if (p[0] === rgb[0] && p[1] === rgb[1] && p[2] === rgb[2]) c++;
    }
  }
  return c;
}

test('image size follows the layout; the legend widens the figure', () => {
  const curves = [{ label: 'DRS', precision: [1, 0], recall: [0, 1] }];
  const png = readPng(prCurvePng(curves, { size: 200 }));
  const layout = curvesLayout(['DRS'], { size: 200 });
  assert.equal(png.width, layout.width);
  assert.equal(png.height, layout.height);
  assert.ok(layout.x0 > 0 && layout.x0 + 200 < layout.width && layout.y0 + 200 < layout.height);
  assert.ok(curvesLayout(['a much longer label'], { size: 200 }).width > layout.width);
  assert.ok(curvesLayout(['DRS'], { size: 200, title: 'PRD' }).height > layout.height);
  // default size 400
  assert.equal(readPng(prCurvePng(curves)).width, curvesLayout(['DRS']).width);
  assert.equal(curvesLayout(['DRS']).size, 400);
});

test('line pixels land where the mapping says; background and corners stay white', () => {
  const size = 201;
  const color: [number, number, number] = [200, 0, 0];
  const png = readPng(prCurvePng([{ label: 'diag', precision: [1, 0.5, 0], recall: [0, 0.5, 1], color }], { size }));
  const { x0, y0 } = curvesLayout(['diag'], { size });
  // (recall, precision) -> (x0 + round(r · 200), y0 + round((1 - p) · 200))
  assert.deepEqual(pixel(png, x0, y0), color); // (0, 1)
  assert.deepEqual(pixel(png, x0 + 100, y0 + 100), color); // (0.5, 0.5)
  assert.deepEqual(pixel(png, x0 + 200, y0 + 200), color); // (1, 0)
  assert.deepEqual(pixel(png, x0 + 50, y0 + 50), color);
  // off the line: white or grid grey, never the curve colour
  assert.notDeepEqual(pixel(png, x0 + 150, y0 + 40), color);
  assert.deepEqual(pixel(png, 0, 0), [255, 255, 255]);
  assert.deepEqual(pixel(png, png.width - 1, png.height - 1), [255, 255, 255]);
  // the line is ~200·√2 pixels long and 2 thick; the legend sample adds 2 · 24 pixels
  const n = countColor(png, color);
  assert.ok(n > 400 && n < 1200, `line pixels ${n}`);
  const layout = curvesLayout(['diag'], { size });
  assert.ok(countColor(png, color, layout.legendX, 0) >= 48);
  // legend text is drawn (dark pixels right of the sample)
  let dark = 0;
  for (let y = 0; y < png.height; y++) for (let x = layout.legendX + 24; x < png.width; x++) if (pixel(png, x, y)[0] < 100) dark++;
  assert.ok(dark > 20, `legend text pixels ${dark}`);
});

test('several curves take palette colours; a non-finite point breaks the line', () => {
  const size = 101;
  const png = readPng(
    prCurvePng(
      [
        { label: 'a', precision: [0, 1], recall: [0, 1] },
        { label: 'b', precision: Float64Array.from([0.2, NaN, 0.2]), recall: Float64Array.from([0, 0.5, 1]) },
      ],
      { size, lineWidth: 1 },
    ),
  );
  const { x0, y0 } = curvesLayout(['a', 'b'], { size });
  assert.deepEqual(pixel(png, x0 + 50, y0 + 50), [...PALETTE[0]]);
  // curve b: its two end points are drawn, the segment between them is not
  assert.deepEqual(pixel(png, x0, y0 + 80), [...PALETTE[1]]);
  assert.deepEqual(pixel(png, x0 + 100, y0 + 80), [...PALETTE[1]]);
  assert.notDeepEqual(pixel(png, x0 + 30, y0 + 80), [...PALETTE[1]]);
  assert.equal(countColor(png, PALETTE[1], x0, y0, x0 + size, y0 + size), 2);
});

test('deterministic bytes; a valid PNG signature', () => {
  const make = (): Uint8Array =>
    prCurvePng(
      [
        { label: 'PRD', precision: [0, 0.5, 0.9, 1], recall: [1, 0.9, 0.5, 0] },
        { label: 'classifier', precision: [0, 0.3, 0.4], recall: [0.6, 0.3, 0] },
      ],
      { size: 300, title: 'precision / recall' },
    );
  const a = make();
  assert.ok(Buffer.from(a).equals(make()));
  assert.equal(Buffer.from(a.subarray(1, 4)).toString('latin1'), 'PNG');
});

test('argument errors', () => {
  const check = (fn: () => unknown, path: string): void => assertRefineryError(fn, 'invalid_argument', path);
  const ok = { label: 'x', precision: [1], recall: [1] };
  check(() => prCurvePng('x' as unknown as []), 'curves');
  check(() => prCurvePng([{ ...ok, label: 3 as unknown as string }]), 'curves[0].label');
  check(() => prCurvePng([ok, { ...ok, precision: [1, 2] }]), 'curves[1].precision');
  check(() => prCurvePng([{ ...ok, recall: 5 as unknown as number[] }]), 'curves[0].recall');
  check(() => prCurvePng([{ ...ok, color: [0, 0, 256] }]), 'curves[0].color');
  check(() => prCurvePng([ok], { size: 10 }), 'size');
  check(() => prCurvePng([ok], { lineWidth: 0 }), 'lineWidth');
  check(() => prCurvePng([ok], { title: 5 as unknown as string }), 'title');
  // no curves: axes only
  assert.ok(readPng(prCurvePng([], { size: 64 })).width > 64);
});
