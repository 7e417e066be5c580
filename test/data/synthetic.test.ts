// The embedded dataset generator: deterministic, ImageNet layout, varied sizes, distinct classes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { generateSyntheticDataset, resolveSyntheticParams, drawImage, classLook, syntheticWnid } from '../../src/data/synthetic.ts';
import { Rng, Purpose } from '../../src/util/rng.ts';
import { tempDir, snapshot } from './helpers.ts';

const params = { classes: 3, trainPerClass: 4, valPerClass: 2, minSide: 40, maxSide: 90 };

test('same parameters give byte-identical folders whatever the concurrency; another seed differs', async () => {
  const { dir, cleanup } = tempDir('synth');
  try {
    await generateSyntheticDataset(join(dir, 'a'), params, { concurrency: 1 });
    await generateSyntheticDataset(join(dir, 'b'), params, { concurrency: 4 });
    await generateSyntheticDataset(join(dir, 'c'), { ...params, seed: 1 });
    const a = snapshot(join(dir, 'a'));
    const b = snapshot(join(dir, 'b'));
    const c = snapshot(join(dir, 'c'));
    assert.equal(a.size, 3 * 4 + 3 * 2 + 2); // + synthetic.json, LOC_synset_mapping.txt
    assert.deepEqual([...a.keys()], [...b.keys()]);
    for (const [k, v] of a) assert.ok(v.equals(b.get(k)!), k);
    let same = 0;
    for (const [k, v] of a) {
      const other = c.get(k); // val files may sit in other class folders under another seed
      if (k.startsWith('train/')) assert.ok(other, k);
      if (k.endsWith('.JPEG') && other && v.equals(other)) same++;
    }
    assert.equal(same, 0, 'a different seed draws different images');

    assert.deepEqual(readdirSync(join(dir, 'a/train')), ['n00000000', 'n00000001', 'n00000002']);
    assert.deepEqual(readdirSync(join(dir, 'a/train/n00000001')).sort(), ['n00000001_0.JPEG', 'n00000001_1.JPEG', 'n00000001_2.JPEG', 'n00000001_3.JPEG']);
    const val = readdirSync(join(dir, 'a/val')).flatMap((w) => readdirSync(join(dir, 'a/val', w)));
    assert.deepEqual(val.sort(), Array.from({ length: 6 }, (_, j) => `ILSVRC2012_val_${String(j + 1).padStart(8, '0')}.JPEG`));

    // Real JPEGs, RGB, sides within the range, more than one aspect ratio.
    const shapes = new Set<string>();
    for (const [k, v] of a) {
      if (!k.endsWith('.JPEG')) continue;
      const m = await sharp(v).metadata();
      assert.equal(m.format, 'jpeg');
      assert.equal(m.channels, 3);
      const long = Math.max(m.width!, m.height!);
      assert.ok(long >= 40 && long <= 90, `${k}: ${m.width}x${m.height}`);
      shapes.add(m.width! > m.height! ? 'landscape' : m.width! < m.height! ? 'portrait' : 'square');
    }
    assert.ok(shapes.size >= 2, `aspect ratios vary: ${[...shapes]}`);
  } finally {
    cleanup();
  }
});

test('classes differ in look; images of one class differ from each other', () => {
  const looks = Array.from({ length: 10 }, (_, k) => classLook(k));
  const keys = new Set(looks.map((l) => `${l.shape}/${l.texture}/${l.hue.toFixed(3)}`));
  assert.equal(keys.size, 10);
  assert.equal(syntheticWnid(7), 'n00000007');
  const p = resolveSyntheticParams({ minSide: 64, maxSide: 64 });
  const a = drawImage(new Rng(0, Purpose.dataset, 0, 2, 0), 2, p);
  const b = drawImage(new Rng(0, Purpose.dataset, 0, 2, 1), 2, p);
  const a2 = drawImage(new Rng(0, Purpose.dataset, 0, 2, 0), 2, p);
  assert.deepEqual(a.pixels, a2.pixels);
  assert.notDeepEqual(a.pixels, b.pixels);
  // The class object covers a real part of the picture (its box is non-empty).
  assert.ok(a.box[2] - a.box[0] > 8 && a.box[3] - a.box[1] > 8, `box ${a.box}`);
});

test('parameters are validated with the field named', () => {
  assert.throws(() => resolveSyntheticParams({ classes: 1 }), /classes/);
  assert.throws(() => resolveSyntheticParams({ minSide: 100, maxSide: 50 }), /minSide 100 > maxSide 50/);
  assert.equal(resolveSyntheticParams().classes, 10);
});
