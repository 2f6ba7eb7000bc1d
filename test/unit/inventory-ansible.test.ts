// The readers against Ansible itself: where ansible-inventory is installed (apt-get install
// ansible-core), every fixture read here must give the hosts and vars that `ansible-inventory --list`
// gives, and the ansible-inventory path must read them the same. Skipped where it is not installed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadInventory } from '../../src/inventory/index.ts';
import { findAnsibleInventory, readThroughAnsible } from '../../src/inventory/dynamic.ts';

const ansible = findAnsibleInventory();
const skip = ansible ? false : 'ansible-inventory is not installed';
const fixtures = path.join(import.meta.dirname, '..', 'fixtures', 'inventory');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-ansible-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Host → vars as `ansible-inventory --list` prints them (a host without vars is only in its groups' lists). */
function ansibleHostvars(source: string): Record<string, Record<string, unknown>> {
  const out = execFileSync(ansible!, ['-i', source, '--list'], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true' },
  });
  const data = JSON.parse(out) as Record<string, { hosts?: string[]; hostvars?: Record<string, Record<string, unknown>> }>;
  const vars: Record<string, Record<string, unknown>> = {};
  for (const [group, body] of Object.entries(data)) if (group !== '_meta') for (const h of body.hosts ?? []) vars[h] = {};
  return { ...vars, ...data._meta!.hostvars };
}

async function sameAsAnsible(source: string) {
  const ours = await loadInventory(source, { ansibleInventory: null });
  const theirs = ansibleHostvars(source);
  const sorted = (o: Record<string, unknown>) => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
  assert.deepEqual(sorted(Object.fromEntries(ours.hosts.map((h) => [h.name, h.vars]))), sorted(theirs));
}

test('layered.ini: precedence, priorities, ranges and literal values as Ansible reads them', { skip }, () => sameAsAnsible(path.join(fixtures, 'layered.ini')));
test('kolla-ansible multinode as Ansible reads it', { skip }, () => sameAsAnsible(path.join(fixtures, 'kolla-multinode')));
test('openstack.yml as Ansible reads it', { skip }, () => sameAsAnsible(path.join(fixtures, 'openstack.yml')));
test('a dynamic inventory script as Ansible reads it', { skip }, () => sameAsAnsible(path.join(fixtures, 'dynamic', 'inventory.sh')));

test('group_vars/ and host_vars/ as Ansible reads them (without the vault file, which Ansible cannot open either)', { skip }, async () => {
  const copy = path.join(tmp, 'with-vars-dirs');
  fs.cpSync(path.join(fixtures, 'with-vars-dirs'), copy, { recursive: true });
  fs.rmSync(path.join(copy, 'group_vars', 'controllers', 'vault.yml'));
  await sameAsAnsible(path.join(copy, 'hosts.ini'));
});

test('through ansible-inventory, the kolla inventory gives the same hosts, vars and group members', { skip }, async () => {
  const file = path.join(fixtures, 'kolla-multinode');
  const direct = await loadInventory(file, { ansibleInventory: null });
  const via = await readThroughAnsible(file, ansible!);
  assert.equal(via.format, 'ansible-inventory');
  assert.deepEqual(new Set(via.hosts.map((h) => h.name)), new Set(direct.hosts.map((h) => h.name)));
  for (const g of ['glance-api', 'openvswitch', 'baremetal', 'deployment']) {
    assert.deepEqual(new Set(via.groups.get(g)), new Set(direct.groups.get(g)), g);
  }
});
