// The engine's preflight: a playbook's checks run beside the plan's reads, from the facts of the one
// round trip (facts may depend on the settings); a problem is a plan's error, stops an apply before its
// first change (the resources read, none applied), and explains a read that failed for the same cause;
// without problems the run goes on as before; verify runs none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runHost } from '../../src/engine/run-host.ts';
import { formatHost, hostExitStatus } from '../../src/engine/report.ts';
import { defineFact } from '../../src/engine/facts.ts';
import type { Playbook, PreflightProblem } from '../../src/engine/playbook.ts';
import type { Resource } from '../../src/engine/resource.ts';
import type { Mode } from '../../src/engine/report-model.ts';
import { FakeController, FakeTransport, factSections } from './fake-transport.ts';
import { OS_RELEASE, JOURNAL_PATH } from './engine-helpers.ts';

interface Settings { name: string }

/** A playbook of one resource (`value` wanted), a fact named by the settings, and the given preflight. */
function setup(o: { preflight?: (seen: string) => PreflightProblem[]; failRead?: Error; world?: string } = {}) {
  const c = new FakeController({ '/etc/os-release': OS_RELEASE });
  const transports: FakeTransport[] = [];
  const applied: string[] = [];
  const calls: string[] = [];
  let world = o.world;
  const nameFact = (n: string) => defineFact(`name ${n}`, `getent hosts '${n}'`, (raw) => raw.trim());
  const resource: Resource<string | undefined, string> = {
    kind: 'fake', id: 'r',
    read: async () => {
      calls.push('read');
      if (o.failRead) throw o.failRead;
      return world;
    },
    diff: (cur) => (cur === 'value' ? { action: 'none', changes: [], why: 'r is value', ops: [] } : { action: 'create', changes: [{ field: 'value', to: 'value' }], why: 'r is missing', ops: ['set'] }),
    apply: async () => {
      applied.push('r');
      world = 'value';
    },
  };
  const playbook: Playbook<Settings> = {
    id: 'fake', describe: 'a fake', options: [], secrets: [],
    facts: (s) => [nameFact(s.name)],
    profiles: { bookworm: { id: 'bookworm' } },
    profileFor: () => ({ id: 'bookworm' }),
    settings: () => ({ name: 'controller' }),
    resources: () => [resource],
    handlers: () => [],
    check: { quick: async () => ({ kind: 'list', ok: true, ms: 0, summary: 'ok' }), full: async () => ({ kind: 'upload', ok: true, ms: 0, summary: 'ok' }) },
    ...(o.preflight ? {
      preflight: async (ctx) => {
        calls.push('preflight');
        return o.preflight!(await ctx.host.fact(nameFact(ctx.settings.name)));
      },
    } : {}),
  };
  c.facts.set('name controller', '10.0.0.11 controller');
  const run = (mode: Mode) => runHost({ name: 'controller', host: 'controller' }, {
    mode, playbook, settings: { name: 'controller' }, journalPath: JOURNAL_PATH, progress: () => {},
    secrets: { load: async () => ({}), forget: async () => {}, keep: async () => {}, where: () => 'nowhere' },
    connect: async () => {
      transports.push(new FakeTransport({ answer: c.answer }));
      return transports.at(-1)!;
    },
  });
  return { c, get t() { return transports.at(-1)!; }, run, applied, calls };
}

const noRoom: PreflightProblem = { check: 'disk', message: '/ has 10 MiB free; it needs 1024 MiB', hint: 'free space on /' };
const clock: PreflightProblem = { check: 'clock', message: 'the clock is 2 h ahead', hint: 'set the clock' };

test('facts named by the settings are gathered in the one round trip, and the preflight reads them from it', async () => {
  let seen = '';
  const s = setup({ preflight: (v) => { seen = v; return []; }, world: 'value' });
  const r = await s.run('apply');
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(seen, '10.0.0.11 controller');
  assert.equal(s.t.stats.roundTrips, 1, 'no round trip of its own');
  assert.ok(factSections(s.t.commands[0]!.source!).some((x) => x.key === 'name controller'));
  assert.equal(r.preflight, undefined);
});

test('a plan reports every problem as its error, with each fix, after the resources it read; exit 1', async () => {
  const s = setup({ preflight: () => [noRoom, clock] });
  const r = await s.run('plan');
  assert.equal(r.error?.step, 'preflight');
  assert.deepEqual(r.preflight, [noRoom, clock]);
  assert.equal(r.resources.length, 1, 'the plan still shows what it would change');
  assert.equal(hostExitStatus(r), 1);
  assert.equal(r.error?.hint, 'do what each check says, then run again');
  const text = formatHost(r);
  assert.match(text, /error at preflight: 2 checks failed before any change \(nothing was changed\):\n {4}- disk: \/ has 10 MiB free; it needs 1024 MiB\n {4}  what to do: free space on \/\n {4}- clock: the clock is 2 h ahead\n {4}  what to do: set the clock\n/);
});

test('an apply reads everything, then stops before its first change; one problem\'s hint is the error\'s', async () => {
  const s = setup({ preflight: () => [noRoom] });
  const r = await s.run('apply');
  assert.equal(r.error?.step, 'preflight');
  assert.equal(r.error?.hint, 'free space on /');
  assert.equal(r.error?.message, 'the disk check failed before any change (nothing was changed): / has 10 MiB free; it needs 1024 MiB');
  assert.deepEqual(s.applied, [], 'nothing was applied');
  assert.deepEqual(s.calls.sort(), ['preflight', 'read']);
  assert.equal(r.changed, 0);
  assert.equal(r.verify, undefined);
});

test('a read that failed for the same cause is explained by the preflight (its error kept as the cause)', async () => {
  const s = setup({ preflight: () => [{ check: 'mariadb', message: 'MariaDB does not answer', hint: 'start it' }], failRead: new Error('connect ECONNREFUSED /run/mysqld/mysqld.sock') });
  for (const mode of ['plan', 'apply'] as const) {
    const r = await s.run(mode);
    assert.equal(r.error?.step, 'preflight', mode);
    assert.match(r.error!.message, /the mariadb check failed before any change \(nothing was changed\): MariaDB does not answer/);
  }
  // Without a preflight problem the read's own error stands.
  const plain = setup({ preflight: () => [], failRead: Object.assign(new Error('no such table'), { hint: 'look' }) });
  const r = await plain.run('apply');
  assert.equal(r.error?.message, 'no such table');
  assert.equal(r.preflight, undefined);
});

test('no problem: the apply goes on; a preflight that throws is one problem; verify runs none', async () => {
  const ok = setup({ preflight: () => [] });
  const r = await ok.run('apply');
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.deepEqual(ok.applied, ['r']);
  const broken = setup({ preflight: () => { throw Object.assign(new Error('boom'), { hint: 'fix the playbook' }); } });
  const b = await broken.run('apply');
  assert.deepEqual(b.preflight, [{ check: 'preflight', message: 'the preflight failed: boom', hint: 'fix the playbook' }]);
  assert.deepEqual(broken.applied, []);
  const v = setup({ preflight: () => [noRoom] });
  const vr = await v.run('verify');
  assert.equal(vr.error, undefined);
  assert.ok(!v.calls.includes('preflight'));
});
