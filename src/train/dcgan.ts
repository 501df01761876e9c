/**
 * A small, seeded DCGAN-style trainer for images (Radford et al. 2016, without batch
 * normalisation): the built-in `shapes28` dataset or a folder of PNGs or JPEGs. Same losses, Adam loop,
 * D fine-tuning phase, checkpoints and exports as the 2-D trainer (see common.ts); writes
 * generator.onnx (z [batch, latent] -> x [batch, c, h, w] in [-1, 1]), discriminator.onnx
 * (x -> logit [batch, 1]) and meta.json.
 *
 * Networks, with L stride-2 layers, base width w, image [c, H, W], h0 = H / 2^L, w0 = W / 2^L:
 *   G: z -> Gemm -> reshape [w 2^(L-1), h0, w0] -> PN -> ReLU
 *        -> L x (ConvTranspose k4 s2 p1, halving the channels; PN -> ReLU, or tanh after the last, which outputs c channels)
 *   D: x -> L x (Conv k4 s2 p1 to w, 2w, ..., w 2^(L-1) channels; LeakyReLU 0.2) -> Flatten -> Gemm -> [batch, 1]
 * PN is pixel normalisation (optional, on by default). No BatchNorm (Refinery's BatchNormalization
 * is inference-only): without it, G collapses early unless stabilised; pixel normalisation in G and
 * spectral normalisation of D (Miyato et al. 2018, on by default) do that.
 */
import { join } from 'node:path';
import { fail } from '../errors.js';
import { folderDataset, getImageDataset, readImageFolder, type ImageDataset } from '../data/images.js';
import type { ModelMeta } from '../models/meta.js';
import { writeMeta } from '../models/metafile.js';
import { type Graph, float, int, ints } from '../onnx/graph.js';
import type { Rng } from '../rng.js';
import {
  checkpointOptions,
  dOutputOf,
  folderStore,
  type GanHooks,
  type GanResult,
  type GanLoopOptions,
  type GanNets,
  runGanLoop,
  withRunFolder,
  validateLoopOptions,
  writeNets,
} from './common.js';
import { attentionParams, selfAttention } from './attention.js';
import type { ParamSpec } from './mlp.js';

export { GAN_LOSSES, type GanLoss, type TrainProgress } from './common.js';

/** Options of the DCGAN trainer for images (`trainGan` with model 'dcgan'). */
export interface DcganOptions extends GanLoopOptions {
  /** Built-in image dataset (used when realDir is not set). */
  dataset: string;
  /** A folder of PNG or JPEG images (all the same size) to train on instead of a built-in dataset. */
  realDir?: string;
  /** For realDir: force one channel (true) or three (false); default: one when all images are grey. */
  grayscale?: boolean;
  /** Channels of D's first layer (and G's last hidden layer); doubled at each further layer. */
  width: number;
  /** Stride-2 layers in G and in D; image height and width must be multiples of 2^layers. */
  layers: number;
  /**
   * Pixel normalisation in G before each hidden ReLU (after Karras et al. 2018, who normalise after
   * the activation): v / sqrt(mean_c v^2 + 1e-8) over the channels c of each pixel. Before the
   * ReLU the vector is almost never zero, so G stays smooth in z (latent-space methods need that).
   */
  pixelNorm: boolean;
}

/** Defaults of the DCGAN's options (all but `out`). */
export const DCGAN_DEFAULTS: Omit<DcganOptions, 'out'> = {
  dataset: 'shapes28',
  realDir: undefined,
  grayscale: undefined,
  seed: 0,
  steps: 2000,
  batchSize: 64,
  latentDim: 32,
  prior: 'normal',
  width: 32,
  layers: 2,
  pixelNorm: true,
  loss: 'ns',
  spectralNorm: true,
  lrG: 2e-4,
  lrD: 2e-4,
  beta1: 0.5,
  beta2: 0.999,
  dSteps: 1,
  finetuneD: 500,
  gpWeight: 10,
  checkpointEvery: 250,
  resume: false,
};

