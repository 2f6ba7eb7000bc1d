// The Keystone client's conformance suite (test/doubles/keystone-conformance.ts) against today's Keystone
// on a bookworm lab controller, over one SSH connection: the same calls the keystone 2014.2 double
// answers in test/unit/keystone-juno-conformance.test.ts. A call that passes here and there is proven
// for both. The second part records, call by call, what today's Keystone answers where keystone 2014.2
// answers otherwise: the "today" column of test/doubles/keystone-2014.2/README.md.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Transport } from '../../src/transport/ssh.ts';
import { paths } from '../../src/lab/paths.ts';
import { adminCredentialsFromOpenrc } from '../../src/clients/keystone.ts';
import { httpRequest, HttpError } from '../../src/clients/http.ts';
import type { AdminCredentials } from '../../src/clients/keystone-api.ts';
import { keystoneConformance } from '../doubles/keystone-conformance.ts';
import { labUp, labDown } from './helpers.ts';

const LAB = 'jk-now';
let t: Transport;
let creds: AdminCredentials;

before(async () => {
  await labDown(LAB); // one left over by an interrupted run
  const [lab] = await labUp([LAB], ['--release', 'bookworm']);
  t = await connect({ host: lab!.address, identity: paths.clientKey, knownHostsFile: paths.knownHosts });
  const rc = await t.exec(['cat', '/root/openstack/admin-openrc.sh']);
  assert.equal(rc.code, 0, rc.stderr);
  creds = adminCredentialsFromOpenrc(rc.stdout);
});

after(async () => {
  t?.close();
  await labDown(LAB);
});

keystoneConformance({
  name: "today's Keystone on a bookworm lab, the lab's v3 openrc",
  transport: () => t,
  creds: () => creds,
  expect: {
    authUrl: 'http://controller:5000/v3',
    catalogWrites: 'v3',
    token: /^gAAAAA/,
    region: 'RegionOne',
    v3UrlPatch: true,
    deadAuthUrl: 'http://127.0.0.1:5999/v3',
  },
});

/** A raw request over the lab's SSH connection, as another Keystone client would make it. */
async function raw(method: string, url: string, o: { token?: string; json?: unknown } = {}) {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (o.token) headers['x-auth-token'] = o.token;
  if (o.json !== undefined) headers['content-type'] = 'application/json';
  const res = await httpRequest(t, `http://controller:5000${url}`, { method, headers, body: o.json === undefined ? undefined : JSON.stringify(o.json) });
  let body: Record<string, any> | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any -- read by the shape each test expects
  try {
    body = res.text() ? res.json() : undefined;
  } catch {
    body = { text: res.text() };
  }
  return { status: res.status, header: res.header, body };
}

