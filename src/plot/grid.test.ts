import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { RefineryError } from '../errors.js';
import { imageGridPng, imagePanelsPng } from './grid.js';

const readPng = (b: Uint8Array): PNG => PNG.sync.read(Buffer.from(b));

test('a grid places each image in its cell with the value range mapped to 0..255', () => {
  // 3 grey images 2x2: values -1 (black), 0 (mid), 1 (white); one NaN pixel in the last.
  const data = new Float32Array(3 * 4);
  data.fill(-1, 0, 4);
  data.fill(0, 4, 8);
  data.fill(1, 8, 12);
  data[11] = NaN;
  const png = readPng(imageGridPng(data, [3, 1, 2, 2], { columns: 3, padding: 1, scale: 1 }));
  assert.equal(png.width, 3 * 3 + 1);
  assert.equal(png.height, 2 + 2);
  const px = (x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
  assert.deepEqual(px(1, 1), [0, 0, 0]);
  assert.deepEqual(px(4, 1), [128, 128, 128]);
  assert.deepEqual(px(7, 1), [255, 255, 255]);
  assert.deepEqual(px(8, 2), [255, 0, 255]);
  assert.deepEqual(px(0, 0), [255, 255, 255]);
});

test('RGB channels go to R, G, B; bad shapes are named', () => {
  const data = new Float32Array([1, 0, -1]); // one 1x1 RGB image in [0,1] range
  const png = readPng(imageGridPng(data, [1, 3, 1, 1], { range: [-1, 1], padding: 0, scale: 1 }));
  assert.deepEqual(Array.from(png.data.subarray(0, 3)), [255, 128, 0]);
  assert.throws(
    () => imageGridPng(new Float32Array(8), [2, 2, 2]),
    (e: unknown) => e instanceof RefineryError && e.issues[0].path === 'images',
  );
});

test('titled panels side by side: one PNG as wide as the grids and the gaps, the titles drawn above', () => {
  const a = new Float32Array(4 * 16).fill(-1);
  const b = new Float32Array(4 * 16).fill(1);
  const single = readPng(imageGridPng(a, [4, 1, 4, 4], { columns: 2, padding: 1, scale: 1 }));
  const png = readPng(
    imagePanelsPng(
      [
        { title: 'generator', subtitle: 'FID 1.00', data: a, shape: [4, 1, 4, 4] },
        { title: 'drs', data: b, shape: [4, 1, 4, 4] },
      ],
      { columns: 2, padding: 1, scale: 1 },
    ),
  );
  assert.equal(png.width, 2 * single.width + 3 * 16);
  // Dark title pixels in the header band, white below the grids' top padding.
  let dark = 0;
  for (let y = 0; y < 30; y++) for (let x = 0; x < png.width; x++) if (png.data[4 * (y * png.width + x)] < 100) dark++;
  assert.ok(dark > 50, `title pixels ${dark}`);
  assert.throws(() => imagePanelsPng([]), /panel/);
});
