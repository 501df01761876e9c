/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), C order, simple numeric dtypes.
 *
 * Layout: the magic `\x93NUMPY`, major and minor version bytes, the header length (uint16 LE for
 * v1.0, uint32 LE for v2.0/3.0), the header (a Python dict literal with 'descr', 'fortran_order'
 * and 'shape', padded with spaces and a final newline so that the data starts at a multiple of 64
 * bytes), then the raw element data.
 */
import { describe, fail } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** Dtypes Refinery reads and writes, in normalized (little-endian) spelling. */
export type NpyDtype = '<f4' | '<f8' | '<i2' | '<i4' | '<i8' | '<u2' | '<u4' | '<u8' | '|u1' | '|i1' | '|b1';

/** Typed arrays that hold .npy element data; 64-bit integers use the BigInt arrays. */
export type NpyData =
  | Float32Array
  | Float64Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Uint8Array
  | Int8Array;

/** What `encodeNpy` and `writeNpy` take: an `NpyArray`, or any `{ data, shape }` (the dtype follows the typed array). */
export interface NpyInput {
  /** Elements in C order; the length must equal the product of `shape`. */
  data: NpyData;
  /** Non-negative integer dimensions ([] for a scalar). */
  shape: readonly number[];
  /** '|b1' writes a Uint8Array as booleans; otherwise it must match the typed array. */
  dtype?: NpyDtype;
}

/** A .npy array as read by `parseNpy` / `readNpy`. */
export interface NpyArray {
  /** Normalized dtype: big-endian files are byte-swapped on read and reported little-endian. */
  dtype: NpyDtype;
  /** Dimensions from the header ([] for a scalar). */
  shape: number[];
  /** Elements in C order; '|b1' arrays hold 0/1 in a Uint8Array. */
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;
/** numpy leaves room in the header for the first axis to grow to this many digits. */
const GROWTH_AXIS_MAX_DIGITS = 21;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface DtypeInfo {
  itemSize: number;
  make: (buf: ArrayBuffer) => NpyData;
}

const DTYPES: Record<NpyDtype, DtypeInfo> = {
  '<f4': { itemSize: 4, make: (b) => new Float32Array(b) },
  '<f8': { itemSize: 8, make: (b) => new Float64Array(b) },
  '<i2': { itemSize: 2, make: (b) => new Int16Array(b) },
  '<i4': { itemSize: 4, make: (b) => new Int32Array(b) },
  '<i8': { itemSize: 8, make: (b) => new BigInt64Array(b) },
  '<u2': { itemSize: 2, make: (b) => new Uint16Array(b) },
  '<u4': { itemSize: 4, make: (b) => new Uint32Array(b) },
  '<u8': { itemSize: 8, make: (b) => new BigUint64Array(b) },
  '|u1': { itemSize: 1, make: (b) => new Uint8Array(b) },
  '|i1': { itemSize: 1, make: (b) => new Int8Array(b) },
  '|b1': { itemSize: 1, make: (b) => new Uint8Array(b) },
};

const SUPPORTED = 'one of ' + Object.keys(DTYPES).join(', ') + ' (or big-endian variants)';

/** Parse a dtype descr string; returns the normalized dtype and whether the data is big-endian. */
function parseDescr(descr: string): { dtype: NpyDtype; bigEndian: boolean } | undefined {
  const m = /^([<>|=]?)([fiub])(\d+)$/.exec(descr);
  if (!m) return undefined;
  const [, order, kind, size] = m;
  const itemSize = Number(size);
  const normalized = (itemSize === 1 ? '|' : '<') + kind + size;
  if (!(normalized in DTYPES)) return undefined;
  // '|' (not applicable) is only valid for single bytes; '=' means native, i.e. host order.
  if (order === '|' && itemSize !== 1) return undefined;
  const bigEndian = itemSize > 1 && (order === '>' || (order === '=' && !LITTLE_ENDIAN_HOST));
  return { dtype: normalized as NpyDtype, bigEndian };
}

// ---------------------------------------------------------------------------------------------
// A parser for the Python literal subset npy headers use: dicts, tuples, lists, strings, ints,
// True/False/None.

type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue } | PyTuple;
class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

class HeaderSyntaxError extends Error {}

