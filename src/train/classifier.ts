/**
 * An image classifier trained by Refinery, for evaluation in a learned feature space (FID and
 * Inception Score the way the DRE-F-SP paper measured MNIST: in the space of its own MNIST
 * classifier) and as a feature extractor for DRE-F-SP.
 *
 * The network, for [c, h, w] images in [-1, 1] (h and w multiples of 4):
 *   Conv 3x3 (c -> W, pad 1) -> ReLU -> MaxPool 2 -> Conv 3x3 (W -> 2W, pad 1) -> ReLU -> MaxPool 2
 *   -> Flatten -> Gemm (-> F) -> ReLU  = features [batch, F]
 *   -> Gemm (-> K)                      = logits [batch, K]
 * trained with softmax cross-entropy and Adam (learning rate decayed to 0 on a cosine) on the training split, each image shifted by up to
 * `shift` pixels at random (the background value fills in), then measured on the held-out split.
 *
 * Writes into `out`: classifier.onnx (x -> logits), features.onnx (x -> features) and
 * classifier.json (classes, accuracy, options). Randomness: parameters from Rng(seed, 0), batch t
 * from Rng(seed, 1, t).
 */
import { join } from 'node:path';
import { describe, fail, RefineryError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { differentiate, onesLike } from '../onnx/autodiff.js';
import { Graph, int, ints } from '../onnx/graph.js';
import { encodeGraph } from '../onnx/model.js';
import { Session } from '../onnx/session.js';
import { Rng } from '../rng.js';
import { adamInit, adamStep } from './adam.js';
import { addParamInputs, feedParams, withRunFolder } from './common.js';
import { initConvParams } from './dcgan.js';
import type { ParamSpec } from './mlp.js';
import { readImageFolder, shapes28 } from '../data/images.js';
import { mnistSplit, pickRows } from '../data/mnist.js';

/** Labelled images: [n, c, h, w] in [-1, 1] and a class index per image. */
export interface LabelledImages {
  data: Float32Array;
  labels: Int32Array;
  n: number;
}

/** Options of `fitClassifier`; `CLASSIFIER_DEFAULTS` holds defaults for all but `out`. */
export interface ClassifierOptions {
  /** Run folder to write. */
  out: string;
  /** Write into an `out` that holds an earlier run, replacing it; otherwise refused. Default false. */
  overwrite?: boolean;
  /** Seed of the parameter initialisation, the shuffles and the shifts. */
  seed: number;
  /** Passes over the training images. */
  epochs: number;
  /** Images per training step. */
  batchSize: number;
  /** Initial Adam learning rate, decayed to 0 on a cosine; in (0, 1). */
  lr: number;
  /** Channels of the first convolution (the second has twice as many). */
  width: number;
  /** Width of the feature layer. */
  features: number;
  /** Largest random shift of a training image, in pixels. */
  shift: number;
}

/** Defaults: 15 epochs of batch 64, Adam 1e-3 (cosine decay), 32/64 channels, 128 features, shifts of up to 2 pixels. */
export const CLASSIFIER_DEFAULTS: Omit<ClassifierOptions, 'out'> = { seed: 0, epochs: 15, batchSize: 64, lr: 1e-3, width: 32, features: 128, shift: 2 };

/** What `fitClassifier` and `trainClassifier` wrote and measured. */
export interface ClassifierResult {
  /** The run folder (`out`). */
  dir: string;
  /** Paths of classifier.onnx, features.onnx and classifier.json. */
  files: { classifier: string; features: string; meta: string };
  /** Class names, in the order of the logits. */
  classes: string[];
  /** Fraction of the held-out images classified correctly. */
  accuracy: number;
  /** Held-out accuracy per class. */
  classAccuracy: number[];
  /** Mean cross-entropy of the last epoch's batches. */
  trainLoss: number;
  /** Training steps (batches) run. */
  steps: number;
  /** Wall-clock time of the run, in seconds. */
  seconds: number;
}

interface Arch {
  shape: [number, number, number];
  classes: number;
  width: number;
  features: number;
}

function params(a: Arch): (ParamSpec & { fanIn: number })[] {
  const [c, h, w] = a.shape;
  const flat = 2 * a.width * (h / 4) * (w / 4);
  return [
    { name: 'c.conv0.weight', shape: [a.width, c, 3, 3], fanIn: c * 9 },
    { name: 'c.conv0.bias', shape: [a.width], fanIn: c * 9 },
    { name: 'c.conv1.weight', shape: [2 * a.width, a.width, 3, 3], fanIn: a.width * 9 },
    { name: 'c.conv1.bias', shape: [2 * a.width], fanIn: a.width * 9 },
    { name: 'c.fc.weight', shape: [a.features, flat], fanIn: flat },
    { name: 'c.fc.bias', shape: [a.features], fanIn: flat },
    { name: 'c.out.weight', shape: [a.classes, a.features], fanIn: a.features },
    { name: 'c.out.bias', shape: [a.classes], fanIn: a.features },
  ];
}

/** Append the network to `g`; returns its feature and logit values. */
function network(g: Graph, x: string, p: string[]): { features: string; logits: string } {
  const conv = { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) };
  const pool = { kernel_shape: ints([2, 2]), strides: ints([2, 2]) };
  let h = g.op('MaxPool', [g.op('Relu', [g.op('Conv', [x, p[0], p[1]], conv)])], pool);
  h = g.op('MaxPool', [g.op('Relu', [g.op('Conv', [h, p[2], p[3]], conv)])], pool);
  h = g.op('Flatten', [h], { axis: int(1) });
  const features = g.op('Relu', [g.op('Gemm', [h, p[4], p[5]], { transB: int(1) })]);
  const logits = g.op('Gemm', [features, p[6], p[7]], { transB: int(1) });
  return { features, logits };
}

