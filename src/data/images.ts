/**
 * Image data for training and evaluating image GANs: a folder of PNG and JPEG files decoded to
 * float32 NCHW tensors (whole, or a batch at a time), and `shapes28`, a built-in synthetic
 * dataset (28x28 grayscale anti-aliased shapes of four classes) so image training works with no
 * download.
 *
 * Pixels map linearly from 0..255 to a value range, [-1, 1] by default (the range of a tanh
 * generator): v = lo + (hi - lo) * p / 255.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { PNG } from 'pngjs';
import { RefineryError, describe, fail } from '../errors.js';
import { decodeJpeg, isJpeg } from '../io/jpeg.js';
import { checkEarlierOutputs } from '../io/paths.js';
import type { Rng } from '../rng.js';
import { mnistDataset } from './mnist.js';

/** A source of images of one shape [c, h, w], values in `range`. */
export interface ImageDataset {
  /** 'shapes28', or the folder an image folder was read from. */
  name: string;
  /** [channels, height, width]. */
  shape: [number, number, number];
  range: [number, number];
  /** Number of stored images (undefined for procedural datasets, which are infinite). */
  count?: number;
  /** Known classes ("modes") of the data, when there are any. */
  classes?: string[];
  /** n images, [n, c, h, w] row-major; drawn with `rng` (with replacement for stored images). */
  sample(n: number, rng: Rng): Float32Array;
  /** As `sample`, with the class index of each image (-1 where unknown). */
  sampleLabeled(n: number, rng: Rng): { data: Float32Array; labels: Int32Array };
}

/** Options of `readImageFolder`; all optional. */
export interface ReadImagesOptions {
  /** Value range black..white maps to (default [-1, 1]; [0, 1] for probabilities). */
  range?: [number, number];
  /**
   * true: one channel (luma 0.299 R + 0.587 G + 0.114 B); false: three channels (grey replicated);
   * undefined (default): one channel when every pixel of every image has R = G = B, else three.
   */
  grayscale?: boolean;
  /** CLI option the folder came from, for error paths (default 'realDir'). */
  option?: string;
  /** Called as images are decoded (readImageFolder), with the images done and their number. */
  onProgress?: (done: number, total: number) => void;
}

