/** Element-wise operators: unary activations, broadcasting arithmetic, comparisons, Where. */
import { attrFloat, attrInt, attrString, int, isFloat, type DType, type Graph, type Node } from '../graph.js';
import type { GradCtx, OpDef, OutInfo } from './types.js';
import { broadcast, reduceTo, unsupported } from './util.js';

const sameAsInput = (g: Graph, node: Node): OutInfo[] => [{ dtype: g.dtype(node.inputs[0]), shape: [...g.shape(node.inputs[0])] }];

function unary(op: string, grad: (ctx: GradCtx, x: string, y: string, dy: string) => string): OpDef {
  return {
    op,
    infer: sameAsInput,
    grad(ctx) {
      const dy = ctx.dy[0];
      if (dy === undefined || !ctx.needs(0)) return [undefined];
      return [grad(ctx, ctx.node.inputs[0], ctx.node.outputs[0], dy)];
    },
  };
}

const constantUnary = (op: string): OpDef => ({ op, infer: sameAsInput, constantOutput: true });

function broadcastInfer(dtype?: DType) {
  return (g: Graph, node: Node): OutInfo[] => {
    let shape = g.shape(node.inputs[0]);
    for (const i of node.inputs.slice(1)) shape = broadcast(node, shape, g.shape(i));
    return [{ dtype: dtype ?? g.dtype(node.inputs[0]), shape }];
  };
}

function binary(op: string, grad: (ctx: GradCtx, a: string, b: string, y: string, dy: string) => [string | undefined, string | undefined]): OpDef {
  return {
    op,
    infer: broadcastInfer(),
    grad(ctx) {
      const dy = ctx.dy[0];
      if (dy === undefined) return [undefined, undefined];
      const [a, b] = ctx.node.inputs;
      const [da, db] = grad(ctx, a, b, ctx.node.outputs[0], dy);
      return [da && ctx.needs(0) ? reduceTo(ctx.g, da, a) : undefined, db && ctx.needs(1) ? reduceTo(ctx.g, db, b) : undefined];
    },
  };
}

