// What a host gives resources: facts in one round trip (one more for a fact nobody declared, then
// cached), and sessions (providers) opened once per key, closed once each, their counters summed.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { HostSession } from '../../src/engine/host.ts';
import { defineFact } from '../../src/engine/facts.ts';
import { Providers, type Provider } from '../../src/engine/providers.ts';
import { FakeController, FakeTransport, factSections } from './fake-transport.ts';
import { OS_RELEASE, deferred } from './engine-helpers.ts';

function fakeHost(): { c: FakeController; t: FakeTransport; host: HostSession } {
  const c = new FakeController({ '/etc/os-release': OS_RELEASE, '/etc/glance/glance-api.conf': '[DEFAULT]\n' });
  const t = new FakeTransport({ answer: c.answer });
  return { c, t, host: new HostSession('controller', t, () => {}) };
}

const dpkg = defineFact('dpkg', 'dpkg-query -W', (raw) => raw.split('\n').filter(Boolean));
const conf = defineFact('conf', "cat '/etc/glance/glance-api.conf'", (raw) => raw.length);

describe('HostSession facts', () => {
  test('every gathered fact, the OS ones included, costs one round trip', async () => {
    const { c, t, host } = fakeHost();
    c.facts.set('dpkg', 'glance\nglance-api\n');
    await host.gather([dpkg, conf]);
    assert.equal(t.stats.roundTrips, 1);
    assert.deepEqual(factSections(t.commands[0]!.source!).map((s) => s.key), ['os', 'init', 'dpkg', 'conf']);
    assert.deepEqual(await host.fact(dpkg), ['glance', 'glance-api']);
    assert.equal(await host.fact(conf), '[DEFAULT]'.length);
    assert.deepEqual(host.os, { codename: 'bookworm', osName: 'Debian GNU/Linux 12 (bookworm)', init: 'systemd' });
    assert.equal(t.stats.roundTrips, 1, 'asking for gathered facts costs nothing');
  });

  test('a fact not gathered costs exactly one more round trip, then is cached', async () => {
    const { c, t, host } = fakeHost();
    await host.gather([dpkg]);
    c.facts.set('pid', '4242');
    const pid = defineFact('pid', 'cat /run/glance/glance-api.pid', (raw) => Number(raw.trim()));
    assert.equal(await host.fact(pid), 4242);
    assert.equal(t.stats.roundTrips, 2);
    assert.deepEqual(factSections(t.commands[1]!.source!).map((s) => s.key), ['pid'], 'only the missing fact is asked for');
    assert.equal(await host.fact(pid), 4242);
    assert.equal(t.stats.roundTrips, 2);
  });

  test('a fact asked for while the gathering that reads it is under way waits for it: no second round trip', async () => {
    const { c, t, host } = fakeHost();
    c.facts.set('dpkg', 'glance\n');
    const gathering = host.gather([dpkg]);
    const early = host.fact(dpkg);
    await gathering;
    assert.deepEqual(await early, ['glance']);
    assert.equal(t.stats.roundTrips, 1);
  });

  test('a fact not gathered, asked for twice at once, still costs one round trip', async () => {
    const { c, t, host } = fakeHost();
    await host.gather([]);
    c.facts.set('pid', '4242');
    const pid = defineFact('pid', 'cat /run/glance/glance-api.pid', (raw) => Number(raw.trim()));
    assert.deepEqual(await Promise.all([host.fact(pid), host.fact(pid)]), [4242, 4242]);
    assert.equal(t.stats.roundTrips, 2);
  });

  test('refreshFacts gathers every known fact again (those asked for later included) and parses anew', async () => {
    const { c, t, host } = fakeHost();
    c.facts.set('dpkg', '');
    await host.gather([dpkg]);
    const pid = defineFact('pid', 'cat /run/glance/glance-api.pid', (raw) => Number(raw.trim()));
    c.facts.set('pid', '1');
    await host.fact(pid);
    c.facts.set('dpkg', 'glance-api\n');
    c.facts.set('pid', '2');
    assert.deepEqual(await host.fact(dpkg), [], 'cached until refreshed');
    await host.refreshFacts();
    assert.equal(t.stats.roundTrips, 3);
    assert.deepEqual(factSections(t.commands[2]!.source!).map((s) => s.key), ['os', 'init', 'dpkg', 'pid']);
    assert.deepEqual(await host.fact(dpkg), ['glance-api']);
    assert.equal(await host.fact(pid), 2);
    assert.equal(t.stats.roundTrips, 3);
  });

  test('two facts with one key and different scripts are refused', async () => {
    const { host } = fakeHost();
    const other = defineFact('dpkg', 'dpkg -l', (raw) => raw);
    await assert.rejects(host.gather([dpkg, other]), /two facts are named "dpkg" with different scripts/);
    const { host: h2 } = fakeHost();
    await h2.gather([dpkg]);
    await assert.rejects(h2.fact(other), /two facts are named "dpkg" with different scripts/);
    // The same key with the same script is the same fact: fine.
    await h2.fact(defineFact('dpkg', 'dpkg-query -W', (raw) => raw));
  });

  test('a facts script that does not finish is an error', async () => {
    const { c, host } = fakeHost();
    c.on((cmd) => cmd.kind === 'script', () => ({ code: 137, stdout: '==> os\nNAME=x\n', stderr: '' }));
    await assert.rejects(host.gather([]), /the fact-gathering script did not finish \(exit 137\)/);
  });
});

