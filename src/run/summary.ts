/** Merging the summaries of the chunks of one run. */

/** Fields of per-chunk summaries that add up over chunks (the rest are averaged, weighted by rows). */
export const SUMMED = new Set(['nonFinite', 'proposals', 'accepted', 'restarts', 'rejected', 'clipped', 'seconds']);

export function mergeSummaries(parts: { rows: number; summary: Record<string, unknown> }[]): Record<string, unknown> {
  const total = parts.reduce((a, p) => a + p.rows, 0);
  const merged: Record<string, unknown> = {};
  for (const { rows, summary } of parts) {
    for (const [k, v] of Object.entries(summary)) {
      if (typeof v === 'number') merged[k] = ((merged[k] as number | undefined) ?? 0) + (SUMMED.has(k) ? v : (v * rows) / total);
      else if (!(k in merged)) merged[k] = v;
    }
  }
  return merged;
}