/** A folder of PNGs and JPEGs read into memory. */
export interface ImageFolder {
  /** [n, c, h, w] row-major. */
  data: Float32Array;
  /** Shape [n, c, h, w]: number of images, channels (1 or 3), height, width. */
  shape: [number, number, number, number];
  /** Value range [lo, hi] that pixel values 0..255 were mapped to linearly. */
  range: [number, number];
  /** Paths of the images relative to the folder, in the order of `data` (sorted). */
  files: string[];
  /** Class index of each image: the index of its first-level subfolder in `classes`, or -1 for top-level files. */
  labels: Int32Array;
  /** Sorted names of the first-level subfolders holding images (ImageFolder layout), or [] when none. */
  classes: string[];
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function checkRange(range: [number, number], path: string): void {
  if (!Array.isArray(range) || range.length !== 2 || !Number.isFinite(range[0]) || !Number.isFinite(range[1]) || !(range[1] > range[0])) {
    fail('invalid_argument', path, 'a value range [lo, hi] with lo < hi, finite', describe(range));
  }
}

/** All regular files under `dir` (hidden entries skipped), as paths relative to `dir`, sorted by code unit. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      if (name.startsWith('.')) continue;
      const full = join(d, name);
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else if (st.isFile()) out.push(relative(dir, full));
    }
  };
  walk(dir);
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** One decoded image: its RGB bytes (alpha composited onto black) and whether every pixel is grey. */
interface DecodedImage {
  rgb: Uint8Array;
  width: number;
  height: number;
  grey: boolean;
}

/** Decode the PNG or JPEG file `full` (told apart by its first bytes); errors name the file, and `opt` for a file of another kind. */
async function decodeImageFile(full: string, opt: string): Promise<DecodedImage> {
  const bytes = readFileSync(full);
  let image: { width: number; height: number; data: Uint8Array | Uint8ClampedArray };
  if (isJpeg(bytes)) {
    try {
      image = await decodeJpeg(bytes);
    } catch (e) {
      throw new RefineryError('invalid_file', [
        {
          path: full,
          expected: 'a JPEG image that decodes (greyscale or YCbCr, complete)',
          received: `a JPEG that does not (libjpeg: ${e instanceof Error ? e.message : String(e)})`,
        },
      ]);
    }
  } else if (bytes.length >= 8 && bytes.subarray(0, 8).equals(PNG_SIGNATURE)) {
    try {
      image = PNG.sync.read(bytes);
    } catch (e) {
      throw new RefineryError('invalid_file', [
        { path: full, expected: 'a PNG image that decodes', received: `a corrupt PNG (${e instanceof Error ? e.message : String(e)})` },
      ]);
    }
  } else {
    fail('invalid_file', full, `a PNG or JPEG image (${opt} must hold only PNG and JPEG files)`, `a file that is neither (${bytes.length} bytes)`);
  }
  const { width, height, data } = image;
  const rgb = new Uint8Array(width * height * 3);
  let grey = true;
  for (let i = 0; i < width * height; i++) {
    const a = data[4 * i + 3];
    for (let k = 0; k < 3; k++) rgb[3 * i + k] = a === 255 ? data[4 * i + k] : Math.round((data[4 * i + k] * a) / 255);
    if (rgb[3 * i] !== rgb[3 * i + 1] || rgb[3 * i] !== rgb[3 * i + 2]) grey = false;
  }
  return { rgb, width, height, grey };
}

/** Refuse an image whose size differs from the first one's, naming both files. */
function checkSize(d: DecodedImage, full: string, first: { file: string; width: number; height: number }): void {
  if (d.width !== first.width || d.height !== first.height) {
    fail('shape_mismatch', full, `an image of ${first.width}x${first.height} pixels (width x height, as ${first.file})`, `${d.width}x${d.height}`);
  }
}

/** Write image `d` as c planes (c = 1: its grey value, or its luma 0.299 R + 0.587 G + 0.114 B; c = 3: R, G, B) into out[base...], mapped to `range`. */
function writePlanes(d: DecodedImage, c: number, range: [number, number], out: Float32Array, base: number): void {
  const hw = d.width * d.height;
  const [lo, hi] = range;
  const scale = (hi - lo) / 255;
  for (let p = 0; p < hw; p++) {
    const r = d.rgb[3 * p];
    const g = d.rgb[3 * p + 1];
    const b = d.rgb[3 * p + 2];
    if (c === 1) out[base + p] = lo + scale * (d.grey ? r : 0.299 * r + 0.587 * g + 0.114 * b);
    else {
      out[base + p] = lo + scale * r;
      out[base + hw + p] = lo + scale * g;
      out[base + 2 * hw + p] = lo + scale * b;
    }
  }
}

/** The image files of a folder (sorted), with the ImageFolder layout's labels; errors name `opt`. */
function listImages(dir: string, opt: string): { files: string[]; labels: Int32Array; classes: string[] } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) fail('invalid_argument', opt, 'a folder of PNG or JPEG images', describe(dir));
  const files = listFiles(dir);
  if (files.length === 0) fail('invalid_argument', opt, 'a folder holding at least one PNG or JPEG image', `an empty folder ${dir}`);
  // ImageFolder layout: images inside first-level subfolders are labelled by the subfolder.
  const top = files.map((f) => (f.includes(sep) ? f.slice(0, f.indexOf(sep)) : undefined));
  const classes = [...new Set(top.filter((t): t is string => t !== undefined))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const labels = Int32Array.from(top, (t) => (t === undefined ? -1 : classes.indexOf(t)));
  return { files, labels, classes };
}

/**
 * Read every PNG and JPEG under `dir` (recursively; hidden files skipped; told apart by their
 * first bytes, not their names) into one float32 NCHW tensor. Each pixel p in 0..255 (16-bit PNGs
 * are rescaled to 8 bits, alpha is composited onto black: p * a / 255) becomes lo + (hi - lo) *
 * p / 255. JPEGs decode to the pixels PIL gives (see io/jpeg.ts). All images must have the same
 * width and height; any other file, or a file that does not decode, is an error naming the file.
 */
