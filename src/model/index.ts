// Public API of src/model: the ResNet family in TensorFlow.js and timm weight exchange.
//
//   const model = createResNet('resnet50', { numClasses: 1000, dropPathRate: 0.05, seed });
//   const logits = model.apply(xNhwcNormalised, { training: false });
//   // training step (BN running stats committed once, outside the gradient tape):
//   let stats: BatchStats[] = [];
//   const { value, grads } = tf.variableGrads(() => {
//     const r = model.forward(x, { training: true, dropPath: { rng: (i) => streamFor(seed, 'dropPath', epoch, pos[i]) } });
//     stats = r.batchStats;
//     return lossFn(r.logits);
//   }, model.trainableVariables);
//   model.commitBatchStats(stats);
//   // grads are keyed by the tfjs variable name; model.parameters[i].variable.name maps them back
//   // to timm names (ModelVariable.name), and .noWeightDecay says which LAMB group they belong to.
//
//   loadTimmSafetensors(model, 'model.safetensors');   saveTimmSafetensors(model, 'out.safetensors');
export { ResNet, createResNet, type ApplyOptions, type ForwardResult } from './resnet.ts';
export {
  RESNET_ARCHS, ResNetArchName, ResNetArchConfig, ResNetOptions, BlockKind,
  blockDropPathRates, isNoWeightDecay, resnetPlan, resnetStateSpec, resolveArch,
  type StateEntry, type StateRole, type ResNetPlan, type BlockPlan, type ConvPlan,
} from './resnet-archs.ts';
export type { ModelVariable } from './variables.ts';
export type { BatchStats } from './layers/batch-norm.ts';
export { BN_EPS, BN_MOMENTUM } from './layers/batch-norm.ts';
export {
  parseSafetensors, serializeSafetensors, readSafetensors, writeSafetensors,
  type SafeTensor, type SafetensorsFile, type SafetensorsDtype,
} from './safetensors.ts';
export {
  exportTimmState, importTimmState, saveTimmSafetensors, loadTimmSafetensors,
  type ImportReport, type ImportOptions,
} from './timm-weights.ts';
export { tf } from './tf.ts';
