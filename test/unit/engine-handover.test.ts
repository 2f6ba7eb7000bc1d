// A resource that notifies the handler named in its doneBy hands its change to that handler (a schema
// sync run after the packages and the config): the handler is in the journal before anything of the
// change happens, the resource's own apply is never called, and a run that dies before the handler
// finished leaves it owed, so the next run does it even with nothing else to change.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { apply } from '../../src/engine/apply.ts';
import { EngineError } from '../../src/engine/errors.ts';
import { Bench, JOURNAL_PATH } from './engine-helpers.ts';

const schema = (b: Bench, o: { failApply?: Error } = {}) => b.resource({ id: 'schema', want: 'head', notifies: ['sync', 'restart'], doneBy: 'sync', ...o });

describe('a change handed to a handler', () => {
  test('is written down, then made by the handler once, before the handlers declared after it; never by the resource', async () => {
    const b = new Bench({ schema: 'empty' });
    const w = await b.work('apply', [schema(b)], [b.handler('sync', { sets: { schema: 'head' } }), b.handler('restart')]);
    await apply(w);
    assert.deepEqual(b.applied, [], 'the resource\'s own apply is not called');
    assert.ok(b.at('journal add sync restart') >= 0, b.log.join(' | '));
    assert.ok(b.at('journal add sync restart') < b.at('handler sync'), b.log.join(' | '));
    assert.ok(b.at('handler sync') < b.at('handler restart'), b.log.join(' | '));
    const r = w.report.resources[0]!;
    assert.equal(r.status, 'changed');
    assert.equal(r.why, 'schema is empty: done by sync below');
    assert.equal(r.after?.action, 'none', 'read again after the handlers: the proof holds');
    assert.deepEqual(w.report.handlers.map((h) => [h.name, h.status]), [['sync', 'changed'], ['restart', 'changed']]);
    assert.deepEqual(b.controller.journal(JOURNAL_PATH), []);
  });

  test('stays in the journal while the changes after it are made', async () => {
    const b = new Bench({ schema: 'empty' });
    const w = await b.work('apply', [schema(b), b.resource({ id: 'config', want: 'new' })], [b.handler('sync', { sets: { schema: 'head' } }), b.handler('restart')]);
    await apply(w);
    assert.deepEqual(b.applied.map((a) => [a.id, a.journal]), [['config', ['sync', 'restart']]]);
  });

  test('a run that fails after the hand-over leaves it owed; the next run makes it with nothing else to change', async () => {
    const b = new Bench({ schema: 'empty' });
    const w = await b.work('apply', [schema(b), b.resource({ id: 'config', want: 'new', failApply: new Error('disk full') })],
      [b.handler('sync', { sets: { schema: 'head' } }), b.handler('restart')]);
    await assert.rejects(apply(w), (e: unknown) => e instanceof EngineError && e.step === 'fake config');
    assert.ok(!b.log.includes('handler sync'), 'no handler runs after a failure');
    assert.deepEqual(w.report.handlers.map((h) => [h.name, h.status]), [['sync', 'pending'], ['restart', 'pending']]);
    const left = b.controller.journal(JOURNAL_PATH);
    assert.deepEqual(left, ['sync', 'restart']);

    // The next run: the config was mended by hand, the schema is still empty, the journal holds both.
    const next = new Bench({ schema: 'empty', config: 'new' }, left);
    const w2 = await next.work('apply', [schema(next), next.resource({ id: 'config', want: 'new' })],
      [next.handler('sync', { sets: { schema: 'head' } }), next.handler('restart')]);
    await apply(w2);
    assert.deepEqual(next.log.filter((l) => l.startsWith('handler ')), ['handler sync', 'handler restart']);
    assert.deepEqual(w2.report.handlers.map((h) => [h.name, h.status, h.reason]), [['sync', 'changed', 'left pending by an earlier run'], ['restart', 'changed', 'left pending by an earlier run']]);
    assert.equal(next.world.get('schema'), 'head');
    assert.deepEqual(next.controller.journal(JOURNAL_PATH), []);
  });

  test('a handler that fails making it stays in the journal, and the proof is not reached', async () => {
    const b = new Bench({ schema: 'empty' });
    const w = await b.work('apply', [schema(b)], [b.handler('sync', { fail: new Error('db_sync failed (exit 1)') }), b.handler('restart')]);
    await assert.rejects(apply(w), (e: unknown) => e instanceof EngineError && e.step === 'handler sync');
    assert.deepEqual(b.controller.journal(JOURNAL_PATH), ['sync', 'restart']);
    assert.equal(w.report.resources[0]!.after, undefined);
  });

  test('a doneBy the resource does not notify keeps today\'s meaning: not notified, the resource applies its own change', async () => {
    const b = new Bench({ service: 'stopped' });
    const w = await b.work('apply', [b.resource({ id: 'service', want: 'running', doneBy: 'restart' })], [b.handler('restart')]);
    await apply(w);
    assert.deepEqual(b.applied.map((a) => a.id), ['service']);
    assert.ok(!b.log.some((l) => l.startsWith('journal add')), b.log.join(' | '));
  });
});
