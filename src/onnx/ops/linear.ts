/** Matrix products: Gemm, MatMul and Einsum. */
import { attrFloat, attrInt, attrString, float, int, str, type Dim, type Graph, type Node } from '../graph.js';
import type { OpDef } from './types.js';
import { broadcast, fmtShape, reduceTo, shapeError, unsupported } from './util.js';

function swapLast(g: Graph, x: string): string {
  const r = g.rank(x);
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return g.op('Transpose', [x], { perm: { type: 'ints', v: perm } });
}

function scaled(g: Graph, x: string, s: number): string {
  return s === 1 ? x : g.op('Mul', [x, g.scalar(s)]);
}

export const linearOps: OpDef[] = [
  {
    op: 'Gemm',
    infer(g, node) {
      const [a, b] = node.inputs;
      const sa = g.shape(a);
      const sb = g.shape(b);
      if (sa.length !== 2 || sb.length !== 2) shapeError(node, '2-D inputs A and B', `${fmtShape(sa)} and ${fmtShape(sb)}`);
      const ta = attrInt(node, 'transA', 0);
      const tb = attrInt(node, 'transB', 0);
      const [m, ka] = ta ? [sa[1], sa[0]] : [sa[0], sa[1]];
      const [kb, n] = tb ? [sb[1], sb[0]] : [sb[0], sb[1]];
      if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) {
        shapeError(node, 'inner dimensions of A and B to agree', `${fmtShape(sa)} (transA=${ta}) and ${fmtShape(sb)} (transB=${tb})`);
      }
      return [{ dtype: g.dtype(a), shape: [m, n] }];
    },
    grad(ctx) {
      const { g, node } = ctx;
      const dy = ctx.dy[0];
      const [a, b, c] = node.inputs;
      if (dy === undefined) return [undefined, undefined, undefined];
      const ta = attrInt(node, 'transA', 0);
      const tb = attrInt(node, 'transB', 0);
      const alpha = attrFloat(node, 'alpha', 1);
      const beta = attrFloat(node, 'beta', 1);
      const gemm = (x: string, y: string, tx: number, ty: number) => g.op('Gemm', [x, y], { transA: int(tx), transB: int(ty), alpha: float(alpha) });
      // Y = alpha op(A) op(B) + beta C
      let da: string | undefined;
      if (ctx.needs(0)) da = ta ? gemm(b, dy, tb, 1) : gemm(dy, b, 0, tb ? 0 : 1);
      let db: string | undefined;
      if (ctx.needs(1)) db = tb ? gemm(dy, a, 1, ta) : gemm(a, dy, ta ? 0 : 1, 0);
      let dc: string | undefined;
      if (c && ctx.needs(2)) dc = reduceTo(g, scaled(g, dy, beta), c);
      return [da, db, dc];
    },
  },
  {
    op: 'MatMul',
    infer(g, node) {
      const [a, b] = node.inputs;
      const sa = g.shape(a);
      const sb = g.shape(b);
      if (sa.length === 0 || sb.length === 0) shapeError(node, 'inputs of rank >= 1', `${fmtShape(sa)} and ${fmtShape(sb)}`);
      const a2 = sa.length === 1 ? [1, sa[0]] : sa;
      const b2 = sb.length === 1 ? [sb[0], 1] : sb;
      const ka = a2[a2.length - 1];
      const kb = b2[b2.length - 2];
      if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) {
        shapeError(node, 'inner dimensions to agree', `${fmtShape(sa)} and ${fmtShape(sb)}`);
      }
      const batch = broadcast(node, a2.slice(0, -2), b2.slice(0, -2));
      const out: Dim[] = [...batch];
      if (sa.length > 1) out.push(a2[a2.length - 2]);
      if (sb.length > 1) out.push(b2[b2.length - 1]);
      return [{ dtype: g.dtype(a), shape: out }];
    },
    grad(ctx) {
      const { g, node } = ctx;
      const dy = ctx.dy[0];
      const [a, b] = node.inputs;
      if (dy === undefined) return [undefined, undefined];
      if (g.rank(a) < 2 || g.rank(b) < 2)
        unsupported(node, 'MatMul inputs of rank >= 2 for differentiation', `${fmtShape(g.shape(a))} and ${fmtShape(g.shape(b))}`);
      const da = ctx.needs(0) ? reduceTo(g, g.op('MatMul', [dy, swapLast(g, b)]), a) : undefined;
      const db = ctx.needs(1) ? reduceTo(g, g.op('MatMul', [swapLast(g, a), dy]), b) : undefined;
      return [da, db];
    },
  },
  {
    op: 'Einsum',
    infer(g, node) {
      const { terms, out } = einsumTerms(g, node);
      const sizes = new Map<string, Dim>();
      terms.forEach((t, k) => {
        const s = g.shape(node.inputs[k]);
        [...t].forEach((c, i) => {
          const prev = sizes.get(c);
          if (prev === undefined || prev === 1 || typeof prev === 'string') sizes.set(c, s[i]);
          else if (typeof s[i] === 'number' && s[i] !== 1 && s[i] !== prev) shapeError(node, `one size for index ${c}`, `${prev} and ${s[i]}`);
        });
      });
      return [{ dtype: g.dtype(node.inputs[0]), shape: [...out].map((c) => sizes.get(c)!) }];
    },
    grad(ctx) {
      // The gradient of operand k is the einsum of dy with the other operands, back to k's indices;
      // indices that only operand k has (summed away) are broadcast back.
      const { g, node } = ctx;
      const dy = ctx.dy[0];
      if (dy === undefined) return node.inputs.map(() => undefined);
      const { terms, out } = einsumTerms(g, node);
      return node.inputs.map((x, k) => {
        if (!ctx.needs(k)) return undefined;
        const target = terms[k];
        if (new Set(target).size !== target.length) unsupported(node, 'Einsum operands without repeated indices, for differentiation', target);
        const others = terms.filter((_, j) => j !== k);
        const seen = new Set([...out, ...others.join('')]);
        const kept = [...target].filter((c) => seen.has(c)).join('');
        const d = g.op('Einsum', [dy, ...node.inputs.filter((_, j) => j !== k)], { equation: str(`${[out, ...others].join(',')}->${kept}`) });
        if (kept === target) return d;
        const lost = [...target].flatMap((c, i) => (seen.has(c) ? [] : [i]));
        return g.op('Expand', [g.op('Unsqueeze', [d, g.int64s(lost)]), g.shapeOf(x)]);
      });
    },
  },
];

