// runHost's part in the safety of a run: the run lock taken after connecting and before any fact is
// read, and let go at the end whatever happened; and a connection that died named as the cause, not
// the timeout or reset some layer saw first.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Playbook } from '../../src/engine/playbook.ts';
import type { Resource } from '../../src/engine/resource.ts';
import { runHost, type RunOptions } from '../../src/engine/run-host.ts';
import type { ExecResult, RemoteProcess } from '../../src/transport/ssh.ts';
import { TransportError } from '../../src/transport/errors.ts';
import { FakeController, FakeTransport, describeCommand } from './fake-transport.ts';
import { OS_RELEASE } from './engine-helpers.ts';
import type { TraceEvent } from '../../src/trace.ts';

/** A FakeTransport that can hold a command open: the run-lock script answers as a free lock does, or as `lockSays`. */
class HoldingTransport extends FakeTransport {
  lockEnded = false;
  probed = 0;
  probeLoses?: TransportError;
  /** What the target saw, in order: `start run-lock`, `facts`, … */
  readonly timeline: string[];
  constructor(c: FakeController, readonly lockSays = 'locked\n', timeline: string[] = []) {
    super({ answer: c.answer, onAnswered: (cmd) => timeline.push(describeCommand(cmd).split(' ')[0]!) });
    this.timeline = timeline;
  }
  start(argv: string[], opts: { onStdout?: (chunk: string) => void } = {}): Promise<RemoteProcess> {
    this.timeline.push(`start ${argv[3]}`);
    let finish!: (r: ExecResult) => void;
    const done = new Promise<ExecResult>((r) => (finish = r));
    // argv: sh -c HOLD run-lock LOCK HOLDER WAIT SILENCE THEN END
    const [then, end] = [argv[8] ?? '', argv[9] ?? ''];
    setImmediate(() => {
      opts.onStdout?.(this.lockSays);
      if (this.lockSays.startsWith('busy')) return finish({ code: 75, stdout: this.lockSays, stderr: '' });
      // Once held, the holder runs the facts script it was given, on the same channel.
      if (then) void this.script(then).then((r) => opts.onStdout?.(`${r.stdout}\n${end} ${r.code}\n`));
    });
    return Promise.resolve({
      write: () => {},
      end: () => {
        this.lockEnded = true;
        finish({ code: 143, stdout: '', stderr: '' });
      },
      done,
    });
  }
  probe(): Promise<TransportError | undefined> {
    this.probed++;
    if (this.probeLoses) this.lost = this.probeLoses;
    return Promise.resolve(this.lost);
  }
}

function playbook(read: () => Promise<string>): Playbook {
  const r: Resource<string, never> = { kind: 'thing', id: 'one', read, diff: (s) => ({ action: 'none', changes: [], why: `it is ${s}`, ops: [] }), apply: async () => {} };
  return {
    id: 'test', describe: 'a test playbook', profiles: { any: { id: 'any' } }, profileFor: () => ({ id: 'any' }),
    options: [], settings: () => ({}), secrets: [], facts: [], resources: () => [r], handlers: () => [],
  };
}

function options(t: FakeTransport, pb: Playbook, over: Partial<RunOptions<unknown, { id: string }>> = {}): RunOptions<unknown, { id: string }> {
  return {
    mode: 'apply', playbook: pb, settings: {}, journalPath: '/var/lib/x/pending', progress: () => {},
    secrets: { load: () => Promise.resolve({}), keep: () => Promise.resolve(), where: () => '', forget: () => Promise.resolve() },
    connect: () => Promise.resolve(t), ...over,
  };
}

const target = { name: 'controller', host: '10.0.0.2' };

