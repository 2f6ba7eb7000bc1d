// What a run tells while it goes (src/engine/events.ts): each resource as soon as it is done (not when
// the host ends), the plan of an apply before anything is touched, each host's end, and with a trace
// listener every remote command, write and API call with its outcome and time, no secret in any of it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { plan, apply } from '../../src/engine/apply.ts';
import { runHost } from '../../src/engine/run-host.ts';
import type { RunEvents } from '../../src/engine/events.ts';
import type { Playbook } from '../../src/engine/playbook.ts';
import type { HostReport, ResourceResult } from '../../src/engine/report-model.ts';
import type { Resource } from '../../src/engine/resource.ts';
import { tracedTransport } from '../../src/engine/traced-transport.ts';
import { ApiCaller } from '../../src/clients/api-call.ts';
import { TransportError } from '../../src/transport/errors.ts';
import type { TraceEvent } from '../../src/trace.ts';
import { Secret, SecretText } from '../../src/secret.ts';
import { Bench, deferred, until, OS_RELEASE, JOURNAL_PATH } from './engine-helpers.ts';
import { FakeController, FakeTransport } from './fake-transport.ts';

/** Every event, as one line each, in the order told. */
function recorder(): { events: RunEvents; seen: string[]; results: ResourceResult[] } {
  const seen: string[] = [];
  const results: ResourceResult[] = [];
  return {
    seen,
    results,
    events: {
      planned: (h, changes, owed) => seen.push(`planned ${changes.map((c) => `${c.action} ${c.id}`).join(', ')}${owed.length ? ` owed ${owed.join(' ')}` : ''}`),
      resource: (h, r) => { seen.push(`${r.status} ${r.id}`); results.push({ ...r }); },
      done: (h) => seen.push(`done ${h.host}`),
    },
  };
}

describe('plan: each resource is told as soon as it and those before it are read', () => {
  test('in the playbook order, without waiting for a slower read after it; every result has its time', async () => {
    const b = new Bench({ a: 'x', b: 'old' });
    const gateA = deferred();
    const gateC = deferred();
    const rec = recorder();
    const w = await b.work('plan', [
      b.resource({ id: 'a', want: 'x', readGate: gateA.promise }),
      b.resource({ id: 'b', want: 'new' }),
      b.resource({ id: 'c', want: 'y', readGate: gateC.promise }),
    ], []);
    w.events = rec.events;
    const running = plan(w);
    await until(() => b.log.includes('read c'), 'every read has started');
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(rec.seen, [], 'b is read, but a before it is not: nothing told yet');
    gateA.resolve();
    await until(() => rec.seen.length === 2, 'a and b told while c is still being read');
    assert.deepEqual(rec.seen, ['ok a', 'pending b']);
    gateC.resolve();
    await running;
    assert.deepEqual(rec.seen, ['ok a', 'pending b', 'pending c']);
    assert.deepEqual(w.report.resources.map((r) => r.id), ['a', 'b', 'c']);
    for (const r of w.report.resources) assert.ok(Number.isInteger(r.ms) && r.ms >= 0);
    assert.ok(w.report.resources[0]!.ms >= 4, `a's time covers its slow read (${w.report.resources[0]!.ms} ms)`);
  });

  test('after a read fails, reads still under way are neither told nor reported', async () => {
    const b = new Bench({});
    const slow = deferred();
    const rec = recorder();
    const w = await b.work('plan', [
      b.resource({ id: 'fast', want: 'x' }),
      b.resource({ id: 'broken', want: 'x', failRead: new Error('cannot read') }),
      b.resource({ id: 'slow', want: 'x', readGate: slow.promise }),
    ], []);
    w.events = rec.events;
    await assert.rejects(plan(w), /cannot read/);
    slow.resolve();
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(rec.seen, ['pending fast']);
    assert.deepEqual(w.report.resources.map((r) => r.id), ['fast']);
  });
});

