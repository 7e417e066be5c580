// The geometry of an NHWC 2-D convolution, as tfjs-core computes it for the forward pass, so
// that our gradient kernels agree with the forward kernel on output size and padding for every
// padding form ('valid', 'same', explicit arrays, numbers with a rounding mode).
import { backend_util } from '@tensorflow/tfjs-core';

export interface ConvGeometry {
  n: number; h: number; w: number; cin: number;
  ho: number; wo: number; cout: number;
  kh: number; kw: number;
  sh: number; sw: number;
  top: number; bottom: number; left: number; right: number;
}

export function convGeometry(
  kernel: string,
  inShape: readonly number[],
  filterShape: readonly number[],
  strides: number | [number, number],
  pad: unknown,
  dataFormat: string | undefined,
  dilations: number | [number, number] | undefined,
  dimRoundingMode: unknown,
): ConvGeometry {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`${kernel} (src/engine): only NHWC is supported, got dataFormat ${dataFormat}`);
  }
  const dil = dilations ?? 1;
  if (!(dil === 1 || (Array.isArray(dil) && dil[0] === 1 && dil[1] === 1))) {
    throw new Error(`${kernel} (src/engine): dilations other than 1 are not supported, got ${JSON.stringify(dil)}`);
  }
  const info = backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad as 'valid',
    dimRoundingMode as 'floor' | undefined,
    false,
    'channelsLast',
  );
  return {
    n: info.batchSize, h: info.inHeight, w: info.inWidth, cin: info.inChannels,
    ho: info.outHeight, wo: info.outWidth, cout: info.outChannels,
    kh: info.filterHeight, kw: info.filterWidth,
    sh: info.strideHeight, sw: info.strideWidth,
    top: info.padInfo.top, bottom: info.padInfo.bottom, left: info.padInfo.left, right: info.padInfo.right,
  };
}
