import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { diagnoseLogRatios } from '../calibration/diagnostic.js';
import { Rng } from '../rng.js';
import { PALETTE, curvesLayout } from './curves.js';
import { reliabilityPng } from './reliability.js';

function pixel(png: PNG, x: number, y: number): [number, number, number] {
  const o = 4 * (y * png.width + x);
  return [png.data[o], png.data[o + 1], png.data[o + 2]];
}

test('reliabilityPng: the diagonal, then one line per diagnostic through its bins (mean predicted, fraction real)', () => {
  const rng = new Rng(9);
  const x = Float64Array.from({ length: 3000 }, () => 2 * rng.normal());
  const y = Uint8Array.from(x, (v) => (rng.uniform() < 1 / (1 + Math.exp(-v)) ? 1 : 0));
  const calibrated = diagnoseLogRatios(y, x);
  const over = diagnoseLogRatios(
    y,
    Array.from(x, (v) => 3 * v),
  );
  const size = 200;
  const png = PNG.sync.read(
    Buffer.from(
      reliabilityPng(
        [
          { label: 'calibrated', diagnostic: calibrated },
          { label: 'logit x 3', diagnostic: over },
        ],
        { size },
      ),
    ),
  );
  const layout = curvesLayout(['perfectly calibrated', `calibrated (ECE ${calibrated.ece.toFixed(3)})`, `logit x 3 (ECE ${over.ece.toFixed(3)})`], { size });
  assert.equal(png.width, layout.width);
  const at = (px: number, py: number) => pixel(png, layout.x0 + Math.round(px * (size - 1)), layout.y0 + Math.round((1 - py) * (size - 1)));
  // The diagonal's grey at its middle; each line's colour at each of its bin points.
  assert.deepEqual(at(0.55, 0.55), [170, 170, 170]);
  const lines = [calibrated, over];
  lines.forEach((d, i) => {
    const bins = d.reliability.filter((b) => b.count > 0);
    assert.ok(bins.length >= 8);
    // An interior point of the polyline (line ends may be overdrawn by nothing, interior vertices too).
    const hits = bins.filter((b) => {
      const c = at(b.meanPredicted, b.fractionReal);
      return c[0] === PALETTE[i + 1][0] && c[1] === PALETTE[i + 1][1] && c[2] === PALETTE[i + 1][2];
    }).length;
    assert.ok(hits >= bins.length - 2, `line ${i}: ${hits} of ${bins.length} bin points in its colour (palette entry i + 1: the diagonal is the first curve)`);
  });
  // Negative control: the over-confident line's bins are off the diagonal, the calibrated ones are not.
  assert.ok(over.ece > 3 * calibrated.ece, `ECE ${over.ece} vs ${calibrated.ece}`);
});
