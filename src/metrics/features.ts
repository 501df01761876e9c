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

/** The model's output for every row of `x` (shape `[n, ...]`), as shape `[n, k]` (further output axes are flattened). */
export async function extractFeatures(model: OnnxModel, x: Tensor, options: FeatureOptions = {}): Promise<Tensor> {
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
      const r = (
        await session.runRows({ [g.inputs[0].name]: { data: x.data.subarray(start * size, (start + rows) * size), shape: [rows, ...rowShape] } }, [
          g.outputs[0],
        ])
      )[g.outputs[0]];
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
