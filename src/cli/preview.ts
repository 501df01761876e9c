/** A picture of a refined .npy: a scatter plot for 2-D samples, an image grid for images. */
import { getDataset } from '../data/dataset.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readNpyFloat32 } from '../io/npy.js';
import type { ModelMeta } from '../models/meta.js';
import { scatterPng } from '../plot/scatter.js';
import { fail } from '../errors.js';

export function writePreview(png: string, npy: string, meta: ModelMeta, title: string): void {
  const t = readNpyFloat32(npy);
  if (meta.dataShape.length === 1 && meta.dataShape[0] === 2) {
    const bounds = meta.dataset ? getDataset(meta.dataset).bounds : ([-3, 3, -3, 3] as [number, number, number, number]);
    writeFileAtomic(png, scatterPng([{ title, points: t.data }], { bounds, markers: meta.dataset ? getDataset(meta.dataset).modes : undefined }));
    return;
  }
  fail('invalid_argument', '--png', 'samples of shape [n, 2] (image grids come with image support)', `[${t.shape.join(', ')}]`);
}
