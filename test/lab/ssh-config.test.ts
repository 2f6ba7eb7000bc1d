// A controller the host cannot reach, only through a bastion (`lab up --behind`), named by an alias
// in an ssh config file as operators write them: plan, apply and a converged re-apply go through the
// jump host; what fails says which hop.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { runCli, labUp, labDown, explain, GLANCE_DEPS, type CliResult } from './helpers.ts';
import { paths } from '../../src/lab/paths.ts';
import type { LabRecord } from '../../src/lab/lab.ts';
import type { HostReport } from '../../src/engine/report-model.ts';

const BASTION = 'ssh-bastion';
const CTL = 'ssh-ctl';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-sshconfig-'));
const env = { ...process.env, INSTALL_GLANCE_SECRETS: path.join(tmp, 'secrets') };
let bastion: LabRecord;
let ctl: LabRecord;
let config = '';

/** An ssh config as an operator would keep it; `extra` goes first, so it wins (first value wins). */
function writeConfig(name: string, extra = ''): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, `${extra}
# The controller, known only by its alias, reached through the bastion.
Host glance-ctl
  HostName ${ctl.address}
  User root
  IdentityFile ${paths.clientKey}
  ProxyJump ssh-bastion-alias
  UserKnownHostsFile ${paths.knownHosts}

Host ssh-bastion-alias
  HostName ${bastion.address}
  User root
  IdentityFile ${paths.clientKey}
  UserKnownHostsFile ${paths.knownHosts}

# The same controller without the jump, to show the host cannot reach it.
Host direct-ctl
  HostName ${ctl.address}
  IdentityFile ${paths.clientKey}
  UserKnownHostsFile ${paths.knownHosts}
  ConnectTimeout 3
`);
  return file;
}

before(async () => {
  await Promise.all([labDown(CTL), labDown(BASTION)]);
  [bastion] = await labUp([BASTION]);
  // The subject is the path to the controller (ssh_config, the jump host), not its package install.
  [ctl] = await labUp([CTL], ['--behind', BASTION, ...GLANCE_DEPS]);
  config = writeConfig('ssh_config');
});
after(async () => {
  await labDown(CTL);
  await labDown(BASTION);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const report = (r: CliResult): HostReport => {
  const hosts = (JSON.parse(r.stdout) as { hosts: HostReport[] }).hosts;
  assert.equal(hosts.length, 1, explain('one host', r));
  return hosts[0]!;
};

/** The first bytes sshd sends on the controller's port 22, seen from the host: none when dropped. */
function banner(host: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port: 22, timeout: 3000 });
    s.once('data', (d) => { s.destroy(); resolve(d.toString('latin1')); });
    s.once('timeout', () => { s.destroy(); resolve('(timeout)'); });
    s.once('error', (e) => resolve(`(${e.message})`));
  });
}

test('the host cannot reach the controller directly: no SSH banner, and --host through the same config without the jump fails in ConnectTimeout', async () => {
  assert.equal(await banner(ctl.address), '(timeout)');
  assert.match(await banner(bastion.address), /^SSH-2\.0-OpenSSH/, 'the bastion itself is reachable');
  const t0 = Date.now();
  const r = await runCli(['plan', '--host', 'direct-ctl', '-F', config], { env });
  assert.equal(r.code, 1, explain('plan direct', r));
  assert.match(r.stdout + r.stderr, new RegExp(`no SSH answer from direct-ctl:22 in time \\(${ctl.address.replace(/\./g, '\\.')}\\)`), explain('the timeout', r));
  assert.ok(Date.now() - t0 < 60_000, `ConnectTimeout 3 was not used (${Date.now() - t0} ms)`);
});

test('plan --host ALIAS -F FILE reaches the controller through the bastion and plans a fresh install', async () => {
  const r = await runCli(['plan', '--host', 'glance-ctl', '-F', config, '--json'], { env, timeoutMs: 300_000 });
  assert.equal(r.code, 2, explain('plan through the jump', r));
  const h = report(r);
  assert.equal(h.host, 'glance-ctl');
  assert.equal(h.address, ctl.address);
  assert.equal(h.release, 'bookworm');
  assert.equal(h.failed, 0);
  assert.ok(h.changed >= 10, `${h.changed} to change`);
  assert.deepEqual(fs.readdirSync(env.INSTALL_GLANCE_SECRETS), ['glance-ctl.json'], 'secrets are kept under the alias');
});

