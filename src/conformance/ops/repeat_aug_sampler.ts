// Golden adapter: timm RepeatAugSampler for every rank, with torch's recorded permutation.
import type { GoldenCase } from '../format.ts';
import { decodeTensor } from '../format.ts';
import { exactEqual, type Check } from '../compare.ts';
import { RepeatAugSampler } from '../../data/sampler.ts';

export function run(c: GoldenCase): Check[] {
  const p = c.params as {
    dataset_len: number; num_replicas: number; num_repeats: number; selected_round: number;
    selected_ratio: number; shuffle: boolean; epoch: number;
  };
  const perm = decodeTensor(c.inputs.permutation, 'inputs.permutation').data;
  const checks: Check[] = [];
  for (let rank = 0; rank < p.num_replicas; rank++) {
    const want = c.expected[`rank${rank}`] as { indices: unknown; len: number; num_samples: number; total_size: number; num_selected_samples: number } | undefined;
    if (!want) {
      checks.push({ name: `rank${rank}`, ok: false, detail: 'missing from expected' });
      continue;
    }
    const s = new RepeatAugSampler(
      {
        datasetSize: p.dataset_len, numReplicas: p.num_replicas, rank, numRepeats: p.num_repeats,
        selectedRound: p.selected_round, selectedRatio: p.selected_ratio, shuffle: p.shuffle,
      },
      (n, epoch) => {
        if (epoch !== p.epoch || n !== perm.length) throw new Error(`permutation asked for n=${n} epoch=${epoch}`);
        return perm;
      },
    );
    checks.push(exactEqual(`rank${rank} indices`, s.indices(p.epoch), decodeTensor(want.indices, `rank${rank}.indices`).data));
    checks.push(exactEqual(`rank${rank} sizes`, [s.length, s.numSamples, s.totalSize, s.numSelectedSamples], [want.len, want.num_samples, want.total_size, want.num_selected_samples]));
  }
  return checks;
}
