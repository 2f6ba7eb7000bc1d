// Bad input and real faults on a real lab controller: each gives one clear error that names the host,
// the step, the cause and what to do, exits 1 (64 for a usage error), and leaves nothing half-written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, labSsh, explain, useLab, keystoneToken, poll, reportOf, assertPlanKept, assertEmptyPlan, type CliResult, GLANCE_DEPS } from './helpers.ts';
import { paths } from '../../src/lab/paths.ts';
import { generateKeyPair } from '../../src/transport/keys.ts';
import type { LabRecord } from '../../src/lab/lab.ts';

const LAB = 't-flt';
const fixture = useLab(LAB, GLANCE_DEPS);
const { env, tmp } = fixture;
const lab = (): LabRecord => fixture.lab();

async function sh(command: string): Promise<void> {
  const r = await labSsh(lab(), command);
  assert.equal(r.code, 0, explain(command, r));
}

/** The one clear error: exit 1, and its lines name the host, the step, the cause and what to do. */
function assertClearError(r: CliResult, step: RegExp, cause: RegExp, what: RegExp): void {
  assert.equal(r.code, 1, explain('expected exit 1', r));
  const out = r.stdout + r.stderr;
  assert.match(out, new RegExp(`error at ${step.source}`), explain('the step', r));
  assert.match(out, cause, explain('the cause', r));
  assert.match(out, new RegExp(`what to do: .*${what.source}`), explain('what to do', r));
  assert.match(out, new RegExp(`${LAB}|${lab().address.replace(/\./g, '\\.')}`), explain('the host', r));
  assert.doesNotMatch(out, /^\s+at .*\(.*\.ts:\d+/m, explain('no stack trace', r));
}

const direct = (extra: string[]) => ['plan', '--host', lab().address, '--identity', paths.clientKey, ...extra];

test('an unknown host key is refused with its fingerprint; --accept-new-host-key records it; a changed key is always refused', async () => {
  const kh = path.join(tmp, 'known_hosts');
  const refused = await runCli(direct(['--known-hosts', kh]), { env });
  assertClearError(refused, /host key/, /is not known \(ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}\)/, /--accept-new-host-key/);
  assert.ok(!fs.existsSync(kh), 'nothing recorded without consent');

  const accepted = await runCli(direct(['--known-hosts', kh, '--accept-new-host-key']), { env });
  assert.equal(accepted.code, 2, explain('plan with --accept-new-host-key on a fresh controller', accepted));
  assert.match(fs.readFileSync(kh, 'utf8'), new RegExp(`^${lab().address.replace(/\./g, '\\.')} ssh-ed25519 `));

  const other = generateKeyPair('impostor').public.split(' ').slice(0, 2).join(' ');
  fs.writeFileSync(kh, `${lab().address} ${other}\n`);
  const changed = await runCli(direct(['--known-hosts', kh, '--accept-new-host-key']), { env });
  assertClearError(changed, /host key/, /CHANGED/, /ssh-keygen -R/);
});

test('an unreachable SSH port and a key the host does not accept are clear errors', async () => {
  const refused = await runCli(direct(['--known-hosts', paths.knownHosts, '--port', '2']), { env });
  assertClearError(refused, /connect/, /cannot reach .*ECONNREFUSED/, /--port/);

  const stranger = path.join(tmp, 'id_stranger');
  fs.writeFileSync(stranger, generateKeyPair('stranger').private, { mode: 0o600 });
  const denied = await runCli(['plan', '--host', lab().address, '--identity', stranger, '--known-hosts', paths.knownHosts], { env });
  assertClearError(denied, /connect/, /refused every key offered/, /authorized_keys/);
});

