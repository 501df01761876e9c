/**
 * Every operator's gradient rule against central finite differences (float32, directional, fixed
 * seeds). Tolerance 3e-3 relative; the negative control shows a 1% error in a gradient is caught.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { differentiate } from '../autodiff.js';
import { type Attr, float, Graph, int, ints, str } from '../graph.js';
import { Session } from '../session.js';
import { gradCheck, type CheckInput } from '../../testing/gradcheck.js';
import { Rng } from '../../rng.js';

const TOL = 3e-3;

interface Case {
  name: string;
  inputs: CheckInput[];
  build: (g: Graph, n: string[]) => string;
  /** Opset of the graph (default 13). */
  opset?: number;
}

const op =
  (type: string, attrs: Record<string, Attr> = {}) =>
  (g: Graph, n: string[]) =>
    g.op(type, n, attrs);
const positive = (n: number, seed: number) => {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => 0.5 + r.uniform());
};
/**
 * n distinct values spread evenly over [-4.05, 3.95] in a seeded order: far (>= 0.1) from each
 * other and from the kinks of the activations tested (0, +-1, +-2.5, +-3), so finite differences
 * never cross one.
 */
const spread = (n: number, seed: number) => {
  const r = new Rng(seed);
  const v = Float32Array.from({ length: n }, (_, i) => -4.05 + ((i + 0.5) * 8) / n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r.uniform() * (i + 1));
    [v[i], v[j]] = [v[j], v[i]];
  }
  return v;
};
const constant = (g: Graph, shape: number[], seed: number) => g.float32(new Rng(seed).fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);

