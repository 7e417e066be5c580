// A flat val/ folder labelled by LOC_val_solution.csv or by the devkit ground truth + synset
// order gives the same labels as the class-folder layout of the very same images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { generateSyntheticDataset } from '../../src/data/synthetic.ts';
import { prepare } from '../../src/data/prepare.ts';
import { parseLocCsv, parseDevkitGroundTruth } from '../../src/data/imagenet-val.ts';
import type { ShardIndex } from '../../src/data/shard-format.ts';
import { tempDir, odd } from './helpers.ts';

const small = { classes: 4, trainPerClass: 1, valPerClass: 3, seed: 7, minSide: 32, maxSide: 48 };

/** File name (without folders) -> wnid, from a prepared output. */
function labelsByName(out: string): Map<string, string> {
  const wnids: string[] = JSON.parse(readFileSync(join(out, 'classes.json'), 'utf8')).wnids;
  const idx: ShardIndex = JSON.parse(readFileSync(join(out, 'shards/val-00000.json'), 'utf8'));
  return new Map(idx.entries.map((e) => [e.name.split('/').pop()!, wnids[e.label]]));
}

test('flat val: LOC_val_solution.csv, devkit ground truth and class folders agree', async () => {
  const { dir, cleanup } = tempDir('val');
  try {
    const flat = join(dir, 'flat');
    const folders = join(dir, 'folders');
    await generateSyntheticDataset(flat, { ...small, valLayout: 'flat' });
    await generateSyntheticDataset(folders, { ...small, valLayout: 'folders' });

    // The devkit synset order is deliberately not the sorted one, so using it wrongly would show.
    const synsets = readFileSync(join(flat, 'ILSVRC2012_synsets.txt'), 'utf8').trim().split('\n').map((l) => l.split(' ')[0]);
    assert.notDeepEqual(synsets, [...synsets].sort());

    const outFolders = join(dir, 'o-folders');
    await prepare({ dataDir: folders, outDir: outFolders });
    const want = labelsByName(outFolders);
    // Class names come from LOC_synset_mapping.txt when the folder has one.
    const classes = JSON.parse(readFileSync(join(outFolders, 'classes.json'), 'utf8'));
    assert.equal(classes.names.length, 4);
    assert.match(classes.names[1], /^solid square, hue \d\.\d\d$/);
    assert.equal(want.size, 12);

    const outLoc = join(dir, 'o-loc');
    const loc = await prepare({ dataDir: flat, outDir: outLoc }); // found automatically
    assert.equal(loc.report.valGroundTruth?.kind, 'loc-csv');
    assert.deepEqual(labelsByName(outLoc), want);

    const outDevkit = join(dir, 'o-devkit');
    const dk = await prepare({
      dataDir: flat,
      outDir: outDevkit,
      valLabels: join(flat, 'ILSVRC2012_validation_ground_truth.txt'),
      valSynsets: join(flat, 'ILSVRC2012_synsets.txt'),
    });
    assert.equal(dk.report.valGroundTruth?.kind, 'devkit');
    assert.deepEqual(labelsByName(outDevkit), want);

    // Without the CSV the devkit files are found on their own (synset list next to them).
    rmSync(join(flat, 'LOC_val_solution.csv'));
    const auto = await prepare({ dataDir: flat, outDir: join(dir, 'o-auto') });
    assert.equal(auto.report.valGroundTruth?.kind, 'devkit');

    // An image the ground truth does not list is skipped and reported, not fatal.
    copyFileSync(join(flat, 'val/ILSVRC2012_val_00000001.JPEG'), join(flat, 'val/extra_image.JPEG'));
    const extra = await prepare({ dataDir: flat, outDir: join(dir, 'o-extra') });
    assert.deepEqual(extra.report.skipped, [{ split: 'val', path: 'extra_image.JPEG', reason: 'no ground-truth label for this file' }]);
    assert.equal(extra.manifest.splits.val.count, 12);

    // No ground truth at all: the error says what was looked for.
    rmSync(join(flat, 'ILSVRC2012_validation_ground_truth.txt'));
    await assert.rejects(prepare({ dataDir: flat, outDir: join(dir, 'o-none') }), /flat validation folder but no ground truth found; looked for LOC_val_solution\.csv/);
  } finally {
    cleanup();
  }
});

test('ground-truth parsers name the file and line of bad input', async () => {
  const { dir, cleanup } = tempDir('gt');
  try {
    const csv = join(dir, 'LOC_val_solution.csv');
    writeFileSync(csv, 'ImageId,PredictionString\nILSVRC2012_val_00000001,n01751748 1 2 3 4 n01751748 5 6 7 8\n');
    assert.deepEqual([...parseLocCsv(csv).wnidOf], [['ILSVRC2012_val_00000001', 'n01751748']]);
    writeFileSync(csv, 'ImageId,PredictionString\nILSVRC2012_val_00000001,kitfox 1 2 3 4\n');
    assert.throws(() => parseLocCsv(csv), /LOC_val_solution\.csv:2: 'kitfox' is not a wnid/);
    writeFileSync(csv, 'id,label\n');
    assert.throws(() => parseLocCsv(csv), /LOC_val_solution\.csv:1: expected the header/);

    const gt = join(dir, 'gt.txt');
    const syn = join(dir, 'syn.txt');
    writeFileSync(syn, 'n02119789 kit fox\nn02100735 English setter\n');
    writeFileSync(gt, '2\n1\n');
    assert.deepEqual([...parseDevkitGroundTruth(gt, syn).wnidOf.values()], ['n02100735', 'n02119789']);
    writeFileSync(gt, '2\n3\n');
    assert.throws(() => parseDevkitGroundTruth(gt, syn), /gt\.txt:2: '3' is not an ILSVRC2012_ID in 1\.\.2/);
    void odd;
  } finally {
    cleanup();
  }
});