test('wrong admin credentials, and a controller without admin-openrc.sh', async () => {
  const wrong = await runCli(['plan', '--lab', LAB], { env: { ...env, OS_AUTH_URL: 'http://controller:5000/v3', OS_USERNAME: 'admin', OS_PASSWORD: 'not-the-password', OS_PROJECT_NAME: 'admin', OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default' } });
  assertClearError(wrong, /keystone/, /refused the admin credentials/, /OS_PASSWORD|admin-openrc/);
  assert.doesNotMatch(wrong.stdout + wrong.stderr, /not-the-password/);

  await sh('mv /root/openstack/admin-openrc.sh /root/openstack/admin-openrc.sh.away');
  try {
    const missing = await runCli(['plan', '--lab', LAB], { env });
    assertClearError(missing, /admin credentials/, /no ~\/openstack\/admin-openrc\.sh/, /admin-openrc\.sh|OS_/);
  } finally {
    await sh('mv /root/openstack/admin-openrc.sh.away /root/openstack/admin-openrc.sh');
  }
});

test('MariaDB down and Keystone down are named as such', async () => {
  await sh('service mariadb stop >/dev/null 2>&1');
  try {
    const r = await runCli(['plan', '--lab', LAB], { env });
    // The preflight names it before anything else (an older run named the first read that failed).
    assertClearError(r, /preflight|mysql|gather facts/, /MariaDB does not answer/, /service mariadb start/);
  } finally {
    await sh('service mariadb start >/dev/null 2>&1 </dev/null');
  }
  await sh('/etc/init.d/keystone stop >/dev/null 2>&1');
  try {
    const r = await runCli(['plan', '--lab', LAB], { env });
    assertClearError(r, /preflight|keystone/, /Keystone does not answer/, /keystone/);
  } finally {
    await sh('/etc/init.d/keystone start >/dev/null 2>&1 </dev/null');
    // Back, and issuing tokens, before the next test's run: on a busy machine Keystone takes a while to
    // answer after a start, and its first token longer still.
    const issues = async () => (await keystoneToken(lab()).catch(() => ({ status: 0 }))).status === 201;
    assert.ok(await poll(issues, 180_000, 500), 'Keystone issues tokens again');
  }
});

test('apt failing stops the run at the packages with nothing half-written; the next run finishes the job', async () => {
  await sh(`echo 'DPkg::Pre-Invoke {"echo install-glance-test: dpkg refused >&2; false";};' > /etc/apt/apt.conf.d/99-test-break`);
  try {
    const r = await runCli(['apply', '--lab', LAB, '--json'], { env, timeoutMs: 300_000 });
    assertClearError(r, /apt-package glance/, /apt-get install .*failed/, /apt-get -f install|mirror/);
    const report = (JSON.parse(r.stdout) as { hosts: { resources: { kind: string; status: string }[] }[] }).hosts[0]!;
    const after = report.resources.slice(report.resources.findIndex((x) => x.kind === 'apt-package') + 1);
    assert.ok(after.length > 0 && after.every((x) => x.status === 'skipped'), JSON.stringify(after));
    const conf = await labSsh(lab(), 'test -e /etc/glance/glance-api.conf && echo conf; true');
    assert.equal(conf.stdout.trim(), '', 'no config written');
    // The restart the packages need was written down before apt ran: it is not lost with the failure.
    const pending = await labSsh(lab(), 'cat /var/lib/install-glance/pending');
    assert.equal(pending.stdout.trim(), 'restart-glance-api');
  } finally {
    await sh('rm -f /etc/apt/apt.conf.d/99-test-break');
  }
  // What the plan says is left is what the next apply does (the restart written down before apt, the schema sync it hands over).
  const plan = await runCli(['plan', '--lab', LAB, '--json'], { env, timeoutMs: 300_000 });
  assert.equal(plan.code, 2, explain('plan once apt works again', plan));
  const again = await runCli(['apply', '--lab', LAB, '--json'], { env, timeoutMs: 300_000 });
  assert.equal(again.code, 0, explain('apply once apt works again', again));
  const h = reportOf(again)!;
  assert.deepEqual(h.handlers.map((x) => `${x.name} ${x.status}`), ['sync-glance-schema changed', 'restart-glance-api changed']);
  assertPlanKept(reportOf(plan)!, h);
  assert.equal(h.verify?.kind, 'upload');
  assert.equal((await labSsh(lab(), 'cat /var/lib/install-glance/pending')).stdout.trim(), '');
  const after = await runCli(['plan', '--lab', LAB, '--json'], { env });
  assertEmptyPlan({ ...after, report: reportOf(after) });
});

test('contradictory targets are a usage error (exit 64)', async () => {
  const r = await runCli(['plan', '--host', lab().address, '--lab', LAB], { env });
  assert.equal(r.code, 64, explain('usage error', r));
  assert.match(r.stderr, /usage error: give one of --host, --inventory or --lab/);
});
