// Dynamic inventories: the --list JSON (fixtures), real executable scripts run as Ansible runs them
// (--list, and --host NAME only without _meta), and the way through ansible-inventory (a stand-in
// executable that checks how it is called; inventory-ansible.test.ts uses the real one when installed).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readListJson } from '../../src/inventory/script-json.ts';
import { loadInventory } from '../../src/inventory/index.ts';
import { InventoryError } from '../../src/inventory/errors.ts';

const dir = path.join(import.meta.dirname, '..', 'fixtures', 'inventory', 'dynamic');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-dynamic-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const vars = (inv: { hosts: { name: string; vars: Record<string, unknown> }[] }) => Object.fromEntries(inv.hosts.map((h) => [h.name, h.vars]));

test('--list JSON: groups as lists or mappings, children, group vars, _meta.hostvars on top', async () => {
  const inv = await readListJson(JSON.parse(fs.readFileSync(path.join(dir, 'cloud-list.json'), 'utf8')), 'cloud', 'script');
  assert.deepEqual(inv.hosts.map((h) => h.name), ['ctl1', 'cmp1', 'bastion']);
  assert.deepEqual(vars(inv), {
    ctl1: { ansible_user: 'ops', tier: 'controllers', ansible_host: '10.0.0.11', ansible_port: 2222 },
    cmp1: { ansible_user: 'ops', tier: 'openstack', ansible_host: '10.0.0.21' },
    // a group without hosts/vars/children is a host of that name with those vars
    bastion: { ansible_host: '192.0.2.1' },
  });
  assert.deepEqual(inv.groups.get('openstack'), ['ctl1', 'cmp1']);
  assert.deepEqual(inv.groups.get('ungrouped'), []);
});

test('--list JSON of the wrong shape is refused, saying what is wrong', async () => {
  const bad: [unknown, RegExp][] = [
    [['web1'], /is a list, not a mapping of groups/],
    ['web1', /is string, not a mapping/],
    [{ web: { hosts: 'web1' } }, /group "web" has bad data for its host list/],
    [{ web: { hosts: ['w1'], vars: ['x'] } }, /group "web" has bad data for its vars/],
    [{ web: { children: 'db' } }, /group "web" has bad data for its children/],
    [{ _meta: { hostvars: [] } }, /"_meta.hostvars" is not a mapping/],
    [{ web: ['w1'], _meta: { hostvars: { w1: 'x' } } }, /the vars of host "w1" are not a mapping/],
    [{ a: { children: ['b'] }, b: { children: ['a'] } }, /loop/],
  ];
  for (const [data, re] of bad) await assert.rejects(readListJson(data, 'src', 'script'), re, JSON.stringify(data));
});

test('an executable script is run with --list (and not --host when it gives _meta)', async () => {
  const calls = path.join(tmp, 'calls-1');
  process.env.INVENTORY_CALLS = calls;
  try {
    const inv = await loadInventory(path.join(dir, 'inventory.sh'), { ansibleInventory: null });
    assert.equal(inv.format, 'script');
    assert.deepEqual(inv.hosts.map((h) => [h.name, h.vars.ansible_host]), [['ctl1', '10.0.0.11'], ['cmp1', '10.0.0.21'], ['bastion', '192.0.2.1']]);
    assert.deepEqual(fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean), ['--list']);
  } finally {
    delete process.env.INVENTORY_CALLS;
  }
});

test('a script without _meta is asked --host NAME for each host', async () => {
  const calls = path.join(tmp, 'calls-2');
  process.env.INVENTORY_CALLS = calls;
  try {
    const inv = await loadInventory(path.join(dir, 'no-meta.sh'), { ansibleInventory: null });
    assert.deepEqual(vars(inv), { w1: { ansible_user: 'deploy', ansible_host: '10.1.0.1' }, w2: { ansible_user: 'deploy', ansible_host: '10.1.0.2' } });
    assert.deepEqual(fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean), ['--list', '--host w1', '--host w2']);
  } finally {
    delete process.env.INVENTORY_CALLS;
  }
});

test('a failing script, or one that prints something else than JSON, is an error with its words and the line', async () => {
  await assert.rejects(loadInventory(path.join(dir, 'broken.sh'), { ansibleInventory: null }), (e: unknown) => {
    assert.ok(e instanceof InventoryError);
    assert.match(e.message, /broken\.sh --list exited with 3:\n {4}cannot reach the cloud API: connection refused/);
    assert.match(e.hint, /run ".*broken\.sh --list" yourself/);
    return true;
  });
  await assert.rejects(loadInventory(path.join(dir, 'not-json.sh'), { ansibleInventory: null }), (e: unknown) => {
    assert.ok(e instanceof InventoryError);
    assert.equal(e.line, 1);
    assert.match(e.message, /the output of .*not-json\.sh --list is not JSON[\s\S]*1 \| fetching hosts\.\.\./);
    return true;
  });
});

test('a plugin configuration or a directory goes through ansible-inventory -i SOURCE --list', async () => {
  const fake = path.join(dir, 'ansible-inventory');
  const plugin = path.join(dir, 'openstack-plugin.yml');
  const inv = await loadInventory(plugin, { ansibleInventory: fake });
  assert.equal(inv.format, 'ansible-inventory');
  assert.deepEqual(vars(inv), { 'os-ctl': { ansible_host: '203.0.113.5', source: plugin } });
  assert.deepEqual(inv.groups.get('openstack'), ['os-ctl']);
  const fromDir = await loadInventory(tmp, { ansibleInventory: fake });
  assert.equal(fromDir.hosts[0]!.vars.source, tmp);
});

test('found in PATH: ansible-inventory is used without being named', async () => {
  const saved = process.env.PATH;
  process.env.PATH = `${dir}${path.delimiter}${saved}`;
  try {
    const inv = await loadInventory(path.join(dir, 'openstack-plugin.yml'));
    assert.equal(inv.format, 'ansible-inventory');
  } finally {
    process.env.PATH = saved;
  }
});

test('without ansible-inventory, a plugin configuration or a directory is refused with how to export it', async () => {
  await assert.rejects(loadInventory(path.join(dir, 'openstack-plugin.yml'), { ansibleInventory: null }), (e: unknown) => {
    assert.ok(e instanceof InventoryError);
    assert.match(e.message, /openstack-plugin\.yml:2: this is a configuration for the inventory plugin "openstack\.cloud\.openstack"/);
    assert.match(e.hint, /install ansible-core/);
    return true;
  });
  await assert.rejects(loadInventory(tmp, { ansibleInventory: null }), /this is an inventory directory, which only Ansible can read, and ansible-inventory is not installed/);
});