export async function readImageFolder(dir: string, options: ReadImagesOptions = {}): Promise<ImageFolder> {
  const opt = options.option ?? 'realDir';
  const range = options.range ?? [-1, 1];
  checkRange(range, 'range');
  const { files, labels, classes } = listImages(dir, opt);
  const decoded: DecodedImage[] = [];
  for (const file of files) {
    const full = join(dir, file);
    const d = await decodeImageFile(full, opt);
    if (decoded.length > 0) checkSize(d, full, { file: files[0], ...decoded[0] });
    decoded.push(d);
    if (options.onProgress && (decoded.length % 100 === 0 || decoded.length === files.length)) options.onProgress(decoded.length, files.length);
  }
  const { width, height } = decoded[0];
  const c = (options.grayscale ?? decoded.every((d) => d.grey)) ? 1 : 3;
  const n = decoded.length;
  const data = new Float32Array(n * c * width * height);
  for (let i = 0; i < n; i++) writePlanes(decoded[i], c, range, data, i * c * width * height);
  return { data, shape: [n, c, height, width], range: [range[0], range[1]], files, labels, classes };
}

/** An image folder whose images are decoded when read (`openImageFolder`): a SampleSource with the folder's files and labels. */
export interface ImageFolderSource {
  /** The shape [n, c, h, w]: number of images, channels (as asked), height, width (of the first image). */
  shape: [number, number, number, number];
  /** Value range pixel values 0..255 map to. */
  range: [number, number];
  /** Paths of the images relative to the folder, in the order of the rows (sorted). */
  files: string[];
  /** Class index of each image: the index of its first-level subfolder in `classes`, or -1 for top-level files. */
  labels: Int32Array;
  /** Sorted names of the first-level subfolders holding images (ImageFolder layout), or [] when none. */
  classes: string[];
  /** Images start to start + count - 1, decoded now, as readImageFolder with the same channels gives them (the same bits). */
  read(start: number, count: number): Promise<Float32Array>;
}

/**
 * A folder of PNGs and JPEGs as readImageFolder reads it, decoded a few images at a time when
 * read, so that a set too large to hold as float32 (50,000 images of 256 x 256 x 3: 39 GB) can
 * go through a feature extractor a batch at a time. The channels are given (1: grey or luma; 3:
 * RGB, grey replicated), since deciding them as readImageFolder does would decode every image
 * first. Only the first image is decoded here; an image of another size, or a file that is not
 * an image, fails the read that reaches it, naming the file.
 */
export async function openImageFolder(dir: string, options: Omit<ReadImagesOptions, 'grayscale'> & { channels: 1 | 3 }): Promise<ImageFolderSource> {
  const opt = options.option ?? 'realDir';
  const range = options.range ?? [-1, 1];
  checkRange(range, 'range');
  if (options.channels !== 1 && options.channels !== 3) fail('invalid_argument', 'channels', '1 or 3', describe(options.channels));
  const c = options.channels;
  const { files, labels, classes } = listImages(dir, opt);
  const first = { file: files[0], ...(await decodeImageFile(join(dir, files[0]), opt)) };
  const { width, height } = first;
  const size = c * width * height;
  const read = async (start: number, count: number): Promise<Float32Array> => {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(count) && start >= 0 && count >= 0 && start + count <= files.length)) {
      fail('invalid_argument', 'read', `rows within [0, ${files.length})`, `start ${start}, count ${count}`);
    }
    const out = new Float32Array(count * size);
    for (let i = 0; i < count; i++) {
      const full = join(dir, files[start + i]);
      const d = await decodeImageFile(full, opt);
      checkSize(d, full, first);
      writePlanes(d, c, range, out, i * size);
    }
    return out;
  };
  return { shape: [files.length, c, height, width], range: [range[0], range[1]], files, labels, classes, read };
}