export type DcganResult = GanResult;

const KERNEL = 4;
const MAX_LAYERS = 6;

export interface DcganArch {
  latentDim: number;
  /** [c, h, w]. */
  imageShape: [number, number, number];
  width: number;
  layers: number;
  pixelNorm: boolean;
  /**
   * SAGAN's self-attention block (Zhang et al. 2019) in G after its last hidden feature map and in
   * D after its first convolution (see `selfAttention`).
   */
  attention?: boolean;
}

/** A parameter with the number of products summed into each output it feeds (its fan-in). */
export interface ConvParam extends ParamSpec {
  fanIn: number;
}

/**
 * Seeded initial values, as PyTorch's default for Linear/Conv layers: weights and biases
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in being the number of products summed into one output
 * (in for Gemm, C_in k^2 for Conv, C_in k^2 / stride^2 for a stride-2 ConvTranspose). A
 * parameter of fan-in 0 starts at 0 (the attention block's gamma).
 */
export function initConvParams(params: ParamSpec[], rng: Rng): Float32Array[] {
  return params.map((p) => {
    const fanIn = (p as ConvParam).fanIn;
    if (fanIn === 0) return new Float32Array(p.shape.reduce((a, b) => a * b, 1));
    if (!(fanIn > 0)) fail('internal', `parameter ${p.name}`, 'a fan-in', String(fanIn));
    const bound = 1 / Math.sqrt(fanIn);
    return rng.fillUniform(new Float32Array(p.shape.reduce((a, b) => a * b, 1)), -bound, bound);
  });
}

/** Channel counts: G's after the Gemm then after each ConvTranspose; D's after each Conv. */
function channels(a: DcganArch): { g: number[]; d: number[] } {
  const top = a.width * 2 ** (a.layers - 1);
  const g = [top];
  for (let l = 1; l < a.layers; l++) g.push(top / 2 ** l);
  g.push(a.imageShape[0]);
  const d = Array.from({ length: a.layers }, (_, l) => a.width * 2 ** l);
  return { g, d };
}

const window = { kernel_shape: ints([KERNEL, KERNEL]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) };

/**
 * An image encoder's parameters (the VAE's and the alpha-GAN's): the DCGAN discriminator's
 * convolutions renamed e.*, its last Gemm widened to `outputs` values.
 */
export function encoderParams(dParams: ParamSpec[], outputs: number): ParamSpec[] {
  const last = dParams.length - 2;
  return dParams.map((p, i) => {
    const name = p.name.replace(/^d\./, 'e.');
    if (i === last) return { ...p, name, shape: [outputs, p.shape[1]] };
    if (i === last + 1) return { ...p, name, shape: [outputs] };
    return { ...p, name };
  });
}

