// Ansible's YAML inventory: all/children/hosts/vars, ranges and ports in host keys, YAML 1.1 values,
// and refusal (with the line) of YAML that is not an inventory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseYaml } from '../../src/inventory/yaml.ts';
import { InventoryError } from '../../src/inventory/errors.ts';

const fixtures = path.join(import.meta.dirname, '..', 'fixtures', 'inventory');
const cloud = await parseYaml(fs.readFileSync(path.join(fixtures, 'openstack.yml'), 'utf8'), 'openstack.yml');
const vars = Object.fromEntries(cloud.hosts.map((h) => [h.name, h.vars]));

test('hosts in order, ranges in keys expanded, host:port read as ansible_port', () => {
  assert.deepEqual(cloud.hosts.map((h) => h.name), ['ctl01', 'ctl02', 'ctl03.example.com', 'cmp-a', 'cmp-b', 'cmp-c', 'cmp-d', 'bastion']);
  assert.equal(vars['ctl03.example.com']!.ansible_port, 2222);
  assert.equal(vars['cmp-d']!.ansible_port, '2200', 'a quoted port stays text, as in Ansible');
});

test('children nest; a group\'s hosts include its children\'s', () => {
  assert.deepEqual(cloud.groups.get('openstack'), ['ctl01', 'ctl02', 'ctl03.example.com', 'cmp-a', 'cmp-b', 'cmp-c', 'cmp-d']);
  assert.deepEqual(cloud.groups.get('storage'), ['ctl02']);
  assert.deepEqual(cloud.groups.get('ungrouped'), ['bastion']);
});

test('vars: all < parent < child < host; same depth by name (storage after openstack); YAML 1.1 values', () => {
  assert.deepEqual(vars.ctl01, { ansible_user: 'root', ntp_server: 'ntp.example.com', ansible_ssh_private_key_file: '~/.ssh/openstack', tier: 'controllers', ansible_become: true });
  // ctl02: controllers (depth 2) beats storage (depth 1) for tier; storage adds its own keys
  assert.equal(vars.ctl02!.tier, 'controllers');
  assert.deepEqual(vars.ctl02!.pools, ['images', 'volumes']);
  assert.equal(vars.ctl02!.mode, 0o750);
  assert.equal(vars['cmp-a']!.tier, 'openstack');
  assert.deepEqual(vars.bastion, { ansible_user: 'root', ntp_server: 'ntp.example.com', ansible_host: '192.0.2.1' });
});

test('anchors, aliases and merge keys resolve as PyYAML resolves them', async () => {
  const inv = await parseYaml('all:\n  vars:\n    base: &b {user: ops, port: 22}\n    copy: *b\n    merged:\n      <<: *b\n      port: 2222\n  hosts:\n    h1:\n', 'm.yml');
  assert.deepEqual(inv.hosts[0]!.vars, { base: { user: 'ops', port: 22 }, copy: { user: 'ops', port: 22 }, merged: { user: 'ops', port: 2222 } });
});

const refused = (text: string, line: number | undefined, what: RegExp) =>
  assert.rejects(parseYaml(text, 'inv.yml'), (e: unknown) => {
    assert.ok(e instanceof InventoryError, String(e));
    assert.equal(e.line, line, e.message);
    assert.match(e.message, what);
    return true;
  });

test('refused with the line: a playbook, a compose file, a typo, hosts as a list, bad YAML, a bad host', async () => {
  await refused('- hosts: all\n  tasks: []\n', 1, /the top level is a list, not groups/);
  await refused('version: "3"\nservices:\n  web: {image: x}\n', 1, /group "version" is a string \("3"\), not a group/);
  await refused('all:\n  children:\n    web:\n      host:\n        w1:\n', 4, /unexpected key "host" in group "web"/);
  await refused('all:\n  hosts:\n    - w1\n    - w2\n', 2, /"hosts" of group "all" is a list, it must be a mapping/);
  await refused('all:\n  hosts:\n    w1:\n  x: y: z\n', 4, /not valid YAML: Nested mappings/);
  await refused('all:\n\thosts:\n', 2, /not valid YAML: Tabs/);
  await refused('all:\n  hosts:\n    "web server":\n', 3, /"web server" is not a host name/);
  await refused('all:\n  hosts:\n    1234:\n', 3, /host a number \(1234\) in group "all" is not text/);
  await refused('all:\n  hosts:\n    w1: just-a-string\n', 3, /host "w1" has a string/);
  await refused('all:\n  children:\n    a:\n      children:\n        a:\n', 5, /loop/);
  await refused('', undefined, /empty/);
  await refused('# only comments\n', undefined, /empty/);
});

test('a plugin configuration is told apart, so the caller can hand it to ansible-inventory', async () => {
  await assert.rejects(parseYaml('plugin: openstack.cloud.openstack\nexpand_hostvars: true\n', 'os.yml'), (e: unknown) => {
    assert.ok(e instanceof InventoryError);
    assert.equal(e.constructor.name, 'PluginConfigError');
    assert.match(e.message, /inventory plugin "openstack.cloud.openstack"/);
    assert.match(e.hint, /ansible-inventory -i os\.yml --list --yaml > inventory\.yml/);
    return true;
  });
});
