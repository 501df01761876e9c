/**
 * Seeded pseudo-random numbers. Refinery never uses Math.random: every random draw comes from an
 * Rng built from an explicit seed, and independent streams are derived with `fork`.
 *
 * Generator: xoshiro128** (32-bit words, period 2^128 - 1); its state is a hash of the seed words
 * (each absorbed into four lanes through MurmurHash3's finalizer, then the list length).
 * Normals: Marsaglia's polar method on doubles (exact distribution, no tables).
 */
import { fail } from './errors.js';

const LANE_K = [0x9e3779b9, 0x7f4a7c15, 0xf39cc060, 0x5ced1f4f];

/** MurmurHash3's 32-bit finalizer: a bijection on 32-bit words with full avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A seeded pseudo-random stream (xoshiro128**): the same seed words always give the same draws. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;
  /** The seed words this stream was made from (for provenance). */
  readonly seed: readonly number[];

  /** `seed` is one or more integers (each taken modulo 2^32); different lists give independent streams. */
  constructor(...seed: number[]) {
    if (seed.length === 0) fail('invalid_argument', 'seed', 'at least one integer', 'none');
    for (const s of seed) {
      if (!Number.isInteger(s)) fail('invalid_argument', 'seed', 'an integer', String(s));
    }
    this.seed = seed;
    // Absorb both 32-bit halves of every word, then the list length, into four lanes through a
    // nonlinear bijection (lane = fmix32(lane ^ w) + k). A linear absorber (xor, then add a
    // constant) lets different lists collide: Rng(s, 1, 0, 1) was the same stream as Rng(s, 1, 1, 0).
    const lanes = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a];
    const absorb = (w: number) => {
      for (let i = 0; i < 4; i++) lanes[i] = (fmix32((lanes[i] ^ w) >>> 0) + LANE_K[i]) >>> 0;
    };
    for (const s of seed) {
      absorb(Number(BigInt.asUintN(32, BigInt(s))));
      absorb(Math.floor(s / 4294967296) >>> 0);
    }
    absorb(seed.length);
    [this.a, this.b, this.c, this.d] = lanes;
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** An independent stream derived from this stream's seed and `labels` (does not advance this stream). */
  fork(...labels: number[]): Rng {
    return new Rng(...this.seed, 0x5eed, ...labels);
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) fail('invalid_argument', 'n', 'a positive integer', String(n));
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal draw. */
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = v * f;
        return u * f;
      }
    }
  }

  /** Fill `out` with draws from N(mean, std^2); returns `out`. */
  fillNormal<T extends Float32Array | Float64Array>(out: T, mean = 0, std = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** Fill `out` with draws from U(lo, hi); returns `out`. */
  fillUniform<T extends Float32Array | Float64Array>(out: T, lo = 0, hi = 1): T {
    const w = hi - lo;
    for (let i = 0; i < out.length; i++) out[i] = lo + w * this.uniform();
    return out;
  }

  /** Fisher-Yates permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Independent streams per row of a batch, keyed by the row's absolute index in the run, so that a
 * sample's randomness depends only on (seed, its index) and never on how the run is cut into
 * batches, chunks or shards: row(r) is Rng(...words, index(r), ...tail).
 */
export class RowStreams {
  constructor(
    readonly words: readonly number[],
    /** The absolute index of local row r. */
    readonly index: (r: number) => number,
    readonly tail: readonly number[] = [],
  ) {}

  /** Rows start, start + 1, ... */
  static range(words: readonly number[], start: number, tail: readonly number[] = []): RowStreams {
    return new RowStreams(words, (r) => start + r, tail);
  }

  /** The stream of local row r. */
  row(r: number): Rng {
    return new Rng(...this.words, this.index(r), ...this.tail);
  }

  /** The streams of local rows 0..n-1. */
  rowsOf(n: number): Rng[] {
    return Array.from({ length: n }, (_, r) => this.row(r));
  }

  /** The same rows with `more` appended to every stream's words (e.g. the step). */
  with(...more: number[]): RowStreams {
    return new RowStreams(this.words, this.index, [...this.tail, ...more]);
  }
}
