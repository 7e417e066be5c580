// The input gradient of a strided convolution without the zeros: a sub-pixel ("phase")
// decomposition into stride-1 convolutions, each run by the fast native Conv2D.
//
// 1-D to see it: the forward conv computes y[a] = sum_i x[a*s + i - top] * w[i], so
//   dx[h] = sum over (a, i) with a*s + i - top = h of dy[a] * w[i].
// Split h by its phase p = h mod s, h = s*u + p. Only taps i = i0 + s*k with i0 = (p + top) mod s
// reach phase p, and for those a = u + c - k with c = (p + top - i0) / s. So every phase is an
// ordinary stride-1 correlation of dy with a small sub-filter (those taps, reversed), with its own
// padding; the phases then interleave into dx. In 2-D there are sh*sw phases. Compared with
// correlating a zero-stuffed dy with the whole filter, this does exactly the forward pass's
// multiply-adds instead of s*s times as many (for 3x3/2: 1/4 of the work).
// Channels: every sub-filter is [kh', kw', Cout, Cin] (dy's channels in, dx's out).
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { call, free, reshape, type WasmBackendLike } from './compose.ts';
import type { ConvGeometry } from '../conv-geometry.ts';

/** The taps of one phase along one axis, and where its correlation starts and ends in dy. */
interface AxisPhase {
  /** Filter taps of this phase, in the order the correlation applies them (reversed). */
  taps: number[];
  /** Output rows of this phase: ceil((size - p) / s). */
  count: number;
  /** Padding of dy before / after (negative: crop). */
  before: number;
  after: number;
}

function axisPhase(p: number, s: number, k: number, pad: number, size: number, outSize: number): AxisPhase {
  const i0 = (((p + pad) % s) + s) % s;
  const taps: number[] = [];
  for (let i = i0; i < k; i += s) taps.push(i);
  taps.reverse();
  const count = Math.max(0, Math.ceil((size - p) / s));
  const c = (p + pad - i0) / s;
  const kp = taps.length;
  return { taps, count, before: kp - 1 - c, after: count + c - outSize };
}

/** dy cropped where a phase's padding is negative (rows it never reads), else dy itself (a new reference). */
function cropForPhase(backend: WasmBackendLike, dy: TensorInfo, ph: AxisPhase, pw: AxisPhase): { t: TensorInfo; top: number; bottom: number; left: number; right: number } {
  const [n, ho, wo, c] = dy.shape;
  const cropTop = Math.max(0, -ph.before), cropBottom = Math.max(0, -ph.after);
  const cropLeft = Math.max(0, -pw.before), cropRight = Math.max(0, -pw.after);
  const t = cropTop + cropBottom + cropLeft + cropRight === 0
    ? reshape(backend, dy, dy.shape)
    : call(backend, 'Slice', { x: dy }, { begin: [0, cropTop, cropLeft, 0], size: [n, ho - cropTop - cropBottom, wo - cropLeft - cropRight, c] });
  return { t, top: Math.max(0, ph.before), bottom: Math.max(0, ph.after), left: Math.max(0, pw.before), right: Math.max(0, pw.after) };
}

/**
 * dx for any k x k convolution geometry (stride 1 included: one phase, the classic rotated-filter
 * correlation). `swapped` is the filter with channels swapped per tap: [kh*kw, Cout, Cin].
 */
export function inputGradByPhases(backend: WasmBackendLike, dy: TensorInfo, swapped: TensorInfo, g: ConvGeometry): TensorInfo {
  const block = g.cout * g.cin;
  const phases: { out: TensorInfo | null; p: number; q: number }[] = [];
  for (let p = 0; p < g.sh; p++) {
    for (let q = 0; q < g.sw; q++) {
      const ph = axisPhase(p, g.sh, g.kh, g.top, g.h, g.ho);
      const pw = axisPhase(q, g.sw, g.kw, g.left, g.w, g.wo);
      if (ph.count === 0 || pw.count === 0) continue;
      if (ph.taps.length === 0 || pw.taps.length === 0) {
        phases.push({ out: null, p, q }); // no tap reaches these pixels: their gradient is 0
        continue;
      }
      // The sub-filter, [kh', kw', Cout, Cin], copied tap block by tap block.
      const sub = backend.makeOutput([ph.taps.length, pw.taps.length, g.cout, g.cin], 'float32');
      {
        const src = backend.typedArrayFromHeap(swapped) as Float32Array;
        const dst = backend.typedArrayFromHeap(sub) as Float32Array;
        let d = 0;
        for (const i of ph.taps) {
          for (const j of pw.taps) {
            const t = i * g.kw + j;
            dst.set(src.subarray(t * block, (t + 1) * block), d);
            d += block;
          }
        }
      }
      const cropped = cropForPhase(backend, dy, ph, pw);
      const out = call(backend, 'Conv2D', { x: cropped.t, filter: sub }, {
        strides: [1, 1],
        pad: [[0, 0], [cropped.top, cropped.bottom], [cropped.left, cropped.right], [0, 0]],
        dataFormat: 'NHWC',
        dilations: [1, 1],
        dimRoundingMode: undefined,
      });
      free(backend, cropped.t, sub);
      if (out.shape[1] !== ph.count || out.shape[2] !== pw.count) {
        throw new Error(`Conv2DBackpropInput (wasm): phase (${p}, ${q}) gave [${out.shape}], expected rows ${ph.count} x cols ${pw.count}: geometry ${JSON.stringify(g)}`);
      }
      phases.push({ out, p, q });
    }
  }
  // One phase covering everything (stride 1): it is dx.
  if (g.sh === 1 && g.sw === 1 && phases.length === 1 && phases[0].out !== null) return phases[0].out;
  // Interleave: dx[n, s*u + p, s*v + q, :] = phase(p, q)[n, u, v, :]; pixels of tap-less phases stay 0.
  const dx = backend.makeOutput([g.n, g.h, g.w, g.cin], 'float32');
  const dst = backend.typedArrayFromHeap(dx) as Float32Array;
  dst.fill(0);
  for (const { out, p, q } of phases) {
    if (out === null) continue;
    const [, rows, cols] = out.shape;
    const src = backend.typedArrayFromHeap(out) as Float32Array;
    let s0 = 0;
    for (let b = 0; b < g.n; b++) {
      for (let u = 0; u < rows; u++) {
        const rowBase = ((b * g.h + u * g.sh + p) * g.w + q) * g.cin;
        for (let v = 0; v < cols; v++, s0 += g.cin) {
          dst.set(src.subarray(s0, s0 + g.cin), rowBase + v * g.sw * g.cin);
        }
      }
    }
    free(backend, out);
  }
  return dx;
}
