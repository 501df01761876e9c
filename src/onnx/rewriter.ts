/** Rebuilding a graph node by node: what the rewrites of fuse.ts and phases.ts share. */
import { type ConstTensor, Graph, type Node } from './graph.js';

export class Rewriter {
  /** The graph being built: g's name, opset, inputs and initializers, then the nodes added. */
  readonly out = new Graph();
  private readonly taken: Set<string>;

  constructor(g: Graph) {
    this.out.name = g.name;
    this.out.opset = g.opset;
    for (const v of g.inputs) this.out.addInput(v.name, v.dtype, [...v.shape]);
    for (const [name, t] of g.initializers) this.out.addInitializer(name, t);
    // Names for new nodes and values must avoid every node and value of g, not only those added
    // so far (a Graph's fresh names do the latter, and g's later nodes are not added yet).
    this.taken = new Set([...g.values.keys(), ...g.nodes.map((n) => n.name)]);
  }

  /** `base`, or `base_k` for the first k that no node or value has taken. */
  unique(base: string): string {
    let name = base;
    for (let k = 1; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    return name;
  }

  /**
   * `g` rebuilt node by node, in order: `rewrite(rw, n)` emits what replaces n (nothing, to drop
   * it) and returns true, or returns false to keep a copy of n. The result has g's outputs, and
   * what nothing reads is removed (`finish`).
   */
  static rebuild(g: Graph, rewrite: (rw: Rewriter, n: Node) => boolean): Graph {
    const rw = new Rewriter(g);
    for (const n of g.nodes) if (!rewrite(rw, n)) rw.copy(n);
    return rw.finish(g.outputs);
  }

  /** A copy of g's node `n`. */
  copy(n: Node): void {
    this.out.addNode({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } });
  }

  /** A new node named after `base`; returns its output (`output`, or a new name). */
  emit(base: string, op: string, inputs: string[], attrs: Node['attrs'] = {}, output = this.unique(`${base}/${op}`)): string {
    this.out.addNode({ name: this.unique(`${base}/${op}_node`), op, domain: '', inputs, outputs: [output], attrs });
    return output;
  }

  /** A new initializer named after `base`. */
  constant(base: string, t: ConstTensor): string {
    return this.out.addInitializer(this.unique(base), t);
  }

  /** A new int64 vector initializer (a shape, starts, ends, axes). */
  int64s(base: string, values: number[]): string {
    return this.constant(base, { dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
  }

  /** The graph with `outputs`, without the nodes and initializers that nothing reads. */
  finish(outputs: readonly string[]): Graph {
    const g = this.out;
    g.outputs = [...outputs];
    for (let removed = true; removed; ) {
      const read = new Set(g.outputs);
      for (const n of g.nodes) for (const i of n.inputs) read.add(i);
      const kept = g.nodes.filter((n) => n.outputs.some((o) => o !== '' && read.has(o)));
      removed = kept.length < g.nodes.length;
      g.nodes = kept;
    }
    const read = new Set(g.outputs);
    for (const n of g.nodes) for (const i of n.inputs) read.add(i);
    for (const name of [...g.initializers.keys()]) {
      if (!read.has(name)) {
        g.initializers.delete(name);
        g.values.delete(name);
      }
    }
    return g;
  }
}