describe('apply: the plan first, then each resource as it finishes', () => {
  test('planned before the first change; a resource is told before the ones after it are applied and before the handlers', async () => {
    const b = new Bench({ a: 'x', b: 'old' }, ['restart']);
    const gateC = deferred();
    const rec = recorder();
    const w = await b.work('apply', [
      b.resource({ id: 'a', want: 'x' }),
      b.resource({ id: 'b', want: 'new', notifies: ['restart'] }),
      b.resource({ id: 'c', want: 'new', gate: gateC.promise }),
    ], [b.handler('restart')]);
    w.events = rec.events;
    const running = apply(w);
    await until(() => b.log.includes('apply c start'), 'c is being applied');
    assert.deepEqual(rec.seen, ['planned update b, create c owed restart', 'ok a', 'changed b'], 'a and b told while c still runs');
    assert.ok(!b.log.includes('handler restart'));
    gateC.resolve();
    await running;
    assert.deepEqual(rec.seen.slice(3), ['changed c']);
    const told = Object.fromEntries(rec.results.map((r) => [r.id, r]));
    assert.equal(told.b!.why, 'b is old');
    // The time of each: its read, and for a change its change (c waited on its gate).
    for (const r of w.report.resources) assert.ok(Number.isInteger(r.ms) && r.ms >= 0, `${r.id} has ms`);
  });

  test('lanes side by side: told in the playbook order, a later lane\'s result waits for the earlier one', async () => {
    const b = new Bench({});
    const gateX = deferred();
    const rec = recorder();
    const w = await b.work('apply', [
      b.resource({ id: 'x', want: '1', lane: 'A', gate: gateX.promise }),
      b.resource({ id: 'y', want: '2', lane: 'B' }),
      b.resource({ id: 'z', want: '3' }),
    ], []);
    w.events = rec.events;
    const running = apply(w);
    await until(() => b.log.includes('apply y end'), 'y is applied while x waits');
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(rec.seen, ['planned create x, create y, create z'], 'y is done but x, before it, is not');
    gateX.resolve();
    await running;
    assert.deepEqual(rec.seen.slice(1), ['changed x', 'changed y', 'changed z']);
  });

  test('a failure: the failed resource is told, then the ones never reached as skipped, each with its time', async () => {
    const b = new Bench({});
    const rec = recorder();
    const w = await b.work('apply', [
      b.resource({ id: 'a', want: 'x', failApply: new Error('disk full') }),
      b.resource({ id: 'b', want: 'y' }),
    ], []);
    w.events = rec.events;
    await assert.rejects(apply(w), /disk full/);
    assert.deepEqual(rec.seen, ['planned create a, create b', 'failed a', 'skipped b']);
    assert.equal(rec.results[0]!.error, 'disk full');
    for (const r of w.report.resources) assert.equal(typeof r.ms, 'number');
  });

  test('nothing to change: no plan is told, each resource is told ok', async () => {
    const b = new Bench({ a: 'x' });
    const rec = recorder();
    const w = await b.work('apply', [b.resource({ id: 'a', want: 'x' })], []);
    w.events = rec.events;
    await apply(w);
    assert.deepEqual(rec.seen, ['ok a']);
  });

  test('a listener that throws does not fail the run', async () => {
    const b = new Bench({});
    const w = await b.work('apply', [b.resource({ id: 'a', want: 'x' })], []);
    w.events = { planned: () => { throw new Error('display bug'); }, resource: () => { throw new Error('display bug'); } };
    await apply(w);
    assert.equal(w.report.changed, 1);
    assert.equal(b.world.get('a'), 'x');
  });
});

/** A one-resource playbook whose resource runs a command and writes a file holding a secret. */
function playbook(secret: Secret): Playbook<Record<string, never>> {
  const res: Resource<string, string> = {
    kind: 'file', id: '/etc/app.conf',
    read: async (host) => (await host.t.exec(['cat', '/etc/app.conf'])).stdout,
    diff: (cur) => (cur === 'done' ? { action: 'none', changes: [], why: 'written', ops: [] } : { action: 'create', changes: [{ field: 'file', to: 'done' }], why: 'missing', ops: ['write'] }),
    apply: async (host) => {
      await host.t.exec(['tee', '/tmp/x'], { stdin: secret.reveal() });
      await host.t.writeFileAtomic('/etc/app.conf', new SecretText(['password = ', secret]), 'root:app', 0o640);
    },
  };
  return {
    id: 'fake', describe: 'fake', profiles: { p: { id: 'p' } }, profileFor: () => ({ id: 'p' }), options: [], settings: () => ({}),
    secrets: [], facts: [], resources: () => [res], handlers: () => [],
  };
}

