/**
 * PNG plots of precision-recall curves (PRD curves of Sajjadi et al. 2018, classifier-based curves
 * of Simon et al. 2019, or any (recall, precision) pairs): pixels drawn here, PNG encoding by
 * pngjs, with the raster primitives of raster.ts.
 *
 * Layout (see `curvesLayout`): an optional title band, a band with the y-axis name "precision"
 * above the plot area, the size x size plot area for [0, 1] x [0, 1] (x = recall, y = precision)
 * with light grey grid lines every 0.1, a grey frame just outside it, tick labels every 0.2 (every
 * 0.5 below size 160) and the x-axis name "recall" below it, and the legend (a line sample in the
 * curve's colour and its label, one row per curve) to the right. Text uses a 5x7 bitmap font
 * (scaled x2 when size >= 300); labels longer than 24 characters are cut and end in '..'.
 *
 * Coordinate mapping: column x0 + round(recall · (size - 1)), row y0 + round((1 - precision) ·
 * (size - 1)). A curve is a polyline through its points in the given order, `lineWidth` pixels
 * thick, clipped to the plot area; a non-finite point breaks the line. Colours cycle through a
 * 10-colour palette unless given.
 *
 * The output is deterministic: the same input gives the same bytes.
 */
import { describe, fail } from '../errors.js';
import { Canvas, FRAME_COLOR, GRID_COLOR, drawText, fitText, textWidth } from './raster.js';

/** One curve of a PR plot: (recall, precision) points and its legend entry. */
export interface PrCurveSeries {
  /** legend text (cut and ended with '..' beyond 24 characters) */
  label: string;
  /** precision values (y), same length as recall */
  precision: ArrayLike<number>;
  /** recall values (x) */
  recall: ArrayLike<number>;
  /** RGB line colour, three integers in [0, 255] (default: the next colour of a 10-colour palette) */
  color?: [number, number, number];
}

/** Options of `prCurvePng`; all optional. */
export interface PrCurveOptions {
  /** plot-area pixels (default 400) */
  size?: number;
  /** optional title above the plot */
  title?: string;
  /** line thickness in pixels, 1..5 (default 2) */
  lineWidth?: number;
  /** name of the x axis (default 'recall') */
  xLabel?: string;
  /** name of the y axis (default 'precision') */
  yLabel?: string;
}

export interface CurvesLayout {
  width: number;
  height: number;
  /** top-left pixel of the size x size plot area */
  x0: number;
  y0: number;
  size: number;
  fontScale: number;
  /** left edge of the legend and the top row of each legend entry */
  legendX: number;
  legendRows: number[];
}

const MARGIN = 10;
const MAX_LABEL = 24;
const LEGEND_SAMPLE = 24;
export const PALETTE: readonly [number, number, number][] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];

const cut = (label: string): string => fitText(label, MAX_LABEL);

/** Pixel geometry of a figure with the given legend labels. */
export function curvesLayout(labels: string[], options: { size?: number; title?: string } = {}): CurvesLayout {
  const size = options.size ?? 400;
  if (!Number.isSafeInteger(size) || size < 32 || size > 8192) fail('invalid_argument', 'size', 'an integer in [32, 8192]', describe(size));
  const s = size >= 300 ? 2 : 1;
  const glyphH = 7 * s;
  const charW = 6 * s;
  const titleBand = options.title ? glyphH + 8 : 0;
  const nameBand = glyphH + 6;
  const x0 = MARGIN + 3 * charW + 6; // room for "0.5"
  const y0 = MARGIN + titleBand + nameBand;
  const maxChars = labels.reduce((m, l) => Math.max(m, [...cut(l)].length), 0);
  const legendX = x0 + size + 2 * MARGIN;
  const legendWidth = labels.length > 0 ? LEGEND_SAMPLE + 6 + maxChars * charW + MARGIN : 0;
  const width = legendX + legendWidth;
  const rowH = glyphH + 6;
  const legendRows = labels.map((_, i) => y0 + 4 + i * rowH);
  const plotBottom = y0 + size + 6 + glyphH + 6 + glyphH + MARGIN;
  const legendBottom = labels.length > 0 ? legendRows[labels.length - 1] + rowH + MARGIN : 0;
  return { width, height: Math.max(plotBottom, legendBottom), x0, y0, size, fontScale: s, legendX, legendRows };
}

/**
 * Draw PR curves (x = recall, y = precision on [0, 1]²) with a legend; returns PNG bytes (RGB,
 * 8 bits). Errors: RefineryError invalid_argument naming 'curves', 'curves[i].label',
 * 'curves[i].precision' (not the length of recall), 'curves[i].recall', 'curves[i].color',
 * 'size', 'title', 'lineWidth'.
 */
