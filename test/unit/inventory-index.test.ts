// One entry point for --inventory: which reader a file gets, refusal of files that are not inventories
// (with the line), and group_vars/ + host_vars/ beside a static inventory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadInventory, detectFormat } from '../../src/inventory/index.ts';
import { InventoryError } from '../../src/inventory/errors.ts';

const fixtures = path.join(import.meta.dirname, '..', 'fixtures', 'inventory');
const load = (...p: string[]) => loadInventory(path.join(fixtures, ...p), { ansibleInventory: null });

test('the format comes from the name (.yml/.yaml/.json), else from the first line that is not a comment', () => {
  assert.equal(detectFormat('hosts.yml', '[web]'), 'yaml');
  assert.equal(detectFormat('hosts.json', '{}'), 'yaml');
  assert.equal(detectFormat('hosts', '# c\n\nall:\n  hosts:\n'), 'yaml');
  assert.equal(detectFormat('hosts', '---\n'), 'yaml');
  assert.equal(detectFormat('hosts', '{"all": {}}'), 'yaml');
  assert.equal(detectFormat('hosts', '- hosts: all\n'), 'yaml');
  assert.equal(detectFormat('hosts', '; c\n[web]\nw1\n'), 'ini');
  assert.equal(detectFormat('hosts', 'w1:2222 a=b\n'), 'ini');
  assert.equal(detectFormat('hosts', 'w1 note="a: b"\n'), 'ini');
});

test('INI and YAML fixtures load through the one entry point', async () => {
  const kolla = await load('kolla-multinode');
  assert.equal(kolla.format, 'ini');
  assert.equal(kolla.hosts.length, 9);
  const yml = await load('openstack.yml');
  assert.equal(yml.format, 'yaml');
  assert.equal(yml.hosts.length, 8);
});

const refusal = async (file: string, line: number, re: RegExp, hint: RegExp) =>
  assert.rejects(load('refused', file), (e: unknown) => {
    assert.ok(e instanceof InventoryError, String(e));
    assert.equal(e.line, line, e.message);
    assert.match(e.message, re);
    assert.match(e.message, new RegExp(`\\n {4}${line} \\| .*\\S`), 'the line is shown');
    assert.match(e.hint, hint);
    return true;
  });

test('files that are not inventories are refused with the line they choked on', async () => {
  await refusal('deploy.sh', 1, /this is a script \(a #! line\) and it is not executable/, /chmod \+x/);
  await refusal('deploy-no-shebang.sh', 1, /expected key=value after the host name, got "-euo"/, /name key=value/);
  await refusal('package.json', 2, /group "name" is a string \("some-app"\), not a group/, /hosts:, children: and vars:/);
  await refusal('list-output.json', 2, /the --list output of a dynamic inventory/, /give --inventory the script itself/);
  await refusal('site.yml', 2, /the top level is a list, not groups/, /a playbook is not an inventory/);
});

test('group_vars/ and host_vars/ beside the file apply with Ansible\'s precedence; a vault file is skipped with a warning', async () => {
  const inv = await load('with-vars-dirs', 'hosts.ini');
  const v = Object.fromEntries(inv.hosts.map((h) => [h.name, h.vars]));
  // all (file) < group_vars/all < controllers (file) < group_vars/controllers/* < host line < host_vars/
  assert.deepEqual(v.ctl1, { site: 'group_vars', ansible_user: 'ops', tier: 'controllers-dir', ansible_become: true, ansible_host: '10.0.0.11' });
  assert.deepEqual(v.ctl2, { site: 'group_vars', ansible_user: 'fromline', tier: 'controllers-dir', ansible_become: true, ansible_host: '10.0.0.12', ansible_port: 2222 });
  assert.equal(inv.warnings.length, 1);
  assert.match(inv.warnings[0]!, /group_vars\/controllers\/vault\.yml is encrypted with ansible-vault and was not read/);
});

test('a group_vars file that is not a mapping is refused with its line', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-gv-'));
  try {
    fs.writeFileSync(path.join(dir, 'hosts'), '[web]\nw1\n');
    fs.mkdirSync(path.join(dir, 'group_vars'));
    fs.writeFileSync(path.join(dir, 'group_vars', 'web.yml'), '- a\n- b\n');
    await assert.rejects(loadInventory(path.join(dir, 'hosts'), { ansibleInventory: null }), /group_vars\/web\.yml:1: a vars file must be a mapping/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing file is refused with its path', async () => {
  await assert.rejects(load('nope.ini'), /nope\.ini: cannot read the inventory: ENOENT/);
});
