// From an inventory to the targets the engine connects to: ansible_host/user/port/key mapped (with
// Ansible's aliases), the port checked, become kept, --limit applied to any kind of target list.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveTargets } from '../../src/cli/targets.ts';
import { UsageError } from '../../src/cli/usage-error.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-targets-unit-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
};
const noProgress = () => {};

const ini = write('hosts.ini', `[controllers]
ctl1 ansible_host=10.0.0.11 ansible_become=yes ansible_become_user=glance
ctl2 ansible_ssh_host=10.0.0.12 ansible_ssh_port=2202 ansible_ssh_user=ops ansible_private_key_file=~/.ssh/ops
[compute]
cmp[1:2]
[controllers:vars]
ansible_ssh_private_key_file=/keys/ctl
ansible_port=2222
`);

test('ansible_host/user/port/key become the SSH target; --user/--identity fill what the inventory leaves out', async () => {
  const t = await resolveTargets({ inventory: ini, user: 'admin', identity: '/keys/default', knownHosts: '/kh' }, noProgress);
  assert.deepEqual(t.map((x) => [x.name, x.host, x.user, x.port, x.identity, x.knownHostsFile]), [
    ['ctl1', '10.0.0.11', 'admin', 2222, '/keys/ctl', '/kh'],
    // the ssh_ aliases win over the plain names when both are there, as in Ansible's ssh plugin
    ['ctl2', '10.0.0.12', 'ops', 2202, '/keys/ctl', '/kh'],
    ['cmp1', 'cmp1', 'admin', undefined, '/keys/default', '/kh'],
    ['cmp2', 'cmp2', 'admin', undefined, '/keys/default', '/kh'],
  ]);
});

test('a ~ in a key path is the home directory; become and become_user are kept on the target', async () => {
  const t = await resolveTargets({ inventory: write('k.ini', 'h ansible_private_key_file=~/.ssh/ops ansible_become=True ansible_become_user=glance\n') }, noProgress);
  assert.equal(t[0]!.identity, path.join(os.homedir(), '.ssh/ops'));
  assert.equal(t[0]!.become, true);
  assert.equal(t[0]!.becomeUser, 'glance');
  const [c1] = await resolveTargets({ inventory: ini }, noProgress);
  assert.equal(c1!.become, true, '"yes" is true, as Ansible reads a boolean');
});

test('--become and --become-user reach --host targets and an inventory\'s hosts; ansible_become* win, as in Ansible', async () => {
  const [h] = await resolveTargets({ host: ['10.0.0.9'], user: 'ops', become: true }, noProgress);
  assert.deepEqual([h!.user, h!.become, h!.becomeUser], ['ops', true, undefined]);
  const inv = write('b.ini', 'a ansible_become=false\nb ansible_become_user=svc\nc\n');
  const t = await resolveTargets({ inventory: inv, become: true, becomeUser: 'root' }, noProgress);
  assert.deepEqual(t.map((x) => [x.name, x.become, x.becomeUser]), [['a', false, 'root'], ['b', true, 'svc'], ['c', true, 'root']]);
  const [plain] = await resolveTargets({ host: ['x'] }, noProgress);
  assert.ok(!('become' in plain!), 'no become unless asked');
});

const usage = async (p: Promise<unknown>, re: RegExp) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UsageError, String(e));
    assert.match((e as Error).message, re);
    return true;
  });

test('a port that is not 1-65535 is an error naming the host and the value', async () => {
  await usage(resolveTargets({ inventory: write('p1.ini', 'web1 ansible_port=70000\n') }, noProgress), /host web1: ansible_port is 70000, not a port number \(1-65535\)/);
  await usage(resolveTargets({ inventory: write('p2.yml', 'all:\n  hosts:\n    web2:\n      ansible_port: twenty-two\n') }, noProgress), /host web2: ansible_port is "twenty-two"/);
  await usage(resolveTargets({ inventory: write('p3.ini', '[g]\nweb3\n[g:vars]\nansible_port=0\n') }, noProgress), /host web3: ansible_port is 0/);
  const [ok] = await resolveTargets({ inventory: write('p4.yml', 'all:\n  hosts:\n    web4:\n      ansible_port: "2200"\n') }, noProgress);
  assert.equal(ok!.port, 2200);
});

test('a Jinja2 template or a bad boolean in a connection var is an error, not a host name', async () => {
  await usage(resolveTargets({ inventory: write('j.yml', 'all:\n  hosts:\n    web1:\n      ansible_host: "{{ lookup(\'env\', \'IP\') }}"\n') }, noProgress), /host web1: ansible_host is a Jinja2 template/);
  await usage(resolveTargets({ inventory: write('b.ini', 'web1 ansible_become=maybe\n') }, noProgress), /host web1: ansible_become is "maybe", not a boolean/);
});

test('--limit picks hosts and groups; one that matches nothing is a usage error naming it', async () => {
  const names = async (limit: string) => (await resolveTargets({ inventory: ini, limit }, noProgress)).map((t) => t.name);
  assert.deepEqual(await names('controllers'), ['ctl1', 'ctl2']);
  assert.deepEqual(await names('all:!compute'), ['ctl1', 'ctl2']);
  assert.deepEqual(await names('cmp*,ctl2'), ['ctl2', 'cmp1', 'cmp2']);
  await usage(names('controlers'), /"controlers" matches no host and no group of .*hosts\.ini[\s\S]*the groups are: controllers, compute; the hosts: ctl1, ctl2, cmp1, cmp2/);
  await usage(names('controllers:&compute'), /leaves no host/);
});

test('--limit also applies to --host lists (by name)', async () => {
  const t = await resolveTargets({ host: ['a.example', 'b.example', 'c.other'], limit: '*.example:!b*' }, noProgress);
  assert.deepEqual(t.map((x) => x.host), ['a.example']);
  await usage(resolveTargets({ host: ['a'], limit: 'z' }, noProgress), /"z" matches no host and no group of the --host list\n  what to do: the hosts are: a$/);
  await usage(resolveTargets({ host: ['a'], limit: ' ' }, noProgress), /--limit needs a pattern/);
});

test('an inventory that is not one is a usage error that shows the line', async () => {
  const script = write('deploy.sh', 'set -e\napt-get install -y glance\n');
  await usage(resolveTargets({ inventory: script }, noProgress), /deploy\.sh:1: expected key=value after the host name, got "-e"\n {4}1 \| set -e\n {2}what to do: /);
  await usage(resolveTargets({ inventory: path.join(tmp, 'missing.ini') }, noProgress), /cannot read the inventory/);
});