/**
 * 8-bit pixel values (an array of images saved as uint8, e.g. torch-fidelity's input format) as
 * readImageFolder maps a folder's pixels: p in 0..255 becomes lo + (hi - lo) * p / 255.
 */
export function pixelsToRange(pixels: Uint8Array, range: [number, number]): Float32Array {
  checkRange(range, 'range');
  const [lo, hi] = range;
  const scale = (hi - lo) / 255;
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = lo + scale * pixels[i];
  return out;
}

/**
 * One image [c, h, w] (c = 1 grey, c = 3 RGB; values in `range`) as PNG bytes, each value mapped
 * to round(clamp((v - lo) / (hi - lo), 0, 1) * 255) (the grids' mapping: readImageFolder with the
 * same range reads back lo + (hi - lo) * p / 255). A non-finite value is an error naming `path`.
 */
export function encodeImagePng(values: Float32Array, shape: [number, number, number], range: [number, number], path = 'image'): Uint8Array {
  checkRange(range, 'range');
  const [c, h, w] = shape;
  if (c !== 1 && c !== 3) fail('shape_mismatch', path, 'images of 1 (grey) or 3 (RGB) channels', `${c} channels`);
  const [lo, hi] = range;
  const hw = h * w;
  const rgba = Buffer.alloc(hw * 4, 255);
  for (let p = 0; p < hw; p++) {
    for (let k = 0; k < 3; k++) {
      const v = values[(c === 1 ? 0 : k) * hw + p];
      if (!Number.isFinite(v)) fail('invalid_argument', path, 'finite values', `${v} at channel ${c === 1 ? 0 : k}, pixel ${p}`);
      rgba[4 * p + k] = Math.round(Math.min(1, Math.max(0, (v - lo) / (hi - lo))) * 255);
    }
  }
  return PNG.sync.write(Object.assign(new PNG({ width: w, height: h }), { data: rgba }), { colorType: c === 1 ? 0 : 2 });
}

/**
 * Write n images [n, c, h, w] (c = 1 or 3, values in `range`) as PNG files `dir/000000.png`,
 * `000001.png`, ... in sample order (names padded to 6 digits, more for a million images or
 * more, so that sorted names keep the order: readImageFolder reads them back in it). The folder
 * is written whole or not at all: the files go to `dir.tmp-<pid>` beside it, renamed to `dir` at
 * the end (removed on failure). An existing `dir` with files in it is refused unless `overwrite`,
 * which replaces it whole once the new one is written (the old one is renamed aside, then
 * removed); an empty one counts as new. `option` names `dir` in errors (default 'out').
 */
