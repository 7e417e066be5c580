// Layout conversion between PyTorch (timm state dicts, safetensors files) and our tfjs
// variables: conv weights OIHW <-> HWIO, linear weights [out, in] <-> [in, out]. Everything
// else is stored identically. Done on plain typed arrays so the conversion is exact and the
// same on every backend.
import type { StateRole } from './resnet-archs.ts';

type Data = Float32Array | Int32Array;

/** PyTorch-layout data of shape `timmShape` -> our layout. */
export function toOurLayout<T extends Data>(role: StateRole, timmShape: readonly number[], src: T): T {
  if (role === 'conv_weight') {
    const [o, i, kh, kw] = timmShape;
    const dst = new (src.constructor as new (n: number) => T)(src.length);
    // src index ((oo*i + ii)*kh + y)*kw + x  ->  dst index ((y*kw + x)*i + ii)*o + oo
    let s = 0;
    for (let oo = 0; oo < o; oo++) {
      for (let ii = 0; ii < i; ii++) {
        for (let y = 0; y < kh; y++) {
          for (let x = 0; x < kw; x++) dst[((y * kw + x) * i + ii) * o + oo] = src[s++];
        }
      }
    }
    return dst;
  }
  if (role === 'fc_weight') return transpose2d(src, timmShape[0], timmShape[1]);
  return src;
}

/** Our-layout data -> PyTorch layout of shape `timmShape`. */
export function toTimmLayout<T extends Data>(role: StateRole, timmShape: readonly number[], src: T): T {
  if (role === 'conv_weight') {
    const [o, i, kh, kw] = timmShape;
    const dst = new (src.constructor as new (n: number) => T)(src.length);
    let d = 0;
    for (let oo = 0; oo < o; oo++) {
      for (let ii = 0; ii < i; ii++) {
        for (let y = 0; y < kh; y++) {
          for (let x = 0; x < kw; x++) dst[d++] = src[((y * kw + x) * i + ii) * o + oo];
        }
      }
    }
    return dst;
  }
  if (role === 'fc_weight') return transpose2d(src, timmShape[1], timmShape[0]);
  return src;
}

/** Row-major [rows, cols] -> [cols, rows]. */
function transpose2d<T extends Data>(src: T, rows: number, cols: number): T {
  const dst = new (src.constructor as new (n: number) => T)(src.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
  return dst;
}
