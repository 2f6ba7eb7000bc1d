// Durable handlers: a notified handler is written to the journal on the target before the change that
// needs it, crossed out only after it ran; what a failed or dead run leaves there runs next time; a
// name this playbook does not declare is reported and left alone; handlers run once each, in the
// playbook's order.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { apply } from '../../src/engine/apply.ts';
import { EngineError } from '../../src/engine/errors.ts';
import { Bench, JOURNAL_PATH } from './engine-helpers.ts';
import { fail, journalCommand } from './fake-transport.ts';

describe('journal', () => {
  test('a notified handler is written to the journal before the change that needs it is applied', async () => {
    const b = new Bench();
    const w = await b.work('apply', [b.resource({ id: 'config', want: 'new', notifies: ['restart-api'] })], [b.handler('restart-api')]);
    await apply(w);
    const add = b.t.commands.find((c) => journalCommand(c)?.op === 'add');
    assert.ok(add, 'an ADD command was sent');
    assert.deepEqual([add.argv[0], add.argv[1], ...add.argv.slice(3)], ['sh', '-c', 'journal', JOURNAL_PATH, 'restart-api'], 'the name is an argument, not part of the script');
    assert.ok(!add.argv[2]!.includes('restart-api'));
    assert.ok(b.at('journal add restart-api') < b.at('apply config start'), b.log.join(' | '));
    assert.deepEqual(b.applied[0]!.journal, ['restart-api'], 'the target held the name when the change began');
  });

  test('crossed out only after the handler succeeded', async () => {
    const b = new Bench();
    const w = await b.work('apply', [b.resource({ id: 'config', want: 'new', notifies: ['restart-api'] })], [b.handler('restart-api')]);
    await apply(w);
    assert.ok(b.at('handler restart-api') >= 0);
    assert.ok(b.at('handler restart-api') < b.at('journal remove restart-api'), b.log.join(' | '));
    assert.deepEqual(b.controller.journal(JOURNAL_PATH), []);
    assert.deepEqual(w.report.handlers, [{ name: 'restart-api', status: 'changed', reason: 'fake config changed', ms: w.report.handlers[0]!.ms }]);
  });

  test('a failing handler stays in the journal, reported failed; the handlers after it are pending and not run', async () => {
    const b = new Bench();
    const w = await b.work('apply', [b.resource({ id: 'config', want: 'new', notifies: ['restart-api', 'restart-registry'] })],
      [b.handler('restart-api', { fail: Object.assign(new Error('glance-api did not answer on :9292'), { hint: 'see its log' }) }), b.handler('restart-registry')]);
    await assert.rejects(apply(w), (e: unknown) => e instanceof EngineError && e.step === 'handler restart-api' && e.hint === 'see its log');
    assert.deepEqual(w.report.handlers.map((h) => [h.name, h.status]), [['restart-api', 'failed'], ['restart-registry', 'pending']]);
    assert.match(w.report.handlers[0]!.reason, /stays in the journal for the next run/);
    assert.ok(!b.log.includes('handler restart-registry'));
    assert.ok(!b.log.some((l) => l.startsWith('journal remove')), b.log.join(' | '));
    assert.deepEqual(b.controller.journal(JOURNAL_PATH), ['restart-api', 'restart-registry']);
  });

  test('after a failure among the resources, the handlers owed are reported pending and not run', async () => {
    const b = new Bench();
    const w = await b.work('apply', [
      b.resource({ id: 'config', want: 'new', notifies: ['restart-api'] }),
      b.resource({ id: 'schema', want: 'head', failApply: new Error('db_sync failed') }),
    ], [b.handler('restart-api')]);
    await assert.rejects(apply(w), (e: unknown) => e instanceof EngineError && e.step === 'fake schema');
    assert.deepEqual(w.report.handlers, [{ name: 'restart-api', status: 'pending', reason: 'fake config changed; stays in the journal for the next run' }]);
    assert.ok(!b.log.includes('handler restart-api'));
    assert.deepEqual(b.controller.journal(JOURNAL_PATH), ['restart-api']);
  });

  test('a name the playbook does not declare is reported in notes, not run, never removed', async () => {
    const b = new Bench({}, ['restart-nova-api', 'restart-api']);
    const w = await b.work('apply', [b.resource({ id: 'config', want: 'new', notifies: ['restart-api'] })], [b.handler('restart-api')]);
    await apply(w);
    assert.deepEqual(w.report.notes, [`the journal ${JOURNAL_PATH} holds "restart-nova-api", which this playbook does not run: left there`]);
    assert.ok(!w.report.handlers.some((h) => h.name === 'restart-nova-api'));
    const removed = b.t.commands.map(journalCommand).filter((j) => j?.op === 'remove').map((j) => j!.names[0]);
    assert.deepEqual(removed, ['restart-api'], 'only the handler that ran is crossed out');
    assert.deepEqual(b.controller.journal(JOURNAL_PATH), ['restart-nova-api']);
  });

  test('a declared name left in the journal runs, even with nothing to change', async () => {
    const b = new Bench({ config: 'new' }, ['restart-api']);
    const w = await b.work('apply', [b.resource({ id: 'config', want: 'new', notifies: ['restart-api'] })], [b.handler('restart-api'), b.handler('restart-registry')]);
    await apply(w);
    assert.deepEqual(b.applied, []);
    assert.ok(!b.log.some((l) => l.startsWith('journal add')));
    assert.deepEqual(w.report.handlers.map((h) => [h.name, h.status, h.reason]), [['restart-api', 'changed', 'left pending by an earlier run']]);
    assert.deepEqual(b.controller.journal(JOURNAL_PATH), []);
  });

  test('a journal that cannot be written fails the resource before its change', async () => {
    const b = new Bench();
    b.controller.on((c) => journalCommand(c)?.op === 'add', () => fail('mkdir: cannot create directory: Read-only file system'));
    const w = await b.work('apply', [b.resource({ id: 'config', want: 'new', notifies: ['restart-api'] })], [b.handler('restart-api')]);
    await assert.rejects(apply(w), (e: unknown) => e instanceof EngineError && e.step === 'fake config' && /Read-only file system/.test(e.message));
    assert.deepEqual(b.applied, [], 'the change was not made');
  });

  test('a handler whose journal write failed is not reported as staying in the journal', async () => {
    const b = new Bench();
    b.controller.on((c) => journalCommand(c)?.op === 'add', () => fail('Read-only file system'));
    const w = await b.work('apply', [b.resource({ id: 'config', want: 'new', notifies: ['restart-api'] })], [b.handler('restart-api')]);
    await assert.rejects(apply(w));
    assert.deepEqual(b.controller.journal(JOURNAL_PATH), []);
    assert.deepEqual(w.report.handlers.filter((h) => /stays in the journal/.test(h.reason)), []);
  });

  test('beside another lane notifying the same handler, a change still waits until the journal holds it', async () => {
    const b = new Bench();
    const w = await b.work('apply', [
      b.resource({ id: 'packages', want: 'installed', lane: 'packages', notifies: ['restart-api'] }),
      b.resource({ id: 'config', want: 'new', lane: 'config', notifies: ['restart-api'] }),
    ], [b.handler('restart-api')]);
    await apply(w);
    for (const a of b.applied) assert.deepEqual(a.journal, ['restart-api'], `${a.id} began with the handler in the journal`);
  });
});