export function prCurvePng(curves: PrCurveSeries[], options: PrCurveOptions = {}): Uint8Array {
  if (!Array.isArray(curves)) fail('invalid_argument', 'curves', 'an array of curves', describe(curves));
  for (const key of ['title', 'xLabel', 'yLabel'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'string') fail('invalid_argument', key, 'a string', describe(options[key]));
  }
  const xLabel = cut(options.xLabel ?? 'recall');
  const yLabel = cut(options.yLabel ?? 'precision');
  const lineWidth = options.lineWidth ?? 2;
  if (!Number.isSafeInteger(lineWidth) || lineWidth < 1 || lineWidth > 5) fail('invalid_argument', 'lineWidth', 'an integer in [1, 5]', describe(lineWidth));
  curves.forEach((c, i) => {
    if (typeof c?.label !== 'string') fail('invalid_argument', `curves[${i}].label`, 'a string', describe(c?.label));
    const isArr = (a: unknown): boolean => Array.isArray(a) || (ArrayBuffer.isView(a) && !(a instanceof DataView));
    if (!isArr(c.recall)) fail('invalid_argument', `curves[${i}].recall`, 'an array of numbers', describe(c.recall));
    if (!isArr(c.precision) || c.precision.length !== c.recall.length) {
      fail('invalid_argument', `curves[${i}].precision`, `an array of ${c.recall.length} numbers (as recall)`, describe(c.precision));
    }
    if (c.color !== undefined) {
      const ok = Array.isArray(c.color) && c.color.length === 3 && c.color.every((v) => Number.isInteger(v) && v >= 0 && v <= 255);
      if (!ok) fail('invalid_argument', `curves[${i}].color`, 'three integers in [0, 255]', describe(c.color));
    }
  });
  const layout = curvesLayout(
    curves.map((c) => c.label),
    options,
  );
  const { width, height, x0, y0, size, fontScale: s } = layout;
  const img = new Canvas(width, height);
  const last = size - 1;
  const col = (r: number): number => x0 + Math.round(r * last);
  const row = (p: number): number => y0 + Math.round((1 - p) * last);

  // grid every 0.1, frame outside the plot area
  for (let g = 0; g <= 10; g++) {
    const c = col(g / 10);
    const r = row(g / 10);
    for (let t = 0; t < size; t++) {
      img.set(c, y0 + t, GRID_COLOR);
      img.set(x0 + t, r, GRID_COLOR);
    }
  }
  for (let t = -1; t <= size; t++) {
    img.set(x0 + t, y0 - 1, FRAME_COLOR);
    img.set(x0 + t, y0 + size, FRAME_COLOR);
    img.set(x0 - 1, y0 + t, FRAME_COLOR);
    img.set(x0 + size, y0 + t, FRAME_COLOR);
  }
  // tick marks and labels
  const step = size >= 160 ? 2 : 5;
  for (let g = 0; g <= 10; g += step) {
    const text = g === 0 ? '0' : g === 10 ? '1' : `0.${g}`;
    const tw = textWidth(text, s);
    const c = col(g / 10);
    const r = row(g / 10);
    for (let t = 1; t <= 4; t++) {
      img.set(c, y0 + size + t, FRAME_COLOR);
      img.set(x0 - 1 - t, r, FRAME_COLOR);
    }
    drawText(img, text, c - Math.floor(tw / 2), y0 + size + 6, s);
    drawText(img, text, x0 - 6 - tw, r - Math.floor((7 * s) / 2), s);
  }
  // axis names and title
  drawText(img, xLabel, x0 + Math.floor((size - textWidth(xLabel, s)) / 2), y0 + size + 6 + 7 * s + 6, s);
  drawText(img, yLabel, x0, y0 - 7 * s - 5, s);
  if (options.title) {
    const t = cut(options.title);
    drawText(img, t, x0 + Math.floor((size - textWidth(t, s)) / 2), MARGIN, s);
  }

  // curves, clipped to the plot area
  const half = Math.floor((lineWidth - 1) / 2);
  curves.forEach((c, i) => {
    const color = c.color ?? PALETTE[i % PALETTE.length];
    const stamp = (x: number, y: number): void => {
      for (let a = 0; a < lineWidth; a++) {
        for (let b = 0; b < lineWidth; b++) {
          const px = x - half + b;
          const py = y - half + a;
          if (px >= x0 && px < x0 + size && py >= y0 && py < y0 + size) img.set(px, py, color);
        }
      }
    };
    let prev: [number, number] | undefined;
    for (let j = 0; j < c.recall.length; j++) {
      const r = Number(c.recall[j]);
      const p = Number(c.precision[j]);
      if (!Number.isFinite(r) || !Number.isFinite(p)) {
        prev = undefined;
        continue;
      }
      // pixel coordinates (unrounded), clamped far outside so huge values stay cheap
      const u = x0 + Math.max(-1, Math.min(2, r)) * last;
      const v = y0 + (1 - Math.max(-1, Math.min(2, p))) * last;
      if (prev === undefined) {
        stamp(Math.round(u), Math.round(v));
      } else {
        const [pu, pv] = prev;
        const n = Math.ceil(Math.max(Math.abs(u - pu), Math.abs(v - pv)));
        for (let t = 1; t <= n; t++) stamp(Math.round(pu + ((u - pu) * t) / n), Math.round(pv + ((v - pv) * t) / n));
      }
      prev = [u, v];
    }
    // legend entry
    const top = layout.legendRows[i];
    const mid = top + Math.floor((7 * s) / 2);
    for (let t = 0; t < LEGEND_SAMPLE; t++) {
      for (let a = 0; a < lineWidth; a++) img.set(layout.legendX + t, mid - half + a, color);
    }
    drawText(img, cut(c.label), layout.legendX + LEGEND_SAMPLE + 6, top, s);
  });

  return img.toPng();
}