test('apply through the jump installs Glance; a re-apply through it changes nothing', async () => {
  const first = await runCli(['apply', '--host', 'glance-ctl', '-F', config, '--json'], { env, timeoutMs: 900_000 });
  assert.equal(first.code, 0, explain('apply through the jump', first));
  const a = report(first);
  assert.equal(a.failed, 0);
  assert.ok(a.changed >= 10, `${a.changed} changed`);
  assert.equal(a.verify?.ok, true, explain('verify after apply', first));

  const again = await runCli(['apply', '--host', 'glance-ctl', '-F', config, '--json'], { env, timeoutMs: 300_000 });
  assert.equal(again.code, 0, explain('re-apply through the jump', again));
  const b = report(again);
  assert.equal(b.changed, 0, explain('a converged re-apply', again));
  assert.equal(b.failed, 0);
  assert.deepEqual(b.resources.filter((x) => x.status !== 'ok').map((x) => `${x.kind} ${x.id}: ${x.status}`), []);
});

test('failures name the hop: a bastion that does not answer, a controller whose key is unknown behind it', async () => {
  const badPort = writeConfig('bad-port', `Host ssh-bastion-alias\n  Port 2\n`);
  const r1 = await runCli(['plan', '--host', 'glance-ctl', '-F', badPort], { env });
  assert.equal(r1.code, 1, explain('bastion on a closed port', r1));
  assert.match(r1.stdout + r1.stderr, new RegExp(`cannot reach ssh-bastion-alias:2 \\(${bastion.address.replace(/\./g, '\\.')}: ECONNREFUSED\\)`), explain('names the bastion', r1));

  const emptyKh = path.join(tmp, 'empty_known_hosts');
  fs.writeFileSync(emptyKh, '');
  const unknownKey = writeConfig('unknown-key', `Host glance-ctl\n  UserKnownHostsFile ${emptyKh}\n`);
  const r2 = await runCli(['plan', '--host', 'glance-ctl', '-F', unknownKey], { env });
  assert.equal(r2.code, 1, explain('unknown controller key', r2));
  const out = r2.stdout + r2.stderr;
  assert.match(out, /error at host key/, explain('the step', r2));
  assert.match(out, new RegExp(`glance-ctl: the host key of ${ctl.address.replace(/\./g, '\\.')} is not known \\(ssh-ed25519 SHA256:\\S+\\) \\(reached through ssh-bastion-alias\\)`), explain('names the hop and the way', r2));
  assert.match(out, /--accept-new-host-key/);
  assert.equal(fs.readFileSync(emptyKh, 'utf8'), '', 'nothing recorded without consent');
});

test('StrictHostKeyChecking no in the file is said out loud, not honoured; ProxyCommand is refused', async () => {
  const lax = writeConfig('lax', `Host glance-ctl\n  StrictHostKeyChecking no\n`);
  const r = await runCli(['plan', '--host', 'glance-ctl', '-F', lax], { env, timeoutMs: 300_000 });
  assert.equal(r.code, 0, explain('plan on the converged controller', r));
  assert.match(r.stderr, /note: ssh config: "StrictHostKeyChecking no" for glance-ctl is not honoured: its host key is still checked/);

  const proxied = writeConfig('proxied', `Host glance-ctl\n  ProxyCommand ssh -W %h:%p ssh-bastion-alias\n`);
  const p = await runCli(['plan', '--host', 'glance-ctl', '-F', proxied], { env });
  assert.equal(p.code, 1, explain('ProxyCommand', p));
  assert.match(p.stderr, /glance-ctl is reached through "ProxyCommand ssh -W %h:%p ssh-bastion-alias", which install-glance does not run/);
  assert.match(p.stderr, /what to do: .*ProxyJump/);
});
