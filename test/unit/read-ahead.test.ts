// Reads asked ahead (src/clients/read-ahead.ts, src/providers/read-ahead.ts), against the keystone 2014.2
// double: a second session on a host asks the first one's reads once the host is readable (the run lock
// held), and its own identical requests take those answers; nothing is asked before, nothing is used
// after a change, and the record beside the kept tokens names them without holding one.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Transport } from '../../src/transport/ssh.ts';
import { HostSession } from '../../src/engine/host.ts';
import type { Provider } from '../../src/engine/providers.ts';
import { keystoneSession } from '../../src/providers/keystone.ts';
import { readsAhead } from '../../src/providers/read-ahead.ts';
import { beforeRequest, drop, readAhead, trackReads } from '../../src/clients/read-ahead.ts';
import { fileTokenCache } from '../../src/clients/token-cache.ts';
import type { AdminCredentials } from '../../src/clients/keystone-api.ts';
import { Secret } from '../../src/secret.ts';
import type { TraceEvent } from '../../src/trace.ts';
import type { HttpResponse } from '../../src/clients/http.ts';
import { startKeystoneDouble, type KeystoneDouble } from '../doubles/keystone-2014.2/server.ts';
import { tunnelsTo } from '../doubles/keystone-2014.2/tunnels.ts';

let d: KeystoneDouble;
before(async () => {
  d = await startKeystoneDouble();
});
after(() => d.close());

const tunnels = (): Transport => tunnelsTo(d);

const creds: Provider<AdminCredentials> = {
  key: 'creds',
  open: async () => ({ authUrl: 'http://controller:5000/v3', username: 'admin', password: new Secret('ADMIN_PASS'), projectName: 'admin', userDomainName: 'Default', projectDomainName: 'Default', fixHint: 'fix them in the test' }),
};
const demo = { username: 'demo', domainId: 'default', password: new Secret('DEMO_PASS'), projectName: 'demo' };

/** One run's session on the host: its read-ahead opened first (the warm-up), then Keystone as the playbook uses it. */
async function session(dir: string, opts: { readable?: boolean; trace?: TraceEvent[] } = {}) {
  const t: Transport & { trace?: (e: TraceEvent) => void } = tunnels();
  if (opts.trace) t.trace = (e) => opts.trace!.push(e);
  const host = new HostSession('controller', t, () => {});
  const ahead = await host.use(readsAhead({ playbook: 'test', dir }));
  if (opts.readable ?? true) host.markReadable();
  const ks = await host.use(keystoneSession({ credentials: creds, serviceUser: demo, tokens: fileTokenCache(dir) }));
  return { host, ahead, ks };
}

/** What a converged run reads: the service user's check, a service list, its endpoints. */
async function converged(ks: Awaited<ReturnType<typeof session>>['ks']): Promise<void> {
  const reader = await ks.reader();
  assert.ok(await ks.knownUser('demo', 'default'), 'the service user is proven');
  await reader.listServices('identity');
  await reader.listAllEndpoints();
}

