// The engine's apply: order, lanes (side by side, each in order, a resource without a lane after all
// before it, a failing lane stopping what follows), the re-read of a resource once an earlier one
// changed the host, a change a handler does anyway (`doneBy`), and errors named by resource.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { apply, type HostWork } from '../../src/engine/apply.ts';
import type { ResourceResult } from '../../src/engine/report-model.ts';
import { EngineError } from '../../src/engine/errors.ts';
import { TransportError } from '../../src/transport/errors.ts';
import { Bench, until } from './engine-helpers.ts';

const byId = (w: HostWork, id: string): ResourceResult => w.report.resources.find((r) => r.id === id)!;

describe('apply: order and lanes', () => {
  test('applies what differs, in the playbook\'s order, one after another', async () => {
    const b = new Bench({ b: 'x' });
    const w = await b.work('apply', ['a', 'b', 'c', 'd'].map((id) => b.resource({ id, want: 'x' })), []);
    await apply(w);
    assert.deepEqual(b.log.filter((l) => l.startsWith('apply ')), [
      'apply a start', 'apply a end', 'apply c start', 'apply c end', 'apply d start', 'apply d end',
    ]);
    assert.deepEqual(w.report.resources.map((r) => [r.id, r.status]), [['a', 'changed'], ['b', 'ok'], ['c', 'changed'], ['d', 'changed']]);
    assert.equal(w.report.changed, 3);
    assert.equal(w.report.ok, 1);
    assert.equal(w.report.failed, 0);
  });

  test('consecutive resources of different lanes are applied side by side', async () => {
    const b = new Bench();
    // a finishes only once b has started: applied one after the other, a would wait until the timeout.
    const w = await b.work('apply', [
      b.resource({ id: 'a', want: 'x', lane: 'database', gate: until(() => b.log.includes('apply b start'), 'b starts while a runs') }),
      b.resource({ id: 'b', want: 'x', lane: 'identity' }),
    ], []);
    await apply(w);
    assert.ok(b.at('apply b start') < b.at('apply a end'), b.log.join(' | '));
    assert.deepEqual(w.report.resources.map((r) => r.status), ['changed', 'changed']);
  });

  test('one lane stays in order while another runs beside it', async () => {
    const b = new Bench();
    const w = await b.work('apply', [
      b.resource({ id: 'a1', want: 'x', lane: 'database', gate: until(() => b.log.includes('apply b end'), 'b ends while a1 runs') }),
      b.resource({ id: 'a2', want: 'x', lane: 'database' }),
      b.resource({ id: 'b', want: 'x', lane: 'identity' }),
    ], []);
    await apply(w);
    assert.ok(b.at('apply b start') < b.at('apply a1 end'), `b ran beside a1: ${b.log.join(' | ')}`);
    assert.ok(b.at('apply a1 end') < b.at('apply a2 start'), `a2 waited for a1: ${b.log.join(' | ')}`);
  });

  test('a resource without a lane waits for everything before it', async () => {
    const b = new Bench();
    const w = await b.work('apply', [
      b.resource({ id: 'a', want: 'x', lane: 'database', gate: until(() => b.log.includes('apply b end'), 'b ends first') }),
      b.resource({ id: 'b', want: 'x', lane: 'identity' }),
      b.resource({ id: 'z', want: 'x' }),
    ], []);
    await apply(w);
    assert.ok(b.at('apply z start') > b.at('apply a end'), b.log.join(' | '));
    assert.ok(b.at('apply z start') > b.at('apply b end'), b.log.join(' | '));
  });

  test('a failing lane lets the lanes beside it finish; nothing after the group starts', async () => {
    const b = new Bench();
    const w = await b.work('apply', [
      b.resource({ id: 'a1', want: 'x', lane: 'database', gate: until(() => b.log.includes('apply b1 start'), 'b1 starts'), failApply: new Error('access denied') }),
      b.resource({ id: 'a2', want: 'x', lane: 'database' }),
      // b1 is still running when a1 fails: it must not be cut short.
      b.resource({ id: 'b1', want: 'x', lane: 'identity', gate: until(() => b.log.includes('apply a1 failed'), 'a1 fails') }),
      b.resource({ id: 'b2', want: 'x', lane: 'identity' }),
      b.resource({ id: 'z', want: 'x' }),
      b.resource({ id: 'later', want: 'x', lane: 'packages' }),
    ], []);
    await assert.rejects(apply(w), (e: unknown) => e instanceof EngineError && e.step === 'fake a1' && e.message === 'access denied');
    assert.deepEqual(w.report.resources.map((r) => [r.id, r.status]), [
      ['a1', 'failed'], ['a2', 'skipped'], ['b1', 'changed'], ['b2', 'changed'], ['z', 'skipped'], ['later', 'skipped'],
    ]);
    assert.deepEqual(b.applied.map((a) => a.id), ['a1', 'b1', 'b2']);
    assert.equal(b.world.get('b2'), 'x');
    assert.equal(w.report.failed, 1);
    assert.equal(w.report.changed, 2);
    assert.equal(w.report.resources[0]!.error, 'access denied');
  });
});