/** Loss graph: inputs params, x, onehot; outputs mean cross-entropy, then its gradient per parameter. */
function lossGraph(a: Arch, specs: ParamSpec[]): Graph {
  const g = new Graph();
  const p = addParamInputs(g, specs);
  const x = g.addInput('x', 'float32', ['batch', ...a.shape]);
  const onehot = g.addInput('onehot', 'float32', ['batch', a.classes]);
  const { logits } = network(g, x, p);
  const ll = g.op('ReduceSum', [g.op('Mul', [g.op('LogSoftmax', [logits], { axis: int(1) }), onehot]), g.int64s([1])], { keepdims: int(0) });
  const loss = g.op('Neg', [g.op('ReduceMean', [ll], { keepdims: int(0) })]);
  const grads = differentiate(g, { [loss]: onesLike(g, loss) }, p);
  g.outputs = [loss, ...p.map((name) => grads.get(name)!)];
  return g;
}

/** A standalone graph x -> `which`, the parameters baked in. */
function exportGraph(a: Arch, specs: ParamSpec[], values: Float32Array[], which: 'features' | 'logits'): Graph {
  const g = new Graph();
  g.name = which === 'logits' ? 'classifier' : 'features';
  const x = g.addInput('x', 'float32', ['batch', ...a.shape]);
  const names = specs.map((s, i) => g.addInitializer(s.name, { dtype: 'float32', dims: s.shape, data: values[i] }));
  const out = network(g, x, names)[which];
  g.add('Identity', [out], {}, [which]);
  g.outputs = [which];
  return g;
}

/** Copy image `k` of `src` into row `i` of `dst`, shifted by (dy, dx) pixels; `fill` where nothing shifts in. */
function shiftedCopy(src: Float32Array, k: number, dst: Float32Array, i: number, shape: [number, number, number], dy: number, dx: number, fill: number): void {
  const [c, h, w] = shape;
  const size = c * h * w;
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      const sy = y - dy;
      for (let x = 0; x < w; x++) {
        const sx = x - dx;
        dst[i * size + ch * h * w + y * w + x] = sy >= 0 && sy < h && sx >= 0 && sx < w ? src[k * size + ch * h * w + sy * w + sx] : fill;
      }
    }
  }
}

export function validateClassifierOptions(o: ClassifierOptions): void {
  const posInt = (v: unknown, path: string) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) fail('invalid_argument', path, 'a positive integer', describe(v));
  };
  posInt(o.epochs, 'epochs');
  posInt(o.batchSize, 'batchSize');
  posInt(o.width, 'width');
  posInt(o.features, 'features');
  if (!Number.isSafeInteger(o.seed)) fail('invalid_argument', 'seed', 'a safe integer', describe(o.seed));
  if (!Number.isInteger(o.shift) || o.shift < 0) fail('invalid_argument', 'shift', 'a non-negative integer', describe(o.shift));
  if (!(o.lr > 0 && o.lr < 1)) fail('invalid_argument', 'lr', 'a learning rate in (0, 1)', describe(o.lr));
  if (typeof o.out !== 'string' || o.out === '') fail('invalid_argument', 'out', 'a folder path', describe(o.out));
}

/**
 * Train the classifier on `train` and measure it on `test` (labels in 0..classes.length-1), then
 * write the run folder. `onProgress` is called after every epoch; `signal` stops after a step.
 */
