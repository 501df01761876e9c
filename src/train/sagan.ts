/**
 * The SAGAN trainer for images (Zhang et al. 2019, "Self-Attention Generative Adversarial
 * Networks"): the DCGAN trainer's networks (dcgan.ts) with a self-attention block (attention.ts)
 * in G, on its last hidden feature map, and in D, after its first convolution; spectral
 * normalisation of every weight of G and of D; the hinge loss; two time-scale learning rates
 * (G 1e-4, D 4e-4) with Adam's beta1 = 0 and beta2 = 0.9, as the paper trains.
 *
 * Where it departs from the paper: no batch normalisation in G (Refinery's trainer has none; the
 * DCGAN's pixel normalisation stands in for it); a smaller network (the DCGAN trainer's width and
 * layers, for 28x28 images on a CPU); one D step per G step, as the paper. Spectral norm treats a
 * weight [a, b, ...] as the matrix [a, b x ...] (PyTorch takes a ConvTranspose weight's second axis
 * as its rows).
 */
import { DCGAN_DEFAULTS, type DcganOptions, type DcganResult, trainImageGan } from './dcgan.js';
import type { GanHooks } from './loop.js';

/** Options of the SAGAN trainer (`trainGan` with model 'sagan'): the DCGAN's, with spectralNormG. */
export type SaganOptions = DcganOptions & { spectralNormG: boolean };

/** Defaults of the SAGAN's options (all but `out`): the DCGAN's with the paper's loss, rates and betas. */
export const SAGAN_DEFAULTS: Omit<SaganOptions, 'out'> = {
  ...DCGAN_DEFAULTS,
  loss: 'hinge',
  spectralNorm: true,
  spectralNormG: true,
  lrG: 1e-4,
  lrD: 4e-4,
  beta1: 0,
  beta2: 0.9,
};

/** Train a SAGAN on `options.realDir` (PNGs) or the built-in `options.dataset`, and write the run folder `options.out`. */
export async function trainSagan(options: SaganOptions, hooks: GanHooks = {}): Promise<DcganResult> {
  return trainImageGan('sagan', options, hooks);
}