export function writeImageFolder(
  dir: string,
  data: Float32Array,
  shape: readonly number[],
  range: [number, number],
  options: { option?: string; overwrite?: boolean } = {},
): { files: string[] } {
  const option = options.option ?? 'out';
  if (shape.length !== 4 || shape.some((v) => !Number.isSafeInteger(v) || v < 1)) {
    fail('shape_mismatch', option, 'images [n, channels, height, width]', `shape [${shape.join(', ')}]`);
  }
  const [n, c, h, w] = shape;
  if (c !== 1 && c !== 3) fail('shape_mismatch', option, 'images of 1 (grey) or 3 (RGB) channels', `${c} channels`);
  if (data.length !== n * c * h * w) fail('shape_mismatch', option, `${n * c * h * w} values (shape [${shape.join(', ')}])`, `${data.length}`);
  checkRange(range, 'range');
  const target = resolve(dir);
  if (existsSync(target) && !statSync(target).isDirectory()) fail('invalid_argument', option, 'a folder path (not an existing file)', `the file ${dir}`);
  checkEarlierOutputs([{ path: dir, option, kind: 'folder' }], { overwrite: options.overwrite }, false);
  const digits = Math.max(6, String(n - 1).length);
  const files = Array.from({ length: n }, (_, i) => `${String(i).padStart(digits, '0')}.png`);
  const tmp = `${target}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(dirname(target), { recursive: true });
  mkdirSync(tmp);
  try {
    const size = c * h * w;
    for (let i = 0; i < n; i++) {
      writeFileSync(join(tmp, files[i]), encodeImagePng(data.subarray(i * size, (i + 1) * size), [c, h, w], range, `${option} image ${i}`));
    }
    if (existsSync(target)) {
      const old = `${target}.old-${process.pid}`;
      rmSync(old, { recursive: true, force: true });
      renameSync(target, old);
      renameSync(tmp, target);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { files };
}

/** An ImageDataset drawing uniformly, with replacement, from the images of a folder. */
export async function imageFolderDataset(dir: string, options: ReadImagesOptions = {}): Promise<ImageDataset> {
  return folderDataset(await readImageFolder(dir, options), dir);
}

/** An ImageDataset drawing uniformly, with replacement (index rng.int(n) per image), from `f`. */
export function folderDataset(f: ImageFolder, name: string): ImageDataset {
  const [n, c, h, w] = f.shape;
  const size = c * h * w;
  const sampleLabeled = (m: number, rng: Rng) => {
    const data = new Float32Array(m * size);
    const labels = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      const k = rng.int(n);
      data.set(f.data.subarray(k * size, (k + 1) * size), i * size);
      labels[i] = f.labels[k];
    }
    return { data, labels };
  };
  return {
    name,
    shape: [c, h, w],
    range: f.range,
    count: n,
    classes: f.classes.length > 0 ? f.classes : undefined,
    sample: (m, rng) => sampleLabeled(m, rng).data,
    sampleLabeled,
  };
}

// ---------------------------------------------------------------------------------------------
// shapes28

export const SHAPES28_CLASSES = ['circle', 'square', 'triangle', 'cross'] as const;
export const SHAPES28_SIZE = 28;
/** Range of the shape scale s in pixels (circle radius; other shapes are scaled by s alike). */
export const SHAPES28_SCALE: [number, number] = [5, 8.5];
/** Minimum distance in pixels between a shape's bounding box and the image border. */
const MARGIN = 1;

/** Polygons in units of the scale s, centred on the origin, y pointing down (image rows). */
const POLYGONS: Record<'square' | 'triangle' | 'cross', number[][]> = (() => {
  const a = 0.85; // square half side
  const r = 1.3; // triangle circumradius (apex up)
  // Vertices at angles -90, 30 and 150 degrees (exact closed forms: no sin/cos, same bits everywhere).
  const tri = [
    [0, -r],
    [(r * Math.sqrt(3)) / 2, r / 2],
    [(-r * Math.sqrt(3)) / 2, r / 2],
  ];
  const L = 1; // cross arm half length
  const T = 0.3; // cross arm half thickness
  const cross = [
    [-T, -L],
    [T, -L],
    [T, -T],
    [L, -T],
    [L, T],
    [T, T],
    [T, L],
    [-T, L],
    [-T, T],
    [-L, T],
    [-L, -T],
    [-T, -T],
  ];
  return {
    square: [
      [-a, -a],
      [a, -a],
      [a, a],
      [-a, a],
    ],
    triangle: tri,
    cross,
  };
})();

function bounds(cls: number): [number, number, number, number] {
  if (cls === 0) return [-1, 1, -1, 1];
  const poly = POLYGONS[SHAPES28_CLASSES[cls] as 'square' | 'triangle' | 'cross'];
  const xs = poly.map((p) => p[0]);
  const ys = poly.map((p) => p[1]);
  return [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
}

/** Signed distance from (x, y) to a polygon (negative inside): min distance to the edges, sign by crossing number. */
function polygonSd(poly: number[][], x: number, y: number): number {
  let d2 = Infinity;
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [ax, ay] = poly[j];
    const [bx, by] = poly[i];
    const ex = bx - ax;
    const ey = by - ay;
    const t = Math.min(1, Math.max(0, ((x - ax) * ex + (y - ay) * ey) / (ex * ex + ey * ey)));
    const dx = x - ax - t * ex;
    const dy = y - ay - t * ey;
    d2 = Math.min(d2, dx * dx + dy * dy);
    if (ay > y !== by > y && x < ax + ((y - ay) * ex) / ey) inside = !inside;
  }
  return inside ? -Math.sqrt(d2) : Math.sqrt(d2);
}

/** Geometry of one shapes28 image. */
export interface ShapeSpec {
  cls: number;
  /** Centre in pixel coordinates (pixel (i, j) covers [j, j+1] x [i, i+1]). */
  cx: number;
  cy: number;
  /** Scale in pixels. */
  s: number;
}

/**
 * Render one shape into `out` (28*28 values, row-major) with anti-aliasing by signed distance:
 * coverage = clamp(1/2 - sd(pixel centre), 0, 1), a one-pixel ramp across the edge, and
 * value = lo + (hi - lo) * coverage (background lo, shape hi).
 */
export function renderShape(spec: ShapeSpec, out: Float32Array, range: [number, number] = [-1, 1], offset = 0): void {
  const N = SHAPES28_SIZE;
  const [lo, hi] = range;
  const poly = spec.cls === 0 ? undefined : POLYGONS[SHAPES28_CLASSES[spec.cls] as 'square' | 'triangle' | 'cross'];
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      const x = (j + 0.5 - spec.cx) / spec.s;
      const y = (i + 0.5 - spec.cy) / spec.s;
      const sd = spec.s * (poly === undefined ? Math.sqrt(x * x + y * y) - 1 : polygonSd(poly, x, y));
      const cov = Math.min(1, Math.max(0, 0.5 - sd));
      out[offset + i * N + j] = lo + (hi - lo) * cov;
    }
  }
}

/**
 * Draw one shape: class uniform over the 4 classes, scale s ~ U(SHAPES28_SCALE), centre uniform
 * over the positions that keep the shape's bounding box at least 1 pixel inside the image.
 */
export function drawShape(rng: Rng): ShapeSpec {
  const cls = rng.int(SHAPES28_CLASSES.length);
  const s = SHAPES28_SCALE[0] + (SHAPES28_SCALE[1] - SHAPES28_SCALE[0]) * rng.uniform();
  const [x0, x1, y0, y1] = bounds(cls);
  const cx = MARGIN - s * x0 + (SHAPES28_SIZE - 2 * MARGIN - s * (x1 - x0)) * rng.uniform();
  const cy = MARGIN - s * y0 + (SHAPES28_SIZE - 2 * MARGIN - s * (y1 - y0)) * rng.uniform();
  return { cls, cx, cy, s };
}

/**
 * shapes28: procedural 1x28x28 images of a white filled circle, square, triangle or cross on
 * black, each class with probability 1/4, random position and size, anti-aliased. The classes are
 * the dataset's known modes. Values in [-1, 1].
 */
export const shapes28: ImageDataset = {
  name: 'shapes28',
  shape: [1, SHAPES28_SIZE, SHAPES28_SIZE],
  range: [-1, 1],
  classes: [...SHAPES28_CLASSES],
  sample: (n, rng) => sampleShapes(n, rng).data,
  sampleLabeled: (n, rng) => sampleShapes(n, rng),
};

function sampleShapes(n: number, rng: Rng): { data: Float32Array; labels: Int32Array } {
  const size = SHAPES28_SIZE * SHAPES28_SIZE;
  const data = new Float32Array(n * size);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const spec = drawShape(rng);
    labels[i] = spec.cls;
    renderShape(spec, data, [-1, 1], i * size);
  }
  return { data, labels };
}

/** The built-in image datasets: shapes28 (procedural) and mnist (the digits of the `mnist` package, training split). */
export const IMAGE_DATASET_NAMES = ['shapes28', 'mnist'] as const;

/** The built-in image dataset called `name`; RefineryError invalid_argument (path 'dataset') otherwise. */
export function getImageDataset(name: string): ImageDataset {
  if (name === 'shapes28') return shapes28;
  if (name === 'mnist') return mnistDataset();
  return fail('invalid_argument', 'dataset', `one of ${IMAGE_DATASET_NAMES.join(', ')}`, describe(name));
}
