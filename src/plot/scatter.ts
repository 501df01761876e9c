/**
 * PNG scatter plots of 2-D samples (pixels drawn here, PNG encoding by pngjs).
 *
 * Layout: panels in a grid of `columns` columns (default: all in one row). Each panel occupies a
 * cell of (size + 2·MARGIN) x (MARGIN + titleHeight + size + MARGIN) pixels: the title centred in a
 * band at the top (cut, ending in '..', if wider than the plot area), then the size x size plot
 * area. White background, light grey grid lines at integer coordinates, a thin grey frame just
 * outside the plot area, points as semi-transparent 2x2 dots (alpha blending, so density shows),
 * optional red crosses at `markers`. Titles use a built-in 5x7 bitmap font (scaled x2 when
 * size >= 300); characters it lacks are drawn as a box.
 *
 * Coordinate mapping (see `scatterLayout`): u = (x - xmin) / (xmax - xmin) · size and
 * v = (ymax - y) / (ymax - ymin) · size (y up); a point's dot covers the columns floor(u - 0.5) and
 * floor(u - 0.5) + 1 and the rows floor(v - 0.5) and floor(v - 0.5) + 1 of the plot area (clipped).
 * Points outside the bounds or with a non-finite coordinate are skipped.
 *
 * The output is deterministic: the same input gives the same bytes.
 */
import { PNG } from 'pngjs';
import { describe, fail } from '../errors.js';

export interface ScatterPanel {
  title: string;
  /** n x 2, row-major */
  points: Float32Array | Float64Array;
  color?: [number, number, number];
}

export interface ScatterOptions {
  /** xmin, xmax, ymin, ymax */
  bounds: [number, number, number, number];
  /** per-panel plot-area pixels (default 400) */
  size?: number;
  /** k x 2, e.g. mode centres, drawn as small red crosses */
  markers?: Float64Array;
  /** panels per row (default: all in one row) */
  columns?: number;
  /** opacity of each dot, in (0, 1] (default 0.35) */
  alpha?: number;
}

export interface ScatterLayout {
  width: number;
  height: number;
  cellWidth: number;
  cellHeight: number;
  /** font scale of the titles (glyphs are 5·scale x 7·scale pixels) */
  fontScale: number;
  /** height of the title band above each plot area (7·fontScale + 8) */
  titleHeight: number;
  /** top-left pixel of each panel's plot area (size x size) */
  plots: { x0: number; y0: number }[];
  size: number;
}

export const MARGIN = 10;
const DEFAULT_COLOR: [number, number, number] = [31, 84, 180];
const GRID_COLOR = [232, 232, 232];
const FRAME_COLOR = [150, 150, 150];
const MARKER_COLOR = [220, 30, 30];
const TEXT_COLOR = [20, 20, 20];

/** Pixel geometry of a figure with `numPanels` panels. */
export function scatterLayout(numPanels: number, options: { size?: number; columns?: number }): ScatterLayout {
  const size = options.size ?? 400;
  if (!Number.isSafeInteger(size) || size < 8 || size > 8192) {
    fail('invalid_argument', 'size', 'an integer in [8, 8192]', describe(size));
  }
  if (!Number.isSafeInteger(numPanels) || numPanels < 1) {
    fail('invalid_argument', 'panels', 'at least one panel', describe(numPanels));
  }
  const columns = Math.min(options.columns ?? numPanels, numPanels);
  if (!Number.isSafeInteger(columns) || columns < 1) {
    fail('invalid_argument', 'columns', 'a positive integer', describe(options.columns));
  }
  const rows = Math.ceil(numPanels / columns);
  const fontScale = size >= 300 ? 2 : 1;
  const titleHeight = 7 * fontScale + 8;
  const cellWidth = size + 2 * MARGIN;
  const cellHeight = MARGIN + titleHeight + size + MARGIN;
  const plots: { x0: number; y0: number }[] = [];
  for (let p = 0; p < numPanels; p++) {
    const col = p % columns;
    const row = Math.floor(p / columns);
    plots.push({ x0: col * cellWidth + MARGIN, y0: row * cellHeight + MARGIN + titleHeight });
  }
  return { width: columns * cellWidth, height: rows * cellHeight, cellWidth, cellHeight, fontScale, titleHeight, plots, size };
}