describe('apply: reading again after earlier changes', () => {
  test('a resource planned to change is read again once something before it changed, and the new diff is applied', async () => {
    const b = new Bench();
    const w = await b.work('apply', [
      // Installing the package also makes the config file (with the packaged content).
      b.resource({ id: 'package', want: 'installed', alsoSets: { config: 'packaged' } }),
      b.resource({ id: 'config', want: 'managed' }),
    ], []);
    await apply(w);
    const before = b.log.slice(0, b.at('apply config start'));
    assert.equal(before.filter((l) => l === 'read config').length, 2, `read by the plan, then again: ${b.log.join(' | ')}`);
    assert.deepEqual(b.applied.find((a) => a.id === 'config'), { id: 'config', ops: [{ set: 'managed' }], current: 'packaged', journal: [] });
    const r = byId(w, 'config');
    assert.equal(r.action, 'update');
    assert.equal(r.why, 'config is packaged');
    assert.deepEqual(r.changes, [{ field: 'value', from: 'packaged', to: 'managed' }]);
    assert.deepEqual(r.planned, { action: 'create', changes: [{ field: 'value', to: 'managed' }] });
    assert.equal(r.status, 'changed');
  });

  test('not read again when nothing before it changed', async () => {
    const b = new Bench({ package: 'installed' });
    const w = await b.work('apply', [b.resource({ id: 'package', want: 'installed' }), b.resource({ id: 'config', want: 'managed' })], []);
    await apply(w);
    const before = b.log.slice(0, b.at('apply config start'));
    assert.deepEqual(before.filter((l) => l.startsWith('read ')), ['read package', 'read config']);
  });

  test('when the re-read finds nothing left to do, nothing is applied; it changed in this run as planned, so it is reported changed, the promise kept', async () => {
    const b = new Bench();
    const w = await b.work('apply', [
      b.resource({ id: 'package', want: 'installed', alsoSets: { config: 'managed' } }),
      b.resource({ id: 'config', want: 'managed' }),
    ], []);
    await apply(w);
    assert.deepEqual(b.applied.map((a) => a.id), ['package']);
    const r = byId(w, 'config');
    assert.deepEqual([r.action, r.status], ['none', 'changed']);
    assert.equal(r.why, 'config is managed: done by an earlier change of this run');
    assert.equal(r.planned?.action, 'create');
    assert.equal(r.after?.action, 'none', 'read again after apply like any change');
    assert.equal(w.report.ok, 0);
    assert.equal(w.report.changed, 2);
  });
});

describe('apply: doneBy', () => {
  test('a change a notified handler does anyway is not applied, and is reported changed', async () => {
    const b = new Bench({ service: 'stopped' });
    const w = await b.work('apply', [
      b.resource({ id: 'config', want: 'new', notifies: ['restart-service'] }),
      b.resource({ id: 'service', want: 'running', doneBy: 'restart-service' }),
    ], [b.handler('restart-service', { sets: { service: 'running' } })]);
    await apply(w);
    assert.deepEqual(b.applied.map((a) => a.id), ['config']);
    const r = byId(w, 'service');
    assert.equal(r.status, 'changed');
    assert.equal(r.why, 'service is stopped: done by restart-service below');
    assert.equal(r.after?.action, 'none', 'the handler did it: the proof holds');
    assert.equal(w.report.changed, 2);
  });

  test('with the handler not notified, the resource applies its own change', async () => {
    const b = new Bench({ service: 'stopped', config: 'new' });
    const w = await b.work('apply', [
      b.resource({ id: 'config', want: 'new', notifies: ['restart-service'] }),
      b.resource({ id: 'service', want: 'running', doneBy: 'restart-service' }),
    ], [b.handler('restart-service', { sets: { service: 'running' } })]);
    await apply(w);
    assert.deepEqual(b.applied.map((a) => a.id), ['service']);
    assert.ok(!b.log.includes('handler restart-service'));
  });
});

describe('apply: errors', () => {
  test('an apply error names the resource as the step and keeps the cause\'s hint', async () => {
    const b = new Bench();
    const cause = Object.assign(new Error('glance-manage db_sync failed (exit 1)'), { hint: 'see /var/log/glance/glance-manage.log' });
    const w = await b.work('apply', [b.resource({ id: 'a', want: 'x' }), b.resource({ id: 'schema', want: 'head', failApply: cause })], []);
    await assert.rejects(apply(w), (e: unknown) => {
      assert.ok(e instanceof EngineError);
      assert.equal(e.step, 'fake schema');
      assert.equal(e.message, 'glance-manage db_sync failed (exit 1)');
      assert.equal(e.hint, 'see /var/log/glance/glance-manage.log');
      assert.equal(e.cause, cause);
      return true;
    });
    assert.equal(byId(w, 'schema').status, 'failed');
  });

  test('a transport error keeps its hint, but the step is the resource, not the transport\'s', async () => {
    const b = new Bench();
    const cause = new TransportError('controller', 'write', 'could not write /etc/x: No space left', 'check the disk has room');
    const w = await b.work('apply', [b.resource({ id: 'file', want: 'x', failApply: cause })], []);
    await assert.rejects(apply(w), (e: unknown) => e instanceof EngineError && e.step === 'fake file' && e.hint === 'check the disk has room');
  });
});
