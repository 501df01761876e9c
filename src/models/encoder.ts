/**
 * Codes of data from an encoder ONNX (x [batch, ...dataShape] -> [batch, c]): the latents that an
 * auto-encoding model maps data to, so that `refine` with `latents` refines reconstructions
 * G(E(x)) instead of fresh samples. alpha-GAN's encoder (`trainAlphaGan`) outputs z (c =
 * latentDim); a VAE's (`trainVae`) outputs [mu, logvar] (c = 2 latentDim), whose mean mu is taken.
 */
import { fail } from '../errors.js';
import { extractFeatures, type FeatureOptions } from '../metrics/features.js';
import type { OnnxModel } from '../onnx/graph.js';
import type { Tensor } from '../tensor.js';

/** Options of `encodeLatents`. */
export interface EncodeOptions extends FeatureOptions {
  /** The generator's latent size: the encoder outputs latentDim values per row (z) or 2 latentDim ([mu, logvar]: mu is kept). */
  latentDim: number;
}

/** The codes of every row of `x` ([n, ...dataShape]), shape [n, latentDim]. */
export async function encodeLatents(encoder: OnnxModel, x: Tensor, options: EncodeOptions): Promise<Tensor> {
  const k = options.latentDim;
  if (!Number.isSafeInteger(k) || k < 1) fail('invalid_argument', 'latentDim', 'a positive integer', String(k));
  const path = options.path ?? 'encoder';
  const codes = await extractFeatures(encoder, x, { ...options, path });
  const n = x.shape[0];
  const c = codes.shape[1];
  if (c !== k && c !== 2 * k)
    fail('shape_mismatch', `${path} output`, `${k} values per row (z) or ${2 * k} ([mu, logvar]) for latent size ${k}`, `${c} values per row`);
  if (c === k) return codes;
  const z = new Float32Array(n * k);
  for (let i = 0; i < n; i++) z.set(codes.data.subarray(i * c, i * c + k), i * k);
  return { data: z, shape: [n, k] };
}
