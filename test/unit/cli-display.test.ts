// What a run prints while it goes, driven by the real engine on a fake host (engine-helpers' Bench):
// each resource's line as it finishes (not at the host's end), the apply's plan first, progress in
// place on a terminal and as plain lines in a log, -q only changes and errors, -v every remote call
// (a poll counted, not repeated), several hosts at once named on each line, and the recap at the end.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { apply, plan } from '../../src/engine/apply.ts';
import type { HostReport } from '../../src/engine/report-model.ts';
import { plain } from '../../src/engine/report.ts';
import { Live, fit, type OutStream } from '../../src/cli/live.ts';
import { RunDisplay, traceLine, type Verbosity } from '../../src/cli/run-display.ts';
import { Bench, deferred, until } from './engine-helpers.ts';
import { unreachable } from './report-fixtures.ts';

/** A stream that keeps what was written, in order, with a label so two streams can share one timeline. */
class Sink implements OutStream {
  constructor(readonly label: string, readonly timeline: string[], readonly isTTY = false, readonly columns = 60) {}
  write(s: string): boolean {
    this.timeline.push(`${this.label}:${s}`);
    return true;
  }
}

/** The text a reader of `label`'s stream sees (status lines erased on a terminal are gone). */
function seen(timeline: string[], label: string): string {
  let text = '';
  for (const w of timeline) {
    if (!w.startsWith(`${label}:`)) continue;
    const s = w.slice(label.length + 1);
    if (s.startsWith('\r\x1b[2K')) text = text.slice(0, text.lastIndexOf('\n') + 1) + s.slice(6);
    else text += s;
  }
  return text;
}

function display(verbosity: Verbosity = 'normal', o: { tty?: boolean; prefixed?: boolean; mode?: HostReport['mode'] } = {}) {
  const timeline: string[] = [];
  const out = new Sink('out', timeline);
  const err = new Sink('err', timeline, o.tty ?? false);
  const live = new Live(out, err);
  const d = new RunDisplay(live, { mode: o.mode ?? 'apply', verbosity, prefixed: o.prefixed ?? false, paint: plain, logPaint: plain });
  return { d, timeline, out: () => seen(timeline, 'out'), err: () => seen(timeline, 'err') };
}

describe('the report streams', () => {
  test('an apply: header, the plan, then each resource as it finishes, before the host ends; the recap last', async () => {
    const b = new Bench({ a: 'x', b: 'old' });
    const gate = deferred();
    const { d, out } = display();
    const w = await b.work('apply', [b.resource({ id: 'a', want: 'x' }), b.resource({ id: 'b', want: 'new', notifies: ['restart'] }), b.resource({ id: 'c', want: 'y', gate: gate.promise })], [b.handler('restart')]);
    w.events = d.events;
    const running = apply(w);
    await until(() => out().includes('changed  fake b'), 'b printed while c is applied');
    assert.deepEqual(out().split('\n'), [
      'controller (controller) — apply',
      '  Plan: 1 to add, 1 to change, 0 to destroy.',
      '    ~   update fake b (b is old)',
      '    +   create fake c (c is missing)',
      '  ok       fake a — a is x',
      '  changed  fake b — b is old',
      '      value: old → new',
      '',
    ]);
    gate.resolve();
    await running;
    w.report.durationMs = 1234;
    d.events.done!(w.report);
    d.finish([w.report]);
    // Times as printed vary: (…) stands for them.
    assert.deepEqual(out().split('\n').slice(7).map((l) => l.replace(/\(\d+\.\d s\)/, '(…)')), [
      '  changed  fake c — c is missing',
      '      value: y',
      '  changed  handler restart — fake b changed (…)',
      'controller: ok=1 changed=2 failed=0 (…)',
      '',
      'RECAP',
      'controller : ok=1   changed=2   unreachable=0   failed=0   skipped=0',
      '',
    ]);
  });

  test('a plan: resources in the playbook order, then the counts and the summary', async () => {
    const b = new Bench({ a: 'x' });
    const { d, out } = display('normal', { mode: 'plan' });
    const w = await b.work('plan', [b.resource({ id: 'a', want: 'x' }), b.resource({ id: 'b', want: 'new' })], []);
    w.events = d.events;
    await plan(w);
    d.events.done!(w.report);
    assert.deepEqual(out().split('\n').slice(0, 6), [
      'controller (controller) — plan',
      '  ok       fake a — a is x',
      '  +   create fake b — b is missing',
      '      value: new',
      '  Plan: 1 to add, 0 to change, 0 to destroy.',
      'controller: ok=1 to-change=1 failed=0 (0.0 s)',
    ]);
  });
});

