// When endpoints are written the v2.0 way: only for a v2.0 auth URL (the Juno guide's openrc), and only
// when the admin port answers GET /v2.0 with its version document, as keystone 2014.2 does (the double);
// today's Keystone (v3 only: 404, or nothing on 35357) gets v3 writes. Asked once per Keystone session.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { catalogWritesFrom, probeCatalogWrites } from '../../src/clients/keystone.ts';
import { keystoneSession } from '../../src/providers/keystone.ts';
import { HostSession } from '../../src/engine/host.ts';
import { Secret } from '../../src/secret.ts';
import { startKeystoneDouble, type KeystoneDouble } from '../doubles/keystone-2014.2/server.ts';
import { FakeTransport, fail } from './fake-transport.ts';

describe('catalogWritesFrom', () => {
  const doc = { version: { id: 'v2.0', status: 'stable' } };
  test('200 with the v2.0 version document: v2.0', () => assert.equal(catalogWritesFrom({ status: 200, body: doc }), 'v2.0'));
  test('404 (a v3-only Keystone), 300, a 200 that is not the document, no answer: v3', () => {
    assert.equal(catalogWritesFrom({ status: 404, body: { error: { code: 404 } } }), 'v3');
    assert.equal(catalogWritesFrom({ status: 300, body: doc }), 'v3');
    assert.equal(catalogWritesFrom({ status: 200, body: undefined }), 'v3');
    assert.equal(catalogWritesFrom({ status: 200, body: { version: { id: 'v3.0' } } }), 'v3');
    assert.equal(catalogWritesFrom('no answer'), 'v3');
  });
});

/** Today's Keystone on the admin port of the trusty-shaped lab: no /v2.0 (its 404 body). */
async function v3OnlyKeystone(): Promise<{ port: number; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const srv = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 404, message: 'The resource could not be found.', title: 'Not Found' } }));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as AddressInfo).port, seen, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

/** A transport whose tunnels to controller:PORT reach the local ports given; anything else is refused. */
function tunnels(ports: Record<number, number>, opened: string[] = []): FakeTransport {
  return new FakeTransport({
    answer: () => fail('no commands here', 127),
    openTcp(host: string, port: number): Promise<Duplex> {
      opened.push(`${host}:${port}`);
      const to = host === 'controller' ? ports[port] : undefined;
      if (to === undefined) return Promise.reject(new Error(`cannot open a tunnel to ${host}:${port}: (SSH) Channel open failure: Connection refused`));
      return new Promise((resolve, reject) => {
        const s = net.connect(to, '127.0.0.1');
        s.once('connect', () => resolve(s)).once('error', reject);
      });
    },
  });
}

describe('probeCatalogWrites', () => {
  let d: KeystoneDouble;
  let today: Awaited<ReturnType<typeof v3OnlyKeystone>>;
  before(async () => {
    d = await startKeystoneDouble();
    today = await v3OnlyKeystone();
  });
  after(async () => {
    await d.close();
    await today.close();
  });

  test('keystone 2014.2 (the double): GET /v2.0 on the admin port, 200, the version document: v2.0', async () => {
    const before = d.seen.length;
    assert.equal(await probeCatalogWrites(tunnels({ 35357: d.adminPort, 5000: d.mainPort }), 'http://controller:35357/v2.0'), 'v2.0');
    assert.deepEqual(d.seen.slice(before).map((s) => `${s.port} ${s.method} ${s.url} ${s.status}`), ['admin GET /v2.0 200']);
  });
  test('the public-port openrc asks the admin port too', async () => {
    const opened: string[] = [];
    assert.equal(await probeCatalogWrites(tunnels({ 35357: d.adminPort, 5000: d.mainPort }, opened), 'http://controller:5000/v2.0'), 'v2.0');
    assert.deepEqual(opened, ['controller:35357']);
  });
  test('today\'s Keystone (404 on /v2.0): v3; nothing on 35357: v3', async () => {
    assert.equal(await probeCatalogWrites(tunnels({ 35357: today.port }), 'http://controller:35357/v2.0'), 'v3');
    assert.deepEqual(today.seen, ['GET /v2.0']);
    assert.equal(await probeCatalogWrites(tunnels({}), 'http://controller:35357/v2.0'), 'v3');
  });
  test('a v3 auth URL asks nothing', async () => {
    const opened: string[] = [];
    assert.equal(await probeCatalogWrites(tunnels({}, opened), 'http://controller:5000/v3'), 'v3');
    assert.deepEqual(opened, []);
  });
  test('the Keystone session asks once, tells the admin client, and counts the request', async () => {
    const t = tunnels({ 35357: d.adminPort, 5000: d.mainPort });
    const host = new HostSession('controller', t, () => {});
    const creds = { authUrl: 'http://controller:35357/v2.0', username: 'admin', password: new Secret('ADMIN_PASS'), projectName: 'admin', userDomainName: 'Default', projectDomainName: 'Default' };
    const session = await host.use(keystoneSession({ credentials: { key: 'creds', open: async () => creds }, tokens: null }));
    const before = d.seen.length;
    const [a, b] = await Promise.all([session.catalogWrites(), session.catalogWrites()]);
    assert.deepEqual([a, b], ['v2.0', 'v2.0']);
    const admin = await session.admin();
    assert.equal(admin.catalogWrites, 'v2.0');
    assert.deepEqual(d.seen.slice(before).map((s) => `${s.method} ${s.url.split('?')[0]}`), ['GET /v2.0', 'POST /v3/auth/tokens']);
    assert.equal(session.requests(), 2);
  });
});