const cases: Case[] = [
  {
    name: 'Gemm',
    inputs: [
      { name: 'a', shape: [4, 3] },
      { name: 'b', shape: [3, 5] },
      { name: 'c', shape: [5] },
    ],
    build: op('Gemm', { alpha: float(0.7), beta: float(1.3) }),
  },
  {
    name: 'Gemm transA transB',
    inputs: [
      { name: 'a', shape: [3, 4] },
      { name: 'b', shape: [5, 3] },
      { name: 'c', shape: [1, 5] },
    ],
    build: op('Gemm', { transA: int(1), transB: int(1) }),
  },
  {
    name: 'Gemm transB, C full',
    inputs: [
      { name: 'a', shape: [4, 3] },
      { name: 'b', shape: [5, 3] },
      { name: 'c', shape: [4, 5] },
    ],
    build: op('Gemm', { transB: int(1) }),
  },
  {
    name: 'MatMul 2-D',
    inputs: [
      { name: 'a', shape: [4, 3] },
      { name: 'b', shape: [3, 2] },
    ],
    build: op('MatMul'),
  },
  {
    name: 'MatMul batched x 2-D',
    inputs: [
      { name: 'a', shape: [2, 4, 3] },
      { name: 'b', shape: [3, 2] },
    ],
    build: op('MatMul'),
  },
  {
    name: 'MatMul batched x batched',
    inputs: [
      { name: 'a', shape: [2, 4, 3] },
      { name: 'b', shape: [2, 3, 5] },
    ],
    build: op('MatMul'),
  },
  {
    name: 'Add broadcast',
    inputs: [
      { name: 'a', shape: [3, 4] },
      { name: 'b', shape: [4] },
    ],
    build: op('Add'),
  },
  {
    name: 'Sub broadcast',
    inputs: [
      { name: 'a', shape: [3, 1] },
      { name: 'b', shape: [1, 4] },
    ],
    build: op('Sub'),
  },
  {
    name: 'Mul broadcast',
    inputs: [
      { name: 'a', shape: [2, 3, 4] },
      { name: 'b', shape: [3, 1] },
    ],
    build: op('Mul'),
  },
  { name: 'Mul same input twice', inputs: [{ name: 'a', shape: [3, 4] }], build: (g, [a]) => g.op('Mul', [a, a]) },
  {
    name: 'Div broadcast',
    inputs: [
      { name: 'a', shape: [3, 4] },
      { name: 'b', shape: [4], data: positive(4, 1) },
    ],
    build: op('Div'),
  },
  {
    name: 'Pow',
    inputs: [
      { name: 'a', shape: [6], data: positive(6, 2) },
      { name: 'b', shape: [6] },
    ],
    build: op('Pow'),
  },
  { name: 'Neg', inputs: [{ name: 'a', shape: [5] }], build: op('Neg') },
  { name: 'Relu', inputs: [{ name: 'a', shape: [4, 5] }], build: op('Relu') },
  { name: 'LeakyRelu', inputs: [{ name: 'a', shape: [4, 5] }], build: op('LeakyRelu', { alpha: float(0.2) }) },
  { name: 'LeakyRelu alpha > 1', inputs: [{ name: 'a', shape: [4, 5] }], build: op('LeakyRelu', { alpha: float(1.5) }) },
  { name: 'LeakyRelu alpha < 0', inputs: [{ name: 'a', shape: [4, 5] }], build: op('LeakyRelu', { alpha: float(-0.3) }) },
  { name: 'Elu', inputs: [{ name: 'a', shape: [4, 5] }], build: op('Elu', { alpha: float(0.7) }) },
  { name: 'Tanh', inputs: [{ name: 'a', shape: [4, 5] }], build: op('Tanh') },
  { name: 'Sigmoid', inputs: [{ name: 'a', shape: [4, 5] }], build: op('Sigmoid') },
  { name: 'Softplus', inputs: [{ name: 'a', shape: [4, 5] }], build: op('Softplus') },
  { name: 'Exp', inputs: [{ name: 'a', shape: [4, 5] }], build: op('Exp') },
  { name: 'Log', inputs: [{ name: 'a', shape: [6], data: positive(6, 3) }], build: op('Log') },
  { name: 'Sqrt', inputs: [{ name: 'a', shape: [6], data: positive(6, 4) }], build: op('Sqrt') },
  { name: 'Reciprocal', inputs: [{ name: 'a', shape: [6], data: positive(6, 5) }], build: op('Reciprocal') },
  { name: 'Abs', inputs: [{ name: 'a', shape: [6] }], build: op('Abs') },
  { name: 'Erf', inputs: [{ name: 'a', shape: [6] }], build: op('Erf') },
  { name: 'Softsign', inputs: [{ name: 'a', shape: [6] }], build: op('Softsign') },
  { name: 'Clip', inputs: [{ name: 'a', shape: [8] }], build: (g, [a]) => g.op('Clip', [a, g.scalar(-0.7), g.scalar(0.9)]) },
  {
    name: 'Max',
    inputs: [
      { name: 'a', shape: [3, 4] },
      { name: 'b', shape: [4] },
    ],
    build: op('Max'),
  },
  {
    name: 'Min',
    inputs: [
      { name: 'a', shape: [3, 4] },
      { name: 'b', shape: [3, 4] },
    ],
    build: op('Min'),
  },
  {
    name: 'Where',
    inputs: [
      { name: 'a', shape: [3, 4] },
      { name: 'b', shape: [4] },
    ],
    build: (g, [a, b]) => g.op('Where', [g.op('Greater', [a, g.scalar(0)]), a, b]),
  },
  { name: 'Identity+Cast', inputs: [{ name: 'a', shape: [3] }], build: (g, [a]) => g.op('Cast', [g.op('Identity', [a])], { to: int(1) }) },
  { name: 'Reshape', inputs: [{ name: 'a', shape: [2, 6] }], build: (g, [a]) => g.op('Reshape', [a, g.int64s([0, 3, -1])]) },
  { name: 'Flatten', inputs: [{ name: 'a', shape: [2, 3, 2] }], build: op('Flatten', { axis: int(1) }) },
  { name: 'Transpose', inputs: [{ name: 'a', shape: [2, 3, 4] }], build: op('Transpose', { perm: ints([2, 0, 1]) }) },
  {
    name: 'Concat',
    inputs: [
      { name: 'a', shape: [2, 3] },
      { name: 'b', shape: [2, 2] },
    ],
    build: op('Concat', { axis: int(1) }),
  },
  {
    name: 'Split',
    inputs: [{ name: 'a', shape: [2, 5] }],
    build: (g, [a]) => {
      const [p, q] = g.add('Split', [a, g.int64s([2, 3])], { axis: int(1) }, 2);
      return g.op('Concat', [g.op('Mul', [p, g.scalar(2)]), q], { axis: int(1) });
    },
  },
  { name: 'Slice', inputs: [{ name: 'a', shape: [4, 5] }], build: (g, [a]) => g.op('Slice', [a, g.int64s([1, 0]), g.int64s([3, -1]), g.int64s([0, 1])]) },
  { name: 'Pad', inputs: [{ name: 'a', shape: [2, 3] }], build: (g, [a]) => g.op('Pad', [a, g.int64s([1, 0, 0, 2])], { mode: str('constant') }) },
  {
    name: 'Squeeze+Unsqueeze',
    inputs: [{ name: 'a', shape: [3, 1, 2] }],
    build: (g, [a]) => g.op('Unsqueeze', [g.op('Squeeze', [a, g.int64s([1])]), g.int64s([0])]),
  },
  { name: 'Expand', inputs: [{ name: 'a', shape: [3, 1] }], build: (g, [a]) => g.op('Expand', [a, g.int64s([2, 3, 4])]) },
  {
    name: 'ReduceSum keepdims 0',
    inputs: [{ name: 'a', shape: [2, 3, 4] }],
    build: (g, [a]) => g.op('ReduceSum', [a, g.int64s([0, 2])], { keepdims: int(0) }),
  },
  { name: 'ReduceMean keepdims 1', inputs: [{ name: 'a', shape: [2, 3, 4] }], build: op('ReduceMean', { axes: ints([1]), keepdims: int(1) }) },
  { name: 'ReduceMean all', inputs: [{ name: 'a', shape: [2, 3] }], build: op('ReduceMean', { keepdims: int(0) }) },
  {
    name: 'ReduceMean over a symbolic batch axis',
    // The batch size is unknown when the graph is built, so the mean's count is computed at run time.
    inputs: [{ name: 'a', shape: [4, 3], graphShape: ['batch', 3] }],
    build: op('ReduceMean', { axes: ints([0]), keepdims: int(0) }),
  },
  { name: 'Softmax', inputs: [{ name: 'a', shape: [3, 5] }], build: op('Softmax', { axis: int(-1) }) },
  { name: 'Softmax axis 1 of 3', inputs: [{ name: 'a', shape: [2, 3, 4] }], build: op('Softmax', { axis: int(1) }) },
  { name: 'LogSoftmax', inputs: [{ name: 'a', shape: [3, 5] }], build: op('LogSoftmax', { axis: int(1) }) },
  {
    name: 'Conv stride 2 pad 1 with bias',
    inputs: [
      { name: 'x', shape: [2, 3, 7, 7] },
      { name: 'w', shape: [4, 3, 3, 3] },
      { name: 'b', shape: [4] },
    ],
    build: op('Conv', { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }),
  },
  {
    name: 'Conv dilation 2, asymmetric pads',
    inputs: [
      { name: 'x', shape: [1, 2, 8, 6] },
      { name: 'w', shape: [3, 2, 2, 3] },
    ],
    build: op('Conv', { dilations: ints([2, 1]), pads: ints([0, 1, 1, 0]), strides: ints([1, 2]) }),
  },
  {
    name: 'Conv group 2 (input gradient)',
    inputs: [
      { name: 'x', shape: [1, 4, 5, 5] },
      { name: 'w', shape: [6, 2, 3, 3], check: false },
    ],
    build: op('Conv', { group: int(2), pads: ints([1, 1, 1, 1]) }),
  },
  {
    name: 'Conv auto_pad SAME_UPPER',
    inputs: [
      { name: 'x', shape: [1, 2, 6, 6] },
      { name: 'w', shape: [2, 2, 4, 4] },
    ],
    build: op('Conv', { auto_pad: str('SAME_UPPER'), strides: ints([2, 2]) }),
  },
  {
    name: 'ConvTranspose stride 2 pad 1 with bias',
    inputs: [
      { name: 'x', shape: [2, 3, 4, 4] },
      { name: 'w', shape: [3, 2, 4, 4] },
      { name: 'b', shape: [2] },
    ],
    build: op('ConvTranspose', { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }),
  },
  {
    name: 'ConvTranspose output_padding, dilation',
    inputs: [
      { name: 'x', shape: [1, 2, 3, 4] },
      { name: 'w', shape: [2, 3, 3, 2] },
    ],
    build: op('ConvTranspose', { strides: ints([2, 3]), output_padding: ints([1, 2]), dilations: ints([1, 2]), pads: ints([0, 1, 1, 0]) }),
  },
  {
    name: 'Conv whose window covers the input (1x1 output, Gemm gradient)',
    inputs: [
      { name: 'x', shape: [3, 4, 3, 2] },
      { name: 'w', shape: [2, 4, 3, 2] },
      { name: 'b', shape: [2] },
    ],
    build: op('Conv'),
  },
  {
    name: 'ConvTranspose from a 1x1 input (Gemm gradient)',
    inputs: [
      { name: 'x', shape: [3, 5, 1, 1] },
      { name: 'w', shape: [5, 2, 4, 3] },
    ],
    build: op('ConvTranspose', { strides: ints([2, 2]) }),
  },
  {
    name: 'Conv 1-D',
    inputs: [
      { name: 'x', shape: [2, 2, 9] },
      { name: 'w', shape: [3, 2, 3] },
    ],
    build: op('Conv', { strides: ints([2]), pads: ints([1, 1]) }),
  },
  {
    name: 'BatchNormalization (constant statistics)',
    inputs: [{ name: 'x', shape: [2, 3, 2, 2] }],
    build: (g, [x]) =>
      g.op(
        'BatchNormalization',
        [
          x,
          g.float32(Float32Array.of(0.5, 1.5, -1), [3]),
          g.float32(Float32Array.of(0.1, 0, -0.2), [3]),
          g.float32(Float32Array.of(0.3, -0.1, 0), [3]),
          g.float32(Float32Array.of(0.5, 2, 1.2), [3]),
        ],
        { epsilon: float(1e-3) },
      ),
  },
  {
    name: 'BatchNormalization scale and bias gradients',
    inputs: [
      { name: 'x', shape: [4, 3] },
      { name: 's', shape: [3] },
      { name: 'b', shape: [3] },
    ],
    build: (g, [x, s, b]) => g.op('BatchNormalization', [x, s, b, g.float32(Float32Array.of(0.3, -0.1, 0), [3]), g.float32(Float32Array.of(0.5, 2, 1.2), [3])]),
  },
  {
    name: 'Resize nearest x2 (asymmetric, floor)',
    inputs: [{ name: 'x', shape: [1, 2, 3, 3] }],
    build: (g, [x]) =>
      g.op('Resize', [x, '', g.float32(Float32Array.of(1, 1, 2, 2), [4])], {
        mode: str('nearest'),
        coordinate_transformation_mode: str('asymmetric'),
        nearest_mode: str('floor'),
      }),
  },
  {
    name: 'Resize nearest by sizes (half_pixel)',
    inputs: [{ name: 'x', shape: [1, 1, 2, 3] }],
    build: (g, [x]) => g.op('Resize', [x, '', '', g.int64s([1, 1, 6, 3])], { mode: str('nearest') }),
  },
  { name: 'AveragePool', inputs: [{ name: 'x', shape: [1, 2, 6, 6] }], build: op('AveragePool', { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }) },
  {
    name: 'AveragePool padded, count_include_pad 0',
    inputs: [{ name: 'x', shape: [1, 2, 5, 5] }],
    build: op('AveragePool', { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }),
  },
  {
    name: 'AveragePool padded, count_include_pad 1',
    inputs: [{ name: 'x', shape: [1, 1, 5, 4] }],
    build: op('AveragePool', { kernel_shape: ints([3, 2]), pads: ints([1, 0, 1, 1]), count_include_pad: int(1) }),
  },
  { name: 'MaxPool 2x2 stride 2', inputs: [{ name: 'x', shape: [2, 3, 6, 6] }], build: op('MaxPool', { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }) },
  {
    name: 'MaxPool 3x3 stride 2 padded (overlapping windows)',
    inputs: [{ name: 'x', shape: [1, 2, 7, 6] }],
    build: op('MaxPool', { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }),
  },
  {
    name: 'MaxPool ceil_mode (partial last window), dilation',
    inputs: [{ name: 'x', shape: [1, 1, 8, 7] }],
    build: op('MaxPool', { kernel_shape: ints([2, 3]), strides: ints([3, 2]), dilations: ints([2, 1]), ceil_mode: int(1) }),
  },
  {
    name: 'MaxPool whose windows miss the last rows and columns',
    inputs: [{ name: 'x', shape: [1, 2, 7, 7] }],
    build: op('MaxPool', { kernel_shape: ints([2, 2]), strides: ints([3, 3]) }),
  },
  { name: 'MaxPool 1-D, stride 1', inputs: [{ name: 'x', shape: [2, 2, 9] }], build: op('MaxPool', { kernel_shape: ints([3]) }) },
  {
    name: 'MaxPool with its Indices output',
    inputs: [{ name: 'x', shape: [1, 2, 4, 4] }],
    build: (g, [x]) => g.add('MaxPool', [x], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }, 2)[0],
  },
  { name: 'GlobalAveragePool', inputs: [{ name: 'x', shape: [2, 3, 4, 4] }], build: op('GlobalAveragePool') },
  {
    name: 'Constant operand',
    inputs: [{ name: 'a', shape: [2, 3] }],
    build: (g, [a]) =>
      g.op('Mul', [a, g.op('Constant', [], { value: { type: 'tensor', v: { dtype: 'float32', dims: [3], data: Float32Array.of(1, -2, 3) } } })]),
  },
  {
    name: 'self-attention block',
    inputs: [{ name: 'x', shape: [2, 4, 3] }],
    build: (g, [x]) => {
      const q = g.op('MatMul', [x, constant(g, [3, 3], 11)]);
      const k = g.op('MatMul', [x, constant(g, [3, 3], 12)]);
      const v = g.op('MatMul', [x, constant(g, [3, 3], 13)]);
      const s = g.op('Div', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: ints([0, 2, 1]) })]), g.scalar(Math.sqrt(3))]);
      return g.op('Add', [x, g.op('MatMul', [g.op('Softmax', [s], { axis: int(-1) }), v])]);
    },
  },
  {
    // SAGAN's layout: features [N, C, HW], attention softmax over the last axis, O = V P^T.
    name: 'self-attention block, values times the transposed weights',
    inputs: [{ name: 'x', shape: [2, 3, 5] }],
    build: (g, [x]) => {
      const f = g.op('MatMul', [constant(g, [2, 3], 21), x]);
      const k = g.op('MatMul', [constant(g, [2, 3], 22), x]);
      const v = g.op('MatMul', [constant(g, [3, 3], 23), x]);
      const p = g.op('Softmax', [g.op('MatMul', [g.op('Transpose', [f], { perm: ints([0, 2, 1]) }), k])], { axis: int(-1) });
      return g.op('Add', [x, g.op('MatMul', [v, g.op('Transpose', [p], { perm: ints([0, 2, 1]) })])]);
    },
  },
  // Reductions beyond sums and means (values far apart: no ties, no switch of the maximum).
  {
    name: 'ReduceMax over axis 1',
    inputs: [{ name: 'x', shape: [3, 4, 2], data: spread(24, 1) }],
    build: op('ReduceMax', { axes: ints([1]), keepdims: int(0) }),
  },
  { name: 'ReduceMax over all axes', inputs: [{ name: 'x', shape: [3, 4], data: spread(12, 2) }], build: op('ReduceMax', { keepdims: int(0) }) },
  {
    name: 'ReduceMin, opset 18 (axes as an input)',
    opset: 18,
    inputs: [{ name: 'x', shape: [2, 3, 4], data: spread(24, 3) }],
    build: (g, [x]) => g.op('ReduceMin', [x, g.int64s([-1])], { keepdims: int(1) }),
  },
  { name: 'ReduceLogSumExp (torch.logsumexp)', inputs: [{ name: 'x', shape: [3, 5] }], build: op('ReduceLogSumExp', { axes: ints([1]), keepdims: int(0) }) },
  {
    name: 'ReduceLogSumExp, opset 18',
    opset: 18,
    inputs: [{ name: 'x', shape: [2, 3, 4] }],
    build: (g, [x]) => g.op('ReduceLogSumExp', [x, g.int64s([0, 2])], { keepdims: int(1) }),
  },
  { name: 'ReduceL2 (torch.norm)', inputs: [{ name: 'x', shape: [3, 5] }], build: op('ReduceL2', { axes: ints([1]) }) },
  { name: 'ReduceL1', inputs: [{ name: 'x', shape: [3, 5] }], build: op('ReduceL1', { axes: ints([0]) }) },
  { name: 'ReduceSumSquare', inputs: [{ name: 'x', shape: [3, 5] }], build: op('ReduceSumSquare', { axes: ints([1]), keepdims: int(0) }) },
  { name: 'ReduceLogSum', inputs: [{ name: 'x', shape: [3, 5], data: positive(15, 4) }], build: op('ReduceLogSum', { axes: ints([1]) }) },
  // Activations PyTorch exports as single operators.
  {
    name: 'PRelu, slope per channel',
    inputs: [
      { name: 'x', shape: [2, 3, 2, 2] },
      { name: 'slope', shape: [3, 1, 1] },
    ],
    build: op('PRelu'),
  },
  { name: 'Selu', inputs: [{ name: 'x', shape: [4, 6], data: spread(24, 5) }], build: op('Selu') },
  { name: 'Celu', inputs: [{ name: 'x', shape: [4, 6], data: spread(24, 6) }], build: op('Celu', { alpha: float(0.7) }) },
  { name: 'ThresholdedRelu', inputs: [{ name: 'x', shape: [4, 6], data: spread(24, 7) }], build: op('ThresholdedRelu') },
  { name: 'HardSigmoid', inputs: [{ name: 'x', shape: [4, 6], data: spread(24, 8) }], build: op('HardSigmoid') },
  {
    name: 'HardSigmoid alpha 1/6 (torch.nn.Hardsigmoid)',
    inputs: [{ name: 'x', shape: [4, 6], data: spread(24, 9) }],
    build: op('HardSigmoid', { alpha: float(1 / 6) }),
  },
  { name: 'HardSwish', opset: 14, inputs: [{ name: 'x', shape: [4, 6], data: spread(24, 10) }], build: op('HardSwish') },
  { name: 'Gelu (exact)', opset: 20, inputs: [{ name: 'x', shape: [4, 6], data: spread(24, 11) }], build: op('Gelu') },
  { name: 'Gelu (tanh)', opset: 20, inputs: [{ name: 'x', shape: [4, 6], data: spread(24, 12) }], build: op('Gelu', { approximate: str('tanh') }) },
  { name: 'Mish', opset: 18, inputs: [{ name: 'x', shape: [4, 6], data: spread(24, 13) }], build: op('Mish') },
  { name: 'Sin', inputs: [{ name: 'x', shape: [3, 4] }], build: op('Sin') },
  { name: 'Cos', inputs: [{ name: 'x', shape: [3, 4] }], build: op('Cos') },
  // Data movement.
  { name: 'Tile', inputs: [{ name: 'x', shape: [2, 3, 2] }], build: (g, [x]) => g.op('Tile', [x, g.int64s([2, 1, 3])]) },
  {
    name: 'Gather along axis 1, repeated and negative indices',
    inputs: [{ name: 'x', shape: [2, 5, 3] }],
    build: (g, [x]) => g.op('Gather', [x, g.constant({ dtype: 'int64', dims: [2, 2], data: BigInt64Array.of(0n, 3n, -1n, 3n) })], { axis: int(1) }),
  },
  {
    name: 'Gather of one row (x[:, 0])',
    inputs: [{ name: 'x', shape: [3, 4, 2] }],
    build: (g, [x]) => g.op('Gather', [x, g.scalar(0, 'int64')], { axis: int(1) }),
  },
  // Einsum as exported for attention and contractions.
  {
    name: "Einsum 'bhid,bhjd->bhij' (attention scores)",
    inputs: [
      { name: 'q', shape: [2, 2, 3, 4] },
      { name: 'k', shape: [2, 2, 5, 4] },
    ],
    build: (g, n) => g.op('Einsum', n, { equation: str('bhid,bhjd->bhij') }),
  },
  {
    name: "Einsum 'ij,jk' (implicit output)",
    inputs: [
      { name: 'a', shape: [3, 4] },
      { name: 'b', shape: [4, 2] },
    ],
    build: (g, n) => g.op('Einsum', n, { equation: str('ij,jk') }),
  },
  {
    name: "Einsum '...ij,...jk->...ik' (ellipsis)",
    inputs: [
      { name: 'a', shape: [2, 3, 4] },
      { name: 'b', shape: [2, 4, 2] },
    ],
    build: (g, n) => g.op('Einsum', n, { equation: str('...ij,...jk->...ik') }),
  },
  {
    name: "Einsum 'bij,k->bk' (indices only one operand has)",
    inputs: [
      { name: 'a', shape: [2, 3, 4] },
      { name: 'b', shape: [5] },
    ],
    build: (g, n) => g.op('Einsum', n, { equation: str('bij,k->bk') }),
  },
  { name: "Einsum 'ij->ji' (one operand)", inputs: [{ name: 'a', shape: [3, 4] }], build: (g, n) => g.op('Einsum', n, { equation: str('ij->ji') }) },
  // Weight gradients of grouped convolutions.
  {
    name: 'Conv group 2, stride 2, pads (weight gradient)',
    inputs: [
      { name: 'x', shape: [2, 4, 6, 5] },
      { name: 'w', shape: [6, 2, 3, 3] },
      { name: 'b', shape: [6] },
    ],
    build: op('Conv', { group: int(2), pads: ints([1, 0, 1, 1]), strides: ints([2, 1]) }),
  },
  {
    name: 'Conv depthwise (group = channels), dilation 2',
    inputs: [
      { name: 'x', shape: [2, 3, 7, 7] },
      { name: 'w', shape: [6, 1, 3, 3] },
    ],
    build: op('Conv', { group: int(3), dilations: ints([2, 2]), pads: ints([2, 2, 2, 2]) }),
  },
  {
    name: 'ConvTranspose group 2 (weight gradient)',
    inputs: [
      { name: 'x', shape: [2, 4, 3, 3] },
      { name: 'w', shape: [4, 3, 4, 4] },
    ],
    build: op('ConvTranspose', { group: int(2), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }),
  },
  {
    name: 'AveragePool 2x2 stride 2 tiling the input (nearest-upsampling gradient)',
    inputs: [{ name: 'x', shape: [2, 3, 6, 4] }],
    build: op('AveragePool', { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
  },
  {
    name: 'AveragePool 1-D k 3 stride 3 tiling',
    inputs: [{ name: 'x', shape: [1, 2, 9] }],
    build: op('AveragePool', { kernel_shape: ints([3]), strides: ints([3]) }),
  },
  // Stride-1 convolutions with constant weights: the input gradient is a Conv with the flipped kernel.
  {
    name: 'Conv 3x3 pad 1, constant weights (flipped-kernel gradient)',
    inputs: [{ name: 'x', shape: [2, 4, 6, 5] }],
    build: (g, [x]) => g.op('Conv', [x, constant(g, [6, 4, 3, 3], 31), constant(g, [6], 32)], { pads: ints([1, 1, 1, 1]) }),
  },
  {
    name: 'Conv dilation 2, asymmetric pads, constant weights',
    inputs: [{ name: 'x', shape: [1, 3, 8, 7] }],
    build: (g, [x]) => g.op('Conv', [x, constant(g, [5, 3, 3, 2], 33)], { dilations: ints([2, 1]), pads: ints([2, 0, 1, 1]) }),
  },
  {
    name: 'Conv 1-D k 5, constant weights',
    inputs: [{ name: 'x', shape: [2, 3, 9] }],
    build: (g, [x]) => g.op('Conv', [x, constant(g, [4, 3, 5], 34)], { pads: ints([1, 2]) }),
  },
  {
    name: 'Conv 1x1 with pad 1, constant weights (pads beyond the kernel: the ConvTranspose rule)',
    inputs: [{ name: 'x', shape: [1, 3, 4, 4] }],
    build: (g, [x]) => g.op('Conv', [x, constant(g, [2, 3, 1, 1], 35)], { pads: ints([1, 1, 1, 1]) }),
  },
  // Resize by interpolation matrices.
  {
    name: 'Resize linear x2 (half_pixel, F.interpolate bilinear)',
    inputs: [{ name: 'x', shape: [2, 2, 3, 4] }],
    build: (g, [x]) => g.op('Resize', [x, '', g.float32(Float32Array.of(1, 1, 2, 2), [4])], { mode: str('linear') }),
  },
  {
    name: 'Resize linear to sizes, align_corners',
    inputs: [{ name: 'x', shape: [1, 2, 4, 3] }],
    build: (g, [x]) => g.op('Resize', [x, '', '', g.int64s([1, 2, 7, 5])], { mode: str('linear'), coordinate_transformation_mode: str('align_corners') }),
  },
  {
    name: 'Resize linear, pytorch_half_pixel, downsampling',
    inputs: [{ name: 'x', shape: [1, 1, 7, 6] }],
    build: (g, [x]) => g.op('Resize', [x, '', '', g.int64s([1, 1, 3, 1])], { mode: str('linear'), coordinate_transformation_mode: str('pytorch_half_pixel') }),
  },
  {
    name: 'Resize cubic x2 (F.interpolate bicubic, a = -0.75)',
    inputs: [{ name: 'x', shape: [1, 2, 4, 4] }],
    build: (g, [x]) =>
      g.op('Resize', [x, '', g.float32(Float32Array.of(1, 1, 2, 2), [4])], { mode: str('cubic'), coordinate_transformation_mode: str('pytorch_half_pixel') }),
  },
  {
    name: 'Resize cubic, exclude_outside, a = -0.5, asymmetric',
    inputs: [{ name: 'x', shape: [1, 1, 5, 4] }],
    build: (g, [x]) =>
      g.op('Resize', [x, '', '', g.int64s([1, 1, 8, 7])], {
        mode: str('cubic'),
        cubic_coeff_a: float(-0.5),
        exclude_outside: int(1),
        coordinate_transformation_mode: str('asymmetric'),
      }),
  },
  {
    name: 'Resize nearest, non-integer scale (asymmetric, floor)',
    inputs: [{ name: 'x', shape: [1, 2, 3, 5] }],
    build: (g, [x]) =>
      g.op('Resize', [x, '', '', g.int64s([1, 2, 5, 3])], {
        mode: str('nearest'),
        coordinate_transformation_mode: str('asymmetric'),
        nearest_mode: str('floor'),
      }),
  },
  {
    name: 'Resize linear 1-D',
    inputs: [{ name: 'x', shape: [2, 3, 5] }],
    build: (g, [x]) => g.op('Resize', [x, '', g.float32(Float32Array.of(1, 1, 1.6), [3])], { mode: str('linear') }),
  },
  // Pads that read the input (reflect, edge, wrap) and strided or reversed slices.
  {
    name: 'Pad reflect (ReflectionPad2d)',
    inputs: [{ name: 'x', shape: [1, 2, 4, 5] }],
    build: (g, [x]) => g.op('Pad', [x, g.int64s([0, 0, 2, 1, 0, 0, 1, 3])], { mode: str('reflect') }),
  },
  {
    name: 'Pad edge (ReplicationPad2d)',
    inputs: [{ name: 'x', shape: [2, 1, 3, 4] }],
    build: (g, [x]) => g.op('Pad', [x, g.int64s([0, 0, 2, 0, 0, 0, 1, 3])], { mode: str('edge') }),
  },
  {
    name: 'Pad wrap (circular padding), opset 19',
    opset: 19,
    inputs: [{ name: 'x', shape: [1, 2, 3, 4] }],
    build: (g, [x]) => g.op('Pad', [x, g.int64s([0, 0, 1, 2, 0, 0, 2, 1])], { mode: str('wrap') }),
  },
  {
    name: 'Slice with step 2 on two axes (x[:, ::2, 1::3])',
    inputs: [{ name: 'x', shape: [2, 5, 7] }],
    build: (g, [x]) => g.op('Slice', [x, g.int64s([0, 1]), g.int64s([5, 7]), g.int64s([1, 2]), g.int64s([2, 3])]),
  },
  {
    name: 'Slice with step -1 (torch.flip)',
    inputs: [{ name: 'x', shape: [2, 3, 4] }],
    build: (g, [x]) => g.op('Slice', [x, g.int64s([-1]), g.int64s([-(2 ** 62)]), g.int64s([2]), g.int64s([-1])]),
  },
  { name: 'DepthToSpace DCR', inputs: [{ name: 'x', shape: [2, 8, 3, 2] }], build: op('DepthToSpace', { blocksize: int(2) }) },
  {
    name: 'DepthToSpace CRD (nn.PixelShuffle)',
    inputs: [{ name: 'x', shape: [1, 18, 2, 3] }],
    build: op('DepthToSpace', { blocksize: int(3), mode: str('CRD') }),
  },
  { name: 'SpaceToDepth', inputs: [{ name: 'x', shape: [2, 3, 4, 6] }], build: op('SpaceToDepth', { blocksize: int(2) }) },
  // Normalisations over each sample's own statistics.
  {
    name: 'LayerNormalization over the last axis',
    opset: 17,
    inputs: [
      { name: 'x', shape: [2, 3, 4] },
      { name: 'scale', shape: [4] },
      { name: 'bias', shape: [4] },
    ],
    build: op('LayerNormalization', { epsilon: float(1e-5) }),
  },
  {
    name: 'LayerNormalization over axes 1.. (with Mean and InvStdDev outputs)',
    opset: 17,
    inputs: [
      { name: 'x', shape: [2, 3, 4] },
      { name: 'scale', shape: [3, 4] },
    ],
    build: (g, n) => g.add('LayerNormalization', n, { axis: int(1) }, 3)[0],
  },
  {
    name: 'InstanceNormalization',
    inputs: [
      { name: 'x', shape: [2, 3, 4, 4] },
      { name: 'scale', shape: [3] },
      { name: 'bias', shape: [3] },
    ],
    build: op('InstanceNormalization', { epsilon: float(1e-5) }),
  },
  {
    name: 'GroupNorm as PyTorch exports it (Reshape, InstanceNormalization, Reshape, affine)',
    inputs: [
      { name: 'x', shape: [2, 4, 3, 3] },
      { name: 'w', shape: [4, 1, 1] },
    ],
    build: (g, [x, w]) => {
      const grouped = g.op('Reshape', [x, g.int64s([2, 2, -1])]);
      const ones = g.float32(Float32Array.of(1, 1), [2]);
      const zeros = g.float32(Float32Array.of(0, 0), [2]);
      const normed = g.op('Reshape', [g.op('InstanceNormalization', [grouped, ones, zeros]), g.int64s([2, 4, 3, 3])]);
      return g.op('Mul', [normed, w]);
    },
  },
  {
    name: 'GroupNormalization, opset 18 (scale per group)',
    opset: 18,
    inputs: [
      { name: 'x', shape: [2, 4, 3, 3] },
      { name: 'scale', shape: [2] },
      { name: 'bias', shape: [2] },
    ],
    build: op('GroupNormalization', { num_groups: int(2) }),
  },
  {
    name: 'GroupNormalization, opset 21 (scale per channel)',
    opset: 21,
    inputs: [
      { name: 'x', shape: [2, 6, 2, 3] },
      { name: 'scale', shape: [6] },
      { name: 'bias', shape: [6] },
    ],
    build: op('GroupNormalization', { num_groups: int(3) }),
  },
];

for (const c of cases) {
  test(`gradient of ${c.name} matches finite differences`, async () => {
    const r = await gradCheck(c.build, c.inputs, { opset: c.opset });
    assert.ok(r.worst < TOL, `worst relative error ${r.worst.toExponential(2)}: ${JSON.stringify(r.details)}`);
  });
}

test('negative control: a gradient off by 1% fails the same check', async () => {
  for (const c of [cases[0], cases.find((k) => k.name.startsWith('Conv stride'))!, cases.find((k) => k.name === 'Softmax')!]) {
    const r = await gradCheck(c.build, c.inputs, { corrupt: 1.01 });
    assert.ok(r.worst > TOL, `${c.name}: corrupted gradient passed (worst ${r.worst})`);
  }
});

test('second-order: gradient of a gradient penalty of an MLP matches finite differences', async () => {
  // P(W1, W2) = sum_i |d/dx sum_j D(x_j)|_i^2 with D(x) = LeakyRelu(x W1 + b) W2: needs the
  // backward pass itself to be differentiable (Gemm, Where, Mul, ReduceSum rules).
  const r = await gradCheck(
    (g, [x, w1, b1, w2]) => {
      const h = g.op('LeakyRelu', [g.op('Gemm', [x, w1, b1])], { alpha: float(0.2) });
      const d = g.op('Gemm', [h, w2]);
      const gx = differentiate(
        g,
        { [d]: g.op('ConstantOfShape', [g.shapeOf(d)], { value: { type: 'tensor', v: { dtype: 'float32', dims: [1], data: Float32Array.of(1) } } }) },
        [x],
      ).get(x)!;
      return g.op('ReduceSum', [g.op('Mul', [gx, gx]), g.int64s([1])], { keepdims: int(0) });
    },
    [
      { name: 'x', shape: [5, 2], check: false },
      { name: 'w1', shape: [2, 8] },
      { name: 'b1', shape: [8] },
      { name: 'w2', shape: [8, 1] },
    ],
  );
  assert.ok(r.worst < TOL, `worst ${r.worst}: ${JSON.stringify(r.details)}`);
});

test("softmax backward of attention: row sums over the product's output, not the [i, j] map (both layouts); a second reader of the weights keeps the plain rule", async () => {
  // O = P V (P on the left) and O = V P^T (SAGAN's), P = softmax over the last axis of a [2, 6, 6] map.
  const layouts = {
    left: (g: Graph, p: string, v: string) => g.op('MatMul', [p, g.op('Transpose', [v], { perm: ints([0, 2, 1]) })]),
    right: (g: Graph, p: string, v: string) => g.op('MatMul', [v, g.op('Transpose', [p], { perm: ints([0, 2, 1]) })]),
  };
  const x = new Rng(31).fillNormal(new Float32Array(2 * 4 * 6));
  for (const [layout, attend] of Object.entries(layouts)) {
    const run = async (secondReader: boolean) => {
      const g = new Graph();
      const xi = g.addInput('x', 'float32', [2, 4, 6]);
      const q = g.op('MatMul', [constant(g, [3, 4], 41), xi]);
      const k = g.op('MatMul', [constant(g, [3, 4], 42), xi]);
      const v = g.op('MatMul', [constant(g, [4, 4], 43), xi]);
      const p = g.op('Softmax', [g.op('MatMul', [g.op('Transpose', [q], { perm: ints([0, 2, 1]) }), k])], { axis: int(-1) });
      const o = attend(g, p, v);
      let y = g.op('Mul', [o, constant(g, g.shape(o) as number[], 44)]);
      // A reader that adds 0 to the value but takes P's gradient apart from the product.
      if (secondReader) y = g.op('Add', [y, g.op('Mul', [g.op('ReduceSum', [p, g.int64s([1, 2])], { keepdims: int(1) }), g.scalar(0)])]);
      const loss = g.op('ReduceSum', [y, g.int64s([0, 1, 2])], { keepdims: int(0) });
      const before = g.nodes.length;
      const grad = differentiate(
        g,
        { [loss]: g.op('ConstantOfShape', [g.shapeOf(loss)], { value: { type: 'tensor', v: { dtype: 'float32', dims: [1], data: Float32Array.of(1) } } }) },
        [xi],
      ).get(xi)!;
      // Backward nodes that sum over a value of the map's shape [2, 6, 6].
      const mapSums = g.nodes.slice(before).filter((n) => n.op === 'ReduceSum' && g.shape(n.inputs[0]).join() === '2,6,6').length;
      g.outputs = [grad];
      const s = await Session.create(g, { threads: 1 });
      const out = (await s.run({ x: { data: x, shape: [2, 4, 6] } }))[grad].data;
      await s.release();
      return { out, mapSums };
    };
    const fast = await run(false);
    const plain = await run(true);
    assert.equal(fast.mapSums, 0, layout);
    assert.equal(plain.mapSums, 1, `${layout}: the plain rule sums over the map`);
    let err = 0;
    let scale = 0;
    for (let i = 0; i < fast.out.length; i++) {
      err = Math.max(err, Math.abs(fast.out[i] - plain.out[i]));
      scale = Math.max(scale, Math.abs(plain.out[i]));
    }
    assert.ok(err / scale < 1e-5, `${layout}: relative difference ${err / scale}`);
  }
});
