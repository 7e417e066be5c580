// Training-mode BatchNorm over the rows of an [R, C] matrix (an NHWC activation with R = N*H*W),
// as plain loops over float32 arrays: the arithmetic of the fused kernels in ./kernels.ts.
//
// Forward, three passes (mean, then the variance around it, then the output), float64 sums:
//   mean = sum(x)/R,  var = sum((x - mean)^2)/R (biased, what normalises),
//   y = x*scale + shift with scale = gamma/sqrt(var + eps), shift = beta - mean*scale.
// Backward, two passes, from the textbook derivative through the batch mean and variance:
//   dbeta = sum(dy), dgamma = sum(dy * xhat), xhat = (x - mean)*rstd,
//   dx = k*(dy - dbeta/R - xhat*dgamma/R), k = gamma*rstd,
// which per channel is dx = a*dy + b*x + d (a = k, b = -k*rstd*dgamma/R, d = -k*dbeta/R - b*mean).
// Columns go eight at a time in locals, walking down the rows (see reduce-leading.ts for why).

/** out[c] = sum over rows of f(v[r, c]) for f = identity, or (v - centre[c])^2 when centre is given. */
export function columnSums(v: Float32Array, rows: number, c: number, out: Float64Array, centre?: Float64Array): void {
  let k0 = 0;
  for (; k0 + 8 <= c; k0 += 8) {
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    if (centre) {
      const m0 = centre[k0], m1 = centre[k0 + 1], m2 = centre[k0 + 2], m3 = centre[k0 + 3];
      const m4 = centre[k0 + 4], m5 = centre[k0 + 5], m6 = centre[k0 + 6], m7 = centre[k0 + 7];
      for (let r = 0, b = k0; r < rows; r++, b += c) {
        let t = v[b] - m0; a0 += t * t; t = v[b + 1] - m1; a1 += t * t;
        t = v[b + 2] - m2; a2 += t * t; t = v[b + 3] - m3; a3 += t * t;
        t = v[b + 4] - m4; a4 += t * t; t = v[b + 5] - m5; a5 += t * t;
        t = v[b + 6] - m6; a6 += t * t; t = v[b + 7] - m7; a7 += t * t;
      }
    } else {
      for (let r = 0, b = k0; r < rows; r++, b += c) {
        a0 += v[b]; a1 += v[b + 1]; a2 += v[b + 2]; a3 += v[b + 3];
        a4 += v[b + 4]; a5 += v[b + 5]; a6 += v[b + 6]; a7 += v[b + 7];
      }
    }
    out[k0] = a0; out[k0 + 1] = a1; out[k0 + 2] = a2; out[k0 + 3] = a3;
    out[k0 + 4] = a4; out[k0 + 5] = a5; out[k0 + 6] = a6; out[k0 + 7] = a7;
  }
  for (; k0 < c; k0++) {
    let a = 0;
    const m = centre ? centre[k0] : 0;
    for (let r = 0, b = k0; r < rows; r++, b += c) {
      const t = v[b] - m;
      a += centre ? t * t : t;
    }
    out[k0] = a;
  }
}

/** out[c] = sum over rows of dy[r, c] * (x[r, c] - mean[c]). */
function crossSums(dy: Float32Array, x: Float32Array, rows: number, c: number, mean: Float64Array, out: Float64Array): void {
  for (let k = 0; k < c; k++) out[k] = 0;
  for (let r = 0, b = 0; r < rows; r++, b += c) {
    for (let k = 0; k < c; k++) out[k] += dy[b + k] * (x[b + k] - mean[k]);
  }
}

/** y = x*scale + shift per channel. */
function affine(x: Float32Array, rows: number, c: number, scale: Float64Array, shift: Float64Array, y: Float32Array): void {
  for (let r = 0, b = 0; r < rows; r++, b += c) {
    for (let k = 0; k < c; k++) y[b + k] = x[b + k] * scale[k] + shift[k];
  }
}

export function batchNormTrainForward(
  x: Float32Array, rows: number, c: number, gamma: Float32Array, beta: Float32Array, eps: number,
  y: Float32Array, meanOut: Float32Array, varianceOut: Float32Array,
): void {
  const mean = new Float64Array(c);
  columnSums(x, rows, c, mean);
  for (let k = 0; k < c; k++) mean[k] /= rows;
  const variance = new Float64Array(c);
  columnSums(x, rows, c, variance, mean);
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    variance[k] /= rows;
    scale[k] = gamma[k] / Math.sqrt(variance[k] + eps);
    shift[k] = beta[k] - mean[k] * scale[k];
    meanOut[k] = mean[k];
    varianceOut[k] = variance[k];
  }
  affine(x, rows, c, scale, shift, y);
}

export function batchNormTrainBackward(
  dy: Float32Array, x: Float32Array, rows: number, c: number, gamma: Float32Array,
  meanIn: Float32Array, varianceIn: Float32Array, eps: number,
  dx: Float32Array, dgammaOut: Float32Array, dbetaOut: Float32Array,
): void {
  const mean = Float64Array.from(meanIn);
  const dbeta = new Float64Array(c);
  columnSums(dy, rows, c, dbeta);
  const cross = new Float64Array(c);
  crossSums(dy, x, rows, c, mean, cross);
  const a = new Float64Array(c), bx = new Float64Array(c), d = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    const rstd = 1 / Math.sqrt(varianceIn[k] + eps);
    const dgamma = cross[k] * rstd;
    const kk = gamma[k] * rstd;
    a[k] = kk;
    bx[k] = (-kk * rstd * dgamma) / rows;
    d[k] = (-kk * dbeta[k]) / rows - bx[k] * mean[k];
    dgammaOut[k] = dgamma;
    dbetaOut[k] = dbeta[k];
  }
  for (let r = 0, b = 0; r < rows; r++, b += c) {
    for (let k = 0; k < c; k++) dx[b + k] = a[k] * dy[b + k] + bx[k] * x[b + k] + d[k];
  }
}
