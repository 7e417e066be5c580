// The analytic work count against published figures (independent references): ResNet-50 at
// 224 px is 4.09 GMACs per image (4,089,184,256 with the classifier, the figure fvcore and
// torchvision's model table give as "4.09 GFLOPS"), ResNet-18 1.81 GMACs (1,814,073,344).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resnetWork } from '../../src/engine/flops.ts';

test('resnetWork: resnet50 and resnet18 at 224 px match the published MAC counts', () => {
  assert.equal(resnetWork('resnet50', 224).forwardMacs, 4_089_184_256);
  assert.equal(resnetWork('resnet18', 224).forwardMacs, 1_814_073_344);
});

test('resnetWork: training is 6 FLOPs per MAC, work scales with the pixel count', () => {
  const w = resnetWork('resnet50', 128);
  assert.equal(w.trainFlops, 6 * w.forwardMacs);
  // 128 px: every feature map is (128/224)^2 of the 224 px one, up to rounding of odd sizes.
  const ratio = w.forwardMacs / resnetWork('resnet50', 224).forwardMacs;
  assert.ok(Math.abs(ratio - (128 / 224) ** 2) < 0.02, `ratio ${ratio}`);
  assert.throws(() => resnetWork('resnet50', 7), /resolution/);
});