export const elementwiseOps: OpDef[] = [
  unary('Identity', (_c, _x, _y, dy) => dy),
  {
    op: 'Dropout',
    infer: (g, node) => {
      const out: OutInfo[] = [{ dtype: g.dtype(node.inputs[0]), shape: [...g.shape(node.inputs[0])] }];
      if (node.outputs.length > 1) out.push({ dtype: 'bool', shape: [...g.shape(node.inputs[0])] });
      return out;
    },
    grad(ctx) {
      // Inference graphs only: Dropout is the identity (training_mode must be absent or false).
      if (ctx.node.inputs[2]) unsupported(ctx.node, 'Dropout without a training_mode input (an eval-mode export)', 'a training_mode input');
      return [ctx.needs(0) ? ctx.dy[0] : undefined];
    },
  },
  unary('Neg', ({ g }, _x, _y, dy) => g.op('Neg', [dy])),
  // Relu: dy * 1[y > 0]. The indicator is Cast(Greater(y, 0)): ORT's Sign kernel is several times
  // slower than Greater + Cast, and Where is slower than the Mul. Using the output y (not x) keeps
  // x free to be fused away (Gemm/Conv + Relu).
  unary('Relu', ({ g }, _x, y, dy) => g.op('Mul', [dy, positiveMask(g, y)])),
  unary('LeakyRelu', ({ g, node }, x, y, dy) => {
    const alpha = attrFloat(node, 'alpha', 0.01);
    // For alpha >= 0, y > 0 exactly when x > 0; testing y leaves x (the Conv/Gemm output) with a
    // single consumer, so ORT can fuse the activation into the Conv (FusedConv) or Gemm.
    // The slope (1 or alpha) is made as a tensor and multiplied in. ORT's Where is slow (even with
    // scalar branches); for 0 <= alpha <= 1 the slope is Clip(1[y > 0], alpha, 1), which is exact.
    const ref = alpha >= 0 ? y : x;
    const dtype = g.dtype(dy);
    if (alpha >= 0 && alpha <= 1) return g.op('Mul', [dy, g.op('Clip', [positiveMask(g, y), g.scalar(alpha, dtype), g.scalar(1, dtype)])]);
    const pos = g.op('Greater', [ref, g.scalar(0, g.dtype(ref))]);
    return g.op('Mul', [dy, g.op('Where', [pos, g.scalar(1, dtype), g.scalar(alpha, dtype)])]);
  }),
  unary('Elu', ({ g, node }, x, y, dy) => {
    const alpha = attrFloat(node, 'alpha', 1);
    const pos = g.op('Greater', [x, g.scalar(0)]);
    return g.op('Where', [pos, dy, g.op('Mul', [dy, g.op('Add', [y, g.scalar(alpha)])])]);
  }),
  unary('Tanh', ({ g }, _x, y, dy) => g.op('Mul', [dy, g.op('Sub', [g.scalar(1), g.op('Mul', [y, y])])])),
  unary('Sigmoid', ({ g }, _x, y, dy) => g.op('Mul', [dy, g.op('Mul', [y, g.op('Sub', [g.scalar(1), y])])])),
  unary('Softplus', ({ g }, x, _y, dy) => g.op('Mul', [dy, g.op('Sigmoid', [x])])),
  unary('Exp', ({ g }, _x, y, dy) => g.op('Mul', [dy, y])),
  unary('Log', ({ g }, x, _y, dy) => g.op('Div', [dy, x])),
  unary('Sqrt', ({ g }, _x, y, dy) => g.op('Div', [dy, g.op('Mul', [y, g.scalar(2)])])),
  unary('Reciprocal', ({ g }, _x, y, dy) => g.op('Neg', [g.op('Mul', [dy, g.op('Mul', [y, y])])])),
  unary('Abs', ({ g }, x, _y, dy) => g.op('Mul', [dy, g.op('Sign', [x])])),
  unary('Erf', ({ g }, x, _y, dy) => g.op('Mul', [dy, g.op('Mul', [g.op('Exp', [g.op('Neg', [g.op('Mul', [x, x])])]), g.scalar(2 / Math.sqrt(Math.PI))])])),
  unary('Softsign', ({ g }, x, _y, dy) => {
    const d = g.op('Add', [g.scalar(1), g.op('Abs', [x])]);
    return g.op('Div', [dy, g.op('Mul', [d, d])]);
  }),
  unary('Selu', ({ g, node }, x, y, dy) => {
    const alpha = attrFloat(node, 'alpha', 1.6732632);
    const gamma = attrFloat(node, 'gamma', 1.050701);
    // x > 0: gamma; otherwise gamma alpha e^x = y + gamma alpha.
    const pos = g.op('Greater', [x, g.scalar(0)]);
    return g.op('Mul', [dy, g.op('Where', [pos, g.scalar(gamma), g.op('Add', [y, g.scalar(gamma * alpha)])])]);
  }),
  unary('Celu', ({ g, node }, x, _y, dy) => {
    const alpha = attrFloat(node, 'alpha', 1);
    // x > 0: 1; otherwise e^(x / alpha).
    const pos = g.op('Greater', [x, g.scalar(0)]);
    return g.op('Mul', [dy, g.op('Where', [pos, g.scalar(1), g.op('Exp', [g.op('Div', [x, g.scalar(alpha)])])])]);
  }),
  unary('ThresholdedRelu', ({ g, node }, x, _y, dy) => g.op('Mul', [dy, positiveMask(g, g.op('Sub', [x, g.scalar(attrFloat(node, 'alpha', 1))]))])),
  unary('HardSigmoid', ({ g, node }, x, _y, dy) => {
    const alpha = attrFloat(node, 'alpha', 0.2);
    const beta = attrFloat(node, 'beta', 0.5);
    return g.op('Mul', [dy, g.op('Mul', [openUnitMask(g, g.op('Add', [g.op('Mul', [x, g.scalar(alpha)]), g.scalar(beta)])), g.scalar(alpha)])]);
  }),
  // HardSwish: x * HardSigmoid(x) with alpha 1/6, beta 1/2; slope HardSigmoid(x) + x/6 inside (-3, 3).
  unary('HardSwish', ({ g }, x, _y, dy) => {
    const u = g.op('Add', [g.op('Mul', [x, g.scalar(1 / 6)]), g.scalar(0.5)]);
    const hs = g.op('Clip', [u, g.scalar(0), g.scalar(1)]);
    return g.op('Mul', [dy, g.op('Add', [hs, g.op('Mul', [g.op('Mul', [x, g.scalar(1 / 6)]), openUnitMask(g, u)])])]);
  }),
  unary('Gelu', ({ g, node }, x, _y, dy) => {
    const approximate = attrString(node, 'approximate', 'none');
    if (approximate === 'tanh') {
      // y = x/2 (1 + tanh u), u = c (x + k x^3): y' = (1 + t)/2 + x/2 (1 - t^2) c (1 + 3k x^2).
      const c = Math.sqrt(2 / Math.PI);
      const k = 0.044715;
      const x2 = g.op('Mul', [x, x]);
      const t = g.op('Tanh', [g.op('Mul', [g.op('Mul', [x, g.op('Add', [g.scalar(1), g.op('Mul', [x2, g.scalar(k)])])]), g.scalar(c)])]);
      const outer = g.op('Mul', [g.op('Add', [g.scalar(1), t]), g.scalar(0.5)]);
      const inner = g.op('Mul', [
        g.op('Mul', [x, g.op('Sub', [g.scalar(1), g.op('Mul', [t, t])])]),
        g.op('Add', [g.scalar(c / 2), g.op('Mul', [x2, g.scalar((3 * k * c) / 2)])]),
      ]);
      return g.op('Mul', [dy, g.op('Add', [outer, inner])]);
    }
    if (approximate !== 'none') unsupported(node, "approximate 'none' or 'tanh'", approximate);
    // y = x Phi(x): y' = Phi(x) + x phi(x).
    const cdf = g.op('Mul', [g.op('Add', [g.scalar(1), g.op('Erf', [g.op('Mul', [x, g.scalar(Math.SQRT1_2)])])]), g.scalar(0.5)]);
    const pdf = g.op('Mul', [g.op('Exp', [g.op('Mul', [g.op('Mul', [x, x]), g.scalar(-0.5)])]), g.scalar(1 / Math.sqrt(2 * Math.PI))]);
    return g.op('Mul', [dy, g.op('Add', [cdf, g.op('Mul', [x, pdf])])]);
  }),
  // Mish: y = x tanh(softplus x): y' = tanh(sp) + x (1 - tanh(sp)^2) sigmoid(x).
  unary('Mish', ({ g }, x, _y, dy) => {
    const t = g.op('Tanh', [g.op('Softplus', [x])]);
    const slope = g.op('Add', [t, g.op('Mul', [g.op('Mul', [x, g.op('Sub', [g.scalar(1), g.op('Mul', [t, t])])]), g.op('Sigmoid', [x])])]);
    return g.op('Mul', [dy, slope]);
  }),
  unary('Sin', ({ g }, x, _y, dy) => g.op('Mul', [dy, g.op('Cos', [x])])),
  unary('Cos', ({ g }, x, _y, dy) => g.op('Neg', [g.op('Mul', [dy, g.op('Sin', [x])])])),
  {
    op: 'Cast',
    infer: (g, node) => [{ dtype: castTarget(node), shape: [...g.shape(node.inputs[0])] }],
    grad(ctx) {
      const { g, node } = ctx;
      const dy = ctx.dy[0];
      const from = g.dtype(node.inputs[0]);
      // Only float-to-float casts carry a gradient; the gradient is cast back.
      if (dy === undefined || !ctx.needs(0) || !isFloat(from) || !isFloat(castTarget(node))) return [undefined];
      return [from === castTarget(node) ? dy : g.op('Cast', [dy], { to: int(DTYPE_CODES[from]) })];
    },
  },
  {
    op: 'Clip',
    infer: sameAsInput,
    grad(ctx) {
      const { g, node } = ctx;
      const dy = ctx.dy[0];
      if (dy === undefined || !ctx.needs(0)) return [undefined];
      const x = node.inputs[0];
      let mask: string | undefined;
      if (node.inputs[1]) mask = g.op('GreaterOrEqual', [x, node.inputs[1]]);
      if (node.inputs[2]) {
        const m2 = g.op('LessOrEqual', [x, node.inputs[2]]);
        mask = mask ? g.op('And', [mask, m2]) : m2;
      }
      return [mask ? g.op('Where', [mask, dy, g.scalar(0)]) : dy];
    },
  },
  constantUnary('Sign'),
  constantUnary('Floor'),
  constantUnary('Ceil'),
  constantUnary('Round'),
  { op: 'Not', infer: (g, node) => [{ dtype: 'bool', shape: [...g.shape(node.inputs[0])] }], constantOutput: true },
  { op: 'IsNaN', infer: (g, node) => [{ dtype: 'bool', shape: [...g.shape(node.inputs[0])] }], constantOutput: true },
  { op: 'IsInf', infer: (g, node) => [{ dtype: 'bool', shape: [...g.shape(node.inputs[0])] }], constantOutput: true },
  binary('Add', (_c, _a, _b, _y, dy) => [dy, dy]),
  binary('Sub', ({ g, needs }, _a, _b, _y, dy) => [dy, needs(1) ? g.op('Neg', [dy]) : undefined]),
  binary('Mul', ({ g, needs }, a, b, _y, dy) => [needs(0) ? g.op('Mul', [dy, b]) : undefined, needs(1) ? g.op('Mul', [dy, a]) : undefined]),
  binary('Div', ({ g, needs }, _a, b, y, dy) => {
    const da = g.op('Div', [dy, b]);
    return [da, needs(1) ? g.op('Neg', [g.op('Mul', [da, y])]) : undefined];
  }),
  binary('PRelu', ({ g, needs }, a, b, _y, dy) => {
    // y = x for x > 0, slope * x otherwise (slope broadcast to x).
    const pos = g.op('Greater', [a, g.scalar(0)]);
    const zero = g.scalar(0);
    return [
      needs(0) ? g.op('Mul', [dy, g.op('Where', [pos, g.scalar(1), b])]) : undefined,
      needs(1) ? g.op('Where', [pos, zero, g.op('Mul', [dy, a])]) : undefined,
    ];
  }),
  binary('Pow', ({ g, needs }, a, b, y, dy) => {
    // d/da a^b = b a^(b-1); d/db a^b = a^b ln a
    const da = needs(0) ? g.op('Mul', [dy, g.op('Mul', [b, g.op('Pow', [a, g.op('Sub', [b, g.scalar(1)])])])]) : undefined;
    const db = needs(1) ? g.op('Mul', [dy, g.op('Mul', [y, g.op('Log', [a])])]) : undefined;
    return [da, db];
  }),
  {
    op: 'Max',
    infer: broadcastInfer(),
    grad: (ctx) => minMaxGrad(ctx, 'GreaterOrEqual'),
  },
  {
    op: 'Min',
    infer: broadcastInfer(),
    grad: (ctx) => minMaxGrad(ctx, 'LessOrEqual'),
  },
  ...['Greater', 'Less', 'Equal', 'GreaterOrEqual', 'LessOrEqual', 'And', 'Or', 'Xor'].map(
    (op): OpDef => ({ op, infer: broadcastInfer('bool'), constantOutput: true }),
  ),
  {
    op: 'Where',
    infer: (g, node) => {
      const [c, a, b] = node.inputs;
      return [{ dtype: g.dtype(a), shape: broadcast(node, broadcast(node, g.shape(c), g.shape(a)), g.shape(b)) }];
    },
    grad(ctx) {
      const { g, node } = ctx;
      const dy = ctx.dy[0];
      if (dy === undefined) return [undefined, undefined, undefined];
      const [c, a, b] = node.inputs;
      const zero = g.scalar(0);
      return [
        undefined,
        ctx.needs(1) ? reduceTo(g, g.op('Where', [c, dy, zero]), a) : undefined,
        ctx.needs(2) ? reduceTo(g, g.op('Where', [c, zero, dy]), b) : undefined,
      ];
    },
  },
];