describe("today's Keystone where keystone 2014.2 answers otherwise (the README table's today column)", () => {
  let token = '';
  const auth = (password: string) => ({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password } } }, scope: { project: { name: 'admin', domain: { name: 'Default' } } } } });

  test('tokens: ?nocatalog honoured, an unknown parameter ignored; a fernet token; project has is_domain', async () => {
    const r = await raw('POST', '/v3/auth/tokens?nocatalog&no-such-parameter=1', { json: auth(creds.password.reveal()) });
    assert.equal(r.status, 201);
    token = r.header('x-subject-token')!;
    assert.equal('catalog' in r.body!.token, false);
    assert.equal('is_domain' in r.body!.token, true);
  });

  test('a wrong password: the same 401 words; WWW-Authenticate names /v3', async () => {
    const r = await raw('POST', '/v3/auth/tokens', { json: auth('wrong') });
    assert.equal(r.status, 401);
    assert.equal(r.body!.error.message, 'The request you have made requires authentication.');
    assert.equal(r.header('www-authenticate'), 'Keystone uri="http://controller:5000/v3"');
  });

  test('no v2.0 at all, no admin port', async () => {
    assert.equal((await raw('GET', '/v2.0/endpoints', { token })).status, 404);
    await assert.rejects(httpRequest(t, 'http://controller:35357/v2.0/endpoints', { method: 'GET' }), (e: unknown) => e instanceof HttpError && e.kind === 'connect');
  });

  test('users: options and password_expires_at; PATCH carries extra too; a duplicate names the user; a 404 ends with a dot', async () => {
    const c = await raw('POST', '/v3/users', { token, json: { user: { name: 'today-probe', domain_id: 'default', password: 'x-123456' } } });
    assert.equal(c.status, 201);
    assert.ok('options' in c.body!.user && 'password_expires_at' in c.body!.user);
    const id = c.body!.user.id as string;
    try {
      const p = await raw('PATCH', `/v3/users/${id}`, { token, json: { user: { enabled: true } } });
      assert.equal(p.status, 200);
      assert.ok('extra' in p.body!.user);
      const dup = await raw('POST', '/v3/users', { token, json: { user: { name: 'TODAY-PROBE', domain_id: 'default', password: 'x' } } });
      assert.equal(dup.status, 409);
      assert.equal(dup.body!.error.message, 'Conflict occurred attempting to store user - Duplicate entry found with name TODAY-PROBE at domain ID default.');
    } finally {
      assert.equal((await raw('DELETE', `/v3/users/${id}`, { token })).status, 204);
    }
    const gone = await raw('DELETE', `/v3/users/${id}`, { token });
    assert.equal(gone.body!.error.message, `Could not find user: ${id}.`);
  });

  test('a missing grant: HEAD 404 without a body; GET names the role assignment', async () => {
    const pid = (await raw('GET', '/v3/projects?name=service', { token })).body!.projects[0].id as string;
    const rid = (await raw('GET', '/v3/roles?name=admin', { token })).body!.roles[0].id as string;
    const uid = (await raw('GET', '/v3/users?name=admin', { token })).body!.users[0].id as string;
    const path = `/v3/projects/${pid}/users/${uid}/roles/${rid}`;
    const head = await raw('HEAD', path, { token });
    assert.equal(head.status, 404);
    assert.equal(head.body, undefined);
    assert.match((await raw('GET', path, { token })).body!.error.message, /^Could not find role assignment with role: /);
  });

  test('endpoints: a dotless URL is fine; a missing region_id is 400 on create and on update; the legacy region is created', async () => {
    const s = await raw('POST', '/v3/services', { token, json: { service: { name: 'probe', type: 'today-probe', enabled: true } } });
    const sid = s.body!.service.id as string;
    try {
      const e = await raw('POST', '/v3/endpoints', { token, json: { endpoint: { service_id: sid, interface: 'public', url: 'http://controller:9292', region_id: 'RegionOne' } } });
      assert.equal(e.status, 201);
      const words = /^Expecting to find endpoint region_id in region table\. /;
      const c = await raw('POST', '/v3/endpoints', { token, json: { endpoint: { service_id: sid, interface: 'public', url: 'http://x:1', region_id: 'nowhere' } } });
      assert.equal(c.status, 400);
      assert.match(c.body!.error.message, words);
      const u = await raw('PATCH', `/v3/endpoints/${e.body!.endpoint.id}`, { token, json: { endpoint: { region_id: 'nowhere' } } });
      assert.equal(u.status, 400);
      assert.match(u.body!.error.message, words);
      const legacy = await raw('POST', '/v3/endpoints', { token, json: { endpoint: { service_id: sid, interface: 'admin', url: 'http://x:1', region: 'todayProbeRegion' } } });
      assert.equal(legacy.status, 201);
      assert.equal(legacy.body!.endpoint.region_id, 'todayProbeRegion');
    } finally {
      await raw('DELETE', `/v3/services/${sid}`, { token });
      await raw('DELETE', '/v3/regions/todayProbeRegion', { token });
    }
  });
});
