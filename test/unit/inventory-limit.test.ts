// --limit as ansible-playbook reads it, on the kolla-ansible multinode inventory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseIni } from '../../src/inventory/ini.ts';
import { applyLimit, splitPattern, globToRegExp, LimitError } from '../../src/inventory/limit.ts';

const kolla = parseIni(fs.readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'inventory', 'kolla-multinode'), 'utf8'), 'multinode');
const names = (limit: string) => applyLimit(kolla, limit).map((h) => h.name);
const CONTROL = ['control01', 'control02', 'control03'];

test('a group name selects its hosts and its children\'s; a host name itself; all everything', () => {
  assert.deepEqual(names('glance-api'), CONTROL);
  assert.deepEqual(names('control02'), ['control02']);
  assert.equal(names('all').length, 9);
  assert.deepEqual(names('deployment'), ['localhost']);
});

test('unions with "," or ":", in inventory order whatever order they are written in', () => {
  assert.deepEqual(names('compute,control01'), ['control01', 'compute01']);
  assert.deepEqual(names('compute:control01'), ['control01', 'compute01']);
  assert.deepEqual(names(' network , storage '), ['network01', 'network02', 'storage01']);
});

test('"!" excludes, "&" intersects; with only those, the start is all', () => {
  assert.deepEqual(names('baremetal:!control'), ['network01', 'network02', 'compute01', 'monitoring01', 'storage01']);
  assert.deepEqual(names('!baremetal'), ['localhost']);
  assert.deepEqual(names('common:&openvswitch'), ['network01', 'network02', 'compute01']);
  // order written does not matter: plain patterns first, then &, then !
  assert.deepEqual(names('!network01,openvswitch'), ['network02', 'compute01']);
  assert.deepEqual(names('&tls-backend,!control'), ['network01', 'network02']);
});

test('globs over group and host names, ~regex, subscripts', () => {
  assert.deepEqual(names('control0*'), CONTROL);
  assert.deepEqual(names('manila*'), ['control01', 'control02', 'control03', 'network01', 'network02']);
  assert.deepEqual(names('network0[!1]'), ['network02']);
  assert.deepEqual(names('~(compute|storage)0\\d'), ['compute01', 'storage01']);
  assert.deepEqual(names('control[0]'), ['control01']);
  assert.deepEqual(names('control[1:]'), ['control02', 'control03']);
  assert.deepEqual(names('control[-1]'), ['control03']);
});

test('@file reads one pattern a line (a retry file)', () => {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ig-limit-')), 'retry');
  fs.writeFileSync(f, 'control02\n\nstorage01\n');
  assert.deepEqual(names(`@${f}`), ['control02', 'storage01']);
  fs.rmSync(path.dirname(f), { recursive: true });
});

test('a pattern that matches nothing, or a limit that leaves nothing, is an error naming it', () => {
  const fails = (limit: string, re: RegExp) => assert.throws(() => names(limit), (e: unknown) => e instanceof LimitError && re.test(e.message) && e.hint.length > 0, limit);
  fails('glance-registry', /"glance-registry" matches no host and no group of multinode/);
  fails('control,typo', /"typo" matches no host/);
  fails('control:!typo', /"typo" matches no host/);
  fails('control:&compute', /leaves no host/);
  fails('control[5]', /past the 3 host/);
  fails('~(', /not a valid regular expression/);
  fails('!', /nothing after "!"/);
  fails('@/nonexistent/limit', /cannot read/);
  // an empty group is a match, just with no host
  const empty = parseIni('[web]\nw1\n[spare]\n', 'e');
  assert.deepEqual(applyLimit(empty, 'all:!spare').map((h) => h.name), ['w1']);
});

test('splitting: commas first; colons unless the whole is one address or range', () => {
  assert.deepEqual(splitPattern('a,b[1:2], c'), ['a', 'b[1:2]', 'c']);
  assert.deepEqual(splitPattern('a:b:!c'), ['a', 'b', '!c']);
  assert.deepEqual(splitPattern('2001:db8::1'), ['2001:db8::1']);
  assert.deepEqual(splitPattern('web[1:3]'), ['web[1:3]']);
  assert.ok(globToRegExp('web*').test('web01') && !globToRegExp('web*').test('xweb'));
  assert.ok(globToRegExp('a.b').test('a.b') && !globToRegExp('a.b').test('aXb'));
});
