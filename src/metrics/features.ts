/**
 * Samples through a feature extractor or a classifier (any ONNX model x [batch, ...] -> [batch, k],
 * e.g. an Inception-v3 exported from PyTorch, or the classifier of `trainClassifier`), in batches,
 * so that metrics compare distributions in a learned feature space.
 */
import { fail, RefineryError } from '../errors.js';
import { asGraph, type Graph, type OnnxModel } from '../onnx/graph.js';
import { ForwardOnlyModel } from '../onnx/model.js';
import { fmtShape } from '../onnx/ops/util.js';
import { Session } from '../onnx/session.js';
import type { Tensor } from '../tensor.js';

/**
 * Rows read on demand (e.g. an image folder: `openImageFolder`), for sets too large to hold
 * whole: `shape[0]` rows of shape `shape.slice(1)`; `read(start, count)` returns rows start to
 * start + count - 1, row-major. `extractFeatures` and `evaluate` read it a batch at a time.
 */
export interface SampleSource {
  /** The shape [n, ...]: the number of rows, then the shape of one row. */
  shape: readonly number[];
  /** Rows start to start + count - 1, row-major (count times the row size values). */
  read(start: number, count: number): Promise<Float32Array>;
}

/** Whether `x` is a SampleSource (rows read on demand) rather than an array. */
export function isSampleSource(x: unknown): x is SampleSource {
  return typeof x === 'object' && x !== null && typeof (x as SampleSource).read === 'function' && Array.isArray((x as SampleSource).shape);
}

/** Options of `extractFeatures`; all optional. */
export interface FeatureOptions {
  /** Rows per model call. Default 500. */
  batchSize?: number;
  /** Stops before the next batch once aborted (throws a 'cancelled' RefineryError). */
  signal?: AbortSignal;
  /** Called after each batch with the rows done. */
  onProgress?: (done: number, total: number) => void;
  /** Name of the model in errors (default 'features'). */
  path?: string;
}

/**
 * The model's output for every row of `x` (shape `[n, ...]`, an array or a SampleSource read a
 * batch at a time), as shape `[n, k]` (further output axes are flattened).
 */
export async function extractFeatures(model: OnnxModel, x: Tensor | SampleSource, options: FeatureOptions = {}): Promise<Tensor> {
  const path = options.path ?? 'features';
  // Features only run forward: a model beyond Refinery's graph toolkit runs as it is.
  const forwardOnly = model instanceof ForwardOnlyModel;
  const g: OnnxModel = forwardOnly ? model : asGraph(model, path);
  if (g.inputs.length !== 1) fail('invalid_model', path, 'a model with one input x [batch, ...]', `${g.inputs.length} inputs`);
  const want = g.inputs[0].shape;
  const rowShape = x.shape.slice(1);
  const fits = want.length === x.shape.length && want.every((d, i) => i === 0 || typeof d !== 'number' || d === x.shape[i]);
  if (!fits) fail('shape_mismatch', `${path} input ${g.inputs[0].name}`, `the samples' shape [batch, ${rowShape.join(', ')}]`, fmtShape(want));
  const batchSize = options.batchSize ?? 500;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) fail('invalid_argument', 'batchSize', 'a positive integer', String(batchSize));
  const n = x.shape[0];
  const size = rowShape.reduce((a, b) => a * b, 1);
  const session = await Session.create(forwardOnly ? model.bytes : (g as Graph));
  let out: Float32Array | undefined;
  let k = 0;
  try {
    for (let start = 0; start < n; start += batchSize) {
      if (options.signal?.aborted) throw new RefineryError('cancelled', [{ path, expected: `${n} samples`, received: `a stop after ${start}` }]);
      const rows = Math.min(batchSize, n - start);
      const data = isSampleSource(x) ? await x.read(start, rows) : x.data.subarray(start * size, (start + rows) * size);
      if (data.length !== rows * size) fail('internal', path, `${rows * size} values from the source`, String(data.length));
      const r = (await session.runRows({ [g.inputs[0].name]: { data, shape: [rows, ...rowShape] } }, [g.outputs[0]]))[g.outputs[0]];
      if (out === undefined) {
        k = r.data.length / rows;
        if (!Number.isInteger(k) || k < 1) fail('invalid_model', `${path} output ${g.outputs[0]}`, 'an output [batch, k]', fmtShape(r.shape));
        out = new Float32Array(n * k);
      }
      if (r.data.length !== rows * k) fail('invalid_model', `${path} output ${g.outputs[0]}`, `${rows * k} values for ${rows} rows`, String(r.data.length));
      out.set(r.data, start * k);
      options.onProgress?.(start + rows, n);
    }
  } finally {
    await session.release();
  }
  return { data: out ?? new Float32Array(0), shape: [n, k] };
}
