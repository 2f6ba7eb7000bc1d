// The Keystone client against the keystone 2014.2 (Juno) conformance double: the shared conformance
// suite with the Juno guide's v2.0 openrc, then what only Juno does (the wire as keystone 2014.2 answers
// it, the guide's catalog, its URL check, its region rules, list_limit, token expiry, a non-admin).
// The transport is a fake whose tunnels are TCP connections to the double's two listeners: 5000 → its
// public listener, 35357 → its admin listener, anything else refused, as on the controller.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Transport } from '../../src/transport/ssh.ts';
import { Secret } from '../../src/secret.ts';
import { keystoneLogin, checkKeystonePassword, adminCredentialsFromOpenrc, KeystoneError } from '../../src/clients/keystone.ts';
import type { AdminCredentials } from '../../src/clients/keystone-api.ts';
import { startKeystoneDouble, type KeystoneDouble } from '../doubles/keystone-2014.2/server.ts';
import { v3Catalog } from '../doubles/keystone-2014.2/v3-auth.ts';
import { keystoneConformance } from '../doubles/keystone-conformance.ts';

/** The Juno guide's admin-openrc.sh (v2.0 style: OS_TENANT_NAME, the admin port, no domains). */
const JUNO_OPENRC = 'export OS_TENANT_NAME=admin\nexport OS_USERNAME=admin\nexport OS_PASSWORD=ADMIN_PASS\nexport OS_AUTH_URL=http://controller:35357/v2.0\n';

