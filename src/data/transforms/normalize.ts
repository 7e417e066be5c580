// Normalisation to the network's input (spec 2.5): (x/255 - mean) / std per channel.
// Done in float32 step by step, as torchvision's ToTensor + Normalize do, so that given
// the same uint8 pixels the result is bit-identical to timm's tensor.

export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/** uint8 HWC RGB (any number of pixels, e.g. a whole NHWC batch) -> float32, same layout. */
export function normalizeToFloat32(
  pixels: Uint8Array,
  mean: readonly [number, number, number] = IMAGENET_MEAN,
  std: readonly [number, number, number] = IMAGENET_STD,
  out: Float32Array = new Float32Array(pixels.length),
): Float32Array {
  if (pixels.length % 3 !== 0) throw new RangeError(`normalize: ${pixels.length} bytes is not a whole number of RGB pixels`);
  if (out.length !== pixels.length) throw new RangeError(`normalize: output has ${out.length} slots for ${pixels.length} values`);
  const f = Math.fround;
  // One table per channel: 256 possible inputs, so each value is computed once.
  const lut = [0, 1, 2].map((c) => {
    const t = new Float32Array(256);
    const m = f(mean[c]), s = f(std[c]);
    for (let v = 0; v < 256; v++) t[v] = f(f(f(v / 255) - m) / s);
    return t;
  });
  const [l0, l1, l2] = lut;
  for (let p = 0; p < pixels.length; p += 3) {
    out[p] = l0[pixels[p]];
    out[p + 1] = l1[pixels[p + 1]];
    out[p + 2] = l2[pixels[p + 2]];
  }
  return out;
}

/**
 * The same map as an affine per channel, for doing it on the accelerator:
 * x_float = x_uint8 * scale[c] + shift[c], scale = 1/(255 std), shift = -mean/std.
 * (Equal to the float32 step-by-step form up to float32 rounding.)
 */
export function normalizationAffine(
  mean: readonly [number, number, number] = IMAGENET_MEAN,
  std: readonly [number, number, number] = IMAGENET_STD,
): { scale: [number, number, number]; shift: [number, number, number] } {
  return {
    scale: [0, 1, 2].map((c) => 1 / (255 * std[c])) as [number, number, number],
    shift: [0, 1, 2].map((c) => -mean[c] / std[c]) as [number, number, number],
  };
}
