/**
 * The 8-Gaussian ring: an equal-weight mixture of 8 isotropic Gaussians with standard deviation
 * 0.02 whose centres are equally spaced on the circle of radius 2. Mode k has centre
 * (2 cos(2πk/8), 2 sin(2πk/8)).
 */
import type { Dataset2D } from './dataset.js';
import { gaussianMixture2D } from './grid25.js';

export const RING8_RADIUS = 2;
export const RING8_STD = 0.02;

function ringCentres(): Float64Array {
  const c = new Float64Array(16);
  for (let k = 0; k < 8; k++) {
    const a = (2 * Math.PI * k) / 8;
    c[2 * k] = RING8_RADIUS * Math.cos(a);
    c[2 * k + 1] = RING8_RADIUS * Math.sin(a);
  }
  return c;
}

export const ring8: Dataset2D = gaussianMixture2D('ring8', ringCentres(), RING8_STD, [-3, 3, -3, 3]);
