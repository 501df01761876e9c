/** Merging the summaries of the chunks of one run. */

/** Fields of per-chunk summaries that add up over chunks (the rest are averaged, weighted by rows). */
export const SUMMED = new Set(['nonFinite', 'proposals', 'accepted', 'restarts', 'rejected', 'clipped', 'seconds']);

/**
 * Merge per-part summaries: SUMMED fields add up; other numbers are averaged weighted by rows,
 * except that a number every part reports alike (a run constant such as DRS's M) is kept exactly.
 */
export function mergeSummaries(parts: { rows: number; summary: Record<string, unknown> }[]): Record<string, unknown> {
  const total = parts.reduce((a, p) => a + p.rows, 0);
  const merged: Record<string, unknown> = {};
  for (const { rows, summary } of parts) {
    for (const [k, v] of Object.entries(summary)) {
      if (typeof v === 'number') merged[k] = ((merged[k] as number | undefined) ?? 0) + (SUMMED.has(k) ? v : (v * rows) / total);
      else if (!(k in merged)) merged[k] = v;
    }
  }
  for (const k of Object.keys(merged)) {
    if (SUMMED.has(k)) continue;
    const values = parts.map((p) => p.summary[k]);
    if (typeof values[0] === 'number' && values.every((v) => v === values[0])) merged[k] = values[0];
  }
  return merged;
}
