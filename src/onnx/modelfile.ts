/** Reading ONNX files (Node.js only; in memory, use `modelFromBytes`). */
import { readFileSync } from 'node:fs';
import { RefineryError } from '../errors.js';
import type { Graph, OnnxModel } from './graph.js';
import { graphFromModel, modelFromBytes } from './model.js';
import { decodeModel } from './proto.js';

/** The bytes of an ONNX file; a file that cannot be read is an error naming it. */
function readOnnx(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new RefineryError('invalid_file', [{ path, expected: 'a readable ONNX file', received: (e as NodeJS.ErrnoException).code ?? String(e) }]);
  }
}

/** Read an ONNX model file (see `modelFromBytes`; errors name the file). */
export function loadModel(path: string): OnnxModel {
  return modelFromBytes(readOnnx(path), path);
}

/** Read and parse an ONNX file. Errors name the file. */
export function loadGraph(path: string): Graph {
  return graphFromModel(decodeModel(readOnnx(path), path), path);
}
