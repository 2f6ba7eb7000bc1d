// A TLS lab (`lab up --tls`): Keystone over HTTPS with a CA made for that lab, checked from outside with
// curl and openssl as an operator would, and from inside the lab as Glance will meet it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import { useLab, labSsh, run, runCli, explain } from './helpers.ts';
import { paths } from '../../src/lab/paths.ts';
import { labCredentials } from '../../src/lab/credentials.ts';
import { makeLabTls } from '../../src/lab/tls.ts';

const { lab, tmp } = useLab('lv-tls', ['--tls']);

function curl(args: string[]) {
  return run('curl', ['-sS', '--max-time', '10', ...args]);
}

test('the lab record names its CA on the host; the same CA is /root/openstack/ca.pem on the lab, and the openrc uses it', async () => {
  const r = lab();
  assert.equal(r.tls, true);
  assert.equal(r.caFile, path.join(paths.lab(r.name), 'ca.pem'));
  const ca = fs.readFileSync(r.caFile!, 'utf8');
  assert.match(ca, /^-----BEGIN CERTIFICATE-----\n/);
  const onLab = await labSsh(r, 'cat /root/openstack/ca.pem; cat /root/openstack/admin-openrc.sh');
  assert.equal(onLab.code, 0, explain('cat', onLab));
  assert.ok(onLab.stdout.startsWith(ca), 'the lab\'s ca.pem is not the host\'s');
  assert.match(onLab.stdout, /^export OS_AUTH_URL=https:\/\/controller:5000\/v3$/m);
  assert.match(onLab.stdout, /^export OS_CACERT=\/root\/openstack\/ca\.pem$/m);
});

test('curl --cacert reaches Keystone as controller, as the lab\'s name and by address; without the CA, or with another one, it is a certificate error', async () => {
  const r = lab();
  for (const host of ['controller', r.name]) {
    const ok = await curl(['--cacert', r.caFile!, '--resolve', `${host}:5000:${r.address}`, `https://${host}:5000/v3`]);
    assert.equal(ok.code, 0, explain(`curl --cacert https://${host}:5000/v3`, ok));
    assert.match(JSON.parse(ok.stdout).version.id as string, /^v3\./);
  }
  const byAddress = await curl(['--cacert', r.caFile!, `https://${r.address}:5000/v3`]);
  assert.equal(byAddress.code, 0, explain('curl --cacert by address', byAddress));

  const noCa = await curl([`https://${r.address}:5000/v3`]);
  assert.equal(noCa.code, 60, explain('curl without the CA', noCa));
  assert.match(noCa.stderr, /SSL certificate problem/);

  const other = await makeLabTls({ name: 'lv-other', address: r.address }, tmp);
  const otherCa = path.join(tmp, 'other-ca.pem');
  fs.writeFileSync(otherCa, other.caPem);
  const wrongCa = await curl(['--cacert', otherCa, `https://${r.address}:5000/v3`]);
  assert.equal(wrongCa.code, 60, explain('curl with another lab\'s CA', wrongCa));
  assert.match(wrongCa.stderr, /SSL certificate problem/);

  const plain = await curl([`http://${r.address}:5000/v3`]);
  assert.notEqual(plain.code, 0, `Keystone still answers plain HTTP on 5000:\n${plain.stdout}`);
});

test('the server certificate: SAN controller, the lab\'s name and address; issued by the lab\'s CA', async () => {
  const r = lab();
  const shown = await run('sh', ['-c', `openssl s_client -connect ${r.address}:5000 -servername controller </dev/null 2>/dev/null | openssl x509 -noout -issuer -ext subjectAltName`]);
  assert.equal(shown.code, 0, explain('openssl s_client', shown));
  assert.match(shown.stdout, new RegExp(`issuer=CN ?= ?install-glance lab ${r.name} CA`));
  assert.match(shown.stdout, new RegExp(`DNS:controller, DNS:${r.name}, IP Address:${r.address.replace(/\./g, '\\.')}`));
});

test('the identity endpoints are https://controller:5000/v3; a token over HTTPS with the CA', async () => {
  const r = lab();
  const body = JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: labCredentials(r).adminPassword } } },
    scope: { project: { name: 'admin', domain: { id: 'default' } } } } });
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = https.request({ host: r.address, port: 5000, path: '/v3/auth/tokens', method: 'POST', ca: fs.readFileSync(r.caFile!),
      headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(status, 201, text);
  const { token } = JSON.parse(text) as { token: { catalog: { type: string; endpoints: { interface: string; url: string }[] }[] } };
  const urls = token.catalog.find((s) => s.type === 'identity')?.endpoints.map((e) => `${e.interface} ${e.url}`).sort();
  assert.deepEqual(urls, ['admin https://controller:5000/v3/', 'internal https://controller:5000/v3/', 'public https://controller:5000/v3/']);
});

test('on the lab, the CA is not trusted system-wide: Python verifies only with /root/openstack/ca.pem (as Glance must be told with cafile)', async () => {
  const py = `
import ssl, sys, urllib.request
def get(ctx):
    try:
        return urllib.request.urlopen('https://controller:5000/v3', context=ctx, timeout=10).status
    except Exception as e:
        return type(e).__name__ + ': ' + str(getattr(e, 'reason', e))
print(get(ssl.create_default_context()))
print(get(ssl.create_default_context(cafile='/root/openstack/ca.pem')))
`;
  const r = await labSsh(lab(), 'python3 -', { input: py });
  assert.equal(r.code, 0, explain('python3', r));
  const [system, withCa] = r.stdout.trim().split('\n');
  assert.match(system ?? '', /CERTIFICATE_VERIFY_FAILED/);
  assert.equal(withCa, '200');
});

test('a bookworm lab with and without --tls are different labs: up without --tls on the running TLS lab is refused', async () => {
  const r = lab();
  const plain = await runCli(['lab', 'up', r.name]);
  assert.equal(plain.code, 1, explain('lab up without --tls on a TLS lab', plain));
  assert.match(plain.stderr, new RegExp(`lab ${r.name} is already up as bookworm --tls, not bookworm`));
  assert.doesNotMatch(plain.stderr, /snapshot:/);
});
