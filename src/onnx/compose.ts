/** Composing graphs: copy one graph into another with renamed values, wiring its inputs. */
import { RefineryError } from '../errors.js';
import type { Graph, Node } from './graph.js';
import { foldLayers } from './fuse.js';
import { fmtShape } from './ops/util.js';
import { upgradeGraph, upgradeNode } from './opset.js';

/**
 * Copy `src` into `dst` under `prefix`, feeding each of src's inputs from the dst value named in
 * `inputs`. Returns the dst names of src's outputs. Shapes must agree (symbolic dims match anything).
 * BatchNormalizations and nearest upsamplings around constant-weight convolutions in src are
 * folded into them (foldLayers).
 */
export function inline(dst: Graph, given: Graph, prefix: string, inputs: Record<string, string>): Record<string, string> {
  const src = foldLayers(given);
  const rename = new Map<string, string>();
  for (const v of src.inputs) {
    const target = inputs[v.name];
    if (target === undefined) {
      throw new RefineryError('invalid_argument', [{ path: `${src.name} input ${v.name}`, expected: 'a value to feed it', received: 'none' }]);
    }
    const ts = dst.shape(target);
    const ok = ts.length === v.shape.length && ts.every((d, i) => typeof d !== 'number' || typeof v.shape[i] !== 'number' || d === v.shape[i]);
    if (!ok) {
      throw new RefineryError('shape_mismatch', [
        { path: `${src.name} input ${v.name}`, expected: `shape ${fmtShape(v.shape)}`, received: `${target} of shape ${fmtShape(ts)}` },
      ]);
    }
    rename.set(v.name, target);
  }
  // One opset for the whole graph: the higher of the two, older nodes rewritten to it.
  upgradeGraph(dst, src.opset);
  for (const [name, t] of src.initializers) {
    if (rename.has(name)) continue;
    rename.set(name, dst.addInitializer(prefix + name, t));
  }
  const mapName = (n: string) => (n === '' ? '' : (rename.get(n) ?? prefix + n));
  for (const n of src.nodes) {
    const copy: Node = { ...n, name: prefix + n.name, inputs: n.inputs.map(mapName), outputs: n.outputs.map(mapName), attrs: { ...n.attrs } };
    upgradeNode(dst, copy, src.opset, dst.opset);
    for (const o of n.outputs) if (o !== '') rename.set(o, prefix + o);
    dst.addNode(copy);
  }
  const out: Record<string, string> = {};
  for (const o of src.outputs) out[o] = mapName(o);
  return out;
}
