// The browser side of `npm run bench -- --browser`: the latent Langevin step (value and gradient
// of 0.5|z|^2 - D(G(z))) that the Node bench times, on the same pair and latents, in this page.
// Playwright calls `refineryBench.setup` once per case, then `time` in blocks interleaved with
// the Node side's.
import * as ort from 'onnxruntime-web';
import { pairFromBytes, useOnnxRuntime } from '../src/browser.js';
import { LatentTarget } from '../src/targets/latent.js';

useOnnxRuntime(ort);
// The Node side's thread count (?threads=N), set before the first session starts the WASM runtime.
const threads = typeof document === 'undefined' ? 0 : Number(new URLSearchParams(location.search).get('threads'));
const wasm = (ort.env as { wasm?: { numThreads?: number } }).wasm;
if (wasm && Number.isInteger(threads) && threads > 0 && crossOriginIsolated) wasm.numThreads = threads;

function bytesOf(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

let target: LatentTarget | undefined;
let z: { data: Float32Array; shape: number[] } | undefined;

const bench = {
  /** Build the latent target of a pair (ONNX bytes in base64, meta.json's object) for latents z. */
  async setup(generator: string, discriminator: string, meta: object, latents: number[], shape: number[]): Promise<number> {
    await target?.release();
    const t0 = performance.now();
    const pair = pairFromBytes({ generator: bytesOf(generator), discriminator: bytesOf(discriminator), meta });
    target = await LatentTarget.create(pair);
    z = { data: Float32Array.from(latents), shape };
    return performance.now() - t0;
  },
  /** Milliseconds of each of `calls` evaluations; the last one's energy and gradient must be finite. */
  async time(calls: number): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      const e = await target!.evaluate(z!);
      out.push(performance.now() - t0);
      if (i === calls - 1 && !(e.energy.every(Number.isFinite) && e.grad.every(Number.isFinite))) throw new Error('non-finite energy or gradient');
    }
    return out;
  },
  info() {
    const wasm = (ort.env as { wasm?: { numThreads?: number } }).wasm;
    return { user_agent: navigator.userAgent, onnxruntime_web: ort.env.versions.web ?? null, threads: wasm?.numThreads ?? 1, cross_origin_isolated: crossOriginIsolated };
  },
};

// onnxruntime-web's thread workers load this script too: only the page exposes the bench.
if (typeof document !== 'undefined') {
  (globalThis as { refineryBench?: typeof bench }).refineryBench = bench;
  document.body.dataset.ready = 'yes';
}
