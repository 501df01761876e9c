/** Adam (Kingma & Ba) over a list of float32 parameter tensors, updated in place. */
export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export interface AdamState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

export function adamInit(params: Float32Array[]): AdamState {
  return { step: 0, m: params.map((p) => new Float32Array(p.length)), v: params.map((p) => new Float32Array(p.length)) };
}

export function adamStep(params: Float32Array[], grads: ArrayLike<number>[], state: AdamState, o: AdamOptions): void {
  state.step++;
  const c1 = 1 - o.beta1 ** state.step;
  const c2 = 1 - o.beta2 ** state.step;
  const lrt = (o.lr * Math.sqrt(c2)) / c1;
  const epst = o.eps * Math.sqrt(c2);
  for (let k = 0; k < params.length; k++) {
    const p = params[k];
    const g = grads[k];
    const m = state.m[k];
    const v = state.v[k];
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * gi;
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * gi * gi;
      p[i] -= (lrt * m[i]) / (Math.sqrt(v[i]) + epst);
    }
  }
}

/** The learning rate of step t (0-based) of `steps`: `lr`, or with `decay` lr (1 - t / steps), linearly to 0. */
export function linearDecay(lr: number, decay: boolean, t: number, steps: number): number {
  return decay ? (lr * (steps - t)) / steps : lr;
}
