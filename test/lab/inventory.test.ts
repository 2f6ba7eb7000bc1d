// An operator's YAML inventory names more than the controller: here two lab controllers in different
// groups and a compute node. `--limit` must keep the run to the chosen group: the compute node is a TCP
// listener this test owns, so "never contacted" is counted, not assumed (and the run without --limit
// shows the listener does see a connection attempt).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runCli, labUp, labDown, explain } from './helpers.ts';
import { paths } from '../../src/lab/paths.ts';
import type { LabRecord } from '../../src/lab/lab.ts';
import type { HostReport } from '../../src/engine/report-model.ts';

const NAMES = ['inv-a', 'inv-b'] as const;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-inventory-'));
const secrets = path.join(tmp, 'secrets');
const env = { ...process.env, INSTALL_GLANCE_SECRETS: secrets };
let labs: LabRecord[] = [];
let inventory = '';
let contacts = 0;
const compute = net.createServer((socket) => {
  contacts++;
  socket.destroy(); // not an sshd: a client that gets here fails at once
});

before(async () => {
  await Promise.all(NAMES.map(labDown));
  await new Promise<void>((resolve) => compute.listen(0, '127.0.0.1', resolve));
  labs = await labUp(NAMES);
  const computePort = (compute.address() as net.AddressInfo).port;
  inventory = path.join(tmp, 'cloud.yml');
  fs.writeFileSync(inventory, `# the cloud as the ops team describes it
all:
  vars:
    ansible_user: root
    ansible_ssh_private_key_file: ${paths.clientKey}
  children:
    control:
      hosts:
        ctl-a:
          ansible_host: ${labs[0]!.address}
    network:
      hosts:
        net-b:
          ansible_host: ${labs[1]!.address}
    compute:
      hosts:
        cmp01:
          ansible_host: 127.0.0.1
          ansible_port: ${computePort}
`);
});
after(async () => {
  compute.close();
  await Promise.all(NAMES.map(labDown));
  fs.rmSync(tmp, { recursive: true, force: true });
});

const reports = (stdout: string) => (JSON.parse(stdout) as { hosts: HostReport[] }).hosts;
const plan = (limit: string[]) => runCli(['plan', '--inventory', inventory, '--known-hosts', paths.knownHosts, ...limit, '--json'], { env });

test('plan --limit control plans only the control lab; the compute node is never contacted', async () => {
  const r = await plan(['--limit', 'control']);
  assert.equal(r.code, 2, explain('plan --limit control on a fresh lab', r));
  assert.deepEqual(reports(r.stdout).map((h) => [h.host, h.address, h.failed]), [['ctl-a', labs[0]!.address, 0]]);
  assert.equal(contacts, 0, 'the compute node was contacted');
  // Only the planned host got secrets: the other lab was not touched by this run.
  assert.deepEqual(fs.readdirSync(secrets), ['ctl-a.json']);
});

test('plan --limit "all:!compute" plans both labs and still not the compute node', async () => {
  const r = await plan(['--limit', 'all:!compute']);
  assert.equal(r.code, 2, explain('plan --limit all:!compute', r));
  assert.deepEqual(reports(r.stdout).map((h) => [h.host, h.failed]), [['ctl-a', 0], ['net-b', 0]]);
  assert.equal(contacts, 0, 'the compute node was contacted');
});

test('a --limit that matches nothing is a usage error (64) naming it, before any host is contacted', async () => {
  const r = await plan(['--limit', 'controllers']);
  assert.equal(r.code, 64, explain('plan --limit controllers', r));
  assert.match(r.stderr, /"controllers" matches no host and no group of .*cloud\.yml/);
  assert.match(r.stderr, /the groups are: control, network, compute; the hosts: ctl-a, net-b, cmp01/);
  assert.equal(r.stdout, '');
  assert.equal(contacts, 0);
});

test('without --limit the compute node is contacted and fails the run (exit 1): the count above is real', async () => {
  const r = await plan([]);
  assert.equal(r.code, 1, explain('plan without --limit', r));
  const byHost = Object.fromEntries(reports(r.stdout).map((h) => [h.host, h]));
  assert.deepEqual(Object.keys(byHost), ['ctl-a', 'net-b', 'cmp01']);
  assert.ok(byHost.cmp01!.error, 'cmp01 has an error');
  assert.equal(byHost['ctl-a']!.failed, 0);
  assert.ok(contacts > 0, 'the listener saw the compute node being contacted');
});
