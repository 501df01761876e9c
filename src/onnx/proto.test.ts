import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { RefineryError } from '../errors.js';
import { readNpy } from '../io/npyfile.js';
import {
  AttributeType,
  DataType,
  type ModelProto,
  type TensorProto,
  attr,
  boolTensor,
  decodeModel,
  encodeModel,
  floatAttr,
  floatTensor,
  floatsAttr,
  getFloat,
  getFloats,
  getInt,
  getInts,
  getString,
  getTensor,
  int64Tensor,
  intAttr,
  intsAttr,
  makeNode,
  makeTensor,
  makeTensorValueInfo,
  requireInt,
  stringAttr,
  tensorAttr,
  tensorToArray,
  valueInfoShape,
} from './proto.js';

const FIXTURES = path.resolve(process.cwd(), '../shared/fixtures/onnx');
const CASES = ['mlp2d', 'dcgan32', 'mnist_dcgan28'] as const;
const ROLES = [
  { role: 'generator', input: 'z', output: 'x', golden: 'x.npy' },
  { role: 'discriminator', input: 'x', output: 'logit', golden: 'logit.npy' },
] as const;

interface Meta {
  opset: number;
  onnx: Record<'generator' | 'discriminator', { op_types: string[]; input: string; output: string }>;
}

function readMeta(c: string): Meta {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, c, 'meta.json'), 'utf8')) as Meta;
}

function expectRefineryError(fn: () => unknown, code: string, pathPart?: string): RefineryError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RefineryError, `expected RefineryError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (pathPart !== undefined) assert.ok(e.message.includes(pathPart), `message ${JSON.stringify(e.message)} should mention ${pathPart}`);
    return e;
  }
  assert.fail('expected a RefineryError');
}

/** Deterministic pseudo-random bytes (LCG), so the test never depends on luck. */
function pseudoRandomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let k = 0; k < n; k++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[k] = s >>> 24;
  }
  return out;
}

async function runModel(bytes: Uint8Array, input: string, data: Float32Array, shape: number[]): Promise<Map<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const result = await session.run({ [input]: new ort.Tensor('float32', data, shape) });
    return new Map(Object.entries(result));
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]! - b[k]!));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]!));
  return m;
}

describe('decodeModel on the PyTorch fixtures', () => {
  for (const c of CASES) {
    const meta = readMeta(c);
    for (const { role, input, output, golden } of ROLES) {
      const file = path.join(FIXTURES, c, `${role}.onnx`);
      const original = new Uint8Array(fs.readFileSync(file));

      it(`${c}/${role}: structure matches meta.json`, () => {
        const model = decodeModel(original, file);
        const graph = model.graph!;
        const ops = [...new Set(graph.node.map((n) => n.opType!))].sort();
        assert.deepEqual(ops, [...meta.onnx[role].op_types].sort());
        assert.deepEqual(
          graph.input.map((v) => v.name),
          [input],
        );
        assert.deepEqual(
          graph.output.map((v) => v.name),
          [output],
        );
        assert.equal(meta.onnx[role].input, input);
        assert.equal(meta.onnx[role].output, output);
        const defaultOpset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
        assert.equal(defaultOpset?.version, 13);
        assert.equal(meta.opset, 13);
        assert.equal(typeof model.irVersion, 'number');
        assert.equal(model.producerName, 'pytorch');
        // The batch axis is symbolic, the rest fixed.
        const shape = valueInfoShape(graph.input[0]!)!;
        assert.equal(shape[0], 'batch');
        for (const d of shape.slice(1)) assert.equal(typeof d, 'number');
        // Weights are initializers with raw float data and a plain Uint8Array (not a Buffer view).
        assert.ok(graph.initializer.length > 0);
        for (const t of graph.initializer) {
          assert.ok(t.rawData instanceof Uint8Array && t.rawData.constructor === Uint8Array);
          const arr = tensorToArray(t);
          assert.equal(
            arr.data.length,
            arr.dims.reduce((a, b) => a * b, 1),
          );
        }
        // Every node has array fields even when empty.
        for (const n of graph.node) {
          assert.ok(Array.isArray(n.input) && Array.isArray(n.output) && Array.isArray(n.attribute));
        }
      });

      it(`${c}/${role}: encode → decode is lossless`, () => {
        const model = decodeModel(original, file);
        const encoded = encodeModel(model);
        assert.ok(encoded instanceof Uint8Array);
        // PyTorch (C++ protobuf) writes fields in number order, as protobufjs does: identical bytes.
        assert.equal(Buffer.compare(Buffer.from(encoded), Buffer.from(original)), 0);
        const again = decodeModel(encoded, 're-encoded');
        assert.deepEqual(again.graph!.node, model.graph!.node);
        assert.deepEqual(again.graph!.input, model.graph!.input);
        assert.deepEqual(again.graph!.output, model.graph!.output);
        assert.deepEqual(again.opsetImport, model.opsetImport);
        assert.equal(again.graph!.initializer.length, model.graph!.initializer.length);
        for (let k = 0; k < model.graph!.initializer.length; k++) {
          const a = tensorToArray(model.graph!.initializer[k]!);
          const b = tensorToArray(again.graph!.initializer[k]!);
          assert.equal(again.graph!.initializer[k]!.name, model.graph!.initializer[k]!.name);
          assert.deepEqual(b, a);
        }
        assert.deepEqual(again, model);
      });

      it(`${c}/${role}: re-encoded model runs in onnxruntime with the original's output`, async () => {
        const model = decodeModel(original, file);
        // Perturb nothing but go through a full object → bytes path, with a changed doc string.
        const modified: ModelProto = { ...model, docString: 'round-tripped by refinery' };
        const encoded = encodeModel(modified);
        const feed = role === 'generator' ? readNpy(path.join(FIXTURES, c, 'z.npy')) : readNpy(path.join(FIXTURES, c, 'x.npy'));
        const feedData = feed.data as Float32Array;
        const a = await runModel(original, input, feedData, feed.shape);
        const b = await runModel(encoded, input, feedData, feed.shape);
        const outA = a.get(output)!.data as Float32Array;
        const outB = b.get(output)!.data as Float32Array;
        assert.deepEqual(outB, outA);
        const gold = readNpy(path.join(FIXTURES, c, golden)).data as Float32Array;
        assert.ok(maxAbsDiff(outA, gold) <= 1e-4 * Math.max(1, maxAbs(gold)), 'onnxruntime output should match the PyTorch golden');
      });
    }
  }
});

