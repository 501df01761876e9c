import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RefineryError } from '../errors.js';
import { writeFileAtomic, writeFileAtomicAsync } from './atomic.js';
import { type NpyData, type NpyDtype, encodeNpy, parseNpy } from './npy.js';
import { readNpy, readNpyFloat32, writeNpy } from './npyfile.js';

const FIXTURES = path.resolve(process.cwd(), '../shared/fixtures/onnx');

function expectInvalid(fn: () => unknown, code: string, ...parts: string[]): RefineryError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RefineryError, `expected RefineryError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const p of parts) assert.ok(e.message.includes(p), `message ${JSON.stringify(e.message)} should mention ${JSON.stringify(p)}`);
    return e;
  }
  assert.fail('expected a RefineryError');
}

/** A .npy file built by hand: magic, version, header length, header (padded per spec), data. */
function handBuilt(header: string, data: Uint8Array, major = 1, pad = true): Uint8Array {
  const preamble = major === 1 ? 10 : 12;
  const enc = major === 3 ? new TextEncoder().encode(header) : Uint8Array.from(header, (c) => c.charCodeAt(0));
  let headerLen = enc.length + 1;
  if (pad) headerLen = Math.ceil((preamble + headerLen) / 64) * 64 - preamble;
  const out = new Uint8Array(preamble + headerLen + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  out.set(enc, preamble);
  out.fill(0x20, preamble + enc.length, preamble + headerLen - 1);
  out[preamble + headerLen - 1] = 0x0a;
  out.set(data, preamble + headerLen);
  return out;
}

function f32le(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const v = new DataView(out.buffer);
  values.forEach((x, k) => {
    v.setFloat32(4 * k, x, true);
  });
  return out;
}

describe('parseNpy on the fixtures', () => {
  const cases = ['mlp2d', 'dcgan32', 'mnist_dcgan28'];
  for (const c of cases) {
    it(`${c}: goldens have the documented shapes and re-encode to identical bytes`, () => {
      const meta = JSON.parse(fs.readFileSync(path.join(FIXTURES, c, 'meta.json'), 'utf8')) as {
        latent_dim: number;
        data_shape: number[];
        batch: number;
      };
      const expectShapes: Record<string, number[]> = {
        'z.npy': [meta.batch, meta.latent_dim],
        'x.npy': [meta.batch, ...meta.data_shape],
        'logit.npy': [16],
        'grad_z.npy': [meta.batch, meta.latent_dim],
        'grad_energy_z.npy': [meta.batch, meta.latent_dim],
        'grad_x.npy': [meta.batch, ...meta.data_shape],
      };
      for (const [file, shape] of Object.entries(expectShapes)) {
        const p = path.join(FIXTURES, c, file);
        const bytes = new Uint8Array(fs.readFileSync(p));
        const arr = parseNpy(bytes, p);
        assert.equal(arr.dtype, '<f4');
        assert.deepEqual(arr.shape, shape);
        assert.ok(arr.data instanceof Float32Array);
        assert.equal(
          arr.data.length,
          shape.reduce((a, b) => a * b, 1),
        );
        for (const v of arr.data as Float32Array) assert.ok(Number.isFinite(v));
        // numpy's exact header layout (spare room for growth included) is reproduced.
        assert.equal(Buffer.compare(Buffer.from(encodeNpy({ data: arr.data, shape: arr.shape })), Buffer.from(bytes)), 0, file);
        const t = readNpyFloat32(p);
        assert.deepEqual(t.shape, shape);
        assert.deepEqual(t.data, arr.data);
      }
      // grad_energy_z = z - grad_z, as documented: a check that values are read in the right order.
      const z = readNpyFloat32(path.join(FIXTURES, c, 'z.npy')).data;
      const gz = readNpyFloat32(path.join(FIXTURES, c, 'grad_z.npy')).data;
      const ge = readNpyFloat32(path.join(FIXTURES, c, 'grad_energy_z.npy')).data;
      for (let k = 0; k < z.length; k++) assert.ok(Math.abs(z[k]! - gz[k]! - ge[k]!) <= 1e-5 * (1 + Math.abs(gz[k]!)));
    });
  }
});

describe('encodeNpy / parseNpy round trip', () => {
  const shapes: number[][] = [[], [0], [5], [2, 3], [2, 0, 3], [1, 2, 1, 3]];
  const makers: Array<[NpyDtype, (n: number) => NpyData]> = [
    ['<f4', (n) => Float32Array.from({ length: n }, (_, k) => k * 0.5 - 1.25)],
    ['<f8', (n) => Float64Array.from({ length: n }, (_, k) => Math.PI * k - 1e300 * (k % 2))],
    ['<i2', (n) => Int16Array.from({ length: n }, (_, k) => (k % 2 ? -32768 : 32767) + k)],
    ['<i4', (n) => Int32Array.from({ length: n }, (_, k) => (k - 3) * 123456789)],
    ['<i8', (n) => BigInt64Array.from({ length: n }, (_, k) => (BigInt(k) - 2n) * 9007199254740993n)],
    ['<u2', (n) => Uint16Array.from({ length: n }, (_, k) => 65535 - k)],
    ['<u4', (n) => Uint32Array.from({ length: n }, (_, k) => 4294967295 - k)],
    ['<u8', (n) => BigUint64Array.from({ length: n }, (_, k) => (1n << 64n) - 1n - BigInt(k))],
    ['|u1', (n) => Uint8Array.from({ length: n }, (_, k) => (k * 37) % 256)],
    ['|i1', (n) => Int8Array.from({ length: n }, (_, k) => ((k * 37) % 256) - 128)],
    ['|b1', (n) => Uint8Array.from({ length: n }, (_, k) => k % 2)],
  ];
  for (const [dtype, make] of makers) {
    it(`${dtype}`, () => {
      for (const shape of shapes) {
        const n = shape.reduce((a, b) => a * b, 1);
        const data = make(n);
        const bytes = encodeNpy({ data, shape, dtype: dtype === '|b1' ? '|b1' : undefined });
        // Header: version 1.0, data 64-byte aligned, header ends in a newline.
        assert.deepEqual([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
        const headerLen = bytes[8]! | (bytes[9]! << 8);
        assert.equal((10 + headerLen) % 64, 0);
        assert.equal(bytes[10 + headerLen - 1], 0x0a);
        const header = Buffer.from(bytes.subarray(10, 10 + headerLen)).toString('latin1');
        assert.ok(header.startsWith(`{'descr': '${dtype}', 'fortran_order': False, 'shape': (`), header);
        assert.equal(bytes.length, 10 + headerLen + data.byteLength);
        const back = parseNpy(bytes, 'rt.npy');
        assert.equal(back.dtype, dtype);
        assert.deepEqual(back.shape, shape);
        assert.equal(back.data.constructor, data.constructor);
        assert.deepEqual(back.data, data);
      }
    });
  }

  it('shape tuples are written as Python writes them', () => {
    const text = (shape: number[], n: number) => {
      const b = encodeNpy({ data: new Float32Array(n), shape });
      return Buffer.from(b.subarray(10, 10 + (b[8]! | (b[9]! << 8))))
        .toString('latin1')
        .trimEnd();
    };
    assert.equal(text([], 1), "{'descr': '<f4', 'fortran_order': False, 'shape': (), }");
    assert.match(text([7], 7), /'shape': \(7,\), }\s*$/);
    assert.match(text([2, 3], 6), /'shape': \(2, 3\), }\s*$/);
  });

  it('readNpyFloat32 converts other dtypes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'refinery-npy-'));
    try {
      const p = path.join(dir, 'a.npy');
      writeNpy(p, { data: new Float64Array([0.1, 2, -3]), shape: [3] });
      assert.deepEqual(readNpyFloat32(p), { data: new Float32Array([0.1, 2, -3]), shape: [3] });
      writeNpy(p, { data: new BigInt64Array([1n, -2n]), shape: [2, 1] });
      assert.deepEqual(readNpyFloat32(p), { data: new Float32Array([1, -2]), shape: [2, 1] });
      writeNpy(p, { data: new Int32Array([5]), shape: [] });
      assert.deepEqual(readNpyFloat32(p), { data: new Float32Array([5]), shape: [] });
      writeNpy(p, { data: new Uint8Array([1, 0]), shape: [2], dtype: '|b1' });
      assert.equal(readNpy(p).dtype, '|b1');
      assert.deepEqual(readNpyFloat32(p).data, new Float32Array([1, 0]));
      assert.deepEqual(fs.readdirSync(dir), ['a.npy']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('large headers switch to version 2.0', () => {
    // A 0-size array with enough dimensions that the header exceeds 65535 bytes.
    const shape = new Array<number>(22000).fill(1);
    shape[0] = 0;
    const bytes = encodeNpy({ data: new Float32Array(0), shape: shape });
    assert.equal(bytes[6], 2);
    const headerLen = new DataView(bytes.buffer).getUint32(8, true);
    assert.ok(headerLen > 65535);
    assert.equal((12 + headerLen) % 64, 0);
    assert.deepEqual(parseNpy(bytes).shape, shape);
  });

  it('encode rejects a shape that does not match the data', () => {
    expectInvalid(() => encodeNpy({ data: new Float32Array(5), shape: [2, 3] }), 'invalid_argument', '[2,3]', '5');
    expectInvalid(() => encodeNpy({ data: new Float32Array(0), shape: [-1] }), 'invalid_argument', 'shape');
    expectInvalid(() => encodeNpy({ data: new Float32Array(2), shape: [2.5] }), 'invalid_argument', 'shape');
    expectInvalid(() => encodeNpy({ data: new Float32Array(2), shape: [2], dtype: '<f8' }), 'invalid_argument', 'dtype');
  });
});

describe('hand-built files', () => {
  it('C order: element [i, j] of a (2, 3) array is at byte 4 * (3 i + j)', () => {
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    // Row-major values a[i][j] = 10 i + j.
    const bytes = handBuilt(header, f32le([0, 1, 2, 10, 11, 12]));
    assert.equal(bytes.length, 128 + 24);
    const arr = parseNpy(bytes, 'c.npy');
    assert.deepEqual(arr.shape, [2, 3]);
    assert.deepEqual(arr.data, new Float32Array([0, 1, 2, 10, 11, 12]));
    // Negative control: a Fortran-order reading would put a[1][0] = 10 second; ours does not.
    assert.notEqual(arr.data[1], 10);
    // And encoding writes the same bytes after the header.
    const enc = encodeNpy({ data: new Float32Array([0, 1, 2, 10, 11, 12]), shape: [2, 3] });
    const encHeader = Buffer.from(enc.subarray(10, 10 + (enc[8]! | (enc[9]! << 8)))).toString('latin1');
    assert.ok(encHeader.startsWith(header));
    assert.deepEqual([...enc.subarray(enc.length - 24)], [...f32le([0, 1, 2, 10, 11, 12])]);
  });

  it('a version 2.0 header', () => {
    const bytes = handBuilt("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(new Float64Array([1.5, -2]).buffer), 2);
    assert.equal(bytes[6], 2);
    const arr = parseNpy(bytes, 'v2.npy');
    assert.equal(arr.dtype, '<f8');
    assert.deepEqual(arr.shape, [2]);
    assert.deepEqual(arr.data, new Float64Array([1.5, -2]));
  });

  it('a version 3.0 (UTF-8) header, unpadded headers, double quotes and a py2 long', () => {
    const data = new Uint8Array(new Int32Array([7, 8, 9]).buffer);
    const v3 = handBuilt('{"descr": "<i4", "fortran_order": False, "shape": (3L,), "note": "ü"}', data, 3);
    assert.deepEqual(parseNpy(v3).data, new Int32Array([7, 8, 9]));
    const unpadded = handBuilt("{'shape':(3,),'fortran_order':False,'descr':'<i4'}", data, 1, false);
    assert.deepEqual(parseNpy(unpadded).data, new Int32Array([7, 8, 9]));
  });

  it('big-endian data is byte-swapped', () => {
    const f = new Uint8Array(8);
    new DataView(f.buffer).setFloat32(0, 1.5, false);
    new DataView(f.buffer).setFloat32(4, -3, false);
    const a = parseNpy(handBuilt("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", f));
    assert.equal(a.dtype, '<f4');
    assert.deepEqual(a.data, new Float32Array([1.5, -3]));
    const i = new Uint8Array(8);
    new DataView(i.buffer).setBigInt64(0, -5n, false);
    const b = parseNpy(handBuilt("{'descr': '>i8', 'fortran_order': False, 'shape': (), }", i));
    assert.equal(b.dtype, '<i8');
    assert.deepEqual(b.data, new BigInt64Array([-5n]));
  });

  it("Fortran order (numpy's layout of a transposed array) is read into C order", () => {
    const data = f32le([0, 1, 2, 3, 4, 5]);
    const f = parseNpy(handBuilt("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", data), 'f.npy');
    assert.deepEqual(f.shape, [2, 3]);
    // Fortran element (i, j) is stored at i + 2 j.
    assert.deepEqual([...(f.data as Float32Array)], [0, 2, 4, 1, 3, 5]);
    // Three axes, integers: element (i, j, k) of shape (2, 3, 4) is stored at i + 2 j + 6 k.
    const ints = new Int32Array(24).map((_, k) => k);
    const g = parseNpy(handBuilt("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3, 4), }", new Uint8Array(ints.buffer)));
    const want: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) want.push(i + 2 * j + 6 * k);
    assert.deepEqual([...(g.data as Int32Array)], want);
    // Where both orders are the same layout, nothing moves.
    assert.deepEqual([...(parseNpy(handBuilt("{'descr': '<f4', 'fortran_order': True, 'shape': (6,), }", data)).data as Float32Array)], [0, 1, 2, 3, 4, 5]);
  });
});

describe('corrupt files → invalid_file naming the file', () => {
  const good = encodeNpy({ data: new Float32Array(64 * 64), shape: [64, 64] });

  it('truncated data says how many bytes were expected', () => {
    const bytes = good.subarray(0, 128 + 100);
    const e = expectInvalid(() => parseNpy(bytes, 'w.npy'), 'invalid_file', 'w.npy');
    assert.equal(e.issues[0]!.path, 'w.npy');
    assert.match(e.issues[0]!.expected, /^16384 bytes of data for shape \[64,64\] <f4$/);
    assert.match(e.issues[0]!.received, /^100 bytes/);
  });

  it('trailing bytes', () => {
    const bytes = new Uint8Array(good.length + 3);
    bytes.set(good);
    expectInvalid(() => parseNpy(bytes, 't.npy'), 'invalid_file', 't.npy', 'trailing');
  });

  it('bad magic, empty file, truncated preamble and header', () => {
    expectInvalid(() => parseNpy(new TextEncoder().encode('PK\x03\x04 this is a zip'), 'z.npz'), 'invalid_file', 'z.npz', 'NUMPY');
    expectInvalid(() => parseNpy(new Uint8Array(0), 'e.npy'), 'invalid_file', 'e.npy', 'empty');
    expectInvalid(() => parseNpy(good.subarray(0, 8), 'p.npy'), 'invalid_file', 'p.npy');
    expectInvalid(() => parseNpy(good.subarray(0, 50), 'h.npy'), 'invalid_file', 'h.npy', 'header of 118 bytes');
  });

  it('unsupported version', () => {
    const bytes = new Uint8Array(good);
    bytes[6] = 4;
    expectInvalid(() => parseNpy(bytes, 'v.npy'), 'invalid_file', 'v.npy', 'version 4.0');
  });

  it('bad headers', () => {
    const data = f32le([1]);
    const cases: Array<[string, string]> = [
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", 'header dict'],
      ["{'descr': '<f4', 'fortran_order': False}", "no 'shape'"],
      ["{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", "'<c8'"],
      ["{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }", "'<f2'"],
      ["{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 'structured'],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 'non-negative'],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': [1], }", 'shape tuple'],
      ["{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", 'fortran_order'],
      ['garbage', 'header dict'],
    ];
    for (const [header, part] of cases) {
      expectInvalid(() => parseNpy(handBuilt(header, data), 'bad.npy'), 'invalid_file', 'bad.npy', part);
    }
  });

  it('readNpy names the path, also for a missing file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'refinery-npy-'));
    try {
      const p = path.join(dir, 'cut.npy');
      fs.writeFileSync(p, good.subarray(0, 200));
      expectInvalid(() => readNpy(p), 'invalid_file', p, '16384 bytes');
      expectInvalid(() => readNpyFloat32(p), 'invalid_file', p);
      expectInvalid(() => readNpy(path.join(dir, 'missing.npy')), 'invalid_file', 'missing.npy', 'ENOENT');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('writeFileAtomic', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'refinery-atomic-'));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes and replaces files, leaving no temporary files', () => {
    const p = path.join(dir, 'a.txt');
    writeFileAtomic(p, 'hello');
    assert.equal(fs.readFileSync(p, 'utf8'), 'hello');
    writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...fs.readFileSync(p)], [1, 2, 3]);
    writeFileAtomic(p, '');
    assert.equal(fs.readFileSync(p).length, 0);
    assert.deepEqual(fs.readdirSync(dir), ['a.txt']);
  });

  it('async variant', async () => {
    const p = path.join(dir, 'b.bin');
    await writeFileAtomicAsync(p, new Uint8Array(100000).fill(7));
    assert.equal(fs.readFileSync(p).length, 100000);
    await writeFileAtomicAsync(p, 'second');
    assert.equal(fs.readFileSync(p, 'utf8'), 'second');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['a.txt', 'b.bin']);
  });

  it('on failure the error propagates, the target is untouched and the temporary file is removed', async () => {
    // Renaming a file over a non-empty directory fails after the temporary file was written.
    const target = path.join(dir, 'sub');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep'), 'x');
    assert.throws(() => writeFileAtomic(target, 'data'));
    await assert.rejects(writeFileAtomicAsync(target, 'data'));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['a.txt', 'b.bin', 'sub']);
    assert.deepEqual(fs.readdirSync(target), ['keep']);
    // A missing directory fails at open.
    assert.throws(() => writeFileAtomic(path.join(dir, 'nope', 'x'), 'data'), /ENOENT/);
    await assert.rejects(writeFileAtomicAsync(path.join(dir, 'nope', 'x'), 'data'), /ENOENT/);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['a.txt', 'b.bin', 'sub']);
  });

  it('writeNpy writes atomically', () => {
    const p = path.join(dir, 'a.txt');
    writeNpy(p, { data: new Float32Array([1, 2]), shape: [2] });
    assert.deepEqual(readNpy(p).data, new Float32Array([1, 2]));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['a.txt', 'b.bin', 'sub']);
  });
});
