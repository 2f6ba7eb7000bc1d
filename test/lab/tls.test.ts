// Glance on a TLS lab (`lab up --tls`: Keystone over https with a CA made for the lab), the full cycle
// as an operator runs it: a fresh apply reads the controller's openrc and its OS_CACERT (a file on the
// controller), places that CA for glance-api and points [keystone_authtoken] cafile at it, and the upload
// proves glance-api validates tokens against the https Keystone; a converged re-apply writes nothing;
// verify; the same controller through a clouds.yaml cloud whose cacert: is the CA on this machine; a
// wrong CA and no CA are clear certificate errors; --insecure works and says so on every run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, labSsh, explain, useLab, type CliResult } from './helpers.ts';
import { labCredentials } from '../../src/lab/credentials.ts';
import { makeLabTls } from '../../src/lab/tls.ts';
import type { HostReport } from '../../src/engine/report-model.ts';

const LAB = 'tc-tls-t';
const fixture = useLab(LAB, ['--tls']);
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

/** The lab's admin login as OS_* variables of this machine (no CA among them). */
const osEnv = (): NodeJS.ProcessEnv => ({
  OS_AUTH_URL: 'https://controller:5000/v3', OS_USERNAME: 'admin', OS_PASSWORD: labCredentials(fixture.lab()).adminPassword,
  OS_PROJECT_NAME: 'admin', OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default',
});

const glanceApiPid = async () => (await sh('cat /run/glance/glance-api.pid')).trim();
const authtoken = async () => (await sh("sed -n '/^\\[keystone_authtoken\\]/,/^\\[/p' /etc/glance/glance-api.conf | grep -E '^(cafile|insecure|auth_url|www_authenticate_uri) ' | sort")).trim().split('\n');

