// `lab list`: columns line up whatever the names' lengths, the release says what `lab up` was given, and
// --json carries every lab with what a script needs (address, Keystone URL, CA file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labTable, labJson, alignColumns, age } from '../../src/lab/list-view.ts';
import type { LabRecord } from '../../src/lab/records.ts';

const now = Date.parse('2026-01-01T12:00:00Z');
const rec = (name: string, index: number, extra: Partial<LabRecord> = {}): LabRecord => ({
  name, index, address: `10.213.${index}.2`, gateway: `10.213.${index}.1`, release: 'bookworm',
  snapshot: '/var/cache/install-glance/snapshots/bookworm-abc/rootfs', holderPid: 1, nsPid: 2, hostKey: '',
  createdAt: '2026-01-01T11:58:30Z', ...extra,
});

test('every column starts at the same offset on every line, for short and long names alike', () => {
  const out = labTable([
    { record: rec('c', 1), state: 'running' },
    { record: rec('a-much-longer-lab-name', 12, { release: 'juno', base: 'bookworm', createdAt: '2026-01-01T09:00:00Z' }), state: 'stopped' },
    { record: rec('tls1', 103, { tls: true, caFile: '/var/lib/install-glance/labs/tls1/ca.pem' }), state: 'running' },
    { record: rec('d', 4, { glanceDeps: true }), state: 'running' },
  ], now);
  const lines = out.trimEnd().split('\n');
  assert.equal(lines.length, 5);
  assert.doesNotMatch(out, /\t/);
  for (const header of ['ADDRESS', 'RELEASE', 'KEYSTONE', 'STATE', 'AGE']) {
    const col = lines[0]!.indexOf(header);
    for (const line of lines.slice(1)) assert.notEqual(line[col - 1], undefined, line);
    const starts = lines.slice(1).map((l) => l.slice(col).split(/\s{2,}/)[0]);
    assert.ok(starts.every((cell) => cell && !cell.startsWith(' ')), `${header} column not aligned:\n${out}`);
    for (const line of lines) assert.equal(line[col - 1], ' ', `no gap before ${header}:\n${out}`);
  }
  assert.match(lines[2]!, /^a-much-longer-lab-name +10\.213\.12\.2 +juno \(bookworm\) +http +stopped +3h$/);
  assert.match(lines[3]!, /^tls1 +10\.213\.103\.2 +bookworm +https +running +90s$/);
  assert.match(lines[4]!, /^d +10\.213\.4\.2 +bookworm \+glance-deps +http +running +90s$/);
  for (const line of lines) assert.equal(line, line.trimEnd());
});

test('alignColumns pads every column but the last', () => {
  assert.deepEqual(alignColumns([['a', 'bb', 'c'], ['ddd', 'e', 'ffff']]), ['a    bb  c', 'ddd  e   ffff']);
});

test('age: seconds, minutes, hours, days', () => {
  const at = (s: number) => new Date(now - s * 1000).toISOString();
  assert.deepEqual([5, 119, 120, 7199, 7200, 200_000].map((s) => age(at(s), now)), ['5s', '119s', '2m', '120m', '2h', '2d']);
});

test('--json: a versioned document with every lab, its release and base, its Keystone URL, and the CA file of a TLS lab', () => {
  const doc = JSON.parse(labJson([
    { record: rec('c', 1), state: 'running' },
    { record: rec('j', 2, { release: 'juno', base: 'bookworm' }), state: 'stopped' },
    { record: rec('t', 3, { tls: true, caFile: '/var/lib/install-glance/labs/t/ca.pem' }), state: 'running' },
    { record: rec('g', 4, { glanceDeps: true }), state: 'running' },
  ])) as { version: number; labs: Record<string, unknown>[] };
  assert.equal(doc.version, 1);
  assert.deepEqual(doc.labs.map((l) => [l.name, l.release, l.base, l.tls, l.glanceDeps, l.state, l.keystone, l.caFile]), [
    ['c', 'bookworm', 'bookworm', false, false, 'running', 'http://10.213.1.2:5000/v3', undefined],
    ['j', 'juno', 'bookworm', false, false, 'stopped', 'http://10.213.2.2:5000/v3', undefined],
    ['t', 'bookworm', 'bookworm', true, false, 'running', 'https://10.213.3.2:5000/v3', '/var/lib/install-glance/labs/t/ca.pem'],
    ['g', 'bookworm', 'bookworm', false, true, 'running', 'http://10.213.4.2:5000/v3', undefined],
  ]);
  assert.equal(JSON.parse(labJson([])).labs.length, 0);
});