/** 1[v > 0] as a tensor of v's (float) dtype. */
function positiveMask(g: Graph, v: string): string {
  const dtype = g.dtype(v);
  return g.op('Cast', [g.op('Greater', [v, g.scalar(0, dtype)])], { to: int(DTYPE_CODES[dtype]) });
}

/** 1[0 < v < 1] as a float32 tensor: where a Clip to [0, 1] passes its input through. */
function openUnitMask(g: Graph, v: string): string {
  const inside = g.op('And', [g.op('Greater', [v, g.scalar(0)]), g.op('Less', [v, g.scalar(1)])]);
  return g.op('Cast', [inside], { to: int(DTYPE_CODES.float32) });
}

/** Two-input Max/Min: the gradient goes to the selected input (to the first one on ties). */
function minMaxGrad(ctx: GradCtx, cmp: string): (string | undefined)[] {
  const { g, node } = ctx;
  const dy = ctx.dy[0];
  if (node.inputs.length !== 2) unsupported(node, `${node.op} with 2 inputs for differentiation`, `${node.inputs.length} inputs`);
  if (dy === undefined) return [undefined, undefined];
  const [a, b] = node.inputs;
  const pick = g.op(cmp, [a, b]);
  const zero = g.scalar(0);
  return [
    ctx.needs(0) ? reduceTo(g, g.op('Where', [pick, dy, zero]), a) : undefined,
    ctx.needs(1) ? reduceTo(g, g.op('Where', [pick, zero, dy]), b) : undefined,
  ];
}

/** ONNX TensorProto.DataType codes of the dtypes Refinery handles. */
export const DTYPE_CODES: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
};

function castTarget(node: Node): DType {
  const to = attrInt(node, 'to', 0);
  const hit = (Object.keys(DTYPE_CODES) as DType[]).find((k) => DTYPE_CODES[k] === to);
  if (hit === undefined) unsupported(node, 'a cast to float, double, int8/32/64, uint8 or bool', `data type ${to}`);
  return hit;
}
