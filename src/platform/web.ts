/**
 * The browser host: an onnxruntime-web module given by the page (Refinery does not bundle it),
 * the cores the browser reports, and its memory estimate. WASM runs on the CPU: multithreaded
 * when the page is cross-origin isolated (SharedArrayBuffer), single-threaded otherwise.
 */
import type { Host, OrtBinding } from './host.js';

/** What a page knows of its machine (navigator), when it knows. */
interface NavigatorLike {
  hardwareConcurrency?: number;
  /** GB, rounded (Chromium). */
  deviceMemory?: number;
}

/** A host over an onnxruntime-web module (`import * as ort from 'onnxruntime-web'`). */
export function webHost(ort: OrtBinding): Host {
  const nav = (globalThis as { navigator?: NavigatorLike }).navigator ?? {};
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const cores = Math.max(1, nav.hardwareConcurrency ?? 1);
  // Threads need SharedArrayBuffer, which only cross-origin isolated pages have.
  const wasm = (ort.env as { wasm?: { numThreads?: number } }).wasm;
  if (wasm) wasm.numThreads = isolated ? cores : 1;
  return {
    name: 'browser',
    ort,
    cores: () => (isolated ? cores : 1),
    totalMemoryBytes: () => (nav.deviceMemory ?? 4) * 2 ** 30,
    setting: () => undefined,
    providers: (device) => (device === 'webgpu' ? ['webgpu', 'wasm'] : ['wasm']),
  };
}
