// The Ansible-style INI inventory: hosts under [group] headers with key=value vars, [group:vars] and
// [all:vars] as defaults, host vars winning, comments and [x:children] ignored, quotes stripped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInventory } from '../../src/cli/targets.ts';

const inventory = `# OpenStack controllers (ops team)
; an ini-style comment too
lonely ansible_host=10.0.0.20

[controllers]
ctl1 ansible_host=10.0.0.11 ansible_user=admin   # was ansible_user=old
ctl2 ansible_host="10.0.0.12" ansible_port='2222'
ctl3

[storage]  # a comment after a header
ctl2 ansible_ssh_private_key_file=/keys/storage

[controllers:vars]
ansible_user = ops
ansible_ssh_private_key_file="/keys/ctl"

[all:vars]
ansible_user=root
ansible_port=22
extra=a=b

[openstack:children]
controllers
storage
`;

const byName = (text: string) => Object.fromEntries(parseInventory(text).map((h) => [h.name, h.vars]));

test('every host once, in order of first appearance; [x:children] lines are not hosts', () => {
  assert.deepEqual(parseInventory(inventory).map((h) => h.name), ['lonely', 'ctl1', 'ctl2', 'ctl3']);
});

test('host vars override group vars, which override [all:vars]', () => {
  assert.deepEqual(byName(inventory).ctl1, {
    ansible_host: '10.0.0.11', ansible_user: 'admin', ansible_port: '22', ansible_ssh_private_key_file: '/keys/ctl', extra: 'a=b',
  });
});

test('a host in two groups gets its vars from both lines; quotes are stripped from host and group values', () => {
  assert.deepEqual(byName(inventory).ctl2, {
    ansible_host: '10.0.0.12', ansible_port: '2222', ansible_user: 'ops', ansible_ssh_private_key_file: '/keys/storage', extra: 'a=b',
  });
});

test('a bare host gets its group vars and [all:vars] (spaces around = dropped)', () => {
  assert.deepEqual(byName(inventory).ctl3, { ansible_user: 'ops', ansible_port: '22', ansible_ssh_private_key_file: '/keys/ctl', extra: 'a=b' });
});

test('a host before any header (ungrouped) gets [all:vars] only', () => {
  assert.deepEqual(byName(inventory).lonely, { ansible_host: '10.0.0.20', ansible_user: 'root', ansible_port: '22', extra: 'a=b' });
});

test('CRLF line ends parse the same', () => {
  assert.deepEqual(parseInventory(inventory.replace(/\n/g, '\r\n')), parseInventory(inventory));
});

test('an inventory of comments, groups without hosts and vars names no host', () => {
  assert.deepEqual(parseInventory('# nothing\n[controllers]\n[all:vars]\nansible_user=root\n[g:children]\ncontrollers\n'), []);
  assert.deepEqual(parseInventory(''), []);
});
