// The safetensors reader/writer: byte-for-byte against the goldens' files (written by the
// generator's own writer, in the format timm loads), dtype coverage, and clear errors.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors, serializeSafetensors, readSafetensors, writeSafetensors, type SafeTensor } from '../../src/model/safetensors.ts';
import { createResNet, loadTimmSafetensors, saveTimmSafetensors } from '../../src/model/index.ts';
import { useBackend } from './helpers.ts';

const goldenDir = new URL('../goldens/timm/resnet/', import.meta.url).pathname;
const weights = join(goldenDir, 'tiny_resnet_default_init.safetensors');
const overrides = join(goldenDir, 'tiny_resnet_perturbed_bn_overrides.safetensors');

before(() => useBackend('cpu'));

test('parse + serialize reproduces the goldens\' files byte for byte', () => {
  for (const f of [weights, overrides]) {
    const bytes = readFileSync(f);
    const parsed = parseSafetensors(bytes, f);
    const again = serializeSafetensors(parsed.tensors, parsed.metadata);
    assert.equal(Buffer.compare(Buffer.from(again), bytes), 0, f);
  }
});

test('a golden state dict imported into our model and exported again is byte-identical (layout transposes invert)', () => {
  const src = readSafetensors(weights);
  assert.equal(src.tensors.get('bn1.num_batches_tracked')?.dtype, 'I64');
  const model = createResNet('resnet_tiny', { numClasses: 10, init: 'none' });
  const dir = mkdtempSync(join(tmpdir(), 'rsb-model-'));
  try {
    const report = loadTimmSafetensors(model, weights);
    assert.equal(report.loaded.length, src.tensors.size);
    // Our layout really differs from PyTorch's: conv1.weight is HWIO here.
    assert.deepEqual(model.variable('conv1.weight').shape, [7, 7, 3, 64]);
    assert.deepEqual(model.variable('fc.weight').shape, [256, 10]);
    // The one deliberate difference: we export num_batches_tracked as PyTorch's 0-d shape []
    // (what timm's state_dict holds, and what resnet50_manifest lists); the generator wrote
    // them as [1]. torch loads either (it unwraps 1-element tensors into 0-d buffers).
    const out = join(dir, 'export.safetensors');
    saveTimmSafetensors(model, out, { source: src.metadata.source });
    const exported = readSafetensors(out);
    for (const [name, t] of exported.tensors) {
      if (name.endsWith('.num_batches_tracked')) {
        assert.deepEqual(t.shape, [], name);
        t.shape = [1];
      }
    }
    const asGenerator = serializeSafetensors(exported.tensors, exported.metadata);
    assert.equal(Buffer.compare(Buffer.from(asGenerator), readFileSync(weights)), 0);
  } finally {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dtypes: F32/I64/I32 round trip; F16 and BF16 widen to float32', () => {
  const t = new Map<string, SafeTensor>([
    ['a', { dtype: 'F32' as const, shape: [2, 2], data: Float32Array.of(1.5, -2, 3.25, 1e-30) }],
    ['n', { dtype: 'I64' as const, shape: [], data: BigInt64Array.of(123456789012n) }],
    ['i', { dtype: 'I32' as const, shape: [3], data: Int32Array.of(-1, 0, 7) }],
  ]);
  const back = parseSafetensors(serializeSafetensors(t, { k: 'v' }));
  assert.deepEqual([...back.tensors.keys()], ['a', 'n', 'i']);
  assert.deepEqual(Array.from(back.tensors.get('a')!.data as Float32Array), Array.from(t.get('a')!.data as Float32Array));
  assert.equal((back.tensors.get('n')!.data as BigInt64Array)[0], 123456789012n);
  assert.deepEqual(Array.from(back.tensors.get('i')!.data as Int32Array), [-1, 0, 7]);
  assert.deepEqual(back.metadata, { k: 'v' });

  // Hand-built file: F16 [1.0, -2.5, 65504, 2^-24], BF16 [1.0, -3.0].
  const f16 = [0x3c00, 0xc100, 0x7bff, 0x0001], bf16 = [0x3f80, 0xc040];
  const header = JSON.stringify({
    h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] },
    b: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] },
  }).padEnd(96, ' ');
  const buf = new Uint8Array(8 + header.length + 12);
  const dv = new DataView(buf.buffer);
  dv.setBigUint64(0, BigInt(header.length), true);
  buf.set(new TextEncoder().encode(header), 8);
  [...f16, ...bf16].forEach((v, i) => dv.setUint16(8 + header.length + 2 * i, v, true));
  const p = parseSafetensors(buf);
  assert.deepEqual(Array.from(p.tensors.get('h')!.data as Float32Array), [1, -2.5, 65504, 2 ** -24]);
  assert.deepEqual(Array.from(p.tensors.get('b')!.data as Float32Array), [1, -3]);
});

