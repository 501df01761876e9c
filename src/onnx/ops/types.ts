/** What Refinery knows about an ONNX operator: how to infer its output shapes and how to differentiate it. */
import type { DType, Dim, Graph, Node } from '../graph.js';

export interface OutInfo {
  dtype: DType;
  shape: Dim[];
}

export interface GradCtx {
  g: Graph;
  node: Node;
  /** Gradient flowing into each output; undefined where none flows (zero). */
  dy: (string | undefined)[];
  /** Whether input i needs a gradient. */
  needs(i: number): boolean;
  /**
   * The one node of the forward graph that reads `value`, when exactly one input of one node
   * does and `value` is neither a graph output nor a seed (so all of its gradient flows there).
   */
  soleReader(value: string): Node | undefined;
  /**
   * The gradient of a value that a later node of the forward graph produces (complete: every
   * later node has been differentiated); undefined where none flows.
   */
  gradOf(value: string): string | undefined;
}

export interface OpDef {
  op: string;
  infer(g: Graph, node: Node): OutInfo[];
  /**
   * Reverse-mode rule: emits ONNX nodes into ctx.g computing the gradient of each input from the
   * output gradients; undefined for inputs that are not differentiable or not needed. Absent for
   * operators whose outputs are piecewise constant in their inputs (Shape, Greater, Sign, ...).
   */
  grad?(ctx: GradCtx): (string | undefined)[];
  /** True when the outputs carry no gradient at all (integer/boolean results, step functions). */
  constantOutput?: boolean;
}
