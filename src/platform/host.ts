/**
 * The platform Refinery runs on: which ONNX Runtime binding runs its graphs, how many threads it
 * may use, how much memory there is. The core reads these through `host()` and never imports a
 * platform module itself, so that everything but file I/O, the CLI and the binding loads in a
 * browser. In Node.js the Node host (onnxruntime-node) is installed when this module loads; a
 * browser build installs its own with `setHost` (see src/browser.ts: onnxruntime-web).
 */
import type * as ort from 'onnxruntime-common';
import { fail } from '../errors.js';

/** The parts of an ONNX Runtime binding (onnxruntime-node or onnxruntime-web) Refinery uses. */
export interface OrtBinding {
  InferenceSession: typeof ort.InferenceSession;
  Tensor: typeof ort.Tensor;
  env: ort.Env;
}

/** A platform: its ONNX Runtime binding and what it knows of the machine. */
export interface Host {
  /** 'node' or 'browser', for messages and reports. */
  name: string;
  ort: OrtBinding;
  /** Cores available to this process. */
  cores(): number;
  /** Bytes of memory of this machine (an estimate where the platform does not say). */
  totalMemoryBytes(): number;
  /** A setting from the environment (REFINERY_THREADS), or undefined. */
  setting(name: string): string | undefined;
  /** Execution providers to name for a device (ORT's names), CPU last. */
  providers(device: string): string[];
}

let current: Host | undefined;

/** Install the platform (a browser build does, before any session is created). */
export function setHost(h: Host): void {
  current = h;
}

/** The platform in use. */
export function host(): Host {
  if (current === undefined) {
    fail('internal', 'platform', 'an ONNX Runtime binding (in a browser, import Refinery from its browser entry)', 'none installed');
  }
  return current;
}

// In Node.js the Node host loads with this module. Its path is computed so that bundlers for the
// browser do not follow it (the browser entry installs its own host instead).
const isNode = typeof process !== 'undefined' && typeof process.versions === 'object' && typeof process.versions.node === 'string';
if (isNode && current === undefined) {
  const nodeHost = ['.', 'node.js'].join('/');
  current ??= ((await import(/* @vite-ignore */ nodeHost)) as { NODE_HOST: Host }).NODE_HOST;
}