test('header is space-padded so the data starts 8-byte aligned; offsets are contiguous', () => {
  const bytes = serializeSafetensors(new Map([['x', { dtype: 'F32' as const, shape: [3], data: Float32Array.of(1, 2, 3) }]]));
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  assert.equal(bytes.length, 8 + n + 12);
  const head = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.match(head, /^\{"x":\{"dtype":"F32","shape":\[3\],"data_offsets":\[0,12\]\}\} *$/);
});

test('bad files give errors that name the file and the problem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rsb-model-'));
  try {
    const good = readFileSync(weights);
    const cases: [string, Uint8Array, RegExp][] = [
      ['short.safetensors', good.subarray(0, 4), /short\.safetensors: too short/],
      ['trunc.safetensors', good.subarray(0, good.length - 100), /trunc\.safetensors: tensor 'fc\.weight'.*run past the end.*truncated/],
      ['hdr.safetensors', Uint8Array.of(255, 255, 0, 0, 0, 0, 0, 0, 1, 2), /hdr\.safetensors: header length \d+ exceeds the file/],
    ];
    const badJson = new Uint8Array(16);
    new DataView(badJson.buffer).setBigUint64(0, 8n, true);
    badJson.set(new TextEncoder().encode('{"a":1,]'), 8);
    cases.push(['json.safetensors', badJson, /json\.safetensors: header is not valid UTF-8 JSON/]);
    const dtype = serializeSafetensors(new Map([['w', { dtype: 'F32' as const, shape: [1], data: Float32Array.of(1) }]]));
    const hdrText = new TextDecoder().decode(dtype).replace('"F32"', '"U16"');
    cases.push(['dtype.safetensors', new TextEncoder().encode(hdrText), /dtype\.safetensors: tensor 'w': unsupported dtype "U16"/]);
    for (const [name, bytes, re] of cases) {
      const p = join(dir, name);
      writeFileSync(p, bytes);
      assert.throws(() => readSafetensors(p), re, name);
    }
    assert.throws(() => readSafetensors(join(dir, 'missing.safetensors')), /missing\.safetensors: cannot read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeSafetensors writes atomically (no temp file left behind)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rsb-model-'));
  try {
    const p = join(dir, 'a.safetensors');
    writeSafetensors(p, new Map([['x', { dtype: 'F32' as const, shape: [1], data: Float32Array.of(4) }]]));
    assert.equal((readSafetensors(p).tensors.get('x')!.data as Float32Array)[0], 4);
    assert.deepEqual(readdirSync(dir), ['a.safetensors']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * The checks the reference safetensors loader (the one timm calls) makes before it accepts a
 * file: header length within the file, a JSON object whose tensor entries, sorted by offset,
 * tile the data section exactly (no gap, no overlap, nothing after), byte sizes matching
 * dtype x shape, and string-to-string metadata.
 */
function assertLoadableByReferenceRules(bytes: Uint8Array): void {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  assert.ok(8 + n <= bytes.length, 'header within the file');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, any>;
  const width: Record<string, number> = { F32: 4, I64: 8, I32: 4 };
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__');
  entries.sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  let end = 0;
  for (const [name, e] of entries) {
    assert.equal(e.data_offsets[0], end, `${name}: starts where the previous tensor ended`);
    const count = (e.shape as number[]).reduce((a, b) => a * b, 1);
    assert.equal(e.data_offsets[1] - e.data_offsets[0], count * width[e.dtype], `${name}: size`);
    end = e.data_offsets[1];
  }
  assert.equal(8 + n + end, bytes.length, 'data section fully used');
  for (const v of Object.values(header.__metadata__ ?? {})) assert.equal(typeof v, 'string');
}

test('an exported model file passes the reference loader\'s structural checks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rsb-model-'));
  const model = createResNet('resnet_tiny_basic', { numClasses: 5, seed: 3 });
  try {
    const p = join(dir, 'm.safetensors');
    saveTimmSafetensors(model, p, { source: 'test' });
    assertLoadableByReferenceRules(readFileSync(p));
    assertLoadableByReferenceRules(readFileSync(weights));
  } finally {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
