/** Where models run: the execution providers of onnxruntime that Refinery selects by name. */

/** onnxruntime's CPU provider, or its CUDA provider (with the CPU for the operators CUDA lacks). */
export type Device = 'cpu' | 'cuda';

/** The devices `device` options take. */
export const DEVICES: readonly Device[] = ['cpu', 'cuda'];