describe('runHost: done and trace', () => {
  const secret = new Secret('TRACE-SECRET-7731');
  function run(events: RunEvents, connect?: () => Promise<FakeTransport>) {
    const c = new FakeController({ '/etc/os-release': OS_RELEASE });
    c.on((cmd) => cmd.argv[0] === 'cat' && cmd.argv[1] === '/etc/app.conf', () => ({ code: 0, stdout: c.files.has('/etc/app.conf') ? 'done' : '', stderr: '' }));
    c.on((cmd) => cmd.argv[0] === 'tee', () => ({ code: 0, stdout: '', stderr: '' }));
    return runHost({ name: 'ctl', host: '10.0.0.9' }, {
      mode: 'apply', playbook: playbook(secret), settings: {}, secrets: { load: async () => ({}), keep: async () => {}, where: () => '', forget: async () => {} }, journalPath: JOURNAL_PATH,
      progress: () => {}, events, connect: connect ?? (async () => new FakeTransport({ answer: c.answer })),
    });
  }

  test('every command, script and write is traced with its outcome and time; stdin and file contents never are', async () => {
    const traced: TraceEvent[] = [];
    const done: HostReport[] = [];
    const report = await run({ trace: (host, e) => { assert.equal(host, 'ctl'); traced.push(e); }, done: (h) => done.push(h) });
    assert.equal(report.error, undefined, JSON.stringify(report.error));
    assert.deepEqual(done, [report], 'done is told once, with the whole report');
    const kinds = traced.map((e) => e.kind);
    assert.equal(kinds[0], 'connect');
    assert.equal(traced[0]!.what, 'root@10.0.0.9:22');
    assert.ok(traced.some((e) => e.kind === 'script' && e.what.startsWith('sh -s <<facts: os, init, ')), 'the facts script, by its facts');
    assert.ok(traced.some((e) => e.kind === 'exec' && e.what === 'cat /etc/app.conf' && e.outcome === 'exit 0'));
    assert.ok(traced.some((e) => e.kind === 'exec' && e.what === 'tee /tmp/x (with input on stdin)'));
    assert.ok(traced.some((e) => e.kind === 'write' && e.what === '/etc/app.conf (root:app 0640)' && e.outcome === 'written'));
    for (const e of traced) assert.ok(Number.isInteger(e.ms) && e.ms >= 0);
    assert.ok(!JSON.stringify(traced).includes(secret.reveal()), 'no secret in a trace');
  });

  test('without a trace listener the transport is not wrapped (no cost)', async () => {
    let given: FakeTransport | undefined;
    const c = new FakeController({ '/etc/os-release': OS_RELEASE });
    c.on((cmd) => cmd.kind === 'exec', () => ({ code: 0, stdout: 'done', stderr: '' }));
    await runHost({ name: 'ctl', host: 'h' }, {
      mode: 'plan', playbook: playbook(secret), settings: {}, secrets: { load: async () => ({}), keep: async () => {}, where: () => '', forget: async () => {} }, journalPath: JOURNAL_PATH,
      progress: () => {}, connect: async () => (given = new FakeTransport({ answer: c.answer })),
    });
    assert.ok(given && given.stats.commands > 0);
  });

  test('a host that cannot be reached: unreachable, the failed connect traced, done told', async () => {
    const traced: TraceEvent[] = [];
    const done: HostReport[] = [];
    const report = await run({ trace: (_h, e) => traced.push(e), done: (h) => done.push(h) },
      () => Promise.reject(new TransportError('10.0.0.9', 'connect', 'cannot reach 10.0.0.9 (ECONNREFUSED)', 'check the address')));
    assert.equal(report.unreachable, true);
    assert.equal(report.error?.step, 'connect');
    assert.deepEqual(traced.map((e) => [e.kind, e.outcome]), [['connect', 'failed: cannot reach 10.0.0.9 (ECONNREFUSED)']]);
    assert.equal(done.length, 1);
  });

  test('a host reached that then fails is not unreachable', async () => {
    const c = new FakeController({});
    const report = await runHost({ name: 'ctl', host: 'h' }, {
      mode: 'plan', playbook: { ...playbook(secret), profileFor: () => undefined }, settings: {}, secrets: { load: async () => ({}), keep: async () => {}, where: () => '', forget: async () => {} },
      journalPath: JOURNAL_PATH, progress: () => {}, connect: async () => new FakeTransport({ answer: c.answer }),
    });
    assert.equal(report.error?.step, 'release');
    assert.equal(report.unreachable, undefined);
  });
});

describe('API calls on a traced transport', () => {
  let server: http.Server;
  let port = 0;
  before(async () => {
    server = http.createServer((req, res) => {
      res.statusCode = req.url?.startsWith('/v3/missing') ? 404 : 200;
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));

  test('method, URL (a credential in a query masked), status and time; the body never', async () => {
    const c = new FakeController({});
    const inner = new FakeTransport({ answer: c.answer, openTcp: async () => net.connect(port, '127.0.0.1') });
    const traced: TraceEvent[] = [];
    const t = tracedTransport(inner, (e) => traced.push(e));
    const api = new ApiCaller(t, {
      api: 'Test', daemon: 'test-api', base: `http://controller:${port}/v3`,
      makeError: (m) => Object.assign(new Error(m), { hint: '' }) as never, connectHint: () => '', timeoutHint: '',
    });
    const password = new Secret('BODY-SECRET-4410');
    await api.send('POST', '/auth/tokens', { json: { password } });
    await api.send('GET', '/missing?name=glance&password=hunter2');
    assert.deepEqual(traced.map((e) => [e.kind, e.what, e.outcome]), [
      ['api', `POST http://controller:${port}/v3/auth/tokens`, '200'],
      ['api', `GET http://controller:${port}/v3/missing?name=glance&password=***`, '404'],
    ]);
    assert.ok(!JSON.stringify(traced).includes('BODY-SECRET') && !JSON.stringify(traced).includes('hunter2'));
  });

  test('on an untraced transport nothing is traced and nothing breaks', async () => {
    const c = new FakeController({});
    const inner = new FakeTransport({ answer: c.answer, openTcp: async () => net.connect(port, '127.0.0.1') });
    const api = new ApiCaller(inner, {
      api: 'Test', daemon: 'test-api', base: `http://controller:${port}`,
      makeError: (m) => Object.assign(new Error(m), { hint: '' }) as never, connectHint: () => '', timeoutHint: '',
    });
    assert.equal((await api.send('GET', '/')).status, 200);
  });
});
