// The controller is the source of truth for the passwords it uses. A second workstation (an empty
// secrets dir), reaching the controller by its address, changes nothing on a converged controller and
// says the passwords were adopted; the environment and a team's file win over the local file; a wrong
// password in glance-api.conf is reported, not replaced; --rotate-secrets replaces both in a safe order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, explain, useLab, labSsh, assertPlanKept, type CliResult, GLANCE_DEPS } from './helpers.ts';
import { paths } from '../../src/lab/paths.ts';
import type { HostReport } from '../../src/engine/report-model.ts';

const LAB = 'bc-adopt';
const fixture = useLab(LAB, GLANCE_DEPS);
const lab = () => fixture.lab();
const dir = (name: string) => path.join(fixture.tmp, name);

async function cli(args: string[], secretsDir: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult & { report?: HostReport }> {
  const r = await runCli([...args, '--json'], { env: { ...process.env, INSTALL_GLANCE_SECRETS: secretsDir, ...env }, timeoutMs: 300_000 });
  let report: HostReport | undefined;
  try {
    report = (JSON.parse(r.stdout) as { hosts: HostReport[] }).hosts[0];
  } catch {
    /* not JSON: the assertion that follows shows the output */
  }
  return { ...r, report };
}

async function sh(command: string): Promise<string> {
  const r = await labSsh(lab(), command);
  assert.equal(r.code, 0, explain(command, r));
  return r.stdout;
}

/** By address, as from a workstation that knows the controller only by its IP. */
const byAddress = () => ['--host', lab().address, '--identity', paths.clientKey, '--known-hosts', paths.knownHosts];
const fileState = () => sh('stat -c "%i %Y" /etc/glance/glance-api.conf');
const glanceApiPid = async () => (await sh('cat /run/glance/glance-api.pid')).trim();
const readSecrets = (d: string, host: string) => JSON.parse(fs.readFileSync(path.join(d, `${host}.json`), 'utf8')) as Record<string, string>;
const from = (r: CliResult & { report?: HostReport }) => Object.fromEntries((r.report?.secrets ?? []).map((s) => [s.name, s.from]));
const changedIds = (r?: HostReport) => (r?.resources ?? []).filter((x) => x.status === 'changed' || x.status === 'pending').map((x) => `${x.kind} ${x.id}`).sort();

let first: Record<string, string>;

test('the first workstation installs Glance (its passwords generated and kept locally)', async () => {
  const r = await cli(['apply', '--lab', LAB], dir('ws1'));
  assert.equal(r.code, 0, explain('fresh apply', r));
  assert.deepEqual(from(r), { GLANCE_DBPASS: 'generated: a new value', GLANCE_PASS: 'generated: a new value' });
  first = readSecrets(dir('ws1'), LAB);
});

test('a second workstation, by address, with no secrets: adopts the controller\'s passwords and changes nothing', async () => {
  const pid = await glanceApiPid();
  const before = await fileState();
  const r = await cli(['apply', ...byAddress()], dir('ws2'));
  assert.equal(r.code, 0, explain('apply from a second workstation', r));
  assert.equal(r.report?.changed, 0, explain('apply from a second workstation', r));
  assert.deepEqual(r.report?.handlers, []);
  assert.match(from(r).GLANCE_DBPASS!, /^adopted from the controller \(\/etc\/glance\/glance-api\.conf \[database\] connection; MariaDB accepts it for glance@localhost\)$/);
  assert.match(from(r).GLANCE_PASS!, /^adopted from the controller \(\/etc\/glance\/glance-api\.conf \[keystone_authtoken\] password; Keystone gives glance a token with it\)$/);
  assert.ok(r.stderr.includes('note     GLANCE_DBPASS adopted from the controller'), 'the human report says it');
  assert.equal(await glanceApiPid(), pid, 'glance-api was restarted');
  assert.equal(await fileState(), before, 'glance-api.conf was rewritten');
  assert.deepEqual(readSecrets(dir('ws2'), lab().address), first, 'the adopted passwords are kept locally, the same as the first workstation\'s');
  assert.equal(fs.statSync(path.join(dir('ws2'), `${lab().address}.json`)).mode & 0o777, 0o600);
  // Kept: the next run reads them from its own file.
  const again = await cli(['plan', ...byAddress()], dir('ws2'));
  assert.equal(again.code, 0, explain('plan after adoption', again));
  assert.match(from(again).GLANCE_PASS!, /^the local file /);
});

test('the environment wins over a team\'s --secrets file, which wins over the local file', async () => {
  const team = path.join(fixture.tmp, 'team.json');
  fs.writeFileSync(team, JSON.stringify({ [LAB]: { GLANCE_DBPASS: first.GLANCE_DBPASS }, GLANCE_PASS: first.GLANCE_PASS }));
  const r = await cli(['plan', '--lab', LAB, '--secrets', team], dir('ws3'), { GLANCE_PASS: first.GLANCE_PASS });
  assert.equal(r.code, 0, explain('plan with a team file and the environment', r));
  assert.deepEqual(from(r), { GLANCE_DBPASS: `${team} (its "${LAB}" entry)`, GLANCE_PASS: 'the environment (GLANCE_PASS)' });
  assert.ok(!fs.existsSync(path.join(dir('ws3'), `${LAB}.json`)), 'values the operator supplies are not copied into the local file');
});

test('a wrong password in glance-api.conf is reported, not replaced; --rotate-secrets replaces both, the service keeps working', async () => {
  await sh("sed -i 's/^password = .*/password = not-the-password/' /etc/glance/glance-api.conf");
  const pid = await glanceApiPid();
  const before = await fileState();
  for (const mode of ['plan', 'apply']) {
    const r = await cli([mode, ...byAddress()], dir('ws4'));
    assert.equal(r.code, 1, explain(`${mode} with a wrong password on the controller`, r));
    assert.equal(r.report?.error?.step, 'secrets');
    assert.match(r.report?.error?.message ?? '', /GLANCE_PASS is refused where it is checked: \/etc\/glance\/glance-api\.conf \[keystone_authtoken\] password: Keystone gives glance no token with it/);
    assert.match(r.report?.error?.hint ?? '', /GLANCE_PASS in the environment.*--rotate-secrets/);
    assert.ok(!(r.stdout + r.stderr).includes('not-the-password'), 'the wrong password was printed');
  }
  assert.equal(await fileState(), before, 'the file was touched');
  assert.equal(await glanceApiPid(), pid, 'glance-api was restarted');
  // The proven one was kept, the refused one was not.
  assert.deepEqual(Object.keys(readSecrets(dir('ws4'), lab().address)), ['GLANCE_DBPASS']);

  const plan = await cli(['plan', ...byAddress(), '--rotate-secrets'], dir('ws4'));
  assert.equal(plan.code, 2, explain('plan --rotate-secrets', plan));
  assert.deepEqual(Object.keys(readSecrets(dir('ws4'), lab().address)), ['GLANCE_DBPASS'], 'a plan keeps no rotated value');

  const r = await cli(['apply', ...byAddress(), '--rotate-secrets'], dir('ws4'));
  assert.equal(r.code, 0, explain('apply --rotate-secrets', r));
  assert.deepEqual(changedIds(r.report), ['ini-file /etc/glance/glance-api.conf', 'keystone-user glance', 'mysql-user glance@%', 'mysql-user glance@localhost']);
  assertPlanKept(plan.report!, r.report!);
  assert.deepEqual(r.report?.handlers.map((h) => `${h.name} ${h.status}`), ['restart-glance-api changed']);
  assert.equal(r.report?.verify?.ok, true);
  const rotated = readSecrets(dir('ws4'), lab().address);
  assert.notEqual(rotated.GLANCE_DBPASS, first.GLANCE_DBPASS);
  assert.notEqual(rotated.GLANCE_PASS, first.GLANCE_PASS);
  const after = await cli(['apply', ...byAddress()], dir('ws4'));
  assert.equal(after.report?.changed, 0, explain('apply after rotation', after));
  // The first workstation's file is stale now, and a local file wins over the controller (the documented
  // order): its plan shows the passwords set back, in the open, before anything is done.
  const stale = await cli(['plan', '--lab', LAB], dir('ws1'));
  assert.equal(stale.code, 2, explain('plan from the stale workstation', stale));
  assert.ok(changedIds(stale.report).includes('keystone-user glance'));
});
