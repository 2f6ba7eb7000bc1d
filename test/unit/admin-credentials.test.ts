// Where the admin credentials come from (src/providers/admin-credentials.ts), on a fake controller:
// the order of the sources, what each host's report notes, the CA of an https Keystone read on the right
// machine, and --insecure said on every host. clouds.yaml comes from test/fixtures/clouds/tls/.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostSession } from '../../src/engine/host.ts';
import { adminCredentials, type CredentialOptions } from '../../src/providers/admin-credentials.ts';
import { FakeController, FakeTransport } from './fake-transport.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/clouds/tls');
const PEM = '-----BEGIN CERTIFICATE-----\nMIIBcontroller\n-----END CERTIFICATE-----\n';
const OPENRC = "export OS_USERNAME=admin\nexport OS_PASSWORD='from-openrc'\nexport OS_PROJECT_NAME=admin\nexport OS_USER_DOMAIN_NAME=Default\nexport OS_PROJECT_DOMAIN_NAME=Default\nexport OS_AUTH_URL=http://controller:5000/v3\n";
const TLS_OPENRC = OPENRC.replace('http://', 'https://') + 'export OS_CACERT=/root/openstack/ca.pem\nexport OS_REGION_NAME=RegionThree\n';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const JUNO_OPENRC = 'export OS_TENANT_NAME=admin\nexport OS_USERNAME=admin\nexport OS_PASSWORD=ADMIN_PASS\nexport OS_AUTH_URL=http://controller:35357/v2.0\n';

/** A fake controller with these fact answers; returns the host, its notes and progress lines, and the facts asked for. */
function controller(facts: Record<string, string> = {}) {
  const c = new FakeController({ '/etc/os-release': 'ID=debian\n' });
  for (const [k, v] of Object.entries(facts)) c.facts.set(k, v);
  const t = new FakeTransport({ answer: c.answer });
  const progress: string[] = [];
  const host = new HostSession('controller', t, (l) => progress.push(l));
  const asked = () => t.commands.map((x) => x.source ?? '').join('\n');
  return { host, progress, asked };
}

const opts = (o: Partial<CredentialOptions> = {}): CredentialOptions => ({ env: {}, cwd: path.join(fixtures, 'cwd'), home: path.join(fixtures, 'home'), ...o });

