/** The two-sample Kolmogorov-Smirnov test (used by DRE-F-SP's overfitting check and by the statistical tests). */

/** Asymptotic Kolmogorov distribution: P(K > t). */
function kolmogorovTail(t: number): number {
  if (t < 0.2) return 1;
  let s = 0;
  for (let k = 1; k <= 100; k++) s += 2 * (-1) ** (k - 1) * Math.exp(-2 * k * k * t * t);
  return Math.min(1, Math.max(0, s));
}

/** Two-sample KS test: statistic D and its asymptotic p-value (Stephens' small-sample correction). */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): { statistic: number; pValue: number } {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  let i = 0;
  let j = 0;
  let dmax = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] <= v) i++;
    while (j < y.length && y[j] <= v) j++;
    dmax = Math.max(dmax, Math.abs(i / x.length - j / y.length));
  }
  const ne = Math.sqrt((x.length * y.length) / (x.length + y.length));
  return { statistic: dmax, pValue: kolmogorovTail((ne + 0.12 + 0.11 / ne) * dmax) };
}
