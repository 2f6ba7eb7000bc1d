// The admin credentials the openstack CLI way, on a real controller: plan checks them for real (a wrong
// OS_PASSWORD fails plan on a converged controller, where every read could ride on the glance user's
// token), OS_CLOUD names a cloud of clouds.yaml and an unknown one is an error naming what was found,
// --openrc reads an openrc elsewhere on the controller (the Juno guide's v2.0 style, read as v3), and
// each report says which source was used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, labSsh, explain, useLab, type CliResult, GLANCE_DEPS } from './helpers.ts';
import { labCredentials } from '../../src/lab/credentials.ts';
import type { HostReport } from '../../src/engine/report-model.ts';

const LAB = 'tc-cred';
const fixture = useLab(LAB, GLANCE_DEPS);
const { env, tmp } = fixture;

async function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}, timeoutMs = 600_000): Promise<CliResult & { report?: HostReport }> {
  const r = await runCli([...args, '--lab', LAB, '--json'], { env: { ...env, ...extraEnv }, timeoutMs });
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

const password = () => labCredentials(fixture.lab()).adminPassword;
const osEnv = (pw = password()): NodeJS.ProcessEnv => ({
  OS_AUTH_URL: 'http://controller:5000/v3', OS_USERNAME: 'admin', OS_PASSWORD: pw, OS_PROJECT_NAME: 'admin', OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default',
});

/** A clouds file for OS_CLIENT_CONFIG_FILE: clouds `lab` (right password) and `wrong` (not). */
function cloudsFile(): string {
  const file = path.join(tmp, 'clouds.yaml');
  const cloud = (name: string, pw: string) => [`  ${name}:`, '    auth:', '      auth_url: http://controller:5000/v3', '      username: admin', `      password: '${pw}'`,
    '      project_name: admin', '      user_domain_name: Default', '      project_domain_name: Default'];
  fs.writeFileSync(file, ['clouds:', ...cloud('lab', password()), ...cloud('wrong', 'not-the-password'), ''].join('\n'), { mode: 0o600 });
  return file;
}

test('apply from the controller\'s openrc (the source noted), then plan is converged', async () => {
  const r = await cli(['apply']);
  assert.equal(r.code, 0, explain('apply', r));
  assert.ok(r.report?.notes.includes('admin credentials: ~/openstack/admin-openrc.sh on the controller'), explain('the source noted', r));
  const plan = await cli(['plan']);
  assert.equal(plan.code, 0, explain('plan', plan));
  assert.match(plan.stderr, /note {5}admin credentials: ~\/openstack\/admin-openrc\.sh on the controller/);
});

test('a wrong OS_PASSWORD fails plan on the converged controller (exit 1), naming the environment as the place to fix it', async () => {
  const r = await cli(['plan'], osEnv('not-the-password'));
  assert.equal(r.code, 1, explain('plan with a wrong OS_PASSWORD', r));
  assert.match(r.report?.error?.message ?? '', /refused the admin credentials \(user admin@Default, project admin@Default\)/);
  assert.match(r.report?.error?.hint ?? '', /OS_\* variables of your environment .*OS_PASSWORD/);
  assert.doesNotMatch(r.stdout + r.stderr, /not-the-password/);
  const right = await cli(['plan'], osEnv());
  assert.equal(right.code, 0, explain('plan with the right OS_PASSWORD', right));
  assert.ok(right.report?.notes.includes('admin credentials: the OS_* variables of this environment'));
});

test('OS_CLOUD: a cloud of clouds.yaml (OS_CLIENT_CONFIG_FILE), its wrong password named in it; an unknown cloud names the clouds found and the file read', async () => {
  const file = cloudsFile();
  const ok = await cli(['plan'], { OS_CLIENT_CONFIG_FILE: file, OS_CLOUD: 'lab' });
  assert.equal(ok.code, 0, explain('plan with OS_CLOUD=lab', ok));
  assert.ok(ok.report?.notes.includes(`admin credentials: clouds.yaml cloud "lab" (${file}), named by OS_CLOUD`), explain('the source noted', ok));

  const wrong = await cli(['plan'], { OS_CLIENT_CONFIG_FILE: file, OS_CLOUD: 'wrong' });
  assert.equal(wrong.code, 1, explain('plan with OS_CLOUD=wrong', wrong));
  assert.match(wrong.report?.error?.hint ?? '', new RegExp(`cloud "wrong" in ${file.replace(/\./g, '\\.')}: fix auth:`));

  const unknown = await cli(['plan'], { OS_CLIENT_CONFIG_FILE: file, OS_CLOUD: 'nosuchcloud' });
  assert.equal(unknown.code, 1, explain('plan with OS_CLOUD=nosuchcloud', unknown));
  assert.equal(unknown.report?.error?.step, 'admin credentials');
  assert.equal(unknown.report?.error?.message, `no cloud "nosuchcloud" in ${file} (clouds found: lab, wrong)`);
  assert.match(unknown.stderr, /what to do: name one of lab, wrong with --os-cloud \(or OS_CLOUD\)/);
});

test('--openrc PATH: the Juno guide\'s v2.0 openrc elsewhere on the controller, read as v3; a path that is not there is named', async () => {
  await sh(`mkdir -p /etc/kolla && printf '%s\\n' 'export OS_TENANT_NAME=admin' 'export OS_USERNAME=admin' "export OS_PASSWORD='${password()}'" 'export OS_AUTH_URL=http://controller:5000/v2.0' > /etc/kolla/admin-openrc.sh`);
  const r = await cli(['plan', '--openrc', '/etc/kolla/admin-openrc.sh']);
  assert.equal(r.code, 0, explain('plan --openrc', r));
  assert.ok(r.report?.notes.includes('admin credentials: /etc/kolla/admin-openrc.sh on the controller (--openrc)'), explain('the source noted', r));
  const missing = await cli(['plan', '--openrc', '/etc/kolla/nothing-here.sh']);
  assert.equal(missing.code, 1, explain('plan --openrc missing', missing));
  assert.equal(missing.report?.error?.message, '/etc/kolla/nothing-here.sh (--openrc) does not exist on the controller');
});
