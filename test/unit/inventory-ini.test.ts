// Ansible's INI inventory: sections, :vars, :children with inheritance, ranges, values as Ansible reads
// them. The expected vars of layered.ini and kolla-multinode were checked against ansible-inventory 2.14
// (inventory-ansible.test.ts repeats that comparison wherever ansible-inventory is installed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseIni } from '../../src/inventory/ini.ts';
import { InventoryError } from '../../src/inventory/errors.ts';
import type { Inventory } from '../../src/inventory/model.ts';

const fixtures = path.join(import.meta.dirname, '..', 'fixtures', 'inventory');
const fixture = (name: string) => parseIni(fs.readFileSync(path.join(fixtures, name), 'utf8'), name);

// The inventory the CLI's first reader was tested with: every case it covered is kept below.
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

const byName = (inv: Inventory) => Object.fromEntries(inv.hosts.map((h) => [h.name, h.vars]));
const vars = (text: string) => byName(parseIni(text, 'hosts'));

test('every host once, in order of first appearance; [x:children] lines are not hosts', () => {
  assert.deepEqual(parseIni(inventory, 'hosts').hosts.map((h) => h.name), ['lonely', 'ctl1', 'ctl2', 'ctl3']);
});

test('host vars override group vars, which override [all:vars]; values are literal-evaluated (22 is a number)', () => {
  assert.deepEqual(vars(inventory).ctl1, {
    ansible_host: '10.0.0.11', ansible_user: 'admin', ansible_port: 22, ansible_ssh_private_key_file: '/keys/ctl', extra: 'a=b',
  });
});

test('a host in two groups gets its vars from both lines; quotes are removed (so \'2222\' on a host line is a number, as in Ansible)', () => {
  assert.deepEqual(vars(inventory).ctl2, {
    ansible_host: '10.0.0.12', ansible_port: 2222, ansible_user: 'ops', ansible_ssh_private_key_file: '/keys/storage', extra: 'a=b',
  });
});

test('a bare host gets its group vars and [all:vars] (spaces around = dropped)', () => {
  assert.deepEqual(vars(inventory).ctl3, { ansible_user: 'ops', ansible_port: 22, ansible_ssh_private_key_file: '/keys/ctl', extra: 'a=b' });
});

test('a host before any header is ungrouped and gets [all:vars] only', () => {
  const inv = parseIni(inventory, 'hosts');
  assert.deepEqual(byName(inv).lonely, { ansible_host: '10.0.0.20', ansible_user: 'root', ansible_port: 22, extra: 'a=b' });
  assert.deepEqual(inv.groups.get('ungrouped'), ['lonely']);
});

test('CRLF and CR line ends parse the same', () => {
  const lf = parseIni(inventory, 'hosts');
  assert.deepEqual(parseIni(inventory.replace(/\n/g, '\r\n'), 'hosts'), lf);
  assert.deepEqual(parseIni(inventory.replace(/\n/g, '\r'), 'hosts'), lf);
});

test('an inventory of comments, groups without hosts and vars names no host', () => {
  assert.deepEqual(parseIni('# nothing\n[controllers]\n[all:vars]\nansible_user=root\n[g:children]\ncontrollers\n', 'h').hosts, []);
  assert.deepEqual(parseIni('', 'h').hosts, []);
});

test('[parent:children] gives the parent group its children\'s hosts and its vars to them', () => {
  const inv = parseIni(inventory, 'hosts');
  assert.deepEqual(inv.groups.get('openstack'), ['ctl1', 'ctl2', 'ctl3']);
  assert.deepEqual(inv.hosts.find((h) => h.name === 'ctl2')!.groups, ['all', 'openstack', 'controllers', 'storage']);
  const v = vars('[web]\nw1\n[app:children]\nweb\n[app:vars]\nport=80\nname=app\n[web:vars]\nname=web\n');
  assert.deepEqual(v.w1, { port: 80, name: 'web' });
});

test('precedence: all < parent < child < host; same depth: priority, then the later name wins', () => {
  const v = byName(fixture('layered.ini'));
  assert.equal(v.ctl01!.tier, 'controllers'); // child beats openstack beats all
  assert.equal(v.ctl02!.tier, 'host'); // host line beats every group
  assert.equal(v['db-a']!.tier, 'openstack'); // storage sets no tier: the parent's
  assert.equal(v['db-a']!.color, 'storage');
  assert.equal(v.ctl01!.color, 'openstack');
  assert.equal(v.shared!.same_depth, 'beta');
  assert.equal(v.prio!.winner, 'gamma');
  assert.equal(v.prio!.ansible_group_priority, undefined, 'the priority is not a var');
  assert.equal(v.r1!.level, 'zone'); // region>zone>rack is deeper than flat
});

