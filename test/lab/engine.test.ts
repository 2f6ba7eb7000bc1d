// The product, end to end on a real lab controller, run as an operator runs it: a fresh apply (with the
// controller's process list sampled all along for secrets), a converged re-apply that writes nothing,
// drift that the plan shows exactly and apply repairs, a restart left pending by a dead run, verify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, labSsh, explain, useLab, assertPlanKept, assertEmptyPlan, type CliResult } from './helpers.ts';
import type { HostReport } from '../../src/engine/report-model.ts';

const LAB = 't-eng';
const fixture = useLab(LAB);
const env = fixture.env;
const secretsDir = env.INSTALL_GLANCE_SECRETS!;

async function cli(args: string[], timeoutMs = 300_000): Promise<CliResult & { report?: HostReport }> {
  const r = await runCli([...args, '--lab', LAB, '--json'], { env, timeoutMs });
  let report: HostReport | undefined;
  try {
    report = (JSON.parse(r.stdout) as { hosts: HostReport[] }).hosts[0];
  } catch {
    /* not JSON: the assertion that follows shows the output */
  }
  return { ...r, report };
}

async function sh(command: string): Promise<string> {
  const r = await labSsh(fixture.lab(), command);
  assert.equal(r.code, 0, explain(command, r));
  return r.stdout;
}

const glanceApiPid = async () => (await sh('cat /run/glance/glance-api.pid')).trim();
const changedIds = (r?: HostReport) => (r?.resources ?? []).filter((x) => x.status === 'changed' || x.status === 'pending').map((x) => `${x.kind} ${x.id}`).sort();

/** MariaDB's own counters of writing statements: Keystone and Glance keep their data there too. */
async function writeCounters(): Promise<Record<string, number>> {
  const out = await sh("mysql -N -e \"SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_insert','Com_update','Com_delete','Com_create_db','Com_create_user','Com_alter_user','Com_grant','Com_replace')\"");
  return Object.fromEntries(out.trim().split('\n').map((l) => l.split('\t')).map(([k, v]) => [k!, Number(v)]));
}

test('a fresh apply installs Glance, and no secret ever shows in the controller\'s process list', async () => {
  // Sample every process's argv on the controller, every 20 ms, for the whole run.
  await sh("rm -f /tmp/ps.stop /tmp/ps.log; nohup sh -c 'while [ ! -e /tmp/ps.stop ]; do ps -eww -o args= >>/tmp/ps.log; echo --- >>/tmp/ps.log; sleep 0.02; done' >/dev/null 2>&1 &");
  // apt and a restart on a shared, busy machine can take minutes (the 5-minute default once ran out at 400 s).
  const r = await cli(['apply'], 900_000);
  await sh('touch /tmp/ps.stop');
  assert.equal(r.code, 0, explain('apply', r));
  assert.ok(r.report, 'a JSON report');
  assert.equal(r.report.failed, 0);
  assert.ok(r.report.changed >= 10, `changed=${r.report.changed}`);
  assert.equal(r.report.verify?.kind, 'upload');
  assert.equal(r.report.verify?.ok, true);
  // What it showed before touching anything is what it did: every resource, the schema sync, the restart.
  assertPlanKept(r.report, r.report);
  assert.deepEqual(r.report.handlers.map((h) => `${h.name} ${h.status}`), ['sync-glance-schema changed', 'restart-glance-api changed']);

  const secrets = Object.values(JSON.parse(fs.readFileSync(fs.readdirSync(secretsDir).map((f) => path.join(secretsDir, f))[0]!, 'utf8')) as Record<string, string>);
  assert.equal(secrets.length, 2);
  assert.equal(fs.statSync(path.join(secretsDir, `${LAB}.json`)).mode & 0o777, 0o600);
  const ps = await sh('cat /tmp/ps.log');
  const samples = ps.split('---\n').length;
  assert.ok(samples > 50, `only ${samples} samples of the process list`);
  assert.match(ps, /apt-get|dpkg/, 'the sampling saw the package install');
  assert.match(ps, /glance-manage/, 'the sampling saw db_sync');
  for (const s of secrets) assert.ok(!ps.includes(s), 'a secret appeared in the process list');
  assert.ok(!r.stdout.includes(secrets[0]!) && !r.stderr.includes(secrets[0]!) && !r.stdout.includes(secrets[1]!) && !r.stderr.includes(secrets[1]!), 'a secret was printed');

  const conf = await sh('stat -c "%U:%G %a" /etc/glance/glance-api.conf');
  assert.equal(conf.trim(), 'root:glance 640');
});

test('a second apply on the converged controller changes nothing and writes nothing', async () => {
  const pid = await glanceApiPid();
  const before = await sh('stat -c "%i %Y" /etc/glance/glance-api.conf');
  const counters = await writeCounters();
  const r = await cli(['apply']);
  assert.equal(r.code, 0, explain('apply', r));
  assert.equal(r.report?.changed, 0, explain('re-apply', r));
  assert.deepEqual(r.report?.handlers, []);
  assert.equal(r.report?.verify?.kind, 'list');
  assert.equal(await glanceApiPid(), pid, 'glance-api was restarted');
  assert.equal(await sh('stat -c "%i %Y" /etc/glance/glance-api.conf'), before, 'glance-api.conf was rewritten');
  assert.deepEqual(await writeCounters(), counters, 'MariaDB saw a write (MySQL or Keystone)');
  assert.equal((await sh('cat /var/lib/install-glance/pending 2>/dev/null || true')).trim(), '');
  const plan = await cli(['plan']);
  assert.equal(plan.code, 0, explain('plan on a converged controller', plan));
});

