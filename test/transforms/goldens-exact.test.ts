// Stricter than the conformance tolerances: every pixel golden of the transforms matches
// Pillow/torchvision exactly (the README allows +-1 for RandAugment ops and a loose bound
// for the eval resize). The speed work on these kernels (fast affine paths, word-wide
// lookup tables, fused passes, buffers reused in place, the four-row SIMD resize) must
// keep it that way; a rounding change anywhere shows up here first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readCase, decodeTensor } from '../../src/conformance/format.ts';
import { augmentOp, type OpName } from '../../src/data/transforms/randaugment.ts';
import { ReplaySource, type RecordedDraw } from '../../src/data/transforms/random-source.ts';
import { evalTransform } from '../../src/data/transforms/eval.ts';
import { makeImage } from '../../src/data/transforms/image.ts';
import type { ResampleFilter } from '../../src/data/transforms/resample.ts';

const root = new URL('../goldens/timm/', import.meta.url).pathname;
const cases = (op: string) => readdirSync(join(root, op)).filter((f) => f.endsWith('.json')).map((f) => readCase(join(root, op, f)));

function differing(got: Uint8Array, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let n = 0;
  for (let k = 0; k < want.length; k++) if (got[k] !== want[k]) n++;
  return n;
}

test('every randaugment_op golden image is reproduced exactly', () => {
  const all = cases('randaugment_op');
  assert.ok(all.length >= 60, `only ${all.length} cases`);
  const bad: string[] = [];
  for (const c of all) {
    const p = (c.params as { augment_op: { op: OpName; prob: number; magnitude_config: number; magnitude_std: number; magnitude_max: number | null; hparams: { img_mean: [number, number, number] }; resample_choices: ResampleFilter[] } }).augment_op;
    const x = decodeTensor(c.inputs.image, 'inputs.image');
    const [, H, W] = x.shape;
    const res = augmentOp(makeImage(W, H, x.data as Uint8Array), p.op, {
      prob: p.prob, magnitude: p.magnitude_config, magnitudeStd: p.magnitude_std, magnitudeMax: p.magnitude_max,
      resampleChoices: p.resample_choices, fill: p.hparams.img_mean,
    }, new ReplaySource(c.inputs.draws as RecordedDraw[]));
    const n = differing(res.image.data, decodeTensor((c.expected as { image: unknown }).image, 'expected.image').data);
    if (n) bad.push(`${c.case}: ${n} values differ`);
  }
  assert.deepEqual(bad, []);
});

test('every eval_transform golden crop is reproduced exactly', () => {
  const all = cases('eval_transform');
  assert.ok(all.length >= 1);
  for (const c of all) {
    const e = c.expected as { data_config: { input_size: [number, number, number]; interpolation: ResampleFilter; crop_pct: number }; cropped_uint8: unknown };
    const x = decodeTensor(c.inputs.image, 'inputs.image');
    const [, H, W] = x.shape;
    const crop = evalTransform(makeImage(W, H, x.data as Uint8Array), e.data_config.input_size[1], e.data_config.crop_pct, e.data_config.interpolation);
    assert.equal(differing(crop.data, decodeTensor(e.cropped_uint8, 'expected.cropped_uint8').data), 0, c.case);
  }
});
