// prepare(): every awkward-but-valid image is kept (verbatim or converted), every bad one is
// skipped and reported with its reason, and the shards read back through openShards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { prepare, resolvePrepareParams } from '../../src/data/prepare.ts';
import { openShards } from '../../src/data/shards.ts';
import { decodeIndex, encodeIndex, shardFileName } from '../../src/data/shard-format.ts';
import { checkImage, hasJpegEnd } from '../../src/data/image-check.ts';
import { tempDir, odd } from './helpers.ts';

async function oddFolder(root: string): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {
    'train/n00000001/a_good.JPEG': await odd.jpeg(48, 32, 1),
    'train/n00000001/b_good.jpeg': await odd.jpeg(40, 40, 2),
    'train/n00000001/cmyk.JPEG': await odd.cmyk(),
    'train/n00000001/grey.JPEG': await odd.grey(),
    'train/n00000001/png_named.JPEG': await odd.png(),
    'train/n00000001/png16.JPEG': await odd.png16(),
    'train/n00000001/rgba.JPEG': await odd.rgba(),
    'train/n00000001/rotated.JPEG': await odd.rotated(),
    'train/n00000001/truncated.JPEG': await odd.truncated(),
    'train/n00000001/zero.JPEG': Buffer.alloc(0),
    'train/n00000001/text.JPEG': Buffer.from('this is not an image\n'),
    'train/n00000001/notes.txt': Buffer.from('ignored: not an image extension\n'),
    'train/n00000002/c_good.JPEG': await odd.jpeg(32, 48, 3),
    'train/n00000002/sub/d_good.JPEG': await odd.jpeg(36, 30, 4),
    'val/n00000001/v1.JPEG': await odd.jpeg(30, 30, 5),
    'val/n00000002/v2.JPEG': await odd.jpeg(50, 30, 6),
  };
  for (const [rel, bytes] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), bytes);
  }
  return files;
}

