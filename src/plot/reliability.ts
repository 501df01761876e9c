/**
 * Reliability diagrams of calibration diagnostics: the fraction of real samples against the mean
 * predicted p(real) in each bin, one line per diagnostic, beside the diagonal of perfect calibration.
 * Drawn by prCurvePng with its axes renamed.
 */
import type { CalibrationDiagnostic } from '../calibration/diagnostic.js';
import { prCurvePng } from './curves.js';

export interface ReliabilitySeries {
  label: string;
  diagnostic: CalibrationDiagnostic;
}

/** PNG bytes of the reliability diagram of `series` (empty bins are left out of each line). */
export function reliabilityPng(series: ReliabilitySeries[], options: { size?: number; title?: string } = {}): Uint8Array {
  const curves = [
    { label: 'perfectly calibrated', recall: [0, 1], precision: [0, 1], color: [170, 170, 170] as [number, number, number] },
    ...series.map((s) => {
      const bins = s.diagnostic.reliability.filter((b) => b.count > 0);
      return {
        label: `${s.label} (ECE ${s.diagnostic.ece.toFixed(3)})`,
        recall: bins.map((b) => b.meanPredicted),
        precision: bins.map((b) => b.fractionReal),
      };
    }),
  ];
  return prCurvePng(curves, { ...options, xLabel: 'mean predicted p(real)', yLabel: 'fraction real' });
}
