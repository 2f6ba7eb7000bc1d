// A handler that fails after this run's changes asked for it: the changes whose resources can put them
// back are put back (only what existed before the run), the handler runs again on them, and the report
// and the error say which happened; the handler stays owed in the journal whatever happened.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { apply, type HostWork } from '../../src/engine/apply.ts';
import { EngineError } from '../../src/engine/errors.ts';
import { TransportError } from '../../src/transport/errors.ts';
import { Bench, JOURNAL_PATH } from './engine-helpers.ts';

const restartFailsOn = (bad: string) => (world: ReadonlyMap<string, string>) =>
  world.get('conf') === bad ? new EngineError('service api', `api stopped 1.0 s after it was started\nERROR: Value for option x is not valid: '${bad}'`, 'fix what it says') : undefined;

async function applyFails(w: HostWork): Promise<EngineError> {
  const e = await apply(w).then(() => undefined, (x: unknown) => x);
  assert.ok(e instanceof EngineError, `apply should fail, got ${String(e)}`);
  return e;
}

describe('rollback after a failed handler', () => {
  test('a changed file is put back and the handler runs again on it: the host serves as before; the handler stays owed', async () => {
    const b = new Bench({ conf: 'old' });
    const w = await b.work('apply', [b.resource({ id: 'conf', want: 'new', notifies: ['restart'], rollback: true })], [b.handler('restart', { failWhen: restartFailsOn('new') })]);
    w.rollback = true;
    const e = await applyFails(w);
    assert.deepEqual(b.log.filter((l) => /^(apply|handler|rollback)/.test(l)), ['apply conf start', 'apply conf end', 'handler restart', 'rollback conf', 'handler restart']);
    assert.equal(b.world.get('conf'), 'old', 'the previous value is back');
    assert.equal(e.step, 'service api');
    assert.match(e.message, /^api stopped .*\nERROR: Value for option x is not valid: 'new'\nrolled back: conf is old again; restart ran again on that and succeeded$/);
    assert.match(e.hint, /fix what it says .*--no-rollback/);
    const r = w.report.resources[0]!;
    assert.equal(r.status, 'rolled-back');
    assert.match(r.why, /^rolled back after restart failed: conf is old again/);
    assert.equal(w.report.changed, 0);
    assert.deepEqual(w.report.handlers.map((h) => [h.name, h.status, h.rollback]), [['restart', 'failed', { status: 'done', resources: ['fake conf'] }]]);
    assert.match(w.report.handlers[0]!.reason, /rolled back: conf is old again; .*stays in the journal/);
    assert.deepEqual(b.controller.journal(JOURNAL_PATH), ['restart'], 'the restart stays owed');
  });

  test('with rollback off the new state stays, and the report says so', async () => {
    const b = new Bench({ conf: 'old' });
    const w = await b.work('apply', [b.resource({ id: 'conf', want: 'new', notifies: ['restart'], rollback: true })], [b.handler('restart', { failWhen: restartFailsOn('new') })]);
    w.rollback = false;
    const e = await applyFails(w);
    assert.ok(!b.log.includes('rollback conf'));
    assert.equal(b.world.get('conf'), 'new');
    assert.match(e.message, /not rolled back \(--no-rollback\): fake conf stays as this run left it$/);
    assert.equal(w.report.resources[0]!.status, 'changed');
    assert.match(w.report.resources[0]!.why, /kept after restart failed \(no rollback\)/);
    assert.deepEqual(w.report.handlers[0]!.rollback, { status: 'off', resources: ['fake conf'] });
  });

  test('what the run created is not rolled back (nothing was there before it), nor a change that did not notify the handler', async () => {
    const b = new Bench({ other: 'old' });
    const w = await b.work('apply', [
      b.resource({ id: 'conf', want: 'new', notifies: ['restart'], rollback: true }),
      b.resource({ id: 'other', want: 'new', rollback: true }),
    ], [b.handler('restart', { failWhen: restartFailsOn('new') })]);
    w.rollback = true;
    const e = await applyFails(w);
    assert.ok(!b.log.some((l) => l.startsWith('rollback')), b.log.join(' | '));
    assert.equal(b.log.filter((l) => l === 'handler restart').length, 1);
    assert.doesNotMatch(e.message, /rolled back/);
    assert.equal(w.report.handlers[0]!.rollback, undefined);
  });

  test('a handler that fails on the rolled-back state too is said so, with both causes', async () => {
    const b = new Bench({ conf: 'old' });
    const fails = () => new EngineError('service api', 'api stopped: the disk is full', 'free some space');
    const w = await b.work('apply', [b.resource({ id: 'conf', want: 'new', notifies: ['restart'], rollback: true })], [b.handler('restart', { fail: fails() })]);
    w.rollback = true;
    const e = await applyFails(w);
    assert.equal(b.world.get('conf'), 'old');
    assert.match(e.message, /^api stopped: the disk is full\nrolled back \(conf is old again\), but restart failed on that too: api stopped: the disk is full$/);
    assert.match(e.hint, /fix the host by hand/);
    assert.deepEqual(w.report.handlers[0]!.rollback, { status: 'failed', resources: ['fake conf'] });
  });

  test('a rollback that fails is reported, and the handler is not run again', async () => {
    const b = new Bench({ conf: 'old' });
    const w = await b.work('apply', [b.resource({ id: 'conf', want: 'new', notifies: ['restart'], rollback: new Error('no backup at /x') })], [b.handler('restart', { failWhen: restartFailsOn('new') })]);
    w.rollback = true;
    const e = await applyFails(w);
    assert.equal(b.log.filter((l) => l === 'handler restart').length, 1);
    assert.match(e.message, /\nrollback failed: fake conf: no backup at \/x$/);
    assert.deepEqual(w.report.handlers[0]!.rollback, { status: 'failed', resources: ['fake conf'] });
  });

  test('a handler cut off by a lost connection is not rolled back over it', async () => {
    const b = new Bench({ conf: 'old' });
    const w = await b.work('apply', [b.resource({ id: 'conf', want: 'new', notifies: ['restart'], rollback: true })], [b.handler('restart', {
      failWhen: () => {
        b.t.lost = new TransportError('controller', 'ssh', 'the SSH connection to controller was lost: no answer to keepalives for 15 s', 'check the network');
        return b.t.lost;
      },
    })]);
    w.rollback = true;
    const e = await applyFails(w);
    assert.ok(!b.log.includes('rollback conf'));
    assert.equal(e.step, 'handler restart');
    assert.equal(b.world.get('conf'), 'new');
  });
});
