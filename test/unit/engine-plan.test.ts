// The engine's plan: every resource read side by side, nothing applied, counts and the handlers a run
// would owe (changes' notifications and the journal's leftovers) in the playbook's order; a playbook
// that names a handler it does not declare is refused before anything is read.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { plan, apply } from '../../src/engine/apply.ts';
import { EngineError } from '../../src/engine/errors.ts';
import { Bench, JOURNAL_PATH, until } from './engine-helpers.ts';

describe('plan', () => {
  test('reads every resource side by side', async () => {
    const b = new Bench();
    // Each read waits until all three have started: reads one after another would never get there.
    const allStarted = until(() => b.log.filter((l) => l.startsWith('read ')).length === 3, 'all three reads started');
    const rs = ['a', 'b', 'c'].map((id) => b.resource({ id, want: 'x', readGate: allStarted }));
    const w = await b.work('plan', rs, []);
    await plan(w);
    assert.deepEqual(w.report.resources.map((r) => r.id), ['a', 'b', 'c'], 'reported in the playbook\'s order');
  });

  test('never applies, writes no journal, sends nothing to the host', async () => {
    const b = new Bench({ b: 'old' });
    const w = await b.work('plan', [
      b.resource({ id: 'a', want: 'x', notifies: ['h1'] }),
      b.resource({ id: 'b', want: 'x', notifies: ['h1'] }),
    ], [b.handler('h1')]);
    const sent = b.t.commands.length;
    await plan(w);
    assert.deepEqual(b.applied, []);
    assert.equal(b.world.get('b'), 'old');
    assert.equal(b.world.has('a'), false);
    assert.equal(b.t.commands.length, sent, 'no remote command: no journal write, no handler');
    assert.equal(b.controller.files.has(JOURNAL_PATH), false);
    assert.ok(!b.log.some((l) => l.startsWith('handler ')), `no handler ran: ${b.log.join(' | ')}`);
  });

  test('counts ok and changed, each resource with its action and status', async () => {
    const b = new Bench({ a: 'x', b: 'old', d: 'x' });
    const w = await b.work('plan', ['a', 'b', 'c', 'd'].map((id) => b.resource({ id, want: 'x' })), []);
    await plan(w);
    assert.equal(w.report.ok, 2);
    assert.equal(w.report.changed, 2);
    assert.deepEqual(w.report.resources.map((r) => [r.id, r.action, r.status]), [
      ['a', 'none', 'ok'], ['b', 'update', 'pending'], ['c', 'create', 'pending'], ['d', 'none', 'ok'],
    ]);
    assert.deepEqual(w.report.resources[1]!.changes, [{ field: 'value', from: 'old', to: 'x' }]);
  });

  test('lists the handlers owed (notified by a change, or left in the journal) in the declared order', async () => {
    const b = new Bench({ quiet: 'x' }, ['h4']);
    const w = await b.work('plan', [
      b.resource({ id: 'late', want: 'x', notifies: ['h3'] }),
      b.resource({ id: 'early', want: 'x', notifies: ['h2', 'h3'] }),
      b.resource({ id: 'quiet', want: 'x', notifies: ['h1'] }),
    ], [b.handler('h1'), b.handler('h2'), b.handler('h3'), b.handler('h4')]);
    await plan(w);
    assert.deepEqual(w.report.handlers, [
      { name: 'h2', status: 'pending', reason: 'fake early changes' },
      { name: 'h3', status: 'pending', reason: 'fake late changes' },
      { name: 'h4', status: 'pending', reason: 'left pending by an earlier run' },
    ]);
  });
});

describe('a handler the playbook does not declare', () => {
  for (const mode of ['plan', 'apply'] as const) {
    test(`${mode}: notified by a resource, it is an error before anything is read`, async () => {
      const b = new Bench();
      const w = await b.work(mode, [b.resource({ id: 'a', want: 'x' }), b.resource({ id: 'b', want: 'x', notifies: ['h1', 'restart-nothing'] })], [b.handler('h1')]);
      await assert.rejects(mode === 'plan' ? plan(w) : apply(w), (e: unknown) => {
        assert.ok(e instanceof EngineError);
        assert.equal(e.step, 'playbook');
        assert.match(e.message, /fake b names the handler "restart-nothing", which the playbook does not declare/);
        return true;
      });
      assert.deepEqual(b.log, [], 'nothing read, nothing sent');
    });
  }

  test('named as doneBy, it is the same error', async () => {
    const b = new Bench();
    const w = await b.work('apply', [b.resource({ id: 's', want: 'running', doneBy: 'restart-s' })], []);
    await assert.rejects(apply(w), (e: unknown) => e instanceof EngineError && e.step === 'playbook' && /restart-s/.test(e.message));
    assert.deepEqual(b.log, []);
  });
});

test('a read that fails names the resource as the step and keeps the cause\'s hint', async () => {
  const b = new Bench();
  const cause = Object.assign(new Error('keystone answered 503'), { hint: 'check that keystone runs' });
  const w = await b.work('plan', [b.resource({ id: 'a', want: 'x' }), b.resource({ id: 'b', want: 'x', failRead: cause })], []);
  await assert.rejects(plan(w), (e: unknown) => {
    assert.ok(e instanceof EngineError);
    assert.equal(e.step, 'fake b');
    assert.equal(e.message, 'keystone answered 503');
    assert.equal(e.hint, 'check that keystone runs');
    return true;
  });
});