describe('decodeModel on bad input', () => {
  const original = new Uint8Array(fs.readFileSync(path.join(FIXTURES, 'mlp2d', 'generator.onnx')));

  it('truncated bytes → invalid_file naming the source', () => {
    for (const n of [1000, original.length - 7, original.length - 1]) {
      const e = expectRefineryError(() => decodeModel(original.subarray(0, n), 'gen.onnx'), 'invalid_file', 'gen.onnx');
      assert.equal(e.issues[0]!.path, 'gen.onnx');
      assert.match(e.issues[0]!.expected, /ONNX model/);
    }
  });

  it('random bytes → invalid_file', () => {
    for (let seed = 1; seed <= 20; seed++) {
      expectRefineryError(() => decodeModel(pseudoRandomBytes(4096, seed), 'noise.onnx'), 'invalid_file', 'noise.onnx');
    }
    expectRefineryError(() => decodeModel(new TextEncoder().encode('not an onnx model at all')), 'invalid_file', 'model');
  });

  it('empty input and a model without a graph → invalid_file', () => {
    expectRefineryError(() => decodeModel(new Uint8Array(0), 'empty.onnx'), 'invalid_file', 'without a graph');
    const noGraph = encodeModel({ irVersion: 7, opsetImport: [{ version: 13 }], metadataProps: [], trainingInfo: [], functions: [] });
    expectRefineryError(() => decodeModel(noGraph, 'x.onnx'), 'invalid_file', 'x.onnx');
  });
});