describe('handlers', () => {
  test('run in the declared order, each once, whatever order the notifications came in', async () => {
    const b = new Bench();
    const w = await b.work('apply', [
      b.resource({ id: 'r1', want: 'x', notifies: ['h3'] }),
      b.resource({ id: 'r2', want: 'x', notifies: ['h1', 'h3'] }),
      b.resource({ id: 'r3', want: 'x', notifies: ['h1'] }),
    ], [b.handler('h1'), b.handler('h2'), b.handler('h3')]);
    await apply(w);
    assert.deepEqual(b.log.filter((l) => l.startsWith('handler ')), ['handler h1', 'handler h3']);
    assert.deepEqual(b.log.filter((l) => l.startsWith('journal add')), ['journal add h3', 'journal add h1'], 'each name written once');
    assert.deepEqual(w.report.handlers.map((h) => [h.name, h.reason]), [['h1', 'fake r2 changed'], ['h3', 'fake r1 changed']]);
  });

  test('a handler owed by the journal and by a change runs once', async () => {
    const b = new Bench({}, ['h1']);
    const w = await b.work('apply', [b.resource({ id: 'r1', want: 'x', notifies: ['h1'] })], [b.handler('h1')]);
    await apply(w);
    assert.deepEqual(b.log.filter((l) => l.startsWith('handler ')), ['handler h1']);
    assert.ok(!b.log.some((l) => l.startsWith('journal add')), 'already in the journal: not written again');
    assert.deepEqual(b.applied[0]!.journal, ['h1']);
  });
});
