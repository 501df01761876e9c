import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { BOX, Canvas, FONT, TEXT_COLOR, drawText, fitText, textWidth } from './raster.js';

const readPng = (b: Uint8Array): PNG => PNG.sync.read(Buffer.from(b));

const rgb = (img: Canvas, x: number, y: number): number[] => {
  const o = 4 * (y * img.width + x);
  return [img.data[o], img.data[o + 1], img.data[o + 2]];
};

/** Columns of `img` holding at least one text-coloured pixel. */
const inkColumns = (img: Canvas): number[] => {
  const cols: number[] = [];
  for (let x = 0; x < img.width; x++) {
    for (let y = 0; y < img.height; y++) {
      if (rgb(img, x, y).every((v, i) => v === TEXT_COLOR[i])) {
        cols.push(x);
        break;
      }
    }
  }
  return cols;
};

test('canvas: white, clipped writes, blending rounds c·(1 - a) + rgb·a', () => {
  const img = new Canvas(4, 3);
  assert.equal(img.data.length, 4 * 3 * 4);
  assert.ok(img.data.every((v) => v === 255));
  img.set(-1, 0, [0, 0, 0]);
  img.set(4, 0, [0, 0, 0]);
  img.set(0, 3, [0, 0, 0]);
  img.blend(0, -1, [0, 0, 0], 1);
  assert.ok(img.data.every((v) => v === 255));
  img.set(1, 2, [10, 20, 30]);
  assert.deepEqual(rgb(img, 1, 2), [10, 20, 30]);
  img.blend(2, 1, [0, 100, 255], 0.35); // 255·0.65 = 165.75, 255·0.65 + 35 = 200.75, 255
  assert.deepEqual(rgb(img, 2, 1), [166, 201, 255]);
  img.blend(2, 1, [0, 100, 255], 0.35); // 166·0.65 = 107.9, 201·0.65 + 35 = 165.65
  assert.deepEqual(rgb(img, 2, 1), [108, 166, 255]);
  const png = readPng(img.toPng());
  assert.equal(png.width, 4);
  assert.equal(png.height, 3);
  assert.deepEqual([...png.data.subarray(4 * (1 * 4 + 2), 4 * (1 * 4 + 2) + 4)], [108, 166, 255, 255]);
  assert.deepEqual([...png.data.subarray(4 * (2 * 4 + 1), 4 * (2 * 4 + 1) + 4)], [10, 20, 30, 255]);
});

test('text width and cutting', () => {
  assert.equal(textWidth('', 2), 0);
  assert.equal(textWidth('a', 1), 5);
  assert.equal(textWidth('abc', 2), 34);
  assert.equal(textWidth('ü€', 1), 11); // counted by code point
  assert.equal(fitText('hello', 5), 'hello');
  assert.equal(fitText('hello!', 5), 'hel..');
  assert.equal(fitText('hello', 1), '..');
  assert.equal(fitText('€€€€', 3), '€..');
});

test('drawText: glyph bits, scale, box for missing characters, clip range', () => {
  // '1' = 040c040404040e: top row has only the middle column set, bottom row columns 1..3
  const one = new Canvas(12, 16);
  drawText(one, '1', 1, 1, 2);
  assert.deepEqual(rgb(one, 1 + 4, 1), [...TEXT_COLOR]);
  assert.deepEqual(rgb(one, 1 + 5, 1 + 1), [...TEXT_COLOR]);
  assert.deepEqual(rgb(one, 1, 1), [255, 255, 255]);
  assert.deepEqual(inkColumns(one), [3, 4, 5, 6, 7, 8]);
  let ink = 0;
  for (let i = 0; i < one.data.length; i += 4) if (one.data[i] === TEXT_COLOR[0]) ink++;
  const bits = FONT['1'].match(/../g)!.reduce((s, h) => s + [...parseInt(h, 16).toString(2)].filter((b) => b === '1').length, 0);
  assert.equal(ink, bits * 4);

  // a character outside the font is the box: its full outline
  const box = new Canvas(7, 9);
  drawText(box, '\u2603', 1, 1, 1);
  assert.equal(BOX, '1f11111111111f');
  for (let c = 0; c < 5; c++) {
    assert.deepEqual(rgb(box, 1 + c, 1), [...TEXT_COLOR]);
    assert.deepEqual(rgb(box, 1 + c, 7), [...TEXT_COLOR]);
  }
  assert.deepEqual(rgb(box, 3, 4), [255, 255, 255]);

  // clipping keeps only columns in [clipLo, clipHi); unclipped draws all of them
  const full = new Canvas(20, 9);
  drawText(full, '##', 1, 1, 1);
  assert.deepEqual(inkColumns(full), [1, 2, 3, 4, 5, 7, 8, 9, 10, 11]);
  const clipped = new Canvas(20, 9);
  drawText(clipped, '##', 1, 1, 1, 3, 9);
  assert.deepEqual(inkColumns(clipped), [3, 4, 5, 7, 8]);
});
