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
import { describe, fail } from '../errors.js';
import { Canvas, FRAME_COLOR, GRID_COLOR, drawText, fitText, textWidth } from './raster.js';

/** One panel of a scatter figure: a title and a set of 2-D points. */
export interface ScatterPanel {
  /** text above the panel, cut and ended with '..' if wider than the plot area */
  title: string;
  /** n x 2, row-major */
  points: Float32Array | Float64Array;
  /** RGB dot colour, three integers in [0, 255] (default [31, 84, 180], a blue) */
  color?: [number, number, number];
}

/** Options of `scatterPng`; `bounds` is required. */
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
const MARKER_COLOR = [220, 30, 30];

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
export function scatterPng(panels: ScatterPanel[], options: ScatterOptions): Uint8Array {
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
    const title = fitText(panel.title, fit);
    const tx = x0 + Math.floor((size - textWidth(title, fontScale)) / 2);
    const ty = y0 - layout.titleHeight + 4; // 4 px of padding above and below the text
    drawText(img, title, tx, ty, fontScale, cellX, cellX + layout.cellWidth);
  });

  return img.toPng();
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