export async function fitClassifier(
  data: { train: LabelledImages; test: LabelledImages; shape: [number, number, number]; classes: string[] },
  options: ClassifierOptions,
  hooks: { signal?: AbortSignal; onProgress?: (p: { epoch: number; epochs: number; loss: number }) => void } = {},
): Promise<ClassifierResult> {
  const o = options;
  validateClassifierOptions(o);
  const [, h, w] = data.shape;
  if (h % 4 !== 0 || w % 4 !== 0) fail('invalid_argument', 'images', 'images whose height and width are multiples of 4', `${w}x${h}`);
  const K = data.classes.length;
  const arch: Arch = { shape: data.shape, classes: K, width: o.width, features: o.features };
  const specs = params(arch);
  return withRunFolder(o.out, { overwrite: o.overwrite }, false, async () => {
    const t0 = performance.now();
    const values = initConvParams(specs, new Rng(o.seed, 0));
    const adam = adamInit(values);
    const graph = lossGraph(arch, specs);
    const session = await Session.create(graph);
    const size = data.shape.reduce((a, b) => a * b, 1);
    const B = o.batchSize;
    const x = new Float32Array(B * size);
    const onehot = new Float32Array(B * K);
    let step = 0;
    const totalSteps = o.epochs * Math.floor(data.train.n / B);
    let lossSum = 0;
    let lossCount = 0;
    try {
      for (let epoch = 0; epoch < o.epochs; epoch++) {
        const order = new Rng(o.seed, 2, epoch).permutation(data.train.n);
        lossSum = 0;
        lossCount = 0;
        for (let start = 0; start + B <= data.train.n; start += B, step++) {
          if (hooks.signal?.aborted)
            throw new RefineryError('cancelled', [{ path: 'training', expected: 'to run to the end', received: `a stop at step ${step}` }]);
          const rng = new Rng(o.seed, 1, step);
          onehot.fill(0);
          for (let i = 0; i < B; i++) {
            const k = order[start + i];
            const dy = o.shift > 0 ? rng.int(2 * o.shift + 1) - o.shift : 0;
            const dx = o.shift > 0 ? rng.int(2 * o.shift + 1) - o.shift : 0;
            shiftedCopy(data.train.data, k, x, i, data.shape, dy, dx, -1);
            onehot[i * K + data.train.labels[k]] = 1;
          }
          const out = await session.run({ ...feedParams(specs, values), x: { data: x, shape: [B, ...data.shape] }, onehot: { data: onehot, shape: [B, K] } });
          const loss = out[graph.outputs[0]].data[0];
          if (!Number.isFinite(loss)) fail('internal', 'training', 'a finite loss', `${loss} at step ${step} (lower lr)`);
          lossSum += loss;
          lossCount++;
          adamStep(
            values,
            graph.outputs.slice(1).map((name) => out[name].data),
            adam,
            // Cosine decay of the learning rate to 0 over the run.
            { lr: 0.5 * o.lr * (1 + Math.cos((Math.PI * step) / totalSteps)), beta1: 0.9, beta2: 0.999, eps: 1e-8 },
          );
        }
        hooks.onProgress?.({ epoch: epoch + 1, epochs: o.epochs, loss: lossSum / lossCount });
      }
    } finally {
      await session.release();
    }
    const classifier = exportGraph(arch, specs, values, 'logits');
    const features = exportGraph(arch, specs, values, 'features');
    const { accuracy, classAccuracy } = await measure(classifier, data.test, data.shape, K);
    const files = { classifier: join(o.out, 'classifier.onnx'), features: join(o.out, 'features.onnx'), meta: join(o.out, 'classifier.json') };
    writeFileAtomic(files.classifier, encodeGraph(classifier));
    writeFileAtomic(files.features, encodeGraph(features));
    const result: ClassifierResult = {
      dir: o.out,
      files,
      classes: data.classes,
      accuracy,
      classAccuracy,
      trainLoss: lossSum / lossCount,
      steps: step,
      seconds: (performance.now() - t0) / 1000,
    };
    const { out: _out, ...training } = o;
    writeFileAtomic(
      files.meta,
      `${JSON.stringify({ producer: 'refinery train-classifier', input_shape: data.shape, input_range: [-1, 1], classes: data.classes, accuracy, classAccuracy, heldOut: data.test.n, trainImages: data.train.n, training, outputs: { classifier: 'logits [batch, K]', features: `features [batch, ${o.features}]` } }, null, 2)}\n`,
    );
    return result;
  });
}

