/**
 * JPEG decoding for image folders (Node): libjpeg-turbo's decoder as MozJPEG ships it, compiled
 * to WebAssembly by `@jsquash/jpeg`. PIL decodes JPEGs with libjpeg-turbo too, with the same
 * defaults (accurate integer IDCT, smooth chroma upsampling), so a folder of JPEGs gives the
 * pixels that pytorch-fid and torch-fidelity read (`Image.open(f).convert('RGB')`); the tests
 * check this bit for bit against PIL's decoding of baseline, progressive, 4:2:0, 4:2:2, 4:4:4
 * and greyscale files. EXIF orientation is ignored, as PIL's `open` ignores it.
 *
 * A truncated file fails the decoding with libjpeg's warning ("Premature end of JPEG file"):
 * libjpeg would fill what is missing with grey, and PIL refuses it ("image file is truncated").
 * libjpeg's other warnings (e.g. "Corrupt JPEG data: 1 extraneous bytes before marker 0xd9")
 * pass, as PIL lets them pass: the pixels are libjpeg's either way.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import decode, { init } from '@jsquash/jpeg/decode.js';

/** A decoded JPEG: width x height pixels, RGBA bytes (A = 255; a greyscale JPEG has R = G = B). */
export interface DecodedJpeg {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** Whether `bytes` start as a JPEG file does (the SOI marker and the next marker's 0xFF). */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** The WebAssembly API (not in this project's TypeScript libraries, which leave out the DOM's). */
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<object> } }).WebAssembly;

/** The compiled decoder (a WebAssembly.Module), compiled once per process. */
let compiled: object | undefined;
/** Whether the decoder instance is usable (a failed decoding exits the instance; the next call makes a new one). */
let live = false;
/** libjpeg's messages during the current decoding. */
const messages: string[] = [];

type Init = (module: object, overrides: { print: (s: string) => void; printErr: (s: string) => void }) => Promise<void>;

async function ready(): Promise<void> {
  if (live) return;
  compiled ??= await wasm.compile(readFileSync(createRequire(import.meta.url).resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm')));
  const keep = (s: string) => void messages.push(s);
  // The typings declare only the one-argument form; the function takes the module and the overrides.
  await (init as unknown as Init)(compiled, { print: keep, printErr: keep });
  live = true;
}

/** libjpeg's warning for a file that ends before its image does (JWRN_JPEG_EOF). */
const TRUNCATED = 'Premature end of JPEG file';

/** The decodings asked for, one after another: libjpeg's messages are collected per decoding. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Decode a JPEG file's bytes. Throws an Error whose message is libjpeg's (e.g. "Premature end of
 * JPEG file" for a truncated file, "Unsupported color conversion request" for a CMYK one, with
 * any warnings before it).
 * Decodings run one at a time, in the order asked, whoever asks.
 */
export function decodeJpeg(bytes: Uint8Array): Promise<DecodedJpeg> {
  const run = queue.then(() => decodeNow(bytes));
  queue = run.catch(() => undefined);
  return run;
}

async function decodeNow(bytes: Uint8Array): Promise<DecodedJpeg> {
  await ready();
  messages.length = 0;
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let image: { width: number; height: number; data: Uint8ClampedArray };
  try {
    image = await decode(buffer);
  } catch (e) {
    live = false;
    throw new Error(messages.join('; ') || (e instanceof Error ? e.message : String(e)));
  }
  if (messages.some((m) => m.includes(TRUNCATED))) throw new Error(messages.join('; '));
  return { width: image.width, height: image.height, data: image.data };
}
