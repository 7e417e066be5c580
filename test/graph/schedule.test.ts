// Scheduling: parallel jobs, device hand-out, failures, --only and --force.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { BASIC, Clone, entries, planStates, recordKey } from './helpers.ts';

let c: Clone;
before(() => {
  c = new Clone('sched');
});
after(() => c.remove());

type Span = { stage: string; start: number; end: number; devices: string };
function spans(c: Clone): Span[] {
  const t = c.takeTrace();
  return t
    .filter((e) => e.what === 'start')
    .map((s) => ({ stage: s.stage, start: s.t, devices: s.devices, end: t.find((e) => e.what === 'end' && e.stage === s.stage)!.t }));
}
const overlap = (x: Span, y: Span) => x.start < y.end && y.start < x.end;

test('a failed stage stops its dependents, lets independent work finish, publishes nothing, exits 1', async () => {
  const r = await c.main(BASIC, { RSB_FIXTURE_FAIL: 'upper' });
  assert.equal(r.code, 1);
  assert.match(r.out, /== upper: failed \(exit code 1 \(log: .*upper\.failed\.log\)\)/);
  assert.match(r.out, /== report: blocked \(upstream upper failed\)/);
  assert.match(r.out, /\[upper\] failing on purpose/);
  assert.deepEqual(c.started().filter((s) => s !== 'upper'), ['count', 'source']);
  assert.equal(entries(c.path('artifacts/cache')).length, 2, 'only source and count are published');
  assert.deepEqual(await planStates(c), { source: 'cached', count: 'cached', upper: 'run', report: 'pending' });
});

test('--only runs one stage on cached upstream outputs, and says which upstream is missing', async () => {
  const bad = await c.main([...BASIC, '--only', 'report']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--only report: upstream upper has no cached output .* Build it first: --target upper/);
  const r = await c.main([...BASIC, '--only', 'upper']);
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(c.started(), ['upper'], 'only upper ran, on the cached source');
  assert.ok(!existsSync(c.path('artifacts/runs/upper.failed.log')), 'the log of the earlier failure is gone');
});

test('--jobs 2 runs two independent stages at the same time', async () => {
  c.write('test/fixtures/basic/params.json', JSON.stringify({ source: { repeat: 2 } }));
  const r = await c.main([...BASIC, '--jobs', '2'], { RSB_FIXTURE_SLEEP: 'upper=700,count=700' });
  assert.equal(r.code, 0, r.out + r.err);
  const s = spans(c);
  const up = s.find((x) => x.stage === 'upper')!;
  const co = s.find((x) => x.stage === 'count')!;
  assert.ok(overlap(up, co), `upper ${up.start}-${up.end} and count ${co.start}-${co.end} should overlap`);
});

test('--force reruns a cached stage; identical output leaves dependents cached', async () => {
  const keyBefore = recordKey(c, 'count');
  const r = await c.main([...BASIC, '--force', 'count']);
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(c.started(), ['count']);
  assert.equal(recordKey(c, 'count'), keyBefore);
  const all = await c.main([...BASIC, '--force', 'all', '--dry-run']);
  assert.match(all.out, /4 to run/);
});

test('devices: specific ids, never oversubscribed, recorded in the log', async () => {
  const g = ['--graph', 'test/fixtures/devices/graph.ts', '--device-kind', 'gpu'];
  const r = await c.main([...g, '--devices', '2', '--jobs', '3'], { RSB_FIXTURE_SLEEP: '300', CUDA_VISIBLE_DEVICES: '4,6,7' });
  assert.equal(r.code, 0, r.out + r.err);
  const s = spans(c);
  assert.equal(s.length, 3);
  for (const x of s) for (const y of s) {
    if (x !== y && overlap(x, y)) {
      const shared = x.devices.split(',').filter((d) => y.devices.split(',').includes(d));
      assert.deepEqual(shared, [], `${x.stage} and ${y.stage} ran at once on the same device`);
    }
  }
  const pair = s.find((x) => x.stage === 'pair')!;
  assert.deepEqual(pair.devices.split(',').sort(), ['4', '6'], 'ids come from CUDA_VISIBLE_DEVICES');
  assert.match(r.out, /\[pair\] context devices=4,6 CUDA_VISIBLE_DEVICES=4,6/);
  const log = c.read(`artifacts/cache/${recordKey(c, 'pair')}/log.txt`);
  assert.match(log, /devices: 4,6 \(gpu\)/);

  const tooMany = await c.main([...g, '--devices', '1', '--force', 'all']);
  assert.equal(tooMany.code, 2);
  assert.match(tooMany.err, /stage pair needs 2 device\(s\) but only 1 are available/);
});
