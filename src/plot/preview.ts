/** A picture of refined samples: a scatter plot for 2-D samples, an image grid for NCHW images. */
import { getDataset } from '../data/dataset.js';
import { fail } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { ModelMeta } from '../models/meta.js';
import { imageGridPng } from './grid.js';
import { scatterPng } from './scatter.js';

/** Images shown in a grid. */
export const GRID_IMAGES = 64;

/** Collects what the picture needs from streamed chunks: every 2-D point, or the first images. */
export class Preview {
  private parts: Float32Array[] = [];
  private rows = 0;
  readonly kind: '2d' | 'images';

  constructor(private readonly meta: ModelMeta) {
    const s = meta.dataShape;
    if (s.length === 1 && s[0] === 2) this.kind = '2d';
    else if (s.length === 3 && (s[0] === 1 || s[0] === 3)) this.kind = 'images';
    else fail('invalid_argument', 'png', 'samples of shape [n, 2] or images [n, 1 or 3, h, w]', `[n, ${s.join(', ')}]`);
  }

  add(samples: Float32Array, rows: number): void {
    if (this.kind === 'images') {
      if (this.rows >= GRID_IMAGES) return;
      const take = Math.min(rows, GRID_IMAGES - this.rows);
      const size = samples.length / rows;
      this.parts.push(samples.slice(0, take * size));
      this.rows += take;
    } else {
      this.parts.push(samples.slice());
      this.rows += rows;
    }
  }

  write(png: string, title: string): void {
    const all = new Float32Array(this.parts.reduce((a, p) => a + p.length, 0));
    let off = 0;
    for (const p of this.parts) {
      all.set(p, off);
      off += p.length;
    }
    if (this.kind === '2d') {
      const ds = this.meta.dataset ? getDataset(this.meta.dataset) : undefined;
      writeFileAtomic(png, scatterPng([{ title, points: all }], { bounds: ds?.bounds ?? [-3, 3, -3, 3], markers: ds?.modes }));
    } else {
      writeFileAtomic(png, imageGridPng(all, [this.rows, ...this.meta.dataShape], { range: this.meta.outputRange ?? [-1, 1] }));
    }
  }
}