function parsePyLiteral(text: string): PyValue {
  let pos = 0;
  const ws = (): void => {
    while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t' || text[pos] === '\n' || text[pos] === '\r')) pos++;
  };
  const expect = (ch: string): void => {
    ws();
    if (text[pos] !== ch) throw new HeaderSyntaxError(`expected '${ch}' at offset ${pos}`);
    pos++;
  };
  const seq = (close: string): PyValue[] => {
    const items: PyValue[] = [];
    ws();
    while (text[pos] !== close) {
      items.push(value());
      ws();
      if (text[pos] === ',') {
        pos++;
        ws();
      } else if (text[pos] !== close) {
        throw new HeaderSyntaxError(`expected ',' or '${close}' at offset ${pos}`);
      }
    }
    pos++;
    return items;
  };
  const value = (): PyValue => {
    ws();
    const c = text[pos];
    if (c === undefined) throw new HeaderSyntaxError('unexpected end of header');
    if (c === '{') {
      pos++;
      const obj: { [k: string]: PyValue } = {};
      ws();
      while (text[pos] !== '}') {
        const key = value();
        if (typeof key !== 'string') throw new HeaderSyntaxError(`dict key at offset ${pos} is not a string`);
        expect(':');
        obj[key] = value();
        ws();
        if (text[pos] === ',') {
          pos++;
          ws();
        } else if (text[pos] !== '}') {
          throw new HeaderSyntaxError(`expected ',' or '}' at offset ${pos}`);
        }
      }
      pos++;
      return obj;
    }
    if (c === '(') {
      pos++;
      return new PyTuple(seq(')'));
    }
    if (c === '[') {
      pos++;
      return seq(']');
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, pos + 1);
      if (end < 0) throw new HeaderSyntaxError(`unterminated string at offset ${pos}`);
      const s = text.slice(pos + 1, end);
      if (s.includes('\\')) throw new HeaderSyntaxError(`escape sequence in string at offset ${pos}`);
      pos = end + 1;
      return s;
    }
    const atom = /(-?\d+)L?|(True|False|None)\b/y;
    atom.lastIndex = pos;
    const m = atom.exec(text);
    if (m) {
      pos += m[0].length;
      if (m[1] !== undefined) return Number(m[1]);
      return m[2] === 'True' ? true : m[2] === 'False' ? false : null;
    }
    throw new HeaderSyntaxError(`unexpected ${JSON.stringify(c)} at offset ${pos}`);
  };
  const v = value();
  ws();
  if (pos !== text.length) throw new HeaderSyntaxError(`trailing characters at offset ${pos}`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Reading

function hexHead(bytes: Uint8Array, n = 8): string {
  return Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function shortText(s: string): string {
  const t = s.trimEnd();
  return JSON.stringify(t.length > 120 ? t.slice(0, 117) + '...' : t);
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Copy bytes into a fresh (aligned) buffer, swapping each element's bytes when `swap`. */
function copyAligned(bytes: Uint8Array, itemSize: number, swap: boolean): ArrayBuffer {
  const buf = new ArrayBuffer(bytes.length);
  const out = new Uint8Array(buf);
  out.set(bytes);
  if (swap && itemSize > 1) {
    for (let o = 0; o < out.length; o += itemSize) out.subarray(o, o + itemSize).reverse();
  }
  return buf;
}

/**
 * Parse the bytes of a .npy file. Errors are `RefineryError('invalid_file')` with `source` as the
 * issue path.
 */
export function parseNpy(bytes: Uint8Array, source = 'array'): NpyArray {
  const bad = (expected: string, received: string): never => fail('invalid_file', source, expected, received);

  if (bytes.length < 10 || !MAGIC.every((b, k) => bytes[k] === b)) {
    bad(
      'a NumPy .npy file (starting with the magic string \\x93NUMPY)',
      bytes.length === 0 ? 'an empty file' : `${bytes.length} bytes starting ${hexHead(bytes)}`,
    );
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (![1, 2, 3].includes(major) || minor !== 0) bad('.npy format version 1.0, 2.0 or 3.0', `version ${major}.${minor}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerStart = 10;
    headerLen = view.getUint16(8, true);
  } else {
    if (bytes.length < 12) bad('a complete .npy preamble (12 bytes for format 2.0/3.0)', `${bytes.length} bytes`);
    headerStart = 12;
    headerLen = view.getUint32(8, true);
  }
  const dataStart = headerStart + headerLen;
  if (bytes.length < dataStart) {
    bad(`a header of ${headerLen} bytes`, `${bytes.length - headerStart} bytes (file truncated)`);
  }
  const headerBytes = bytes.subarray(headerStart, dataStart);
  let header: string;
  try {
    header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(headerBytes);
  } catch {
    return bad('a UTF-8 header (format 3.0)', 'invalid UTF-8');
  }

  const headerExpected = "a header dict like {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  let dict: PyValue;
  try {
    dict = parsePyLiteral(header);
  } catch (e) {
    return bad(headerExpected, `${shortText(header)} (${e instanceof HeaderSyntaxError ? e.message : String(e)})`);
  }
  if (dict === null || typeof dict !== 'object' || Array.isArray(dict) || dict instanceof PyTuple) {
    return bad(headerExpected, shortText(header));
  }
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!(key in dict)) bad(headerExpected, `${shortText(header)} (no '${key}')`);
  }
  const { descr, fortran_order: fortranOrder, shape: shapeValue } = dict as Record<string, PyValue>;

  if (typeof descr !== 'string') return bad(`a simple dtype, ${SUPPORTED}`, `descr ${shortText(JSON.stringify(descr))} (structured dtype)`);
  const parsed = parseDescr(descr);
  if (!parsed) return bad(`a dtype ${SUPPORTED}`, `'${descr}'`);

  if (!(shapeValue instanceof PyTuple) || !shapeValue.items.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    return bad('a shape tuple of non-negative integers', `'shape': ${shortText(header.slice(header.indexOf("'shape'")))}`);
  }
  const shape = shapeValue.items as number[];

  if (typeof fortranOrder !== 'boolean') return bad("'fortran_order': True or False", shortText(header));

  const info = DTYPES[parsed.dtype];
  let n = 1;
  for (const d of shape) n *= d;
  const need = n * info.itemSize;
  const have = bytes.length - dataStart;
  if (have !== need) {
    bad(`${need} bytes of data for shape ${shapeText(shape)} ${descr}`, `${have} bytes${have < need ? ' (file truncated)' : ' (trailing bytes)'}`);
  }
  const swap = parsed.bigEndian === LITTLE_ENDIAN_HOST;
  const buf = copyAligned(bytes.subarray(dataStart), info.itemSize, swap);
  const data = info.make(buf);
  if (parsed.dtype === '|b1') {
    const u = data as Uint8Array;
    for (let k = 0; k < u.length; k++) u[k] = u[k] ? 1 : 0;
  }
  // numpy writes a transposed or column-sliced array in Fortran order: read it into C order.
  // (For 0-d and 1-d arrays the two orders are the same layout.)
  const out = fortranOrder && shape.filter((d) => d !== 1).length > 1 ? fortranToC(data, shape) : data;
  return { dtype: parsed.dtype, shape, data: out };
}

/** The elements of a Fortran-order array of `shape`, in C order. */
function fortranToC(data: NpyData, shape: readonly number[]): NpyData {
  const n = data.length;
  const out = new (data.constructor as new (n: number) => NpyData)(n);
  const rank = shape.length;
  // Fortran strides: the first axis varies fastest.
  const fStride = new Array<number>(rank);
  let s = 1;
  for (let k = 0; k < rank; k++) {
    fStride[k] = s;
    s *= shape[k];
  }
  // Walk the C-order index (last axis fastest) as an odometer, tracking the Fortran offset.
  const idx = new Array<number>(rank).fill(0);
  let f = 0;
  const src = data as unknown as ArrayLike<number | bigint> & { [i: number]: number | bigint };
  const dst = out as unknown as { [i: number]: number | bigint };
  for (let c = 0; c < n; c++) {
    dst[c] = src[f];
    for (let k = rank - 1; k >= 0; k--) {
      idx[k]++;
      f += fStride[k];
      if (idx[k] < shape[k]) break;
      f -= fStride[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

/** Any numeric .npy array as float32 (float64 is rounded, integers and booleans converted). */
export function npyToFloat32(arr: NpyArray): Tensor {
  const { data, shape } = arr;
  let out: Float32Array;
  if (data instanceof Float32Array) out = data;
  else if (data instanceof BigInt64Array || data instanceof BigUint64Array) out = Float32Array.from(data, (v) => Number(v));
  else out = Float32Array.from(data as ArrayLike<number>);
  return { data: out, shape: [...shape] };
}

// ---------------------------------------------------------------------------------------------
// Writing

function impliedDtype(data: NpyData): NpyDtype | undefined {
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof Int16Array) return '<i2';
  if (data instanceof Int32Array) return '<i4';
  if (data instanceof BigInt64Array) return '<i8';
  if (data instanceof Uint16Array) return '<u2';
  if (data instanceof Uint32Array) return '<u4';
  if (data instanceof BigUint64Array) return '<u8';
  if (data instanceof Uint8Array) return '|u1';
  if (data instanceof Int8Array) return '|i1';
  return undefined;
}

/** The header text numpy writes (including its spare room for growth), before padding. */
function headerDict(dtype: NpyDtype, shape: readonly number[]): string {
  const shapeRepr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let h = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeRepr}, }`;
  if (shape.length > 0) h += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  return h;
}

/**
 * Serialize an array in C order. The dtype follows the typed array (Float32Array→'<f4',
 * Float64Array→'<f8', Int32Array→'<i4', BigInt64Array→'<i8', Uint8Array→'|u1', Int8Array→'|i1',
 * ...); pass `dtype: '|b1'` to write a Uint8Array as booleans. Throws
 * `RefineryError('invalid_argument')` when the shape does not match the data length.
 */
export function encodeNpy(array: NpyInput): Uint8Array {
  if (typeof array !== 'object' || array === null) fail('invalid_argument', 'array', 'an array { data, shape, dtype? }', describe(array));
  const { data, shape, dtype } = array;
  if (!Array.isArray(shape)) fail('invalid_argument', 'shape', 'a list of non-negative integers', describe(shape));
  const implied = impliedDtype(data);
  if (!implied) fail('invalid_argument', 'data', 'a typed array', describe(data));
  const dt = dtype ?? implied;
  if (dt !== implied && !(dt === '|b1' && implied === '|u1')) {
    fail('invalid_argument', 'dtype', `a dtype matching ${data.constructor.name} (${implied})`, `'${dt}'`);
  }
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) fail('invalid_argument', 'shape', 'non-negative integers', shapeText(shape));
  }
  let n = 1;
  for (const d of shape) n *= d;
  if (n !== data.length) {
    fail('invalid_argument', 'shape', `a shape with ${data.length} elements (the data length)`, `${shapeText(shape)} (${n} elements)`);
  }

  const header = npyHeader(dt, shape);
  const itemSize = DTYPES[dt].itemSize;
  const out = new Uint8Array(header.length + data.length * itemSize);
  out.set(header, 0);
  const total = header.length;
  const body = out.subarray(total);
  body.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  if (!LITTLE_ENDIAN_HOST && itemSize > 1) {
    for (let o = 0; o < body.length; o += itemSize) body.subarray(o, o + itemSize).reverse();
  }
  if (dt === '|b1') for (let k = 0; k < body.length; k++) body[k] = body[k] ? 1 : 0;
  return out;
}

/**
 * The header bytes of a .npy file of `dtype` and `shape` (magic, version, length, dict, padding to
 * a multiple of 64 bytes); the raw C-order data follows it. Lets large arrays be written in chunks.
 */
export function npyHeader(dt: NpyDtype, shape: readonly number[]): Uint8Array {
  const dict = headerDict(dt, shape);
  // Version 1.0 unless the header does not fit its uint16 length field.
  let version = 1;
  let preamble = 10;
  let total = Math.ceil((preamble + dict.length + 1) / ALIGN) * ALIGN;
  if (total - preamble > 0xffff) {
    version = 2;
    preamble = 12;
    total = Math.ceil((preamble + dict.length + 1) / ALIGN) * ALIGN;
  }
  const headerLen = total - preamble;
  const header = dict + ' '.repeat(headerLen - dict.length - 1) + '\n';
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  for (let k = 0; k < header.length; k++) out[preamble + k] = header.charCodeAt(k);
  return out;
}