test('ranges: zero-padded, letters, strides, IPv4 parts; host:port sets ansible_port', () => {
  const inv = fixture('layered.ini');
  assert.deepEqual(inv.groups.get('controllers'), ['ctl01', 'ctl02', 'ctl03', 'ctl04']);
  assert.deepEqual(inv.groups.get('storage'), ['ctl02', 'db-a', 'db-b', 'db-c', 'odd1', 'odd3', 'odd5', 'odd7', '10.0.1.8', '10.0.1.9', '10.0.1.10']);
  const v = byName(inv);
  assert.equal(v.ctl04!.ansible_port, 2222);
  assert.equal(v.ctl04!.ansible_host, '10.0.0.14');
});

test('values: host-line words are shell-split then literal-evaluated; :vars keep their comments', () => {
  const v = byName(fixture('layered.ini'));
  assert.deepEqual(
    { port: v.odd1!.ansible_port, quoted: v.odd1!.quoted, list: v.odd1!.list, flag: v.odd1!.flag, become: v.ctl04!.ansible_become },
    { port: 2201, quoted: '2201', list: [1, 2], flag: 'true', become: true },
  );
  assert.equal(v.odd1!.note, 'kept # Ansible keeps this comment in a :vars value');
  assert.equal(v.odd1!.count, 5);
  assert.deepEqual(vars('h a="x y" b=\'#not a comment\' d="\\"q\\"" c=pass#word e=1\n').h, { a: 'x y', b: '#not a comment', d: 'q', c: 'pass' });
});

test('kolla-ansible multinode: :children chains (glance-api > glance > control), a child declared later', () => {
  const inv = fixture('kolla-multinode');
  assert.deepEqual(inv.groups.get('glance-api'), ['control01', 'control02', 'control03']);
  assert.deepEqual(inv.groups.get('openvswitch'), ['network01', 'network02', 'compute01']);
  assert.deepEqual(inv.groups.get('baremetal'), ['control01', 'control02', 'control03', 'network01', 'network02', 'compute01', 'monitoring01', 'storage01']);
  assert.deepEqual(inv.groups.get('deployment'), ['localhost']);
  assert.equal(byName(inv).localhost!.ansible_connection, 'local');
});

const refused = (text: string, line: number, what: RegExp) => {
  assert.throws(() => parseIni(text, 'inv'), (e: unknown) => {
    assert.ok(e instanceof InventoryError, String(e));
    assert.equal(e.line, line, e.message);
    assert.match(e.message, what);
    assert.match(e.message, new RegExp(`\\n    ${line} \\| `), 'the line itself is shown');
    assert.ok(e.hint.length > 10);
    return true;
  });
};

test('refused, with the line: a shell script, YAML, stray words, bad sections and ranges', () => {
  refused('set -euo pipefail\necho hello\n', 1, /inv:1: "-euo" is not|expected key=value/);
  refused('[web]\nw1\necho "deploying" now\n', 3, /expected key=value after the host name, got "deploying"/);
  refused('all:\n  hosts:\n', 1, /ends with ":"/);
  refused('---\nall:\n', 1, /YAML/);
  refused('[web:host]\n', 1, /unknown type "host"/);
  refused('[web server]\n', 1, /invalid section header/);
  refused('[web] ; note\n', 1, /text after a section header/);
  refused('[web]\nw[1:x]\n', 2, /neither numeric nor single letters/);
  refused('[web]\nw[01:3]\n', 2, /same width/);
  refused('[web]\nw1 a="open\n', 2, /no closing quotation/);
  refused('[web:vars]\njust a word\n', 2, /expected key=value in \[web:vars\]/);
  refused('[web]\nw1\n[web:vars]\nx=1\n[app:children]\nweb\ndb\n', 7, /names the group "db", which is not declared/);
  refused('[web]\nw1\n[db:vars]\nx=1\n', 3, /\[db:vars\] is for a group that is not declared/);
  refused('[a:children]\nb\n[b:children]\na\n', 4, /loop/);
});