describe('runHost: the run lock', () => {
  test('taken after connecting, the facts read by its holder once held (no round trip of its own); let go when the run ends', async () => {
    const t = new HoldingTransport(new FakeController({ '/etc/os-release': OS_RELEASE }));
    const report = await runHost(target, options(t, playbook(() => Promise.resolve('fine')), { runLock: { path: '/var/lib/x/run.lock', wait: true, timeoutMs: 1000, tool: 'tool' } }));
    assert.equal(report.error, undefined, JSON.stringify(report.error));
    assert.deepEqual(t.timeline.slice(0, 2), ['start run-lock', 'facts']);
    assert.equal(t.commands.filter((c) => c.kind === 'script').length, 1, 'the facts once, by the holder');
    assert.equal(report.os, 'Debian GNU/Linux 12 (bookworm)', 'the facts came through the holder');
    assert.ok(t.lockEnded, 'released');
  });

  test('a run that waited says so in its report: for whom and how long', async () => {
    const t = new HoldingTransport(new FakeController({ '/etc/os-release': OS_RELEASE }), 'held 3 alice@ops (pid 7, tool apply) from 10.0.0.9 port 4000\nlocked\n');
    const said: string[] = [];
    const report = await runHost(target, options(t, playbook(() => Promise.resolve('fine')), { runLock: { path: '/var/lib/x/run.lock', wait: true, timeoutMs: 1000, tool: 'tool' }, progress: (_h, l) => said.push(l) }));
    assert.equal(report.error, undefined, JSON.stringify(report.error));
    assert.match(said.join('\n'), /^waiting for the run lock \/var\/lib\/x\/run\.lock: another run holds it: alice@ops \(pid 7, tool apply\) from 10\.0\.0\.9 port 4000, for 3 s$/m);
    assert.ok(report.notes.some((n) => /^waited \d+\.\d s for the run lock \/var\/lib\/x\/run\.lock: another run held it \(alice@ops \(pid 7, tool apply\) from 10\.0\.0\.9 port 4000\)$/.test(n)), report.notes.join('\n'));
  });

  test('-v: the lock held open and the facts read under it are both traced (the traced transport carries start)', async () => {
    const t = new HoldingTransport(new FakeController({ '/etc/os-release': OS_RELEASE }));
    const traced: TraceEvent[] = [];
    const report = await runHost(target, options(t, playbook(() => Promise.resolve('fine')), {
      runLock: { path: '/var/lib/x/run.lock', wait: true, timeoutMs: 1000, tool: 'tool' }, events: { trace: (_h, e) => traced.push(e) },
    }));
    assert.equal(report.error, undefined, JSON.stringify(report.error));
    const lines = traced.map((e) => `${e.kind} ${e.what} → ${e.outcome}`);
    assert.ok(lines.includes('exec flock /var/lib/x/run.lock, then the fact-gathering script (held open) → started'), lines.join('\n'));
    assert.ok(lines.some((l) => /^script sh -s <<facts: os, init, journal \/var\/lib\/x\/pending>> \(by the run lock's holder\) → exit 0$/.test(l)), lines.join('\n'));
    assert.ok(lines.includes('exec flock /var/lib/x/run.lock, then the fact-gathering script (held open) → released'), lines.join('\n'));
  });

  test('refused (--no-wait): the error names the holder, nothing is read, and the run fails', async () => {
    const t = new HoldingTransport(new FakeController({ '/etc/os-release': OS_RELEASE }), 'busy 12 alice@ops (pid 7, install-glance apply) from 10.0.0.9 port 4000\n');
    const report = await runHost(target, options(t, playbook(() => Promise.resolve('fine')), { runLock: { path: '/var/lib/x/run.lock', wait: false, timeoutMs: 1000, tool: 'tool' } }));
    assert.equal(report.error?.step, 'run lock');
    assert.match(report.error!.message, /another run holds the run lock \/var\/lib\/x\/run\.lock on controller: alice@ops \(pid 7, install-glance apply\) from 10\.0\.0\.9 port 4000, for 12 s/);
    assert.deepEqual(t.timeline, ['start run-lock'], 'no fact read, nothing done');
    assert.equal(report.failed, 1);
  });

  test('no lock asked for (plan): none taken', async () => {
    const t = new HoldingTransport(new FakeController({ '/etc/os-release': OS_RELEASE }));
    await runHost(target, options(t, playbook(() => Promise.resolve('fine')), { mode: 'plan' }));
    assert.ok(!t.timeline.includes('start run-lock'));
  });
});

describe('runHost: a connection that died is the cause', () => {
  const lost = new TransportError('10.0.0.2', 'ssh', 'the SSH connection to 10.0.0.2 was lost: no answer to keepalives for 15 s (a dead link?)', 'check the network path');

  test('known lost: its message, at the step where it was noticed', async () => {
    const t = new HoldingTransport(new FakeController({ '/etc/os-release': OS_RELEASE }));
    const report = await runHost(target, options(t, playbook(() => {
      t.lost = lost;
      return Promise.reject(new Error('socket hang up'));
    })));
    assert.equal(report.error?.step, 'thing one');
    assert.equal(report.error?.message, lost.message);
    assert.equal(report.error?.hint, 'check the network path');
  });

  test('a timeout is checked against the link: a link that no longer answers is named instead of the timeout', async () => {
    const t = new HoldingTransport(new FakeController({ '/etc/os-release': OS_RELEASE }));
    t.probeLoses = lost;
    const report = await runHost(target, options(t, playbook(() => Promise.reject(new Error('Keystone gave no answer to GET /users in 15000 ms')))));
    assert.equal(t.probed, 1);
    assert.equal(report.error?.message, lost.message);
  });

  test('a link that answers the probe leaves the error as it was', async () => {
    const t = new HoldingTransport(new FakeController({ '/etc/os-release': OS_RELEASE }));
    const report = await runHost(target, options(t, playbook(() => Promise.reject(new Error('Keystone gave no answer to GET /users in 15000 ms')))));
    assert.equal(t.probed, 1);
    assert.match(report.error!.message, /^Keystone gave no answer/);
  });
});
