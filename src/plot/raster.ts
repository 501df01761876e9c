/**
 * Raster primitives shared by the PNG plots (scatter.ts, curves.ts): an RGB pixel canvas with
 * clipping and alpha blending, a built-in 5x7 bitmap font, and the common colours.
 *
 * Text: each glyph is 5 x 7 cells drawn as scale x scale pixel blocks, with one empty column
 * between glyphs, so a string of n characters is 6·n·scale - scale pixels wide (0 when empty) and
 * 7·scale pixels high. Characters the font lacks are drawn as a box.
 *
 * Everything here is deterministic: the same drawing calls give the same bytes.
 */
import { encode } from 'fast-png';

export const GRID_COLOR: readonly number[] = [232, 232, 232];
export const FRAME_COLOR: readonly number[] = [150, 150, 150];
export const TEXT_COLOR: readonly number[] = [20, 20, 20];

/** RGBA pixel buffer (white, alpha always 255); writes outside the canvas are ignored. */
export class Canvas {
  readonly data: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8Array(width * height * 4).fill(255);
  }

  /** Set pixel (x, y) to `rgb`. */
  set(x: number, y: number, rgb: readonly number[]): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = 4 * (y * this.width + x);
    this.data[o] = rgb[0];
    this.data[o + 1] = rgb[1];
    this.data[o + 2] = rgb[2];
  }

  /** Alpha-blend `rgb` over pixel (x, y): c ← round(c·(1 - a) + rgb·a) per channel. */
  blend(x: number, y: number, rgb: readonly number[], a: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = 4 * (y * this.width + x);
    for (let ch = 0; ch < 3; ch++) this.data[o + ch] = Math.round(this.data[o + ch] * (1 - a) + rgb[ch] * a);
  }

  /** Encode as PNG bytes (RGB, 8 bits, the alpha channel dropped). */
  toPng(): Uint8Array {
    return rgbaToPng(this.width, this.height, this.data);
  }
}

/**
 * PNG bytes (RGB, 8 bits; the alpha channel dropped) of an RGBA pixel buffer, by fast-png (which,
 * unlike pngjs, needs no Node.js stream or zlib: the plots render in browsers too).
 */
export function rgbaToPng(width: number, height: number, rgba: ArrayLike<number>): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgb[i] = rgba[j];
    rgb[i + 1] = rgba[j + 1];
    rgb[i + 2] = rgba[j + 2];
  }
  return encode({ width, height, data: rgb, channels: 3, depth: 8 }, { zlib: { level: 9 } });
}

/** Pixel width of `text` at font scale `scale`: 6·n·scale - scale for n > 0 characters, else 0. */
export function textWidth(text: string, scale: number): number {
  const n = [...text].length;
  return n === 0 ? 0 : n * 6 * scale - scale;
}

/** `text` if it has at most `maxChars` characters, else its first max(0, maxChars - 2) followed by '..'. */
export function fitText(text: string, maxChars: number): string {
  const chars = [...text];
  return chars.length <= maxChars ? text : chars.slice(0, Math.max(0, maxChars - 2)).join('') + '..';
}

/**
 * Draw `text` in TEXT_COLOR with its top-left corner at (x, y), glyphs scaled by `scale`. Only
 * columns px with clipLo <= px < clipHi are drawn (default: no clipping beyond the canvas).
 */
export function drawText(img: Canvas, text: string, x: number, y: number, scale: number, clipLo = -Infinity, clipHi = Infinity): void {
  let cx = x;
  for (const ch of text) {
    const glyph = FONT[ch] ?? BOX;
    for (let row = 0; row < 7; row++) {
      const bits = parseInt(glyph.slice(2 * row, 2 * row + 2), 16);
      for (let col = 0; col < 5; col++) {
        if ((bits & (0x10 >> col)) === 0) continue;
        for (let a = 0; a < scale; a++) {
          for (let b = 0; b < scale; b++) {
            const px = cx + col * scale + b;
            if (px >= clipLo && px < clipHi) img.set(px, y + row * scale + a, TEXT_COLOR);
          }
        }
      }
    }
    cx += 6 * scale;
  }
}

// ---- 5x7 bitmap font: 7 rows of 5 bits (bit 4 = leftmost column), as 14 hex digits ----

export const FONT: Readonly<Record<string, string>> = {
  ' ': '00000000000000',
  '0': '0e11131519110e',
  '1': '040c040404040e',
  '2': '0e11010204081f',
  '3': '1f02040201110e',
  '4': '02060a121f0202',
  '5': '1f101e0101110e',
  '6': '0608101e11110e',
  '7': '1f010204080808',
  '8': '0e11110e11110e',
  '9': '0e11110f01020c',
  A: '0e1111111f1111',
  B: '1e11111e11111e',
  C: '0e11101010110e',
  D: '1c12111111121c',
  E: '1f10101e10101f',
  F: '1f10101e101010',
  G: '0e11101711110f',
  H: '1111111f111111',
  I: '0e04040404040e',
  J: '0702020202120c',
  K: '11121418141211',
  L: '1010101010101f',
  M: '111b1515111111',
  N: '11111915131111',
  O: '0e11111111110e',
  P: '1e11111e101010',
  Q: '0e11111115120d',
  R: '1e11111e141211',
  S: '0f10100e01011e',
  T: '1f040404040404',
  U: '1111111111110e',
  V: '11111111110a04',
  W: '1111111515150a',
  X: '11110a040a1111',
  Y: '1111110a040404',
  Z: '1f01020408101f',
  a: '00000e010f110f',
  b: '1010161911111e',
  c: '00000e1010110e',
  d: '01010d1311110f',
  e: '00000e111f100e',
  f: '0609081c080808',
  g: '000f11110f010e',
  h: '10101619111111',
  i: '04000c0404040e',
  j: '0200060202120c',
  k: '10101214181412',
  l: '0c04040404040e',
  m: '00001a15151111',
  n: '00001619111111',
  o: '00000e1111110e',
  p: '00001e111e1010',
  q: '00000d130f0101',
  r: '00001619101010',
  s: '00000e100e011e',
  t: '08081c08080906',
  u: '0000111111130d',
  v: '00001111110a04',
  w: '0000111115150a',
  x: '0000110a040a11',
  y: '000011110f010e',
  z: '00001f0204081f',
  '.': '00000000000c0c',
  ',': '000000000c0408',
  ':': '000c0c000c0c00',
  '%': '18190204081303',
  '(': '02040808080402',
  ')': '08040202020408',
  '-': '0000001f000000',
  '+': '0004041f040400',
  '=': '00001f001f0000',
  '/': '00010204081000',
  _: '0000000000001f',
  '[': '0e08080808080e',
  ']': '0e02020202020e',
  '<': '02040810080402',
  '>': '08040201020408',
  '*': '0004150e150400',
  '!': '04040404040004',
  '?': '0e110102040004',
  "'": '04040800000000',
  '#': '0a0a1f0a1f0a0a',
};
/** Glyph drawn for characters missing from FONT: a 5x7 box outline. */
export const BOX = '1f11111111111f';
