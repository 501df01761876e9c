/**
 * Image grids: a batch of NCHW images (1 or 3 channels) tiled into one PNG.
 * Values map linearly from `range` (e.g. [-1, 1] for tanh generators) to 0..255, clipped;
 * non-finite values are drawn magenta so they are seen, not hidden.
 */
import { fail } from '../errors.js';
import { Canvas, drawText, fitText, rgbaToPng } from './raster.js';

/** Options of `imageGridPng`; all optional. */
export interface GridOptions {
  /** Value range mapped to black..white (default [-1, 1]). */
  range?: [number, number];
  /** Images per row (default ceil(sqrt(n))). */
  columns?: number;
  /** Pixels between images (default 2). */
  padding?: number;
  /** Integer upscaling of each pixel (default 1, or 2 for images under 48 px). */
  scale?: number;
}

/** Tile `n` images of shape [c, h, w] (c = 1 or 3) from `data` ([n, c, h, w] row-major) into a PNG. */
export function imageGridPng(data: Float32Array, shape: readonly number[], options: GridOptions = {}): Uint8Array {
  const g = imageGridPixels(data, shape, options);
  return rgbaToPng(g.width, g.height, g.data);
}

/** The pixels of `imageGridPng`: RGBA, row-major. */
function imageGridPixels(data: Float32Array, shape: readonly number[], options: GridOptions): { width: number; height: number; data: Uint8Array } {
  if (shape.length !== 4 || !(shape[1] === 1 || shape[1] === 3))
    fail('invalid_argument', 'images', 'shape [n, 1 or 3, height, width] (NCHW)', `[${shape.join(', ')}]`);
  const [n, c, h, w] = shape;
  if (data.length !== n * c * h * w) fail('invalid_argument', 'images', `${n * c * h * w} values for shape [${shape.join(', ')}]`, `${data.length}`);
  const [lo, hi] = options.range ?? [-1, 1];
  if (!(hi > lo)) fail('invalid_argument', 'range', 'lo < hi', `[${lo}, ${hi}]`);
  const cols = options.columns ?? Math.max(1, Math.ceil(Math.sqrt(n)));
  const rows = Math.max(1, Math.ceil(n / cols));
  const pad = options.padding ?? 2;
  const s = options.scale ?? (Math.max(h, w) < 48 ? 2 : 1);
  const W = cols * (w * s + pad) + pad;
  const H = rows * (h * s + pad) + pad;
  const png = { data: new Uint8Array(W * H * 4).fill(255) };
  const level = (v: number) => Math.round(Math.min(1, Math.max(0, (v - lo) / (hi - lo))) * 255);
  for (let i = 0; i < n; i++) {
    const x0 = pad + (i % cols) * (w * s + pad);
    const y0 = pad + Math.floor(i / cols) * (h * s + pad);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const px = [0, 1, 2].map((k) => data[((i * c + (c === 1 ? 0 : k)) * h + y) * w + x]);
        const rgb = px.every(Number.isFinite) ? px.map(level) : [255, 0, 255];
        for (let dy = 0; dy < s; dy++) {
          for (let dx = 0; dx < s; dx++) {
            const o = ((y0 + y * s + dy) * W + x0 + x * s + dx) * 4;
            png.data[o] = rgb[0];
            png.data[o + 1] = rgb[1];
            png.data[o + 2] = rgb[2];
            png.data[o + 3] = 255;
          }
        }
      }
    }
  }
  return { width: W, height: H, data: png.data };
}

/** One titled image grid of `imagePanelsPng`. */
export interface ImagePanel {
  /** First line above the grid (e.g. the method). */
  title: string;
  /** Second line (e.g. its metrics). */
  subtitle?: string;
  /** [n, c, h, w] row-major. */
  data: Float32Array;
  /** Shape of `data`: [n, c, h, w], c = 1 or 3. */
  shape: readonly number[];
}

/**
 * Image grids side by side, each under its title and subtitle (e.g. the generator's samples and a
 * method's, with their FID and IS), in one PNG. Options as `imageGridPng` (the same for every panel).
 */
export function imagePanelsPng(panels: ImagePanel[], options: GridOptions = {}): Uint8Array {
  if (panels.length === 0) fail('invalid_argument', 'panels', 'at least one panel', 'none');
  const grids = panels.map((p) => imageGridPixels(p.data, p.shape, options));
  const textScale = 2;
  const line = 7 * textScale + 6;
  const header = 8 + line * (panels.some((p) => p.subtitle) ? 2 : 1);
  const gap = 16;
  const width = grids.reduce((a, g) => a + g.width, 0) + gap * (grids.length + 1);
  const height = header + Math.max(...grids.map((g) => g.height)) + gap;
  const canvas = new Canvas(width, height);
  let x0 = gap;
  grids.forEach((g, k) => {
    const maxChars = Math.floor((g.width + gap) / (6 * textScale));
    drawText(canvas, fitText(panels[k].title, maxChars), x0, 6, textScale);
    if (panels[k].subtitle) drawText(canvas, fitText(panels[k].subtitle!, maxChars), x0, 6 + line, textScale);
    for (let y = 0; y < g.height; y++) {
      for (let x = 0; x < g.width; x++) {
        const o = 4 * (y * g.width + x);
        canvas.set(x0 + x, header + y, [g.data[o], g.data[o + 1], g.data[o + 2]]);
      }
    }
    x0 += g.width + gap;
  });
  return canvas.toPng();
}