/** The DCGAN generator and discriminator as GanNets (parameters named g.* and d.*). */
export function dcganNets(a: DcganArch): GanNets {
  const [c, H, W] = a.imageShape;
  const f = 2 ** a.layers;
  const [h0, w0] = [H / f, W / f];
  const ch = channels(a);
  const gParams: ConvParam[] = [
    { name: 'g.fc.weight', shape: [ch.g[0] * h0 * w0, a.latentDim], fanIn: a.latentDim },
    { name: 'g.fc.bias', shape: [ch.g[0] * h0 * w0], fanIn: a.latentDim },
  ];
  for (let l = 0; l < a.layers; l++) {
    const fanIn = (ch.g[l] * KERNEL * KERNEL) / 4;
    gParams.push({ name: `g.up${l}.weight`, shape: [ch.g[l], ch.g[l + 1], KERNEL, KERNEL], fanIn }, { name: `g.up${l}.bias`, shape: [ch.g[l + 1]], fanIn });
  }
  // G's attention sits on its last hidden feature map (before the last ConvTranspose), D's after its first Conv.
  const gAttnAt = a.layers - 1;
  if (a.attention) gParams.push(...attentionParams('g', ch.g[gAttnAt]));
  const dParams: ConvParam[] = [];
  let cin = c;
  for (let l = 0; l < a.layers; l++) {
    const fanIn = cin * KERNEL * KERNEL;
    dParams.push({ name: `d.conv${l}.weight`, shape: [ch.d[l], cin, KERNEL, KERNEL], fanIn }, { name: `d.conv${l}.bias`, shape: [ch.d[l]], fanIn });
    cin = ch.d[l];
  }
  const flat = cin * h0 * w0;
  dParams.push({ name: 'd.fc.weight', shape: [1, flat], fanIn: flat }, { name: 'd.fc.bias', shape: [1], fanIn: flat });
  if (a.attention) dParams.push(...attentionParams('d', ch.d[0]));
  const at = (specs: ConvParam[], p: string[]) => (name: string) => p[specs.findIndex((s) => s.name === name)];
  const attn = (pre: string, get: (name: string) => string) => ['query', 'key', 'value', 'out', 'gamma'].map((r) => get(`${pre}.attn.${r}`));

  const norm = (g: Graph, h: string): string => {
    if (!a.pixelNorm) return h;
    const ms = g.op('ReduceMean', [g.op('Mul', [h, h])], { axes: ints([1]), keepdims: int(1) });
    return g.op('Div', [h, g.op('Sqrt', [g.op('Add', [ms, g.scalar(1e-8)])])]);
  };
  const generator = (g: Graph, z: string, p: string[]): string => {
    const get = at(gParams, p);
    let h = g.op('Gemm', [z, get('g.fc.weight'), get('g.fc.bias')], { transB: int(1) });
    h = g.op('Relu', [norm(g, g.op('Reshape', [h, g.int64s([0, ch.g[0], h0, w0])]))]);
    for (let l = 0; l < a.layers; l++) {
      if (a.attention && l === gAttnAt) h = selfAttention(g, h, ch.g[l], [h0 * 2 ** l, w0 * 2 ** l], attn('g', get));
      h = g.op('ConvTranspose', [h, get(`g.up${l}.weight`), get(`g.up${l}.bias`)], window);
      h = l + 1 < a.layers ? g.op('Relu', [norm(g, h)]) : g.op('Tanh', [h]);
    }
    return h;
  };
  const discriminator = (g: Graph, x: string, p: string[]): string => {
    const get = at(dParams, p);
    let h = x;
    for (let l = 0; l < a.layers; l++) {
      h = g.op('LeakyRelu', [g.op('Conv', [h, get(`d.conv${l}.weight`), get(`d.conv${l}.bias`)], window)], { alpha: float(0.2) });
      if (a.attention && l === 0) h = selfAttention(g, h, ch.d[0], [H / 2, W / 2], attn('d', get));
    }
    h = g.op('Flatten', [h], { axis: int(1) });
    return g.op('Gemm', [h, get('d.fc.weight'), get('d.fc.bias')], { transB: int(1) });
  };
  return { latentDim: a.latentDim, dataShape: [c, H, W], gParams, dParams, generator, discriminator, initParams: initConvParams };
}

/** FNV-1a (32-bit) of the bytes of `data`: a fingerprint of a training set for --resume. */
function fingerprint(data: Float32Array): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

export function validateDcganOptions(o: DcganOptions): void {
  validateLoopOptions(o);
  if (!Number.isInteger(o.width) || o.width < 1) fail('invalid_argument', 'width', 'a positive integer', String(o.width));
  if (!Number.isInteger(o.layers) || o.layers < 1 || o.layers > MAX_LAYERS)
    fail('invalid_argument', 'layers', `an integer in [1, ${MAX_LAYERS}]`, String(o.layers));
  if (o.grayscale !== undefined && typeof o.grayscale !== 'boolean') fail('invalid_argument', 'grayscale', 'true or false', String(o.grayscale));
  if (o.realDir === undefined) getImageDataset(o.dataset);
}