describe('-q: only changes and errors', () => {
  test('a converged run prints nothing at all', async () => {
    const b = new Bench({ a: 'x' });
    const { d, timeline } = display('quiet');
    const w = await b.work('apply', [b.resource({ id: 'a', want: 'x' })], []);
    w.events = d.events;
    await apply(w);
    d.progress('controller', 'apt [###] 10%');
    d.events.done!(w.report);
    d.finish([w.report]);
    assert.deepEqual(timeline, []);
  });

  test('a change and a failure: their lines, named by host, and the error', async () => {
    const b = new Bench({ a: 'x' });
    const { d, out } = display('quiet');
    const w = await b.work('apply', [b.resource({ id: 'a', want: 'x' }), b.resource({ id: 'b', want: 'y' }), b.resource({ id: 'c', want: 'z', failApply: new Error('disk full') }), b.resource({ id: 'd', want: 'w' })], []);
    w.events = d.events;
    await apply(w).catch((e: Error) => { w.report.error = { step: 'fake c', message: e.message, hint: 'free some space' }; });
    d.events.done!(w.report);
    d.finish([w.report]);
    assert.deepEqual(out().split('\n'), [
      'controller: changed  fake b — b is missing',
      'controller:     value: y',
      'controller: failed   fake c — disk full',
      'controller:     value: z',
      'controller: error at fake c: disk full',
      'controller: what to do: free some space',
      '',
    ]);
  });
});

describe('a change rolled back after its handler failed', () => {
  const restartFails = (world: ReadonlyMap<string, string>) => (world.get('conf') === 'new' ? new Error('api stopped 1.0 s after it was started') : undefined);

  for (const verbosity of ['normal', 'quiet'] as const) {
    test(`${verbosity}: shown as changed when it was made, then as rolled back when the host ends`, async () => {
      const b = new Bench({ conf: 'old' });
      const { d, out } = display(verbosity);
      const w = await b.work('apply', [b.resource({ id: 'conf', want: 'new', notifies: ['restart'], rollback: true })], [b.handler('restart', { failWhen: restartFails })]);
      w.events = d.events;
      w.rollback = true;
      await apply(w).catch((e: Error) => { w.report.error = { step: 'service api', message: e.message, hint: 'fix it' }; });
      d.events.done!(w.report);
      const lines = out().split('\n').map((l) => l.replace(/^controller: /, '  '));
      const made = lines.findIndex((l) => l.startsWith('  changed  fake conf — '));
      const undone = lines.findIndex((l) => l.startsWith('  rolled-back fake conf — rolled back after restart failed: conf is old again'));
      assert.ok(made >= 0 && undone > made, out());
      assert.ok(lines.some((l, i) => i > undone && /^ {2}failed +handler restart — .*rolled back: conf is old again; restart ran again on that and succeeded/.test(l)), out());
    });
  }
});

describe('progress', () => {
  test('on a terminal: one line rewritten in place, taken away for a line that stays and put back after it', () => {
    const { d, timeline, err, out } = display('normal', { tty: true });
    d.progress('controller', 'apt [#.........]  10% Unpacking glance');
    d.progress('controller', 'apt [#####.....]  50% Unpacking glance-api');
    d.live.say('  changed  something');
    d.progress('controller', 'restart glance-api …');
    d.finish([]);
    assert.deepEqual(timeline, [
      'err:controller: apt [#.........]  10% Unpacking glance',
      'err:\r\x1b[2K',
      'err:controller: apt [#####.....]  50% Unpacking glance-api',
      'err:\r\x1b[2K',
      'out:  changed  something\n',
      'err:controller: apt [#####.....]  50% Unpacking glance-api',
      'err:\r\x1b[2K',
      'err:controller: restart glance-api …',
      'err:\r\x1b[2K',
    ]);
    assert.equal(err(), '', 'nothing is left on the terminal\'s status line');
    assert.equal(out(), '  changed  something\n');
  });

  test('in a log: a line per step', () => {
    const { d, err } = display('normal', { tty: false });
    d.progress('controller', 'apt [#.........]  10%');
    d.progress('controller', 'apt [#####.....]  50%');
    d.finish([]);
    assert.equal(err(), 'controller: apt [#.........]  10%\ncontroller: apt [#####.....]  50%\n');
  });

  test('a status line never wraps: cut to the terminal\'s width', () => {
    const { d, timeline } = display('normal', { tty: true });
    d.progress('controller', 'x'.repeat(200));
    assert.equal(Array.from(timeline[0]!.slice('err:'.length)).length, 59);
    assert.equal(fit('abcdef', 4), 'abc…');
    assert.equal(fit('abc', 4), 'abc');
  });

  test('a host that ends takes its own status line away, not another host\'s', () => {
    const { d, err } = display('normal', { tty: true, prefixed: true });
    d.progress('ctl-a', 'restart …');
    d.events.done!({ ...unreachable, host: 'ctl-b' });
    assert.match(err(), /ctl-a: restart …$/);
    d.events.done!({ ...unreachable, host: 'ctl-a' });
    assert.equal(err(), '');
  });
});

