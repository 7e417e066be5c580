// The LAMB update as plain loops over Float32Arrays (no tfjs): what src/train/lamb.ts runs on
// backends whose tensor storage JS can reach (wasm heap views, cpu backend arrays).
//
// Why loops: composed from tfjs ops, one LAMB step is ~15 ops per parameter tensor, each a full
// pass writing a fresh tensor (~0.85 s for ResNet-50's 25.5 M values on wasm). Here a step is
//   pass 1  sumOfSquares over every gradient (the global norm for the clip),
//   pass 2  lambMoments per tensor: m, v updated in place, the update u written to a scratch
//           array, ||p||^2 and ||u||^2 accumulated on the way,
//   pass 3  applyUpdate: p' = p - (lr * trust) * u.
// Tensors without weight decay need no trust ratio, so passes 2 and 3 fuse (lambMomentsAndApply).
//
// Precision: sums are float64. Each element is computed in float64 from float32 inputs and
// rounded where PyTorch keeps a float32 tensor (m, v, u, p): m and v are rounded before they
// are used for u, as timm reads them back from its float32 state. So every stored value is
// within a rounding or two of timm's float32 arithmetic (tests against a float64 reference and
// the timm goldens).

/** Per-step constants of one parameter group (timm keeps one step counter per group). */
export interface LambCoefficients {
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 - beta1^t */
  biasCorrection1: number;
  /** sqrt(1 - beta2^t) */
  sqrtBiasCorrection2: number;
  /** Every gradient is divided by this (the global clip; 1 when it does not bind). */
  clipDivisor: number;
  /** L2 added to the update (0: none, and no trust ratio). */
  weightDecay: number;
}

export function lambCoefficients(betas: readonly [number, number], eps: number, step: number, clipDivisor: number, weightDecay: number): LambCoefficients {
  if (!(step >= 1) || !Number.isInteger(step)) throw new RangeError(`lambCoefficients: step must be an integer >= 1, got ${step}`);
  if (!(clipDivisor >= 1)) throw new RangeError(`lambCoefficients: clipDivisor must be >= 1, got ${clipDivisor}`);
  const [beta1, beta2] = betas;
  return { beta1, beta2, eps, biasCorrection1: 1 - beta1 ** step, sqrtBiasCorrection2: Math.sqrt(1 - beta2 ** step), clipDivisor, weightDecay };
}

/** Sum of x[i]^2 in float64; four accumulators so the adds do not wait on each other. */
export function sumOfSquares(x: Float32Array): number {
  const n = x.length;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const a = x[i], b = x[i + 1], c = x[i + 2], d = x[i + 3];
    s0 += a * a;
    s1 += b * b;
    s2 += c * c;
    s3 += d * d;
  }
  for (; i < n; i++) s0 += x[i] * x[i];
  return s0 + s1 + s2 + s3;
}

/** Squared norms measured during pass 2 (inputs to the trust ratio). */
export interface UpdateNorms {
  paramSq: number;
  updateSq: number;
}

/**
 * Pass 2: m, v updated in place from g; u = m_hat / (sqrt(v_hat) + eps) + wd * p written to `u`.
 * Returns ||p||^2 and ||u||^2 (float64). All arrays have the same length; `u` may be longer
 * (a reused scratch buffer), only its first g.length values are written.
 */
export function lambMoments(g: Float32Array, m: Float32Array, v: Float32Array, p: Float32Array, u: Float32Array, k: LambCoefficients): UpdateNorms {
  const n = g.length;
  const { beta1, beta2, eps, biasCorrection1, sqrtBiasCorrection2, clipDivisor, weightDecay } = k;
  const oneMinusB1 = 1 - beta1, oneMinusB2 = 1 - beta2;
  // Reciprocals in float64: a multiply instead of a divide per element; the difference from
  // dividing is ~1e-16 relative, far below the float32 rounding of every stored value.
  const invClip = 1 / clipDivisor, invBc1 = 1 / biasCorrection1, invSqrtBc2 = 1 / sqrtBiasCorrection2;
  let paramSq = 0, updateSq = 0;
  for (let i = 0; i < n; i++) {
    const gi = g[i] * invClip;
    const mi = Math.fround(beta1 * m[i] + oneMinusB1 * gi);
    const vi = Math.fround(beta2 * v[i] + oneMinusB2 * gi * gi);
    m[i] = mi;
    v[i] = vi;
    const pi = p[i];
    const ui = Math.fround((mi * invBc1) / (Math.sqrt(vi) * invSqrtBc2 + eps) + weightDecay * pi);
    u[i] = ui;
    paramSq += pi * pi;
    updateSq += ui * ui;
  }
  return { paramSq, updateSq };
}

/** timm's trust ratio: ||p|| / ||u||, 1 when either is 0 (no upper clip). */
export function trustRatio(norms: UpdateNorms): number {
  return norms.paramSq > 0 && norms.updateSq > 0 ? Math.sqrt(norms.paramSq) / Math.sqrt(norms.updateSq) : 1;
}

/** Pass 3: out[i] = p[i] - scale * u[i] (scale = lr * trust). `out` may be `p` itself. */
export function applyUpdate(p: Float32Array, u: Float32Array, scale: number, out: Float32Array): void {
  const n = p.length;
  for (let i = 0; i < n; i++) out[i] = p[i] - scale * u[i];
}

/**
 * Passes 2 and 3 in one, for tensors without weight decay (trust ratio 1, timm's Adam-like
 * step for BN and biases): m, v in place, out = p - lr * u. `out` may be `p` itself.
 */
export function lambMomentsAndApply(g: Float32Array, m: Float32Array, v: Float32Array, p: Float32Array, lr: number, out: Float32Array, k: LambCoefficients): void {
  if (k.weightDecay !== 0) throw new Error('lambMomentsAndApply: only for weight decay 0 (a decayed tensor needs its trust ratio first)');
  const n = g.length;
  const { beta1, beta2, eps, biasCorrection1, sqrtBiasCorrection2, clipDivisor } = k;
  const oneMinusB1 = 1 - beta1, oneMinusB2 = 1 - beta2;
  const invClip = 1 / clipDivisor, invBc1 = 1 / biasCorrection1, invSqrtBc2 = 1 / sqrtBiasCorrection2;
  for (let i = 0; i < n; i++) {
    const gi = g[i] * invClip;
    const mi = Math.fround(beta1 * m[i] + oneMinusB1 * gi);
    const vi = Math.fround(beta2 * v[i] + oneMinusB2 * gi * gi);
    m[i] = mi;
    v[i] = vi;
    const ui = Math.fround((mi * invBc1) / (Math.sqrt(vi) * invSqrtBc2 + eps));
    out[i] = p[i] - lr * ui;
  }
}
