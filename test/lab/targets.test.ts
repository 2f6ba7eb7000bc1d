// Several controllers in one run: every named lab in parallel with a recap line per host, and an
// Ansible-style INI inventory naming real hosts (here: lab addresses, reached like any other host).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, labUp, labDown, explain } from './helpers.ts';
import { paths } from '../../src/lab/paths.ts';
import type { LabRecord } from '../../src/lab/lab.ts';
import type { HostReport } from '../../src/engine/report-model.ts';

const NAMES = ['t-m1', 't-m2'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-targets-'));
const env = { ...process.env, INSTALL_GLANCE_SECRETS: path.join(tmp, 'secrets') };
let labs: LabRecord[] = [];

before(async () => {
  await Promise.all(NAMES.map(labDown));
  labs = await labUp(NAMES);
});
after(async () => {
  await Promise.all(NAMES.map(labDown));
  fs.rmSync(tmp, { recursive: true, force: true });
});

const hosts = (stdout: string) => (JSON.parse(stdout) as { hosts: HostReport[] }).hosts;

test('--lab NAME NAME plans both controllers in one run, each with its own recap line', async () => {
  const r = await runCli(['plan', '--lab', ...NAMES, '--json'], { env });
  assert.equal(r.code, 2, explain('plan on two fresh labs', r));
  const reports = hosts(r.stdout);
  assert.deepEqual(reports.map((h) => [h.host, h.address]), labs.map((l) => [l.name, l.address]));
  for (const h of reports) {
    assert.equal(h.failed, 0);
    assert.ok(h.changed >= 10, `${h.host}: ${h.changed} to change`);
    assert.match(r.stderr, new RegExp(`^${h.host}: ok=\\d+ to-change=${h.changed} failed=0 \\(`, 'm'));
  }
  // Each host got its own generated secrets.
  const files = fs.readdirSync(env.INSTALL_GLANCE_SECRETS).sort();
  assert.deepEqual(files, NAMES.map((n) => `${n}.json`).sort());
  assert.notEqual(fs.readFileSync(path.join(env.INSTALL_GLANCE_SECRETS, files[0]!), 'utf8'), fs.readFileSync(path.join(env.INSTALL_GLANCE_SECRETS, files[1]!), 'utf8'));
});

test('an INI inventory with groups and vars reaches the hosts it names', async () => {
  const inv = path.join(tmp, 'hosts.ini');
  fs.writeFileSync(inv, [
    '# two controllers, by inventory name',
    '[controllers]',
    `alpha ansible_host=${labs[0]!.address}`,
    `beta ansible_host=${labs[1]!.address} ansible_user=root`,
    '',
    '[controllers:vars]',
    `ansible_ssh_private_key_file=${paths.clientKey}`,
  ].join('\n'));
  const r = await runCli(['plan', '--inventory', inv, '--known-hosts', paths.knownHosts, '--json'], { env });
  assert.equal(r.code, 2, explain('plan from an inventory', r));
  assert.deepEqual(hosts(r.stdout).map((h) => [h.host, h.address, h.failed]), [['alpha', labs[0]!.address, 0], ['beta', labs[1]!.address, 0]]);
});