describe('the source of the admin credentials', () => {
  test('nothing named: the controller\'s ~/openstack/admin-openrc.sh, noted; an http Keystone has no certificate to check', async () => {
    const h = controller({ openrc: OPENRC });
    const c = await h.host.use(adminCredentials(opts()));
    assert.equal(c.password.reveal(), 'from-openrc');
    assert.equal(c.tls, undefined);
    assert.deepEqual(h.host.notes, ['admin credentials: ~/openstack/admin-openrc.sh on the controller']);
    assert.match(c.fixHint ?? '', /~\/openstack\/admin-openrc\.sh on the controller \(OS_USERNAME, OS_PASSWORD/);
  });

  test('OS_AUTH_URL and OS_PASSWORD here: the environment, and the controller is not asked', async () => {
    const h = controller();
    const c = await h.host.use(adminCredentials(opts({ env: { OS_AUTH_URL: 'http://controller:5000/v3', OS_PASSWORD: 'from-env', OS_USERNAME: 'admin', OS_PROJECT_NAME: 'admin', OS_REGION_NAME: 'RegionEnv' } })));
    assert.equal(c.password.reveal(), 'from-env');
    assert.equal(c.regionName, 'RegionEnv');
    assert.deepEqual(h.host.notes, ['admin credentials: the OS_* variables of this environment']);
    assert.equal(h.asked(), '');
  });

  test('OS_CLOUD wins over OS_AUTH_URL/OS_PASSWORD, and says they are not used; the cloud\'s region, interface and CA (relative to the current directory)', async () => {
    const h = controller();
    const c = await h.host.use(adminCredentials(opts({ env: { OS_CLOUD: 'tls-lab', OS_AUTH_URL: 'http://x:5000/v3', OS_PASSWORD: 'from-env' } })));
    assert.equal(c.password.reveal(), 'from-clouds-yaml');
    assert.equal(c.regionName, 'RegionTwo');
    assert.equal(c.interface, 'internal');
    assert.match(c.tls?.ca ?? '', /MIIBfixture/);
    assert.deepEqual(h.host.notes, [
      `admin credentials: clouds.yaml cloud "tls-lab" (${fixtures}/home/.config/openstack/clouds.yaml), named by OS_CLOUD`,
      'OS_AUTH_URL, OS_PASSWORD in this environment are not used: OS_CLOUD names the cloud',
      `Keystone at controller:5000 is https: its certificate is checked against ${fixtures}/ca.pem (cacert: of cloud "tls-lab")`,
    ]);
  });

  test('--os-cloud wins over OS_CLOUD; an unknown cloud names the clouds found and the file read', async () => {
    const h = controller();
    const c = await h.host.use(adminCredentials(opts({ osCloud: 'plain', env: { OS_CLOUD: 'tls-lab' } })));
    assert.match(h.host.notes[0]!, /cloud "plain" .*named by --os-cloud$/);
    assert.equal(c.tls, undefined);
    await assert.rejects(controller().host.use(adminCredentials(opts({ osCloud: 'nosuchcloud' }))),
      /^CloudsYamlError: no cloud "nosuchcloud" in .*tls\/home\/\.config\/openstack\/clouds\.yaml \(clouds found: tls-lab, no-ca, plain\)$/);
  });

  test('--openrc PATH: that file on the controller (a v2.0 one read as v3); missing, it says so; with --os-cloud, refused', async () => {
    const h = controller({ 'text /etc/kolla/admin-openrc.sh': `readable\n${b64(JUNO_OPENRC)}`, 'text ~/missing.sh': 'missing' });
    const c = await h.host.use(adminCredentials(opts({ openrc: '/etc/kolla/admin-openrc.sh', env: { OS_CLOUD: 'tls-lab' } })));
    assert.equal(c.projectName, 'admin');
    assert.equal(c.authUrl, 'http://controller:35357/v2.0');
    assert.deepEqual(h.host.notes, ['admin credentials: /etc/kolla/admin-openrc.sh on the controller (--openrc)', 'OS_CLOUD in this environment is not used: --openrc names the source']);
    assert.match(h.asked(), /if \[ -f '\/etc\/kolla\/admin-openrc\.sh' \] && \[ -r '\/etc\/kolla\/admin-openrc\.sh' \]/);
    await assert.rejects(controller({ 'text ~/missing.sh': 'missing' }).host.use(adminCredentials(opts({ openrc: '~/missing.sh' }))), /~\/missing\.sh \(--openrc\) does not exist on the controller/);
    await assert.rejects(controller().host.use(adminCredentials(opts({ openrc: 'x', osCloud: 'y' }))), /--os-cloud and --openrc name two sources/);
  });
});

describe('an https Keystone', () => {
  test('the openrc\'s OS_CACERT is a file on the controller, read there (a stray OS_CACERT here does not replace it)', async () => {
    const h = controller({ openrc: TLS_OPENRC, 'text /root/openstack/ca.pem': `readable\n${b64(PEM)}` });
    const c = await h.host.use(adminCredentials(opts({ env: { OS_CACERT: '/somewhere/else.pem' } })));
    assert.equal(c.tls?.ca, PEM);
    assert.equal(c.regionName, 'RegionThree');
    assert.equal(h.host.notes[1], 'Keystone at controller:5000 is https: its certificate is checked against /root/openstack/ca.pem (OS_CACERT in ~/openstack/admin-openrc.sh on the controller)');
  });

  test('--os-cacert FILE here wins over the source\'s CA; a file that is not PEM, or missing, is an error naming it', async () => {
    const c = await controller({ openrc: TLS_OPENRC }).host.use(adminCredentials(opts({ osCacert: path.join(fixtures, 'ca.pem') })));
    assert.equal(c.tls?.caSource, `${fixtures}/ca.pem (--os-cacert)`);
    await assert.rejects(controller({ openrc: TLS_OPENRC }).host.use(adminCredentials(opts({ osCacert: path.join(fixtures, 'not-pem.txt') }))), /not-pem\.txt \(--os-cacert\) holds no PEM certificate/);
    await assert.rejects(controller().host.use(adminCredentials(opts({ osCloud: 'no-ca' }))), /cannot read the CA file \/nonexistent\/ca\.pem \(cacert: of cloud "no-ca"\) on this machine: no such file/);
  });

  test('the openrc\'s CA missing on the controller: an error naming it and --os-cacert', async () => {
    await assert.rejects(controller({ openrc: TLS_OPENRC, 'text /root/openstack/ca.pem': 'missing' }).host.use(adminCredentials(opts())), (e: unknown) => {
      assert.match((e as Error).message, /OS_CACERT in ~\/openstack\/admin-openrc\.sh on the controller names \/root\/openstack\/ca\.pem, which does not exist on the controller/);
      assert.match((e as { hint: string }).hint, /--os-cacert FILE/);
      return true;
    });
  });

  test('--insecure: no check, a warning on the host\'s progress and in its notes; a CA it cannot read is only noted', async () => {
    const h = controller({ openrc: TLS_OPENRC, 'text /root/openstack/ca.pem': 'missing' });
    const c = await h.host.use(adminCredentials(opts({ insecure: true })));
    assert.equal(c.tls?.insecure, true);
    assert.equal(c.tls?.ca, undefined);
    const warning = 'warning: --insecure: the certificate of Keystone at controller:5000 is not checked (anyone between the controller and it could pose as Keystone and take the admin password)';
    assert.deepEqual(h.progress, [warning]);
    assert.ok(h.host.notes.includes(warning), h.host.notes.join('\n'));
    assert.ok(h.host.notes.some((n) => /^the CA file was not read \(.*does not exist on the controller\)$/.test(n)), h.host.notes.join('\n'));
  });
});