/** Accuracy of `classifier` (x -> logits) on labelled images, overall and per class. */
export async function measure(classifier: Graph, set: LabelledImages, shape: number[], K: number): Promise<{ accuracy: number; classAccuracy: number[] }> {
  const s = await Session.create(classifier);
  const size = shape.reduce((a, b) => a * b, 1);
  const right = new Array<number>(K).fill(0);
  const total = new Array<number>(K).fill(0);
  try {
    for (let start = 0; start < set.n; start += 500) {
      const rows = Math.min(500, set.n - start);
      const logits = (await s.runRows({ x: { data: set.data.subarray(start * size, (start + rows) * size), shape: [rows, ...shape] } })).logits.data;
      for (let i = 0; i < rows; i++) {
        let best = 0;
        for (let k = 1; k < K; k++) if (logits[i * K + k] > logits[i * K + best]) best = k;
        const label = set.labels[start + i];
        total[label]++;
        if (best === label) right[label]++;
      }
    }
  } finally {
    await s.release();
  }
  return { accuracy: right.reduce((a, b) => a + b, 0) / set.n, classAccuracy: right.map((r, k) => (total[k] > 0 ? r / total[k] : Number.NaN)) };
}

/** Options of `trainClassifier`: the data (a built-in dataset or a folder of PNGs or JPEGs in class subfolders) and the training options. */
export type TrainClassifierOptions = Partial<Omit<ClassifierOptions, 'out'>> & {
  out: string;
  /** Built-in image dataset: 'mnist' (default: its 8,000 training digits; the 2,000 held out measure it) or 'shapes28'. */
  dataset?: 'mnist' | 'shapes28';
  /** A folder of PNG or JPEG images in one subfolder per class (instead of `dataset`); a seeded fifth is held out. */
  realDir?: string;
  /** Stops training before the next step (throws a 'cancelled' RefineryError). */
  signal?: AbortSignal;
  /** Called after every epoch with its mean loss. */
  onProgress?: (p: { epoch: number; epochs: number; loss: number }) => void;
};

/** The training and held-out images of a classifier. */
export async function classifierData(o: { dataset?: string; realDir?: string; seed?: number }): Promise<{
  train: LabelledImages;
  test: LabelledImages;
  shape: [number, number, number];
  classes: string[];
}> {
  if (o.realDir !== undefined && o.dataset !== undefined) fail('invalid_argument', 'realDir', 'either realDir or dataset', 'both');
  if (o.realDir !== undefined) {
    const f = await readImageFolder(o.realDir, { option: 'realDir' });
    if (f.classes.length < 2 || f.labels.some((l) => l < 0)) {
      fail(
        'invalid_argument',
        'realDir',
        'a folder with one subfolder of PNG or JPEG images per class (at least 2 classes)',
        `${f.classes.length} class folders`,
      );
    }
    const [n, c, h, w] = f.shape;
    const perm = new Rng(o.seed ?? 0, 0x73706c74).permutation(n);
    const nTest = Math.max(1, Math.round(n / 5));
    const pick = (idx: Int32Array): LabelledImages => pickRows(f, idx, c * h * w);
    return { train: pick(perm.subarray(nTest)), test: pick(perm.subarray(0, nTest)), shape: [c, h, w], classes: f.classes };
  }
  const name = o.dataset ?? 'mnist';
  if (name === 'mnist')
    return { train: mnistSplit('train'), test: mnistSplit('test'), shape: [1, 28, 28], classes: Array.from({ length: 10 }, (_, k) => String(k)) };
  if (name === 'shapes28') {
    const draw = (n: number, stream: number): LabelledImages => ({ ...shapes28.sampleLabeled(n, new Rng(o.seed ?? 0, 0x73687073, stream)), n });
    return { train: draw(20000, 0), test: draw(2000, 1), shape: [...shapes28.shape], classes: shapes28.classes ?? [] };
  }
  return fail('invalid_argument', 'dataset', 'mnist or shapes28 (or realDir)', describe(name));
}

/**
 * Train an image classifier (see the module doc) on a built-in dataset or a folder of PNGs or JPEGs in class
 * subfolders, and write classifier.onnx (x -> logits), features.onnx (x -> features) and
 * classifier.json into `out`; usable as the feature extractor and classifier of `evaluate` and as
 * DRE-F-SP's features.
 */
export async function trainClassifier(options: TrainClassifierOptions): Promise<ClassifierResult> {
  const { dataset, realDir, signal, onProgress, out, ...rest } = options;
  const o: ClassifierOptions = { ...CLASSIFIER_DEFAULTS, ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)), out };
  for (const k of Object.keys(rest))
    if (!(k in CLASSIFIER_DEFAULTS)) fail('invalid_argument', k, `an option of trainClassifier (${Object.keys(CLASSIFIER_DEFAULTS).join(', ')})`, k);
  validateClassifierOptions(o);
  return fitClassifier(await classifierData({ dataset, realDir, seed: o.seed }), o, { signal, onProgress });
}
