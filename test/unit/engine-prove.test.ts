// Every apply proves its plan: what changed is read again after the handlers (facts refreshed first),
// `after` records what that found, and a resource that still differs fails the run by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apply } from '../../src/engine/apply.ts';
import { EngineError } from '../../src/engine/errors.ts';
import { Bench } from './engine-helpers.ts';

test('every changed resource is read again after apply and its `after` recorded', async () => {
  const b = new Bench({ same: 'x' });
  const w = await b.work('apply', [b.resource({ id: 'same', want: 'x' }), b.resource({ id: 'new', want: 'x', notifies: ['h1'] })], [b.handler('h1')]);
  await apply(w);
  const reads = b.log.slice(b.at('handler h1')).filter((l) => l.startsWith('read '));
  assert.deepEqual(reads, ['read new'], `only what changed is read again, after the handlers: ${b.log.join(' | ')}`);
  assert.deepEqual(w.report.resources.map((r) => [r.id, r.status, r.after]), [
    ['same', 'ok', undefined],
    ['new', 'changed', { action: 'none', why: 'new is x' }],
  ]);
});

test('the facts are gathered again before the proof reads, and not at all when nothing changed', async () => {
  const b = new Bench();
  const w = await b.work('apply', [b.resource({ id: 'a', want: 'x' })], []);
  await apply(w);
  const facts = b.log.findIndex((l) => l.startsWith('facts '));
  assert.ok(facts > b.at('apply a end'), b.log.join(' | '));
  assert.equal(b.log.slice(facts + 1).filter((l) => l === 'read a').length, 1, `read again after the facts: ${b.log.join(' | ')}`);
  assert.match(b.log[facts]!, /^facts os,init,journal /, 'every known fact, the journal included');

  const converged = new Bench({ a: 'x' });
  const w2 = await converged.work('apply', [converged.resource({ id: 'a', want: 'x' })], []);
  const trips = converged.t.stats.roundTrips;
  await apply(w2);
  assert.equal(converged.t.stats.roundTrips, trips, 'a converged apply costs no round trip of its own');
});

test('a resource that still differs after apply fails the run, named, with what was found', async () => {
  const b = new Bench({ b: 'old' });
  const w = await b.work('apply', [b.resource({ id: 'a', want: 'x' }), b.resource({ id: 'b', want: 'x', sticky: true })], []);
  await assert.rejects(apply(w), (e: unknown) => {
    assert.ok(e instanceof EngineError);
    assert.equal(e.step, 'fake b');
    assert.equal(e.message, 'applied, but reading it again finds: b is old');
    return true;
  });
  assert.deepEqual(w.report.resources.map((r) => [r.id, r.status]), [['a', 'changed'], ['b', 'failed']]);
  assert.deepEqual(w.report.resources[1]!.after, { action: 'update', why: 'b is old' });
  assert.equal(w.report.resources[1]!.error, 'applied, but reading it again finds: b is old');
  assert.equal(w.report.changed, 1);
  assert.equal(w.report.failed, 1);
});

test('several that still differ: the first is named, the rest counted', async () => {
  const b = new Bench();
  const w = await b.work('apply', ['a', 'b', 'c'].map((id) => b.resource({ id, want: 'x', sticky: true })), []);
  await assert.rejects(apply(w), (e: unknown) => e instanceof EngineError && e.step === 'fake a' && e.message === 'applied, but reading it again finds: a is missing (and 2 more resources)');
  assert.equal(w.report.failed, 3);
  assert.equal(w.report.changed, 0);
});

test('a resource that cannot be read again fails the run, named', async () => {
  const b = new Bench();
  let reads = 0;
  const r = b.resource({ id: 'a', want: 'x' });
  const flaky = { ...r, read: async (h: Parameters<typeof r.read>[0]) => (++reads > 1 ? Promise.reject(Object.assign(new Error('503'), { hint: 'is keystone up?' })) : r.read(h)) };
  const w = await b.work('apply', [flaky], []);
  await assert.rejects(apply(w), (e: unknown) => e instanceof EngineError && e.step === 'fake a' && e.message === 'applied, but it cannot be read again: 503' && e.hint === 'is keystone up?');
});