describe('-v', () => {
  test('every remote call once it ends, on the log stream; a repeated poll counted once', () => {
    const { d, err, out } = display('verbose');
    d.trace('controller', { kind: 'exec', what: 'systemctl is-active glance-api', outcome: 'exit 0', ms: 12 });
    for (let i = 0; i < 40; i++) d.trace('controller', { kind: 'api', what: 'GET http://127.0.0.1:9292/', outcome: 'no answer', ms: 2 });
    d.trace('controller', { kind: 'api', what: 'GET http://127.0.0.1:9292/', outcome: '300', ms: 59 });
    d.finish([]);
    assert.equal(err(), [
      'controller: run    systemctl is-active glance-api → exit 0 (12 ms)',
      'controller: api    GET http://127.0.0.1:9292/ → no answer (2 ms)',
      'controller:        the same, 39 more times (78 ms)',
      'controller: api    GET http://127.0.0.1:9292/ → 300 (59 ms)',
      '',
    ].join('\n'));
    assert.equal(out(), '');
  });

  test('without -v nothing is traced', () => {
    const { d, timeline } = display('normal');
    d.trace('controller', { kind: 'exec', what: 'true', outcome: 'exit 0', ms: 1 });
    assert.deepEqual(timeline, []);
  });

  test('the line of each kind', () => {
    assert.equal(traceLine({ kind: 'write', what: '/etc/glance/glance-api.conf (root:glance 0640)', outcome: 'written', ms: 31 }), 'write  /etc/glance/glance-api.conf (root:glance 0640) → written (31 ms)');
    assert.equal(traceLine({ kind: 'connect', what: 'root@10.213.1.2:22', outcome: 'connected', ms: 140 }), 'ssh    root@10.213.1.2:22 → connected (140 ms)');
  });
});

test('several hosts at once: every line names its host; the recap lines them up', async () => {
  const { d, out } = display('normal', { prefixed: true });
  const benches = [new Bench({ a: 'x' }), new Bench({})];
  const works = await Promise.all(benches.map((b) => b.work('apply', [b.resource({ id: 'a', want: 'x' })], [])));
  works[1]!.report.host = 'controller-2';
  works.forEach((w) => (w.events = d.events));
  await Promise.all(works.map((w) => apply(w)));
  for (const w of works) d.events.done!(w.report);
  d.events.done!(unreachable);
  d.finish([...works.map((w) => w.report), unreachable]);
  const lines = out().split('\n');
  assert.ok(lines.includes('controller: ok       fake a — a is x'), out());
  assert.ok(lines.includes('controller-2: changed  fake a — a is missing'), out());
  assert.ok(lines.includes('net-b: error at connect: cannot reach 10.213.9.2 (ECONNREFUSED)'), out());
  assert.deepEqual(lines.slice(-5), [
    'RECAP',
    'controller   : ok=1   changed=0   unreachable=0   failed=0   skipped=0',
    'controller-2 : ok=0   changed=1   unreachable=0   failed=0   skipped=0',
    'net-b        : ok=0   changed=0   unreachable=1   failed=0   skipped=0',
    '',
  ]);
});

test('a note added while the host runs (a session that opened later) is printed before the next line, once', () => {
  const { d, out } = display('normal');
  const h: HostReport = { ...unreachable, host: 'ctl', unreachable: undefined, error: undefined, failed: 0, notes: ['not on this release: x'], resources: [] };
  const r = { kind: 'fake', id: 'a', action: 'none' as const, status: 'ok' as const, why: 'a is x', changes: [], ms: 1 };
  d.events.resource!(h, r);
  h.notes.push('admin credentials: OS_CLOUD=lab');
  d.events.resource!(h, { ...r, id: 'b', why: 'b is x' });
  d.events.done!(h);
  assert.deepEqual(out().split('\n').slice(0, 5), [
    'ctl (10.213.9.2) — apply',
    '  note     not on this release: x',
    '  ok       fake a — a is x',
    '  note     admin credentials: OS_CLOUD=lab',
    '  ok       fake b — b is x',
  ]);
  assert.equal(out().split('admin credentials').length, 2, 'once');
});