describe('tensors', () => {
  it('floatTensor/int64Tensor/boolTensor round trip through raw_data', () => {
    const f = floatTensor('w', new Float32Array([1.5, -2, 3.25, 0, 1e-30, -Infinity]), [2, 3]);
    assert.equal(f.dataType, DataType.FLOAT);
    assert.deepEqual(f.dims, [2, 3]);
    assert.equal(f.rawData!.length, 24);
    // Little-endian: 1.5f = 0x3fc00000.
    assert.deepEqual([...f.rawData!.subarray(0, 4)], [0x00, 0x00, 0xc0, 0x3f]);
    assert.deepEqual(tensorToArray(f), { dataType: DataType.FLOAT, dims: [2, 3], data: new Float32Array([1.5, -2, 3.25, 0, 1e-30, -Infinity]) });

    const i = int64Tensor('shape', [-1, 100, 1, 1], [4]);
    assert.deepEqual(tensorToArray(i).data, new BigInt64Array([-1n, 100n, 1n, 1n]));
    const i2 = int64Tensor('big', new BigInt64Array([(1n << 63n) - 1n, -(1n << 63n)]), [2]);
    assert.deepEqual(tensorToArray(i2).data, new BigInt64Array([(1n << 63n) - 1n, -(1n << 63n)]));

    const b = boolTensor('mask', [true, false, true], [3]);
    assert.equal(b.dataType, DataType.BOOL);
    assert.deepEqual(tensorToArray(b).data, new Uint8Array([1, 0, 1]));

    const scalar = floatTensor('s', new Float32Array([7]), []);
    assert.deepEqual(tensorToArray(scalar), { dataType: DataType.FLOAT, dims: [], data: new Float32Array([7]) });
    const empty = floatTensor('e', new Float32Array(0), [0, 3]);
    assert.deepEqual(tensorToArray(empty).data, new Float32Array(0));

    const d = makeTensor('d', new Float64Array([Math.PI]), [1]);
    assert.equal(d.dataType, DataType.DOUBLE);
    assert.deepEqual(tensorToArray(d).data, new Float64Array([Math.PI]));
    const i8 = makeTensor('i8', new Int8Array([-128, 127]), [2]);
    assert.equal(i8.dataType, DataType.INT8);
    assert.deepEqual(tensorToArray(i8).data, new Int8Array([-128, 127]));
  });

  it('raw_data that is not aligned in the source buffer is copied to an aligned array', () => {
    const src = new Uint8Array(13);
    new DataView(src.buffer).setFloat32(1, 2.5, true);
    new DataView(src.buffer).setFloat32(5, -1, true);
    const t: TensorProto = { ...floatTensor('u', new Float32Array(2), [2]), rawData: src.subarray(1, 9) };
    assert.deepEqual(tensorToArray(t).data, new Float32Array([2.5, -1]));
  });

  it('typed repeated fields', () => {
    const base = floatTensor('t', new Float32Array(0), [0]);
    const typed = (dataType: number, dims: number[], fields: Partial<TensorProto>): TensorProto => {
      const t: TensorProto = { ...base, dataType, dims };
      delete t.rawData;
      return { ...t, ...fields };
    };
    assert.deepEqual(tensorToArray(typed(DataType.FLOAT, [2], { floatData: [1, 2] })).data, new Float32Array([1, 2]));
    assert.deepEqual(tensorToArray(typed(DataType.DOUBLE, [1], { doubleData: [0.1] })).data, new Float64Array([0.1]));
    assert.deepEqual(tensorToArray(typed(DataType.INT32, [3], { int32Data: [1, -2, 3] })).data, new Int32Array([1, -2, 3]));
    assert.deepEqual(tensorToArray(typed(DataType.INT64, [2], { int64Data: [5, -6] })).data, new BigInt64Array([5n, -6n]));
    assert.deepEqual(tensorToArray(typed(DataType.UINT8, [2], { int32Data: [0, 255] })).data, new Uint8Array([0, 255]));
    assert.deepEqual(tensorToArray(typed(DataType.INT8, [2], { int32Data: [-1, 5] })).data, new Int8Array([-1, 5]));
    assert.deepEqual(tensorToArray(typed(DataType.BOOL, [2], { int32Data: [1, 0] })).data, new Uint8Array([1, 0]));
    // float16 bits: 1.0 = 0x3c00, -2.0 = 0xc000, 0.5 = 0x3800, 65504 = 0x7bff, smallest subnormal = 0x0001.
    const half = tensorToArray(typed(DataType.FLOAT16, [5], { int32Data: [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001] }));
    assert.equal(half.dataType, DataType.FLOAT16);
    assert.deepEqual(half.data, new Float32Array([1, -2, 0.5, 65504, 2 ** -24]));
    // The same as raw_data.
    const raw = typed(DataType.FLOAT16, [2], { rawData: new Uint8Array([0x00, 0x3c, 0x00, 0xc0]) });
    assert.deepEqual(tensorToArray(raw).data, new Float32Array([1, -2]));
    // Survives encoding inside a model (packed repeated fields).
    const t = typed(DataType.FLOAT, [3], { floatData: [1, 2, 3], name: 'packed' });
    const model = tinyModel([t]);
    const back = decodeModel(encodeModel(model)).graph!.initializer[0]!;
    assert.deepEqual(back.floatData, [1, 2, 3]);
    assert.equal(back.rawData, undefined);
  });

  it('errors name the tensor', () => {
    const base = floatTensor('weight', new Float32Array(4), [4]);
    expectRefineryError(() => tensorToArray({ ...base, dataType: DataType.STRING }), 'invalid_model', 'weight');
    expectRefineryError(() => tensorToArray({ ...base, dataType: DataType.COMPLEX64 }), 'invalid_model', 'weight');
    expectRefineryError(() => tensorToArray({ ...base, dims: [5] }), 'invalid_model', 'weight');
    const external: TensorProto = {
      ...base,
      dataLocation: 1,
      externalData: [{ key: 'location', value: 'weights.bin' }],
    };
    delete external.rawData;
    const e = expectRefineryError(() => tensorToArray(external), 'invalid_model', 'weight');
    assert.match(e.message, /external/);
    expectRefineryError(() => floatTensor('w', new Float32Array(3), [2, 2]), 'invalid_argument', 'w');
    expectRefineryError(() => int64Tensor('w', [1.5], [1]), 'invalid_argument', 'w');
  });
});

