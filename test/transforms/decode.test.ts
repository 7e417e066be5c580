// Decoding: every kind of file ImageNet holds comes out as 8-bit RGB with 3 channels,
// EXIF orientation applied; bad files fail with an error naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { decodeRgb, probeSize, DecodeError, shrinkFor } from '../../src/data/transforms/decode.ts';
import { testImage, meanAbsDiff } from './helpers.ts';

const W = 64, H = 48;
const base = testImage(W, H);
const raw = () => sharp(base.data, { raw: { width: W, height: H, channels: 3 } });

test('baseline JPEG decodes to WxHx3 close to the source', async () => {
  const img = await decodeRgb(await raw().jpeg({ quality: 95 }).toBuffer());
  assert.equal(img.width, W);
  assert.equal(img.height, H);
  assert.equal(img.data.length, W * H * 3);
  assert.ok(meanAbsDiff(img.data, base.data) < 3, 'q95 JPEG stays within a few levels');
});

test('CMYK JPEG comes out as RGB', async () => {
  const bytes = await raw().toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
  assert.equal((await sharp(bytes).metadata()).space, 'cmyk');
  const img = await decodeRgb(bytes);
  assert.equal(img.data.length, W * H * 3);
  // CMYK round trips through a profile: the colours stay roughly the same.
  assert.ok(meanAbsDiff(img.data, base.data) < 25);
});

test('greyscale JPEG is expanded to three equal channels', async () => {
  const bytes = await raw().toColourspace('b-w').jpeg({ quality: 95 }).toBuffer();
  assert.equal((await sharp(bytes).metadata()).channels, 1);
  const img = await decodeRgb(bytes);
  assert.equal(img.data.length, W * H * 3);
  for (let p = 0; p < img.data.length; p += 3) {
    assert.ok(img.data[p] === img.data[p + 1] && img.data[p] === img.data[p + 2], `pixel ${p / 3} is not grey`);
  }
});

test('16-bit PNG named like a JPEG is decoded to 8 bits', async () => {
  const bytes = await raw().toColourspace('rgb16').png().toBuffer();
  assert.equal((await sharp(bytes).metadata()).depth, 'ushort');
  assert.equal(probeSize(bytes), null, 'not a JPEG header');
  const img = await decodeRgb(bytes, { what: 'n0001/x.JPEG' });
  assert.equal(img.data.length, W * H * 3);
  assert.ok(meanAbsDiff(img.data, base.data) < 1);
});

test('RGBA PNG loses its alpha channel', async () => {
  const bytes = await raw().ensureAlpha(0.5).png().toBuffer();
  const img = await decodeRgb(bytes);
  assert.equal(img.data.length, W * H * 3);
});

test('EXIF orientation 6 rotates the picture; probeSize reports the displayed size', async () => {
  const bytes = await raw().jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
  assert.deepEqual(probeSize(bytes), { width: H, height: W });
  const img = await decodeRgb(bytes);
  assert.equal(img.width, H);
  assert.equal(img.height, W);
  // Orientation 6 = rotate 90 degrees clockwise: displayed (x, y) = stored (y, H-1-x).
  let s = 0, n = 0;
  for (let y = 0; y < W; y += 5) {
    for (let x = 0; x < H; x += 5) {
      const d = (y * H + x) * 3, src = ((H - 1 - x) * W + y) * 3;
      s += Math.abs(img.data[d] - base.data[src]) + Math.abs(img.data[d + 1] - base.data[src + 1]);
      n += 2;
    }
  }
  assert.ok(s / n < 4, `rotated pixels differ by ${s / n}`);
});

test('probeSize reads a plain JPEG header without decoding', async () => {
  assert.deepEqual(probeSize(await raw().jpeg().toBuffer()), { width: W, height: H });
  assert.equal(probeSize(new Uint8Array([1, 2, 3, 4])), null);
});

test('a zero-byte file and a truncated JPEG fail with the file named', async () => {
  await assert.rejects(decodeRgb(new Uint8Array(0), { what: 'train/n01/empty.JPEG' }), (e: Error) => e instanceof DecodeError && /empty\.JPEG.*0 bytes/.test(e.message));
  const bytes = await raw().jpeg().toBuffer();
  await assert.rejects(decodeRgb(bytes.subarray(0, bytes.length >> 1), { what: 'train/n01/cut.JPEG' }), (e: Error) => e instanceof DecodeError && /cut\.JPEG/.test(e.message));
  await assert.rejects(decodeRgb(new Uint8Array([0x47, 0x49, 0x46, 0x00, 1, 2]), { what: 'junk.JPEG' }), /junk\.JPEG: cannot decode/);
});

test('shrink-on-load decodes at 1/k of the size and stays close to a full decode', async () => {
  const big = testImage(640, 480, 3);
  const bytes = await sharp(big.data, { raw: { width: 640, height: 480, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
  const full = probeSize(bytes)!;
  const half = await decodeRgb(bytes, { shrink: 2, fullSize: full });
  assert.equal(half.width, 320);
  assert.equal(half.height, 240);
  assert.equal(half.fullWidth, 640);
  // Compare with a 2x2 box average of the full decode: smooth content, so a few levels.
  const whole = await decodeRgb(bytes);
  const avg = new Uint8Array(320 * 240 * 3);
  for (let y = 0; y < 240; y++) for (let x = 0; x < 320; x++) for (let c = 0; c < 3; c++) {
    const at = (yy: number, xx: number) => whole.data[(yy * 640 + xx) * 3 + c];
    avg[(y * 320 + x) * 3 + c] = (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1) + 2) >> 2;
  }
  assert.ok(meanAbsDiff(half.data, avg) < 3);
  assert.equal(shrinkFor(433, 375, 224, 224), 1);
  assert.equal(shrinkFor(1800, 1000, 224, 224), 2);
  assert.equal(shrinkFor(4000, 3600, 224, 224), 8);
});

test('decoding a region gives exactly that part of the full decode, in displayed coordinates', async () => {
  for (const orientation of [1, 6, 3]) {
    const bytes = await raw().jpeg({ quality: 90 }).withMetadata({ orientation }).toBuffer();
    const size = probeSize(bytes)!;
    const whole = await decodeRgb(bytes);
    const region = { left: 7, top: 5, width: 21, height: 17 };
    const part = await decodeRgb(bytes, { region, fullSize: size });
    assert.deepEqual([part.width, part.height, part.fullWidth, part.fullHeight], [21, 17, size.width, size.height]);
    for (let y = 0; y < 17; y++) {
      const want = whole.data.subarray(((y + 5) * whole.width + 7) * 3, ((y + 5) * whole.width + 28) * 3);
      assert.deepEqual(part.data.subarray(y * 21 * 3, (y + 1) * 21 * 3), want, `orientation ${orientation}, row ${y}`);
    }
  }
  await assert.rejects(decodeRgb(await raw().jpeg().toBuffer(), { region: { left: 60, top: 0, width: 10, height: 10 }, fullSize: { width: W, height: H }, what: 'x.JPEG' }), /x\.JPEG: region .* is not inside the picture \(64x48\)/);
});