/** A Transport whose tunnels to controller:5000 and :35357 are TCP connections to the double. */
function tunnelsTo(d: () => KeystoneDouble): Transport & { tunnels: string[] } {
  const tunnels: string[] = [];
  const no = () => Promise.reject(new Error('not in this fake'));
  return {
    host: 'controller',
    user: 'root',
    stats: { roundTrips: 0, commands: 0 },
    tunnels,
    exec: no,
    script: no,
    writeFileAtomic: no,
    openUnixSocket: no,
    execStream: no,
    openTcp(host: string, port: number): Promise<Duplex> {
      tunnels.push(`${host}:${port}`);
      const to = host === 'controller' ? { 5000: d().mainPort, 35357: d().adminPort }[port] : undefined;
      if (to === undefined) return Promise.reject(new Error(`cannot open a tunnel to ${host}:${port}: (SSH) Channel open failure: Connection refused`));
      return new Promise((resolve, reject) => {
        const s = net.connect(to, '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
    },
    close() {},
  };
}

/** A raw request to the double, as a Keystone client other than ours would make it. */
async function raw(d: KeystoneDouble, port: 5000 | 35357, method: string, path: string, o: { token?: string; json?: unknown } = {}) {
  const res = await fetch(`http://127.0.0.1:${port === 5000 ? d.mainPort : d.adminPort}${path}`, {
    method,
    headers: { ...(o.token ? { 'x-auth-token': o.token } : {}), ...(o.json !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: o.json === undefined ? undefined : JSON.stringify(o.json),
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- an answer's JSON, read by the shape each test expects
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

const adminAuth = (password = 'ADMIN_PASS') => ({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password } } }, scope: { project: { name: 'admin', domain: { name: 'Default' } } } } });

async function adminToken(d: KeystoneDouble): Promise<string> {
  const r = await raw(d, 35357, 'POST', '/v3/auth/tokens?nocatalog', { json: adminAuth() });
  assert.equal(r.status, 201);
  return r.headers.get('x-subject-token')!;
}

let d: KeystoneDouble;
const t = tunnelsTo(() => d);
const creds = (): AdminCredentials => adminCredentialsFromOpenrc(JUNO_OPENRC);

before(async () => {
  d = await startKeystoneDouble();
});
after(() => d.close());

keystoneConformance({
  name: 'keystone 2014.2 double, the Juno guide\'s v2.0 openrc',
  transport: () => t,
  creds,
  expect: {
    authUrl: 'http://controller:35357/v3',
    catalogWrites: 'v2.0',
    token: /^[0-9a-f]{32}$/,
    region: 'regionOne',
    v3UrlPatch: false,
    deadAuthUrl: 'http://controller:5999/v3',
  },
});

describe('keystone 2014.2 on the wire (the double, raw requests)', () => {
  test('POST /v3/auth/tokens: 201, X-Subject-Token, the token body of V3TokenDataHelper; ?nocatalog drops the catalog, an unknown parameter is ignored', async () => {
    const full = await raw(d, 5000, 'POST', '/v3/auth/tokens', { json: adminAuth() });
    assert.equal(full.status, 201);
    assert.match(full.headers.get('x-subject-token')!, /^[0-9a-f]{32}$/);
    const tok = full.body!.token;
    assert.deepEqual(Object.keys(tok).sort(), ['audit_ids', 'catalog', 'expires_at', 'extras', 'issued_at', 'methods', 'project', 'roles', 'user']);
    assert.deepEqual(tok.methods, ['password']);
    assert.deepEqual(tok.user.domain, { id: 'default', name: 'Default' });
    assert.deepEqual(tok.roles.map((r: { name: string }) => r.name), ['admin']);
    assert.match(tok.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const none = await raw(d, 35357, 'POST', '/v3/auth/tokens?nocatalog&no-such-parameter=1', { json: adminAuth() });
    assert.equal(none.status, 201);
    assert.equal('catalog' in none.body!.token, false);
  });

  test('a wrong password: 401, the generic words (debug off), WWW-Authenticate naming the host asked', async () => {
    const r = await raw(d, 35357, 'POST', '/v3/auth/tokens?nocatalog', { json: adminAuth('wrong') });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
    assert.equal(r.headers.get('www-authenticate'), `Keystone uri="http://127.0.0.1:${d.adminPort}"`);
  });

  test('an unsupported auth method: 401 with the methods keystone takes, no WWW-Authenticate', async () => {
    const r = await raw(d, 5000, 'POST', '/v3/auth/tokens', { json: { auth: { identity: { methods: ['totp'], totp: {} } } } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body!.error.identity, { methods: ['external', 'password', 'token'] });
    assert.equal(r.headers.get('www-authenticate'), null);
  });

  test('/v3 on both ports; OS-KSADM and /v2.0/endpoints only on the admin port (404 on 5000)', async () => {
    const token = await adminToken(d);
    assert.equal((await raw(d, 5000, 'GET', '/v3/services?type=identity', { token })).status, 200);
    assert.equal((await raw(d, 35357, 'GET', '/v3/services?type=identity', { token })).status, 200);
    assert.equal((await raw(d, 35357, 'GET', '/v2.0/endpoints', { token })).status, 200);
    const pub = await raw(d, 5000, 'GET', '/v2.0/endpoints', { token });
    assert.equal(pub.status, 404);
    assert.deepEqual(pub.body, { error: { code: 404, title: 'Not Found', message: 'The resource could not be found.' } });
  });

  test('a list: links and no "truncated" without list_limit; an unknown filter is ignored', async () => {
    const token = await adminToken(d);
    const all = await raw(d, 35357, 'GET', '/v3/roles', { token });
    const odd = await raw(d, 35357, 'GET', '/v3/roles?no_such_filter=x', { token });
    assert.deepEqual(odd.body!.roles.length, all.body!.roles.length);
    assert.deepEqual(all.body!.links, { next: null, self: `http://127.0.0.1:${d.adminPort}/v3/roles`, previous: null });
    assert.equal('truncated' in all.body!, false);
  });

  test('PATCH /v3/users/{id}: 200 and, unlike create, an "extra" member (to_dict(include_extra_dict=True))', async () => {
    const token = await adminToken(d);
    const c = await raw(d, 35357, 'POST', '/v3/users', { token, json: { user: { name: 'extra-check', domain_id: 'default', password: 'x-123456' } } });
    assert.equal(c.status, 201);
    assert.equal('extra' in c.body!.user, false);
    assert.equal('password' in c.body!.user, false);
    const p = await raw(d, 35357, 'PATCH', `/v3/users/${c.body!.user.id}`, { token, json: { user: { enabled: true } } });
    assert.equal(p.status, 200);
    assert.deepEqual(p.body!.user.extra, {});
    assert.equal((await raw(d, 35357, 'DELETE', `/v3/users/${c.body!.user.id}`, { token })).status, 204);
    const gone = await raw(d, 35357, 'DELETE', `/v3/users/${c.body!.user.id}`, { token });
    assert.deepEqual(gone.body, { error: { code: 404, title: 'Not Found', message: `Could not find user: ${c.body!.user.id}` } });
  });

  test('a missing role grant: HEAD 404 without a body, GET 404 "Could not find role"', async () => {
    const token = await adminToken(d);
    const s = d.seeded;
    const path = `/v3/projects/${s.serviceProjectId}/users/${s.adminUserId}/roles/${s.adminRoleId}`;
    const head = await raw(d, 35357, 'HEAD', path, { token });
    assert.equal(head.status, 404);
    assert.equal(head.body, undefined);
    const get = await raw(d, 35357, 'GET', path, { token });
    assert.equal(get.body!.error.message, `Could not find role: ${s.adminRoleId}`);
  });
});

describe('the Juno client paths against the double', () => {
  test('the guide\'s openrc maps to v3 on the same host and port; the login asks for no catalog', async () => {
    const before = d.seen.length;
    const ks = await keystoneLogin(t, creds());
    const [login] = d.seen.slice(before);
    assert.equal(login?.port, 'admin');
    assert.equal(login?.url, '/v3/auth/tokens?nocatalog');
    assert.deepEqual(login?.json, { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'ADMIN_PASS' } } }, scope: { project: { name: 'admin', domain: { name: 'Default' } } } } });
    assert.equal(t.tunnels.at(-1), 'controller:35357');
    assert.equal(ks.authUrl, 'http://controller:35357/v3');
  });

  test('the public-port v2.0 URL works too (v3 is on 5000 as well); endpoint writes still go to the admin port', async () => {
    const ks = await keystoneLogin(t, { ...creds(), authUrl: 'http://controller:5000/v2.0' });
    assert.equal(ks.authUrl, 'http://controller:5000/v3');
    assert.equal(await checkKeystonePassword(t, 'http://controller:5000/v2.0', 'admin', 'default', new Secret('ADMIN_PASS')), true);
    const [svc] = await ks.listServices('identity');
    const before = d.seen.length;
    await ks.createEndpointSet({ service_id: svc!.id, region: 'regionOne', urls: { public: 'http://x.example.com:1' } });
    assert.deepEqual(d.seen.slice(before).map((s) => `${s.port} ${s.method} ${s.url} ${s.status}`), ['admin POST /v2.0/endpoints 200']);
    for (const e of (await ks.listEndpoints(svc!.id)).filter((x) => x.url === 'http://x.example.com:1')) await ks.deleteEndpoint(e.id);
  });

  test('createEndpointSet writes exactly what the guide\'s `keystone endpoint-create` writes (rows, catalog, endpoint-list)', async () => {
    // The guide, on a fresh Juno: service-create and endpoint-create as python-keystoneclient 0.11 sends them.
    const guide = await startKeystoneDouble();
    const ours = await startKeystoneDouble();
    try {
      const gt = await adminToken(guide);
      const svc = await raw(guide, 35357, 'POST', '/v2.0/OS-KSADM/services', { token: gt, json: { 'OS-KSADM:service': { name: 'glance', type: 'image', description: 'OpenStack Image Service' } } });
      assert.equal(svc.status, 200);
      const ep = await raw(guide, 35357, 'POST', '/v2.0/endpoints', { token: gt, json: { endpoint: { region: 'regionOne', service_id: svc.body!['OS-KSADM:service'].id, publicurl: 'http://controller:9292', adminurl: 'http://controller:9292', internalurl: 'http://controller:9292' } } });
      assert.equal(ep.status, 200, 'v2.0 endpoint-create answers 200, not 201');

      // Ours, through the client, from the guide's openrc.
      const ot = tunnelsTo(() => ours);
      const ks = await keystoneLogin(ot, creds());
      const s = await ks.createService({ name: 'glance', type: 'image', description: 'OpenStack Image Service', enabled: true });
      await ks.createEndpointSet({ service_id: s.id, region: 'regionOne', urls: { public: 'http://controller:9292', internal: 'http://controller:9292', admin: 'http://controller:9292' } });

      // The same rows, ids aside: the service (type column, name/description in extra, enabled) and
      // three endpoint rows sharing one legacy id, region_id regionOne, nothing in extra.
      const norm = (x: KeystoneDouble) => {
        const sv = x.store.services.find((v) => v.type === 'image')!;
        const eps = x.store.endpoints.filter((e) => e.service_id === sv.id);
        const legacy = new Set(eps.map((e) => e.legacy_endpoint_id));
        return {
          service: { ...sv, id: '' },
          legacyIds: [...legacy].map((l) => (l ? 'one' : null)),
          endpoints: eps.map((e) => ({ ...e, id: '', service_id: '', legacy_endpoint_id: '' })).sort((a, b) => a.interface.localeCompare(b.interface)),
          regions: x.store.regions.map((r) => r.id),
        };
      };
      assert.deepEqual(norm(ours), norm(guide));
      assert.deepEqual(norm(ours).legacyIds, ['one']);

      // The catalog a token carries, and what `keystone endpoint-list` shows, are the same too.
      const imageIn = (x: KeystoneDouble) => {
        const c = v3Catalog(x.store, 'u', 'p').find((e) => e.type === 'image')!;
        const eps = (c.endpoints as Record<string, unknown>[]).map((e): Record<string, unknown> => ({ ...e, id: '' }));
        return { ...c, id: '', endpoints: eps.sort((a, b) => String(a.interface).localeCompare(String(b.interface))) };
      };
      assert.deepEqual(imageIn(ours), imageIn(guide));
      const list = async (x: KeystoneDouble) => (await raw(x, 35357, 'GET', '/v2.0/endpoints', { token: await adminToken(x) })).body!.endpoints.map((e: Record<string, unknown>) => ({ ...e, id: '', service_id: '' }));
      assert.deepEqual(await list(ours), await list(guide));
      assert.equal((await list(ours)).length, 2, 'identity and image, as `keystone endpoint-list` shows them');
    } finally {
      await guide.close();
      await ours.close();
    }
  });

  test('v3-made endpoints are hidden from `keystone endpoint-list`, and 2014.2 refuses http://controller:9292 through v3', async () => {
    const ks = await keystoneLogin(t, creds());
    const s = await ks.createService({ name: 'v3made', type: 'v3made', description: 'x', enabled: true });
    try {
      await assert.rejects(ks.createEndpoint({ service_id: s.id, interface: 'public', url: 'http://controller:9292', region_id: 'regionOne', enabled: true }), (e: unknown) => {
        assert.ok(e instanceof KeystoneError);
        assert.equal(e.message, "Keystone: POST /endpoints answered 400: Invalid input for field 'url'. The value is 'http://controller:9292'.");
        assert.match(e.hint, /fixed in 2014\.2\.1/);
        return true;
      });
      const e = await ks.createEndpoint({ service_id: s.id, interface: 'public', url: 'http://controller.example.com:9292', region_id: 'regionOne', enabled: true });
      assert.equal(e.region_id, 'regionOne');
      const v2 = await raw(d, 35357, 'GET', '/v2.0/endpoints', { token: await adminToken(d) });
      assert.equal(v2.body!.endpoints.some((x: { service_id: string }) => x.service_id === s.id), false);
      // The legacy "region" went on the wire, not region_id
      const posted = d.seen.filter((x) => x.method === 'POST' && x.url === '/v3/endpoints').at(-1);
      assert.deepEqual((posted?.json as { endpoint: object }).endpoint, { service_id: s.id, interface: 'public', url: 'http://controller.example.com:9292', region: 'regionOne', enabled: true });
    } finally {
      await ks.deleteService(s.id);
    }
  });

  test('2014.2.1–2014.2.4 take the same URL through v3 (lenient URL check)', async () => {
    const lenient = await startKeystoneDouble({ urlCheck: '2014.2.1' });
    try {
      const ks = await keystoneLogin(tunnelsTo(() => lenient), creds());
      const s = await ks.createService({ name: 'glance', type: 'image', description: 'x', enabled: true });
      const e = await ks.createEndpoint({ service_id: s.id, interface: 'admin', url: 'http://controller:9292', region_id: 'regionOne', enabled: true });
      await ks.updateEndpoint(e.id, { url: 'http://controller:9293' });
      assert.equal((await ks.listEndpoints(s.id))[0]?.url, 'http://controller:9293');
    } finally {
      await lenient.close();
    }
  });

  test('region ids compare without case: RegionOne finds regionOne (nothing created), keeps its spelling, and splits the catalog', async () => {
    const ks = await keystoneLogin(t, { ...creds(), authUrl: 'http://controller:35357/v3' });
    assert.equal(ks.catalogWrites, 'v3', 'a v3 auth URL: v3 writes');
    const s = await ks.createService({ name: 'glance', type: 'image-case', description: 'x', enabled: true });
    try {
      const regions = d.store.regions.length;
      const e = await ks.createEndpoint({ service_id: s.id, interface: 'public', url: 'http://10.0.0.11:9292', region_id: 'RegionOne', enabled: true });
      assert.equal(e.region_id, 'RegionOne');
      assert.equal(d.store.regions.length, regions, 'no region created');
      const admin = d.store.users.find((u) => u.name === 'admin')!;
      const catalog = v3Catalog(d.store, admin.id, d.seeded.adminProjectId);
      const regionsSeen = new Set(catalog.flatMap((c) => (c.endpoints as { region: string }[]).map((x) => x.region)));
      assert.deepEqual([...regionsSeen].sort(), ['RegionOne', 'regionOne'], 'a client asking for regionOne does not see this endpoint');
      // v3 form, region missing: create 400, update 404 (today's Keystone answers 400 to both)
      await assert.rejects(ks.createEndpoint({ service_id: s.id, interface: 'public', url: 'http://10.0.0.11:9292', region_id: 'nowhere', enabled: true }), /answered 400: Expecting to find endpoint region_id in region table/);
      await assert.rejects(ks.updateEndpoint(e.id, { region_id: 'nowhere' }), /answered 404: Could not find region: nowhere/);
    } finally {
      await ks.deleteService(s.id);
    }
  });

  test('createEndpointSet without a public URL goes through v3 (v2.0 requires publicurl)', async () => {
    const ks = await keystoneLogin(t, creds());
    const s = await ks.createService({ name: 'glance', type: 'image-nopub', description: 'x', enabled: true });
    try {
      const before = d.seen.length;
      await ks.createEndpointSet({ service_id: s.id, region: 'regionOne', urls: { admin: 'http://10.0.0.12:9292' } });
      assert.deepEqual(d.seen.slice(before).map((x) => `${x.method} ${x.url} ${x.status}`), ['POST /v3/endpoints 201']);
    } finally {
      await ks.deleteService(s.id);
    }
  });

  test('v2.0 endpoint writes aimed at the public port: 404, and the hint says the admin port', async () => {
    const ks = await keystoneLogin(t, creds(), { v2AdminUrl: 'http://controller:5000/v2.0' });
    const [svc] = await ks.listServices('identity');
    await assert.rejects(ks.createEndpointSet({ service_id: svc!.id, region: 'regionOne', urls: { public: 'http://x.example.com:2' } }), (e: unknown) => {
      assert.ok(e instanceof KeystoneError);
      assert.equal(e.message, 'Keystone: POST /v2.0/endpoints answered 404: The resource could not be found.');
      assert.match(e.hint, /admin port only \(35357\)/);
      return true;
    });
  });

  test('list_limit: a truncated list is an error, not a silent half answer', async () => {
    const limited = await startKeystoneDouble({ listLimit: 1 });
    try {
      const ks = await keystoneLogin(tunnelsTo(() => limited), creds());
      assert.equal((await ks.findRole('admin')).length, 1, 'one match is within the limit');
      await assert.rejects(ks.listEndpoints(limited.seeded.identityServiceId), (e: unknown) => e instanceof KeystoneError && /truncated the answer to GET \/endpoints\?service_id=/.test(e.message) && /list_limit/.test(e.hint));
    } finally {
      await limited.close();
    }
  });

  test('a token that expires mid-run: the 401 logs in again once, and the call succeeds', async () => {
    const short = await startKeystoneDouble({ tokenTtlMs: 150 });
    try {
      const ks = await keystoneLogin(tunnelsTo(() => short), creds());
      const first = ks.token();
      await new Promise((r) => setTimeout(r, 250));
      assert.equal((await ks.findRole('admin')).length, 1);
      assert.notEqual(ks.token(), first);
      assert.deepEqual(short.seen.slice(-3).map((x) => `${x.method} ${x.url.split('?')[0]} ${x.status}`), ['GET /v3/roles 401', 'POST /v3/auth/tokens 201', 'GET /v3/roles 200']);
    } finally {
      await short.close();
    }
  });

  test('a user without the admin role: 403 with the policy action named (a read is asked twice)', async () => {
    const ks = await keystoneLogin(t, { ...creds(), username: 'demo', password: new Secret('DEMO_PASS'), projectName: 'demo' });
    await assert.rejects(ks.findUser('glance', 'default'), (e: unknown) => e instanceof KeystoneError && e.message === 'Keystone: GET /users?name=glance&domain_id=default answered 403: You are not authorized to perform the requested action: identity:list_users');
    assert.deepEqual(d.seen.slice(-2).map((x) => x.status), [403, 403]);
  });

  test('the password check of a user whose default project scopes an unscoped request (2014.2 does that) is still a 201', async () => {
    assert.equal(await checkKeystonePassword(t, creds().authUrl, 'demo', 'default', new Secret('DEMO_PASS')), true);
    assert.equal(await checkKeystonePassword(t, creds().authUrl, 'demo', 'default', new Secret('nope')), false);
  });
});