const since = (n: number) => d.seen.slice(n).map((s) => `${s.method} ${s.url}`);
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('reads asked ahead', () => {
  test('a second run asks the first one\'s reads once the host is readable, and its own requests take the answers: Keystone sees each once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-ahead-'));
    // The first run logs the service user in; the second validates the token the first kept: its reads are a converged run's.
    for (let i = 0; i < 2; i++) {
      const earlier = await session(dir);
      await converged(earlier.ks);
      await earlier.host.providers.closeAll();
    }

    const trace: TraceEvent[] = [];
    const n0 = d.seen.length;
    const second = await session(dir, { readable: false, trace });
    await settle();
    assert.deepEqual(since(n0), [], 'nothing is asked before the host is readable');
    second.host.markReadable();
    await settle();
    const asked = since(n0);
    assert.deepEqual(asked.sort(), ['GET /v3/auth/tokens?nocatalog', 'GET /v3/endpoints', 'GET /v3/services?type=identity'], 'asked ahead');
    assert.ok(asked.every((r) => r.startsWith('GET ')), `only reads are asked ahead: ${asked.join(', ')}`);
    await converged(second.ks);
    assert.deepEqual(since(n0).sort(), asked, 'the run\'s own reads asked Keystone nothing more');
    const stats = await second.host.providers.closeAll();
    assert.equal(stats.readsAskedAhead, asked.length);
    const taken = trace.filter((e) => e.kind === 'api' && e.outcome.endsWith('(asked ahead)'));
    assert.equal(taken.length, asked.length, trace.map((e) => `${e.what} ${e.outcome}`).join('\n'));
  });

  test('the record names the tokens by their cache file and holds none; an expired or dropped token is not asked ahead', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-ahead-'));
    const first = await session(dir);
    await converged(first.ks);
    const admin = (await first.ks.admin()).token();
    await first.host.providers.closeAll();
    const [record] = fs.readdirSync(dir).filter((f) => f.startsWith('ahead-'));
    assert.ok(record, 'a record is kept');
    const text = fs.readFileSync(path.join(dir, record), 'utf8');
    assert.ok(!text.includes(admin), 'the record holds no token');
    assert.equal(fs.statSync(path.join(dir, record)).mode & 0o777, 0o600);
    assert.match(text, /"token":"[0-9a-f]{64}"/);

    // Every kept token gone: nothing can be asked ahead, and the run reads as before.
    for (const f of fs.readdirSync(dir)) if (/^[0-9a-f]{64}$/.test(f)) fs.rmSync(path.join(dir, f));
    const n0 = d.seen.length;
    const second = await session(dir);
    await settle();
    assert.equal(second.ahead.asked, 0);
    assert.deepEqual(since(n0), []);
    await second.host.providers.closeAll();
  });

  test('once the run is about to change the host, nothing asked ahead is used: a read after it asks Keystone again', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-ahead-'));
    const first = await session(dir);
    await converged(first.ks);
    await first.host.providers.closeAll();

    const second = await session(dir);
    await settle();
    const n0 = d.seen.length;
    second.host.changing();
    await (await second.ks.reader()).listServices('identity');
    assert.deepEqual(since(n0).filter((r) => r.startsWith('GET /v3/services')), ['GET /v3/services?type=identity']);
    await second.host.providers.closeAll();
  });

  test('a run whose plan held a change keeps the record it found: what it read is not what a converged run reads', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-ahead-'));
    const first = await session(dir);
    await converged(first.ks);
    await first.host.providers.closeAll();
    const [record] = fs.readdirSync(dir).filter((f) => f.startsWith('ahead-'));
    const kept = fs.readFileSync(path.join(dir, record!), 'utf8');

    const second = await session(dir);
    await settle();
    second.host.changing();
    await (await second.ks.reader()).findUser('someone-missing', 'default');
    await second.host.providers.closeAll();
    assert.equal(fs.readFileSync(path.join(dir, record!), 'utf8'), kept);
  });

  test('a run that never gets the lock asks nothing ahead and still closes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-ahead-'));
    const first = await session(dir);
    await converged(first.ks);
    await first.host.providers.closeAll();
    const n0 = d.seen.length;
    const t = tunnels();
    const host = new HostSession('controller', t, () => {});
    await host.use(readsAhead({ playbook: 'test', dir }));
    await settle();
    assert.deepEqual(since(n0), []);
    assert.deepEqual(await host.providers.closeAll(), { readsAskedAhead: 0 });
  });

  test('an answer is taken once, by the same request with the same tokens; a login keeps the rest, any other POST, PUT, PATCH or DELETE ends it, so does the engine\'s word', async () => {
    const answer = { status: 200 } as HttpResponse;
    const services = { method: 'GET' as const, url: 'http://controller:5000/v3/services', token: 'A' };
    const endpoints = { method: 'GET' as const, url: 'http://controller:5000/v3/endpoints', token: 'A' };
    const fresh = () => {
      const t = tunnels();
      trackReads(t);
      readAhead(t, [services, endpoints], async () => answer);
      return t;
    };
    let t = fresh();
    assert.equal(beforeRequest(t, { ...services, token: 'B' }, false), undefined, 'another token is another request');
    assert.equal(await beforeRequest(t, services, false)?.answer, answer);
    assert.equal(beforeRequest(t, services, false), undefined, 'taken once');
    assert.equal(beforeRequest(t, { method: 'POST', url: 'http://controller:5000/v3/auth/tokens' }, false), undefined);
    assert.equal(await beforeRequest(t, endpoints, false)?.answer, answer, 'a login changes nothing a read sees');

    t = fresh();
    beforeRequest(t, { method: 'PATCH', url: 'http://controller:5000/v3/users/x', token: 'A' }, true);
    assert.equal(beforeRequest(t, endpoints, false), undefined, 'after a change of its own');

    t = fresh();
    drop(t);
    assert.equal(beforeRequest(t, endpoints, false), undefined, 'after the engine said the run changes the host');
  });
});
