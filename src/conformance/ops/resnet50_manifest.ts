// Golden adapter for `resnet50_manifest`: the model we build for 'resnet50' must hold exactly
// timm's state dict: every name, in order, with its PyTorch shape, dtype and kind; the
// parameter count (25,557,032) and the per-block drop-path rates (compared exactly).
// The model is built with init 'none' (no random draws): only structure is checked here.
import type { GoldenCase } from '../format.ts';
import { exactEqual, type Check } from '../compare.ts';
import type { OpContext } from '../registry.ts';
import { selectBackend, parseBackendChoice } from '../../engine/backend.ts';
import { createResNet, RESNET_ARCHS, type ResNetArchName } from '../../model/index.ts';

interface ManifestTensor { name: string; shape: number[]; dtype: string; kind: string }

export async function run(c: GoldenCase, ctx: OpContext): Promise<Check[]> {
  await selectBackend(parseBackendChoice(ctx.backend), { log: () => {} });
  const arch = String(c.params.model);
  if (!(arch in RESNET_ARCHS)) throw new Error(`resnet50_manifest: unknown model '${arch}'`);
  const exp = c.expected as {
    tensors: ManifestTensor[]; num_parameters: number; num_parameter_tensors: number;
    num_buffer_tensors: number; num_buffer_elements: number; drop_path_rates: Record<string, number>;
  };
  const model = createResNet(arch as ResNetArchName, { init: 'none', numClasses: 1000, dropPathRate: Number(c.params.drop_path_rate ?? 0) });
  try {
    const ours = model.variables.map((v) => ({ name: v.name, shape: v.timmShape, dtype: v.dtype, kind: v.kind }));
    const checks: Check[] = [];
    // One check per entry would print 320 lines; report the first mismatch instead.
    const n = Math.max(ours.length, exp.tensors.length);
    let firstBad = -1;
    for (let i = 0; i < n && firstBad < 0; i++) {
      if (JSON.stringify(ours[i]) !== JSON.stringify(exp.tensors[i])) firstBad = i;
    }
    checks.push(firstBad < 0
      ? { name: 'tensors', ok: true, detail: `${ours.length} entries: names, shapes, dtypes, kinds and order match` }
      : { name: 'tensors', ok: false, detail: `entry ${firstBad}: got ${JSON.stringify(ours[firstBad])}, expected ${JSON.stringify(exp.tensors[firstBad])}` });
    const buffers = model.buffers;
    checks.push(exactEqual('num_parameters', model.numParameters(), exp.num_parameters));
    checks.push(exactEqual('num_parameter_tensors', model.parameters.length, exp.num_parameter_tensors));
    checks.push(exactEqual('num_buffer_tensors', buffers.length, exp.num_buffer_tensors));
    checks.push(exactEqual('num_buffer_elements', buffers.reduce((s, b) => s + b.timmShape.reduce((a, d) => a * d, 1), 0), exp.num_buffer_elements));
    checks.push(exactEqual('drop_path_rates', model.blockDropPathRates, exp.drop_path_rates));
    return checks;
  } finally {
    model.dispose();
  }
}