describe('fake transport tunnels', () => {
  test('reject unless the test gives one, and count as a round trip', async () => {
    const { t } = fakeHost();
    await assert.rejects(t.openUnixSocket('/run/mysqld/mysqld.sock'), (e: unknown) => (e as { step?: string }).step === 'tunnel');
    await assert.rejects(t.openTcp('127.0.0.1', 5000), /fake transport has none/);
    assert.equal(t.stats.roundTrips, 2);
  });
});

interface Session { name: string; closed: number }

function provider(key: string, log: string[], o: { fail?: Error; opened?: Promise<unknown>; stats?: Record<string, number>; closeFails?: 'throws' | 'rejects' } = {}): Provider<Session> & { opens: number } {
  const p = {
    key,
    opens: 0,
    async open(): Promise<Session> {
      p.opens++;
      log.push(`open ${key}`);
      await o.opened;
      if (o.fail) throw o.fail;
      return { name: key, closed: 0 };
    },
    close(s: Session): void | Promise<void> {
      s.closed++;
      log.push(`close ${key}`);
      if (o.closeFails === 'throws') throw new Error(`${key} would not close`);
      if (o.closeFails === 'rejects') return Promise.reject(new Error(`${key} would not close`));
    },
    stats: () => o.stats ?? {},
  };
  return p;
}

describe('Providers', () => {
  test('one open per key, even when asked for at the same time (a twin with the same key is the same session)', async () => {
    const { host } = fakeHost();
    const log: string[] = [];
    const gate = deferred();
    const p = provider('mysql admin', log, { opened: gate.promise });
    const twin = provider('mysql admin', log);
    const ps = new Providers();
    const asked = [ps.use(p, host), ps.use(p, host), ps.use(twin, host)];
    gate.resolve();
    const [a, b, c] = await Promise.all(asked);
    assert.equal(p.opens, 1);
    assert.equal(twin.opens, 0);
    assert.ok(a === b && b === c);
  });

  test('closeAll closes each once, in reverse order of opening, and sums their counters', async () => {
    const { host } = fakeHost();
    const log: string[] = [];
    const ps = new Providers();
    const db = await ps.use(provider('db', log, { stats: { queries: 3 } }), host);
    const ks = await ps.use(provider('keystone', log, { stats: { keystoneRequests: 5, queries: 1 } }), host);
    const reader = await ps.use(provider('keystone reader', log, { stats: { keystoneRequests: 2 } }), host);
    assert.deepEqual(await ps.closeAll(), { queries: 4, keystoneRequests: 7 });
    assert.deepEqual(log.filter((l) => l.startsWith('close')), ['close keystone reader', 'close keystone', 'close db']);
    assert.deepEqual([db.closed, ks.closed, reader.closed], [1, 1, 1]);
    assert.deepEqual(await ps.closeAll(), {}, 'a second closeAll has nothing left to close');
    assert.deepEqual([db.closed, ks.closed, reader.closed], [1, 1, 1]);
  });

  test('a provider that failed to open is not closed and does not break closeAll', async () => {
    const { host } = fakeHost();
    const log: string[] = [];
    const ps = new Providers();
    const db = await ps.use(provider('db', log, { stats: { queries: 1 } }), host);
    // Opened early and never awaited (a warm session): no unhandled rejection either.
    void ps.use(provider('keystone', log, { fail: new Error('401 from keystone'), stats: { keystoneRequests: 9 } }), host);
    await ps.use(provider('glance', log, { stats: { glanceRequests: 1 } }), host);
    assert.deepEqual(await ps.closeAll(), { glanceRequests: 1, queries: 1 });
    assert.deepEqual(log.filter((l) => l.startsWith('close')), ['close glance', 'close db']);
    assert.equal(db.closed, 1);
  });

  test('a close that rejects does not stop the others from closing', async () => {
    const { host } = fakeHost();
    const log: string[] = [];
    const ps = new Providers();
    await ps.use(provider('db', log), host);
    await ps.use(provider('glance', log, { closeFails: 'rejects', stats: { glanceRequests: 1 } }), host);
    assert.deepEqual(await ps.closeAll(), { glanceRequests: 1 });
    assert.deepEqual(log.filter((l) => l.startsWith('close')), ['close glance', 'close db']);
  });

  test('a close that throws does not stop the others from closing', async () => {
    const { host } = fakeHost();
    const log: string[] = [];
    const ps = new Providers();
    await ps.use(provider('db', log), host);
    await ps.use(provider('glance', log, { closeFails: 'throws', stats: { glanceRequests: 1 } }), host);
    assert.deepEqual(await ps.closeAll(), { glanceRequests: 1 });
    assert.deepEqual(log.filter((l) => l.startsWith('close')), ['close glance', 'close db']);
  });

  test('a failed open is the error of everyone who asks, and is not retried', async () => {
    const { host } = fakeHost();
    const ps = new Providers();
    const p = provider('keystone', [], { fail: new Error('401 from keystone') });
    await assert.rejects(ps.use(p, host), /401/);
    await assert.rejects(ps.use(p, host), /401/);
    assert.equal(p.opens, 1);
  });
});