/** An independent tar walk: member name -> [data offset, size], checking each header's checksum. */
function tarMembers(buf: Buffer): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  let pos = 0;
  while (pos + 512 <= buf.length) {
    const h = buf.subarray(pos, pos + 512);
    if (h.every((b) => b === 0)) break;
    const str = (o: number, n: number) => h.subarray(o, o + n).toString('latin1').replace(/\0.*$/s, '');
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    assert.equal(parseInt(str(148, 8).trim(), 8), sum, 'tar header checksum');
    const prefix = str(345, 155);
    const name = (prefix ? prefix + '/' : '') + str(0, 100);
    const size = parseInt(str(124, 12), 8);
    out.set(name, [pos + 512, size]);
    pos += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

test('odd files: good ones kept or converted, bad ones reported, shards read back', async () => {
  const { dir, cleanup } = tempDir('odd');
  try {
    const data = join(dir, 'data');
    const files = await oddFolder(data);
    const out = join(dir, 'out');
    const { manifest, report } = await prepare({ dataDir: data, outDir: out, samplesPerShard: 4, concurrency: 3, exifOrientation: 'apply' });

    assert.deepEqual(JSON.parse(readFileSync(join(out, 'classes.json'), 'utf8')).wnids, ['n00000001', 'n00000002']);
    assert.deepEqual(report.splits.train, { files: 13, kept: 4, converted: 6, skipped: 3, ignored: 1 });
    assert.deepEqual(report.splits.val, { files: 2, kept: 2, converted: 0, skipped: 0, ignored: 0 });
    const skipped = Object.fromEntries(report.skipped.map((s) => [s.path, s.reason]));
    assert.deepEqual(Object.keys(skipped).sort(), ['n00000001/text.JPEG', 'n00000001/truncated.JPEG', 'n00000001/zero.JPEG']);
    assert.match(skipped['n00000001/zero.JPEG'], /empty file/);
    assert.match(skipped['n00000001/truncated.JPEG'], /truncated/);
    assert.match(skipped['n00000001/text.JPEG'], /unreadable/);
    const converted = Object.fromEntries(report.converted.map((s) => [s.path, s.reason]));
    assert.match(converted['n00000001/cmyk.JPEG'], /CMYK/);
    assert.match(converted['n00000001/grey.JPEG'], /greyscale/);
    assert.match(converted['n00000001/png_named.JPEG'], /png data/);
    assert.match(converted['n00000001/png16.JPEG'], /ushort/);
    assert.match(converted['n00000001/rgba.JPEG'], /alpha/);
    assert.match(converted['n00000001/rotated.JPEG'], /orientation 6 applied/);
    assert.equal(manifest.splits.train.count, 10);
    assert.deepEqual(manifest.splits.train.perClass, [8, 2]);

    const r = openShards(out, 'train');
    const names: string[] = [];
    for (const s of manifest.splits.train.shards) {
      const idx = JSON.parse(readFileSync(join(out, s.file.replace(/\.tar$/, '.json')), 'utf8'));
      // The shard is a real tar: an independent walk finds each member where the index says.
      const members = tarMembers(readFileSync(join(out, s.file)));
      for (const e of idx.entries) {
        assert.deepEqual(members.get(e.name), [e.offset, e.length], e.name);
        names.push(e.name);
      }
    }
    assert.deepEqual(names, [
      'n00000001/a_good.JPEG', 'n00000001/b_good.jpeg', 'n00000001/cmyk.JPEG', 'n00000001/grey.JPEG',
      'n00000001/png16.JPEG', 'n00000001/png_named.JPEG', 'n00000001/rgba.JPEG', 'n00000001/rotated.JPEG',
      'n00000002/c_good.JPEG', 'n00000002/sub/d_good.JPEG',
    ]);
    for (let i = 0; i < r.count; i++) {
      const { bytes, label } = await r.read(i);
      assert.equal(label, names[i].startsWith('n00000001') ? 0 : 1);
      const m = await sharp(bytes).metadata();
      assert.equal(m.format, 'jpeg', names[i]);
      assert.equal(m.channels, 3, names[i]);
      assert.equal(m.depth, 'uchar', names[i]);
      assert.ok(!m.orientation || m.orientation === 1, names[i]);
      await sharp(bytes, { failOn: 'truncated' }).raw().toBuffer(); // decodes completely
      if (names[i].includes('good')) assert.deepEqual(Buffer.from(bytes), files[`train/${names[i]}`], 'kept verbatim');
      if (names[i].endsWith('rotated.JPEG')) assert.deepEqual([m.width, m.height], [32, 48], 'rotated upright');
    }
    await r.close();
    await assert.rejects(openShards(out, 'val').read(2), /out of range/);
  } finally {
    cleanup();
  }
});

test("EXIF orientation is read as PIL (and so timm) reads it unless asked: the default is 'ignore'", () => {
  assert.equal(resolvePrepareParams({}).exifOrientation, 'ignore');
});

test('--max-side re-encodes larger images; exifOrientation ignore drops the tag without rotating', async () => {
  const { dir, cleanup } = tempDir('maxside');
  try {
    const data = join(dir, 'data');
    await oddFolder(data);
    const out = join(dir, 'out');
    const { report } = await prepare({ dataDir: data, outDir: out, maxSide: 40, exifOrientation: 'ignore', splits: ['train'] });
    const converted = Object.fromEntries(report.converted.map((s) => [s.path, s.reason]));
    assert.match(converted['n00000001/a_good.JPEG'], /longer side 48 > max side 40/);
    assert.equal(converted['n00000001/b_good.jpeg'], undefined, '40 x 40 is not larger than 40');
    assert.match(converted['n00000001/rotated.JPEG'], /orientation 6 dropped/);
    const r = openShards(out, 'train');
    for (let i = 0; i < r.count; i++) {
      const m = await sharp((await r.read(i)).bytes).metadata();
      assert.ok(Math.max(m.width!, m.height!) <= 40);
    }
    // rotated.JPEG (48 x 32 stored) is shrunk to 40 x 27 and not rotated
    const idx = JSON.parse(readFileSync(join(out, 'shards/train-00000.json'), 'utf8'));
    const k = idx.entries.findIndex((e: { name: string }) => e.name.endsWith('rotated.JPEG'));
    const m = await sharp((await r.read(k)).bytes).metadata();
    assert.deepEqual([m.width, m.height], [40, 27]);
    await r.close();
    assert.equal(openShards(out, 'train').manifest.splits.val, undefined);
  } finally {
    cleanup();
  }
});

test('bad inputs: clear errors naming the file', async () => {
  const { dir, cleanup } = tempDir('errors');
  try {
    await assert.rejects(prepare({ dataDir: join(dir, 'nope'), outDir: join(dir, 'o') }), /nope: data folder does not exist/);
    mkdirSync(join(dir, 'd1/train/n1'), { recursive: true });
    mkdirSync(join(dir, 'd1/val/n9'), { recursive: true });
    writeFileSync(join(dir, 'd1/train/n1/a.JPEG'), await odd.jpeg());
    await assert.rejects(prepare({ dataDir: join(dir, 'd1'), outDir: join(dir, 'o1') }), /val\/n9: class folder 'n9' is not among the 1 training classes/);
    await assert.rejects(prepare({ dataDir: join(dir, 'd1'), outDir: join(dir, 'o1'), samplesPerShard: 0 }), /samplesPerShard/);
    assert.throws(() => openShards(join(dir, 'd1'), 'train'), /not a prepared dataset \(no dataset.json\)/);

    // A corrupt sample index is reported with its file name.
    const out = join(dir, 'o2');
    await prepare({ dataDir: join(dir, 'd1'), outDir: out, splits: ['train'] });
    const idx = readFileSync(join(out, 'train.idx'));
    writeFileSync(join(out, 'train.idx'), idx.subarray(0, idx.length - 3));
    assert.throws(() => openShards(out, 'train'), /train\.idx: 37 bytes but header says 1 records \(truncated or corrupt\)/);
    assert.throws(() => decodeIndex(Buffer.from('XXXXXXXX00000000'), 'f.idx'), /f\.idx: not a sample index/);
  } finally {
    cleanup();
  }
});

test('binary index round trip, offsets beyond 4 GiB included', () => {
  const rec = {
    offsets: Float64Array.from([512, 2 ** 33 + 1024]),
    lengths: Uint32Array.from([100, 7]),
    shards: Uint32Array.from([0, 3]),
    labels: Int32Array.from([5, 0]),
  };
  assert.deepEqual(decodeIndex(encodeIndex(rec), 'x'), rec);
  assert.equal(shardFileName('val', 12), 'shards/val-00012.tar');
});

test('a truncated JPEG is caught even when an EXIF-thumbnail-like segment holds an end marker', async () => {
  const good = await odd.jpeg(64, 48, 9);
  // SOI, then an APP1 segment whose payload is a tiny "thumbnail" ending in FF D9, then the rest.
  const payload = Buffer.from([0x45, 0x78, 0x69, 0x66, 0, 0, 0xff, 0xd8, 0x01, 0x02, 0xff, 0xd9]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0, payload.length + 2]), payload]);
  const withThumb = Buffer.concat([good.subarray(0, 2), app1, good.subarray(2)]);
  assert.equal((await checkImage(withThumb, { maxSide: null, exifOrientation: 'apply' })).kind, 'keep');
  assert.ok(hasJpegEnd(withThumb));
  const cut = withThumb.subarray(0, Math.floor(withThumb.length * 0.7));
  assert.ok(!hasJpegEnd(cut), 'the thumbnail end marker must not count');
  const d = await checkImage(cut, { maxSide: null, exifOrientation: 'apply' });
  assert.equal(d.kind, 'skip');
  assert.match((d as { reason: string }).reason, /truncated or corrupt/);
  // Junk after a real end marker is fine (some cameras append data).
  assert.ok(hasJpegEnd(Buffer.concat([good, Buffer.from('trailing junk')])));
});