function tinyModel(initializer: TensorProto[] = []): ModelProto {
  return {
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'refinery-test',
    metadataProps: [],
    trainingInfo: [],
    functions: [],
    graph: {
      name: 'tiny',
      node: [],
      initializer,
      sparseInitializer: [],
      input: [],
      output: [],
      valueInfo: [],
      quantizationAnnotation: [],
      metadataProps: [],
    },
  };
}

describe('attributes', () => {
  const node = makeNode(
    'Test',
    ['a'],
    ['b'],
    [
      intAttr('axis', -1),
      intsAttr('pads', [1, 1, 0, 0]),
      floatAttr('alpha', 0.2),
      floatsAttr('scales', [1, 2.5]),
      stringAttr('mode', 'constant'),
      tensorAttr('value', floatTensor('', new Float32Array([3]), [])),
    ],
    'n0',
  );

  it('typed getters with defaults', () => {
    assert.equal(getInt(node, 'axis'), -1);
    assert.equal(getInt(node, 'missing', 7), 7);
    assert.equal(getInt(node, 'missing'), undefined);
    assert.deepEqual(getInts(node, 'pads'), [1, 1, 0, 0]);
    assert.deepEqual(getInts(node, 'missing', [0]), [0]);
    assert.ok(Math.abs(getFloat(node, 'alpha')! - 0.2) < 1e-7);
    assert.deepEqual(getFloats(node, 'scales'), [1, 2.5]);
    assert.equal(getString(node, 'mode'), 'constant');
    assert.equal(getString(node, 'missing', 'x'), 'x');
    assert.deepEqual(tensorToArray(getTensor(node, 'value')!).data, new Float32Array([3]));
    assert.equal(attr(node, 'axis')!.type, AttributeType.INT);
    assert.equal(requireInt(node, 'axis'), -1);
    expectRefineryError(() => requireInt(node, 'missing'), 'invalid_model', 'n0');
  });

  it('a getter of the wrong type throws invalid_model naming node and attribute', () => {
    const e = expectRefineryError(() => getInt(node, 'alpha'), 'invalid_model', 'alpha');
    assert.match(e.message, /n0/);
    expectRefineryError(() => getFloats(node, 'pads'), 'invalid_model', 'pads');
  });

  it('attributes survive encoding, float as float32, INT64_MAX sentinels included', () => {
    // biome-ignore lint/correctness/noPrecisionLoss: INT64_MAX/MIN literals round to the sentinels the encoder must map back
    const big = makeNode('Slice', ['x'], ['y'], [intsAttr('ends', [9223372036854775807, -9223372036854775808, 3])], 's');
    const model = tinyModel();
    model.graph!.node.push(node, big);
    const back = decodeModel(encodeModel(model)).graph!;
    assert.deepEqual(
      back.node[0]!.attribute.map((a) => a.name),
      ['axis', 'pads', 'alpha', 'scales', 'mode', 'value'],
    );
    assert.equal(getInt(back.node[0]!, 'axis'), -1);
    assert.equal(getFloat(back.node[0]!, 'alpha'), Math.fround(0.2));
    assert.equal(getString(back.node[0]!, 'mode'), 'constant');
    const ends = getInts(back.node[1]!, 'ends')!;
    assert.equal(ends[0], 2 ** 63); // INT64_MAX as a double, not wrapped to INT64_MIN
    assert.equal(ends[1], -(2 ** 63));
    assert.equal(ends[2], 3);
  });
});

describe('building a model from scratch', () => {
  it('runs in onnxruntime', async () => {
    // y = Reshape(x + c, [-1, 2])
    const model = tinyModel([floatTensor('c', new Float32Array([10, 20, 30, 40]), [4]), int64Tensor('shape', [-1, 2], [2])]);
    const g = model.graph!;
    g.input.push(makeTensorValueInfo('x', DataType.FLOAT, [4]));
    g.output.push(makeTensorValueInfo('y', DataType.FLOAT, ['n', 2]));
    g.node.push(makeNode('Add', ['x', 'c'], ['s'], [], 'add'));
    g.node.push(makeNode('Reshape', ['s', 'shape'], ['y'], [], 'reshape'));
    const out = await runModel(encodeModel(model), 'x', new Float32Array([1, 2, 3, 4]), [4]);
    const y = out.get('y')!;
    assert.deepEqual(y.dims, [2, 2]);
    assert.deepEqual(y.data, new Float32Array([11, 22, 33, 44]));
  });
});