/** An Einsum's equation with ellipses spelled out as letters and the output made explicit. */
function einsumTerms(g: Graph, node: Node): { terms: string[]; out: string } {
  const eq = attrString(node, 'equation', '').replace(/\s+/g, '');
  const [lhs, rhs] = eq.split('->');
  const raw = lhs.split(',');
  if (raw.length !== node.inputs.length || !/^[a-zA-Z.,]*(->[a-zA-Z.]*)?$/.test(eq)) {
    shapeError(node, `an equation with ${node.inputs.length} operands`, `'${eq}'`);
  }
  const free = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'].filter((c) => !eq.includes(c));
  let ellipsis: string | undefined;
  const terms = raw.map((t, k) => {
    if (!t.includes('...')) return t;
    const n = g.rank(node.inputs[k]) - t.replace('...', '').length;
    const letters = free.slice(0, n).join('');
    if (ellipsis !== undefined && ellipsis !== letters) unsupported(node, 'ellipses of one rank in every operand', `'${eq}'`);
    ellipsis = letters;
    return t.replace('...', letters);
  });
  let out: string;
  if (rhs !== undefined) out = rhs.replace('...', ellipsis ?? '');
  else {
    const all = terms.join('');
    const once = [...new Set(all)].filter((c) => all.indexOf(c) === all.lastIndexOf(c) && !(ellipsis ?? '').includes(c)).sort();
    out = (ellipsis ?? '') + once.join('');
  }
  terms.forEach((t, k) => {
    if (t.length !== g.rank(node.inputs[k])) shapeError(node, `operand ${k} of rank ${t.length} ('${raw[k]}')`, fmtShape(g.shape(node.inputs[k])));
  });
  return { terms, out };
}