test('a fresh apply: the openrc\'s CA (on the controller) is placed for glance-api, cafile set, and the upload goes through glance-api\'s https token checks', async () => {
  const r = await cli(['apply']);
  assert.equal(r.code, 0, explain('apply', r));
  assert.equal(r.report?.failed, 0);
  assert.equal(r.report?.verify?.kind, 'upload');
  assert.ok(r.report?.notes.includes('admin credentials: ~/openstack/admin-openrc.sh on the controller'), explain('the source noted', r));
  assert.ok(r.report?.notes.includes('Keystone at controller:5000 is https: its certificate is checked against /root/openstack/ca.pem (OS_CACERT in ~/openstack/admin-openrc.sh on the controller)'), explain('the trust noted', r));
  const file = r.report?.resources.find((x) => x.kind === 'file');
  assert.equal(`${file?.id} ${file?.status}`, '/etc/glance/keystone-ca.pem changed');
  assert.equal(await sh('cat /etc/glance/keystone-ca.pem'), fs.readFileSync(fixture.lab().caFile!, 'utf8'), 'the placed CA is the lab\'s');
  assert.equal((await sh('stat -c "%U:%G %a" /etc/glance/keystone-ca.pem')).trim(), 'root:root 644');
  assert.deepEqual(await authtoken(), ['auth_url = https://controller:5000', 'cafile = /etc/glance/keystone-ca.pem', 'www_authenticate_uri = https://controller:5000']);
  // glance-api itself reached Keystone over https with that file: its log has the upload, and no TLS error.
  const log = await sh('cat /var/log/glance/glance-api.log');
  assert.match(log, /PUT \/v2\/images\/[0-9a-f-]+\/file HTTP\/1\.1" 204/);
  assert.doesNotMatch(log, /CERTIFICATE_VERIFY_FAILED|SSLError/);
});

test('a converged re-apply changes nothing and writes nothing; verify uploads through https-checked tokens', async () => {
  const pid = await glanceApiPid();
  const before = await sh('stat -c "%i %Y" /etc/glance/glance-api.conf /etc/glance/keystone-ca.pem');
  const r = await cli(['apply']);
  assert.equal(r.code, 0, explain('re-apply', r));
  assert.equal(r.report?.changed, 0, explain('re-apply', r));
  assert.deepEqual(r.report?.handlers, []);
  assert.equal(r.report?.verify?.kind, 'list');
  assert.equal(await glanceApiPid(), pid, 'glance-api was restarted');
  assert.equal(await sh('stat -c "%i %Y" /etc/glance/glance-api.conf /etc/glance/keystone-ca.pem'), before, 'a file was rewritten');
  const v = await cli(['verify']);
  assert.equal(v.code, 0, explain('verify', v));
  assert.equal(v.report?.verify?.kind, 'upload');
});

test('a clouds.yaml cloud (~/.config/openstack, password in secure.yaml, cacert: the CA on this machine): the same converged controller', async () => {
  const home = path.join(tmp, 'home');
  fs.mkdirSync(path.join(home, '.config', 'openstack'), { recursive: true });
  fs.writeFileSync(path.join(home, '.config', 'openstack', 'clouds.yaml'), [
    'clouds:', `  ${LAB}:`, '    auth:', '      auth_url: https://controller:5000/v3', '      username: admin', '      project_name: admin',
    '      user_domain_name: Default', '      project_domain_name: Default', `    cacert: ${fixture.lab().caFile}`, '    region_name: RegionOne', '',
  ].join('\n'));
  fs.writeFileSync(path.join(home, '.config', 'openstack', 'secure.yaml'), `clouds:\n  ${LAB}:\n    auth:\n      password: '${labCredentials(fixture.lab()).adminPassword}'\n`, { mode: 0o600 });
  const r = await cli(['plan', '--os-cloud', LAB], { HOME: home });
  assert.equal(r.code, 0, explain('plan through clouds.yaml', r));
  assert.equal(r.report?.changed, 0);
  const noted = r.report?.notes.join('\n') ?? '';
  assert.match(noted, new RegExp(`admin credentials: clouds\\.yaml cloud "${LAB}" \\(${home}/\\.config/openstack/clouds\\.yaml, with ${home}/\\.config/openstack/secure\\.yaml\\), named by --os-cloud`));
  assert.match(noted, new RegExp(`checked against ${fixture.lab().caFile!.replace(/\./g, '\\.')} \\(cacert: of cloud "${LAB}"\\)`));
  // The CA placed on the controller is the same one, whichever machine it was read from: nothing to change.
  assert.equal(r.report?.resources.find((x) => x.kind === 'file')?.action, 'none');
});

test('a wrong CA, and no CA at all: plan fails naming the certificate problem and --os-cacert; nothing is sent to Keystone first', async () => {
  const logins = async () => Number((await sh("grep -c 'POST /v3/auth/tokens' /var/log/keystone/keystone.log || true")).trim());
  const before = await logins();
  const other = await makeLabTls({ name: 'tc-other', address: fixture.lab().address }, tmp);
  const otherCa = path.join(tmp, 'other-ca.pem');
  fs.writeFileSync(otherCa, other.caPem);
  const wrong = await cli(['plan', '--os-cacert', otherCa], osEnv());
  assert.equal(wrong.code, 1, explain('plan with another CA', wrong));
  assert.match(wrong.report?.error?.message ?? '', new RegExp(`^Keystone: the certificate of controller:5000 \\(issued by CN=install-glance lab ${LAB} CA\\) is not signed by the CA in ${otherCa.replace(/\./g, '\\.')} \\(--os-cacert\\)$`));
  assert.match(wrong.report?.error?.hint ?? '', /--os-cacert FILE/);
  const none = await cli(['plan'], osEnv());
  assert.equal(none.code, 1, explain('plan without a CA', none));
  assert.match(none.report?.error?.message ?? '', /^Keystone: the certificate of controller:5000 \(issued by CN=install-glance lab .* CA\) is signed by an unknown CA$/);
  assert.match(none.stderr, /what to do: pass the CA that signed it with --os-cacert FILE/);
  assert.doesNotMatch(wrong.stdout + wrong.stderr + none.stdout + none.stderr, new RegExp(labCredentials(fixture.lab()).adminPassword));
  assert.equal(await logins(), before, 'a login reached Keystone over a connection whose certificate failed');
});

test('--insecure: the run works, warns on the host\'s line and in its report; without a CA glance-api is told insecure = true; the next run with the CA puts cafile back', async () => {
  const r = await cli(['apply', '--insecure'], osEnv());
  assert.equal(r.code, 0, explain('apply --insecure', r));
  const warning = 'warning: --insecure: the certificate of Keystone at controller:5000 is not checked (anyone between the controller and it could pose as Keystone and take the admin password)';
  assert.ok(r.stderr.includes(`${LAB}: ${warning}`), explain('the warning on the host\'s progress', r));
  assert.ok(r.report?.notes.includes(warning), explain('the warning in the report', r));
  assert.equal(r.report?.verify?.kind, 'upload', 'glance-api was restarted and works without checking');
  assert.deepEqual(await authtoken(), ['auth_url = https://controller:5000', 'insecure = true', 'www_authenticate_uri = https://controller:5000']);

  const back = await cli(['apply']);
  assert.equal(back.code, 0, explain('apply with the openrc\'s CA again', back));
  assert.deepEqual(back.report?.resources.filter((x) => x.status === 'changed').map((x) => x.detail?.filter((l) => /^[-+]/.test(l))), [['+cafile = /etc/glance/keystone-ca.pem', '-insecure = true']]);
  assert.deepEqual(await authtoken(), ['auth_url = https://controller:5000', 'cafile = /etc/glance/keystone-ca.pem', 'www_authenticate_uri = https://controller:5000']);
  assert.equal(back.report?.verify?.kind, 'upload');
});