test('drift: the plan shows exactly what drifted, apply repairs it, and the plan is empty again', async () => {
  await sh("sed -i 's/^region_name = RegionOne$/region_name = regionOne/' /etc/glance/glance-api.conf");
  await sh("mysql -e \"ALTER USER 'glance'@'%' IDENTIFIED BY 'drifted'\"");
  await sh('. ~/openstack/admin-openrc.sh; python3 - <<\'PY\'\n' +
    "import json, os, urllib.request\n" +
    "def call(m, p, b=None, t=None):\n" +
    "    r = urllib.request.Request('http://controller:5000/v3' + p, method=m, data=json.dumps(b).encode() if b else None, headers={'Content-Type': 'application/json', **({'X-Auth-Token': t} if t else {})})\n" +
    "    return urllib.request.urlopen(r)\n" +
    "a = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {'name': 'admin', 'domain': {'id': 'default'}, 'password': os.environ['OS_PASSWORD']}}}, 'scope': {'project': {'name': 'admin', 'domain': {'id': 'default'}}}}}\n" +
    "t = call('POST', '/auth/tokens', a).headers['X-Subject-Token']\n" +
    "svc = json.load(call('GET', '/services?type=image', t=t))['services'][0]['id']\n" +
    "eps = [e for e in json.load(call('GET', '/endpoints?service_id=' + svc, t=t))['endpoints'] if e['interface'] == 'internal']\n" +
    "call('DELETE', '/endpoints/' + eps[0]['id'], t=t)\n" +
    // Through the API, as an operator would: the glance token the last run kept is dropped by Keystone.
    "u = json.load(call('GET', '/users?name=glance', t=t))['users'][0]['id']\n" +
    "call('PATCH', '/users/' + u, {'user': {'password': 'drifted'}}, t=t)\n" +
    "PY");
  const pid = await glanceApiPid();
  const plan = await cli(['plan']);
  assert.equal(plan.code, 2, explain('plan after drift', plan));
  assert.deepEqual(changedIds(plan.report), ['ini-file /etc/glance/glance-api.conf', 'keystone-endpoint image public/internal/admin', 'keystone-user glance', 'mysql-user glance@%']);
  const ini = plan.report!.resources.find((x) => x.kind === 'ini-file')!;
  assert.deepEqual(ini.detail?.filter((l) => /^[-+]/.test(l)), ['-region_name = regionOne', '+region_name = RegionOne']);
  assert.deepEqual(plan.report!.handlers.map((h) => h.name), ['restart-glance-api']);

  const r = await cli(['apply']);
  assert.equal(r.code, 0, explain('apply after drift', r));
  assert.deepEqual(changedIds(r.report), ['ini-file /etc/glance/glance-api.conf', 'keystone-endpoint image public/internal/admin', 'keystone-user glance', 'mysql-user glance@%']);
  assertPlanKept(plan.report!, r.report!);
  assert.notEqual(await glanceApiPid(), pid, 'glance-api was not restarted after its config changed');
  assert.equal(r.report?.verify?.kind, 'upload');
  assertEmptyPlan(await cli(['plan']), 'plan after repair');
});

test('a restart that a dead run left pending is done by the next run, even with nothing else to change', async () => {
  await sh('mkdir -p /var/lib/install-glance && echo restart-glance-api > /var/lib/install-glance/pending');
  const pid = await glanceApiPid();
  const plan = await cli(['plan']);
  assert.equal(plan.code, 2, explain('plan with a pending restart', plan));
  assert.deepEqual(plan.report?.handlers.map((h) => h.name), ['restart-glance-api']);
  const r = await cli(['apply']);
  assert.equal(r.code, 0, explain('apply with a pending restart', r));
  assert.equal(r.report?.changed, 0);
  assert.deepEqual(r.report?.handlers.map((h) => `${h.name} ${h.status}`), ['restart-glance-api changed']);
  assertPlanKept(plan.report!, r.report!);
  assert.notEqual(await glanceApiPid(), pid);
  assert.equal((await sh('cat /var/lib/install-glance/pending')).trim(), '');
  assertEmptyPlan(await cli(['plan']), 'plan after the pending restart');
});

test('verify uploads the generated qcow2, sees it active in the store, and removes it', async () => {
  const r = await cli(['verify']);
  assert.equal(r.code, 0, explain('verify', r));
  const v = r.report?.verify;
  assert.equal(v?.kind, 'upload');
  assert.match(String(v?.checksum), /^[0-9a-f]{32}$/);
  assert.equal(v?.diskFormat, 'qcow2');
  assert.equal(v?.size, 21 * 65536, 'the generated qcow2: 1 MiB of guest data in 64 KiB clusters, and its tables');
  assert.equal(v?.virtualSize, 1 << 20);
  assert.equal((await sh(`test -e ${String(v!.storeFile)} && echo present || echo gone`)).trim(), 'gone');
});