/** The training images and what identifies them for --resume; checks that their size fits the networks. */
async function loadData(o: DcganOptions): Promise<{ data: ImageDataset; fingerprint: Record<string, unknown> }> {
  let data: ImageDataset;
  let fp: Record<string, unknown> = {};
  if (o.realDir !== undefined) {
    const folder = await readImageFolder(o.realDir, { grayscale: o.grayscale, option: 'realDir' });
    data = folderDataset(folder, o.realDir);
    // A resumed run must see the same images, wherever the folder now is.
    fp = { realDir: { images: folder.shape[0], shape: folder.shape.slice(1), fnv1a: fingerprint(folder.data) } };
  } else data = getImageDataset(o.dataset);
  const [, h, w] = data.shape;
  const f = 2 ** o.layers;
  if (h % f !== 0 || w % f !== 0) {
    fail(
      'invalid_argument',
      o.realDir !== undefined ? 'realDir' : 'dataset',
      `images whose height and width are multiples of ${f} (${o.layers} stride-2 layers, --layers)`,
      `images of ${w}x${h} pixels`,
    );
  }
  return { data, fingerprint: fp };
}

/**
 * Train a DCGAN on `options.realDir` (PNGs) or the built-in `options.dataset`, and write the run
 * folder `options.out`. `onProgress` is called every 10 steps; `signal` stops after a checkpoint.
 */
export async function trainDcgan(options: DcganOptions, hooks: GanHooks = {}): Promise<DcganResult> {
  return trainImageGan('dcgan', options, hooks);
}

/**
 * The image trainers' common body: 'dcgan', or 'sagan' (the same networks with a self-attention
 * block in G and in D; sagan.ts has its defaults).
 */
export async function trainImageGan(model: 'dcgan' | 'sagan', options: DcganOptions, hooks: GanHooks = {}): Promise<DcganResult> {
  const o = options;
  validateDcganOptions(o);
  return withRunFolder(o.out, { resume: o.resume, overwrite: o.overwrite }, true, async () => {
    const { data, fingerprint: fp } = await loadData(o);
    const nets = dcganNets({
      latentDim: o.latentDim,
      imageShape: data.shape,
      width: o.width,
      layers: o.layers,
      pixelNorm: o.pixelNorm,
      attention: model === 'sagan',
    });
    const { realDir: _r, grayscale: _g, ...rest } = o;
    const keep = checkpointOptions(rest, { ...fp, ...(o.realDir !== undefined ? { grayscale: o.grayscale ?? null } : {}) });
    const r = await runGanLoop(
      { options: o, nets, fingerprint: keep, sampleReal: (n, rng) => data.sample(n, rng), progressEvery: 10, store: folderStore(o.out) },
      hooks,
    );
    writeNets(o.out, nets, r.gValues, r.dValues);
    const d = dOutputOf(o.loss);
    const meta: ModelMeta = {
      latentDim: o.latentDim,
      latentPrior: o.prior ?? 'normal',
      dataShape: [...data.shape],
      dOutput: d.dOutput,
      outputRange: [-1, 1],
      dataset: o.realDir === undefined ? o.dataset : undefined,
      extra: {
        producer: `refinery train --model ${model}`,
        model,
        d_output_semantics: d.semantics,
        data: o.realDir === undefined ? { dataset: o.dataset, classes: data.classes } : { real_dir: o.realDir, images: data.count, classes: data.classes },
        training: {
          ...checkpointOptions(rest),
          ...(o.realDir !== undefined ? { dataset: undefined, realDir: o.realDir, grayscale: o.grayscale } : {}),
          steps: o.steps,
          finetuneD: o.finetuneD,
        },
        final_loss: { d: r.lossD, g: r.lossG },
      },
    };
    writeMeta(join(o.out, 'meta.json'), meta);
    return { dir: o.out, steps: r.steps, seconds: r.seconds, lossD: r.lossD, lossG: r.lossG, resumedFrom: r.resumedFrom, meta };
  });
}