/** Render the panels as one PNG image (RGB, 8 bits). */
export function scatterPng(panels: ScatterPanel[], options: ScatterOptions): Buffer {
  if (!Array.isArray(panels)) fail('invalid_argument', 'panels', 'an array of panels', describe(panels));
  const [xmin, xmax, ymin, ymax] = checkBounds(options.bounds);
  const layout = scatterLayout(panels.length, options);
  const alpha = options.alpha ?? 0.35;
  if (typeof alpha !== 'number' || !(alpha > 0 && alpha <= 1)) {
    fail('invalid_argument', 'alpha', 'a number in (0, 1]', describe(alpha));
  }
  const markers = options.markers;
  if (markers !== undefined && (!(markers instanceof Float64Array) || markers.length % 2 !== 0)) {
    fail('invalid_argument', 'markers', 'a Float64Array of k x 2 coordinates', describe(markers));
  }
  panels.forEach((p, i) => {
    if (typeof p?.title !== 'string') fail('invalid_argument', `panels[${i}].title`, 'a string', describe(p?.title));
    if (!(p.points instanceof Float32Array || p.points instanceof Float64Array) || p.points.length % 2 !== 0) {
      fail('invalid_argument', `panels[${i}].points`, 'a Float32Array or Float64Array of n x 2 coordinates', describe(p.points));
    }
    if (p.color !== undefined) {
      const ok = Array.isArray(p.color) && p.color.length === 3 && p.color.every((c) => Number.isInteger(c) && c >= 0 && c <= 255);
      if (!ok) fail('invalid_argument', `panels[${i}].color`, 'three integers in [0, 255]', describe(p.color));
    }
  });

  const { width, height, size, fontScale } = layout;
  const img = new Canvas(width, height);
  const sx = size / (xmax - xmin);
  const sy = size / (ymax - ymin);

  panels.forEach((panel, p) => {
    const { x0, y0 } = layout.plots[p];
    // grid lines at integer coordinates
    for (let gx = Math.ceil(xmin); gx <= Math.floor(xmax); gx++) {
      const c = Math.min(size - 1, Math.floor((gx - xmin) * sx));
      for (let r = 0; r < size; r++) img.set(x0 + c, y0 + r, GRID_COLOR);
    }
    for (let gy = Math.ceil(ymin); gy <= Math.floor(ymax); gy++) {
      const r = Math.min(size - 1, Math.floor((ymax - gy) * sy));
      for (let c = 0; c < size; c++) img.set(x0 + c, y0 + r, GRID_COLOR);
    }
    // frame just outside the plot area
    for (let c = -1; c <= size; c++) {
      img.set(x0 + c, y0 - 1, FRAME_COLOR);
      img.set(x0 + c, y0 + size, FRAME_COLOR);
    }
    for (let r = -1; r <= size; r++) {
      img.set(x0 - 1, y0 + r, FRAME_COLOR);
      img.set(x0 + size, y0 + r, FRAME_COLOR);
    }
    // points
    const color = panel.color ?? DEFAULT_COLOR;
    const pts = panel.points;
    for (let i = 0; i + 1 < pts.length; i += 2) {
      const x = pts[i];
      const y = pts[i + 1];
      if (!(x >= xmin && x <= xmax && y >= ymin && y <= ymax)) continue; // also skips NaN
      const c0 = Math.floor((x - xmin) * sx - 0.5);
      const r0 = Math.floor((ymax - y) * sy - 0.5);
      for (let dr = 0; dr < 2; dr++) {
        const r = r0 + dr;
        if (r < 0 || r >= size) continue;
        for (let dc = 0; dc < 2; dc++) {
          const c = c0 + dc;
          if (c < 0 || c >= size) continue;
          img.blend(x0 + c, y0 + r, color, alpha);
        }
      }
    }
    // markers: small red diagonal crosses
    if (markers !== undefined) {
      const arm = 2 + fontScale;
      for (let j = 0; j + 1 < markers.length; j += 2) {
        const x = markers[j];
        const y = markers[j + 1];
        if (!(x >= xmin && x <= xmax && y >= ymin && y <= ymax)) continue;
        const cc = Math.min(size - 1, Math.floor((x - xmin) * sx));
        const rc = Math.min(size - 1, Math.floor((ymax - y) * sy));
        for (let d = -arm; d <= arm; d++) {
          for (const [c, r] of [
            [cc + d, rc + d],
            [cc + d, rc - d],
          ]) {
            if (c >= 0 && c < size && r >= 0 && r < size) img.set(x0 + c, y0 + r, MARKER_COLOR);
          }
        }
      }
    }
    // title, centred above the plot area, clipped to its cell
    const cellX = x0 - MARGIN;
    // whole glyphs only: a title wider than the plot area is cut and ends with '..'
    const fit = Math.floor((size + fontScale) / (6 * fontScale));
    const chars = [...panel.title];
    const title = chars.length <= fit ? chars.join('') : chars.slice(0, Math.max(0, fit - 2)).join('') + '..';
    const textWidth = [...title].length * 6 * fontScale - fontScale;
    const tx = x0 + Math.floor((size - textWidth) / 2);
    const ty = y0 - layout.titleHeight + 4; // 4 px of padding above and below the text
    drawText(img, title, tx, ty, fontScale, cellX, cellX + layout.cellWidth);
  });

  const png = new PNG({ width, height });
  png.data = img.data;
  return PNG.sync.write(png, { colorType: 2, deflateLevel: 9, deflateStrategy: 3 });
}

function checkBounds(bounds: unknown): [number, number, number, number] {
  const ok =
    Array.isArray(bounds) &&
    bounds.length === 4 &&
    bounds.every((b) => typeof b === 'number' && Number.isFinite(b)) &&
    bounds[0] < bounds[1] &&
    bounds[2] < bounds[3];
  if (!ok) fail('invalid_argument', 'bounds', '[xmin, xmax, ymin, ymax] finite with xmin < xmax and ymin < ymax', describe(bounds));
  return bounds as [number, number, number, number];
}

/** RGBA pixel buffer (alpha always 255) with clipping. */
class Canvas {
  readonly data: Buffer;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = Buffer.alloc(width * height * 4, 255);
  }

  set(x: number, y: number, rgb: readonly number[]): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = 4 * (y * this.width + x);
    this.data[o] = rgb[0];
    this.data[o + 1] = rgb[1];
    this.data[o + 2] = rgb[2];
  }

  blend(x: number, y: number, rgb: readonly number[], a: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = 4 * (y * this.width + x);
    for (let ch = 0; ch < 3; ch++) this.data[o + ch] = Math.round(this.data[o + ch] * (1 - a) + rgb[ch] * a);
  }
}

// ---- 5x7 bitmap font: 7 rows of 5 bits (bit 4 = leftmost column), as 14 hex digits ----

const FONT: Record<string, string> = {
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
const BOX = '1f11111111111f';

function drawText(img: Canvas, text: string, x: number, y: number, scale: number, clipLo: number, clipHi: number): void {
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
