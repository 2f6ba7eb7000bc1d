// The run lock's own shell script, run for real on this machine (sh, flock, timeout, as on a target):
// one holder at a time, a second run told who holds it (refused with --no-wait, or waiting and then
// taking it), and the lock let go when its holder's stdin closes (a connection that ended) or falls
// silent (a dead link), with nobody releasing it by hand.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import type { ExecResult, RemoteProcess, Transport } from '../../src/transport/ssh.ts';
import { EngineError } from '../../src/engine/errors.ts';
import { takeRunLock, describeHolder, describeLeftovers, commandsFile, type RunLockOptions } from '../../src/engine/run-lock.ts';
import { guardedArgv } from '../../src/engine/command-guard.ts';
import { until } from './engine-helpers.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-run-lock-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A transport whose held commands are local processes; `deaf` drops every heartbeat (a dead link). */
interface Proc { child: ReturnType<typeof spawn>; exited: Promise<{ code: number | null; signal: string | null }> }

function localTransport(o: { deaf?: boolean } = {}): Transport & { procs: Proc[] } {
  const procs: Proc[] = [];
  return {
    host: 'local', user: os.userInfo().username, stats: { roundTrips: 0, commands: 0 }, procs,
    exec: () => Promise.reject(new Error('not used')),
    script: () => Promise.reject(new Error('not used')),
    writeFileAtomic: () => Promise.reject(new Error('not used')),
    openTcp: () => Promise.reject(new Error('not used')),
    openUnixSocket: () => Promise.reject(new Error('not used')),
    execStream: () => Promise.reject(new Error('not used')),
    close: () => {},
    start(argv, opts = {}): Promise<RemoteProcess> {
      // Its own process group, as sshd gives each session: the script's "kill 0" must not reach the test runner.
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      procs.push({ child, exited: new Promise((r) => child.on('exit', (code, signal) => r({ code, signal }))) });
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; opts.onStdout?.(d); });
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdin!.on('error', () => {});
      const done = new Promise<ExecResult>((r) => child.on('close', (code, signal) => r({ code: code ?? (signal ? 128 : 255), stdout, stderr })));
      return Promise.resolve({
        write: (d) => { if (!o.deaf && child.stdin!.writable) child.stdin!.write(d); },
        end: () => child.stdin!.end(),
        done,
      });
    },
  };
}

let n = 0;
/** The holder's record in the lock file, once written (the holder writes it beside the facts, not before them). */
async function record(file: string): Promise<string> {
  const end = Date.now() + 5000;
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (text.endsWith('\n') || Date.now() > end) return text;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const lockOpts = (over: Partial<RunLockOptions> = {}): RunLockOptions => ({ path: path.join(dir, `sub${++n}`, 'run.lock'), wait: true, timeoutMs: 20_000, tool: 'tool', heartbeat: { everyMs: 200, silenceSec: 1 }, ...over });

describe('run lock', { concurrency: false }, () => {
  test('a second run with --no-wait is refused at once, naming the holder', async () => {
    const o = lockOpts();
    const first = (await takeRunLock(localTransport(), o, 'alice@ops (pid 1, install-glance apply)', () => {})).release;
    try {
      assert.match(await record(o.path), /^\d+ alice@ops \(pid 1, install-glance apply\) from \? port \?\n$/);
      const t0 = Date.now();
      const e = await takeRunLock(localTransport(), { ...o, wait: false }, 'bob@ops (pid 2, install-glance apply)', () => {}).then(() => undefined, (x: unknown) => x);
      assert.ok(e instanceof EngineError, String(e));
      assert.equal(e.step, 'run lock');
      assert.match(e.message, /another run holds the run lock .*run\.lock on local: alice@ops \(pid 1, install-glance apply\) from \? port \?, for \d+ s$/);
      assert.match(e.hint, /without --no-wait/);
      assert.ok(Date.now() - t0 < 3000, 'refused at once');
    } finally {
      first();
    }
  });

  test('a second run waits, says who it waits for, and takes the lock when the first releases it', async () => {
    const o = lockOpts();
    const { release } = await takeRunLock(localTransport(), o, 'alice@ops (pid 1, install-glance apply)', () => {});
    await record(o.path);
    const said: string[] = [];
    const second = takeRunLock(localTransport(), o, 'bob@ops (pid 2, install-glance apply)', (l) => said.push(l));
    try {
      await new Promise((r) => setTimeout(r, 700));
      assert.match(said.join('\n'), /^waiting for the run lock .*run\.lock: another run holds it: alice@ops \(pid 1, install-glance apply\) from \? port \?, for \d+ s$/m);
    } finally {
      release();
    }
    const { release: releaseSecond, waitedMs, waitedFor } = await second;
    try {
      assert.ok(waitedMs > 0, 'it says it waited');
      assert.match(waitedFor ?? '', /^alice@ops \(pid 1, install-glance apply\) from \? port \?$/);
      assert.match(said.at(-1)!, /^run lock taken after \d+\.\d s$/);
      await new Promise((r) => setTimeout(r, 200));
      assert.match(await record(o.path), / bob@ops /);
    } finally {
      releaseSecond();
    }
  });

  test('a holder whose heartbeat stops (a dead link) lets go by itself after the silence', async () => {
    const o = lockOpts();
    const deaf = localTransport({ deaf: true });
    // Taken (the first byte is dropped too: the script still gets its lock, then hears nothing).
    await takeRunLock(deaf, o, 'alice@ops (pid 1, install-glance apply)', () => {});
    const t0 = Date.now();
    const { release } = await takeRunLock(localTransport(), o, 'bob@ops (pid 2, install-glance apply)', () => {});
    const waited = Date.now() - t0;
    assert.ok(waited < 8000, `taken over after ${waited} ms`);
    assert.deepEqual(await deaf.procs[0]!.exited, { code: null, signal: 'SIGTERM' }, 'the silent holder was ended by its watcher');
    release();
  });

  test('a holder whose stdin closes (its connection ended, the CLI killed) lets go at once', async () => {
    const o = lockOpts({ heartbeat: { everyMs: 200, silenceSec: 30 } });
    const t = localTransport();
    await takeRunLock(t, o, 'alice@ops (pid 1, install-glance apply)', () => {});
    t.procs[0]!.child.stdin!.destroy(); // what sshd does to a session's pipes when the connection goes
    const t0 = Date.now();
    const { release } = await takeRunLock(localTransport(), o, 'bob@ops (pid 2, install-glance apply)', () => {});
    assert.ok(Date.now() - t0 < 6000, `taken after ${Date.now() - t0} ms, not after the 30 s silence`);
    release();
  });

  test('a wait that runs out is an error naming the holder', async () => {
    const o = lockOpts({ heartbeat: { everyMs: 200, silenceSec: 30 } });
    const { release } = await takeRunLock(localTransport(), o, 'alice@ops (pid 1, install-glance apply)', () => {});
    // The holder writes its record beside what follows the lock: on a loaded machine, after it says `locked`.
    await record(o.path);
    try {
      const e = await takeRunLock(localTransport(), { ...o, timeoutMs: 1500 }, 'bob', () => {}).then(() => undefined, (x: unknown) => x);
      assert.ok(e instanceof EngineError, String(e));
      assert.match(e.message, /still holds the run lock .* after 2 s: alice@ops/);
    } finally {
      release();
    }
  });

  test('then: a script run by the holder once it holds the lock, its output handed back whole (lines like the protocol\'s included)', async () => {
    const o = lockOpts();
    // The script checks the lock is held while it runs (a non-blocking flock of its own fails) and prints lines the protocol uses.
    const script = `printf 'locked\\nheld 3 x\\n'; if flock -n ${o.path} true; then echo free; else echo held-by-us; fi; printf 'no newline at the end'`;
    const held = await takeRunLock(localTransport(), o, 'alice@ops (pid 1, install-glance apply)', () => {}, { script, timeoutMs: 10_000, what: 'the test script' });
    try {
      assert.equal(held.thenOutput, 'locked\nheld 3 x\nheld-by-us\nno newline at the end');
      assert.equal(held.thenStatus, 0);
      assert.equal(held.waitedMs, 0);
    } finally {
      held.release();
    }
  });

  test('then: a large output that arrives in small pieces (the end line split between them) is handed back whole, once', async () => {
    const o = lockOpts();
    // ~300 KB, like the facts with a config file in base64; the last line has no newline of its own.
    const script = 'head -c 225000 /dev/zero | tr "\\0" "x" | fold -w 76; printf "last"';
    const t = localTransport();
    const start = t.start!.bind(t);
    let pieces = 0;
    // Every chunk cut into pieces of 7 characters: the end line (and the "locked" line) cross many cuts.
    t.start = (argv, opts = {}) => start(argv, { ...opts, onStdout: (d) => { for (let i = 0; i < d.length; i += 7) { pieces++; opts.onStdout?.(d.slice(i, i + 7)); } } });
    const held = await takeRunLock(t, o, 'alice@ops (pid 1, install-glance apply)', () => {}, { script, timeoutMs: 10_000, what: 'the test script' });
    try {
      // fold ends every full line with a newline and leaves the last, shorter one without: "last" follows it.
      const expected = `${'x'.repeat(225000).replace(/(.{76})/g, '$1\n')}last`;
      assert.equal(held.thenOutput?.length, expected.length);
      assert.equal(held.thenOutput, expected);
      assert.equal(held.thenStatus, 0);
      assert.ok(pieces > 30_000, `cut into ${pieces} pieces`);
    } finally {
      held.release();
    }
  });

  test('then waits for the lock: a second run reads nothing until the first lets go', async () => {
    const o = lockOpts();
    const mark = path.join(dir, `then-ran-${n}`);
    const first = await takeRunLock(localTransport(), o, 'alice@ops (pid 1, install-glance apply)', () => {});
    const second = takeRunLock(localTransport(), o, 'bob@ops (pid 2, install-glance apply)', () => {}, { script: `touch ${mark}; echo read`, timeoutMs: 10_000, what: 'the test script' });
    await new Promise((r) => setTimeout(r, 800));
    assert.ok(!fs.existsSync(mark), 'nothing read while the first run holds the lock');
    first.release();
    const held = await second;
    assert.equal(held.thenOutput, 'read\n');
    assert.ok(fs.existsSync(mark));
    held.release();
  });

  test('then that hangs: an error naming it, and the lock let go with it', async () => {
    const o = lockOpts({ heartbeat: { everyMs: 200, silenceSec: 30 } });
    const t = localTransport();
    const e = await takeRunLock(t, o, 'alice@ops (pid 1, install-glance apply)', () => {}, { script: 'sleep 30', timeoutMs: 600, what: 'the fact-gathering script' })
      .then(() => undefined, (x: unknown) => x);
    assert.ok(e instanceof EngineError, String(e));
    assert.equal(e.step, 'gather facts');
    assert.match(e.message, /^the fact-gathering script did not finish in 0\.6 s on local$/);
    const t0 = Date.now();
    const { release } = await takeRunLock(localTransport(), o, 'bob@ops (pid 2, install-glance apply)', () => {});
    assert.ok(Date.now() - t0 < 6000, 'the hung holder let go');
    release();
  });

  /** A command an earlier run started inside its guard and left running (the run is gone, the command is not). */
  function leftRunning(o: RunLockOptions, label: string, command: string): { pid: number; exited: Promise<void> } {
    fs.mkdirSync(path.dirname(o.path), { recursive: true });
    const [cmd, ...args] = guardedArgv(commandsFile(o.path), label, ['sh', '-c', command]);
    const child = spawn(cmd!, args, { stdio: 'ignore', detached: true });
    return { pid: child.pid!, exited: new Promise((r) => child.on('exit', () => r())) };
  }

  /** Until the guard holds its shared lock (flock -n of our own fails). */
  const guarding = (o: RunLockOptions) => until(() => spawnSync('flock', ['-n', commandsFile(o.path), 'true']).status !== 0, 'the guard takes its lock', 5000);

  test('what an earlier run left running is waited for, named with its label, before the lock is said held', async () => {
    const o = lockOpts();
    const go = path.join(dir, `go-${n}`);
    const left = leftRunning(o, 'restart glance-api', `until [ -e ${go} ]; do sleep 0.05; done`);
    await guarding(o);
    const said: string[] = [];
    let held: Awaited<ReturnType<typeof takeRunLock>> | undefined;
    const taking = takeRunLock(localTransport(), o, 'bob@ops (pid 2, install-glance apply)', (l) => said.push(l), { script: 'echo read', timeoutMs: 10_000, what: 'the test script' })
      .then((h) => (held = h));
    await until(() => said.length > 0, 'it says what it waits for', 10_000);
    assert.equal(said[0], `waiting for what an earlier run started on local and left running: pid ${left.pid} (restart glance-api)`);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(held, undefined, 'not held while the command still runs');
    fs.writeFileSync(go, '');
    await taking;
    try {
      await left.exited;
      assert.match(said.at(-1)!, /^what the earlier run left running ended after \d+\.\d s$/);
      assert.equal(held!.leftover, `pid ${left.pid} (restart glance-api)`);
      assert.ok((held!.leftWaitedMs ?? 0) >= 300, `left waited ${held!.leftWaitedMs} ms`);
      assert.equal(held!.thenOutput, 'read\n', 'the facts were read after it ended');
    } finally {
      held!.release();
    }
  });

  test('with --no-wait, what an earlier run left running refuses the run at once, naming it', async () => {
    const o = lockOpts();
    const left = leftRunning(o, 'apt-get install glance', 'sleep 30');
    await guarding(o);
    try {
      const t0 = Date.now();
      const e = await takeRunLock(localTransport(), { ...o, wait: false }, 'bob', () => {}).then(() => undefined, (x: unknown) => x);
      assert.ok(e instanceof EngineError, String(e));
      assert.equal(e.message, `the run before this one ended, but what it started on local still runs: pid ${left.pid} (apt-get install glance)`);
      assert.match(e.hint, /without --no-wait/);
      assert.ok(Date.now() - t0 < 3000, 'refused at once');
    } finally {
      process.kill(-left.pid, 'SIGKILL');
    }
  });

  test('a daemon a guarded command started does not hold up the next run', async () => {
    const o = lockOpts();
    // An init script's start: the daemon is left behind, the command ends.
    const pidFile = path.join(dir, `daemon-${n}.pid`);
    const left = leftRunning(o, 'start a daemon', `sleep 30 </dev/null >/dev/null 2>&1 & echo $! > ${pidFile}`);
    await left.exited;
    const daemon = Number(fs.readFileSync(pidFile, 'utf8'));
    try {
      const t0 = Date.now();
      const held = await takeRunLock(localTransport(), { ...o, wait: false }, 'bob', () => {});
      assert.ok(Date.now() - t0 < 3000);
      assert.equal(held.leftover, undefined);
      held.release();
    } finally {
      process.kill(daemon, 'SIGKILL');
    }
  });

  test('describeLeftovers: pids with their labels, a pid alone when its label was gone', () => {
    assert.equal(describeLeftovers('12 (restart glance-api; then wait)\t34 ()\t'), 'pid 12 (restart glance-api; then wait), pid 34');
    assert.equal(describeLeftovers(''), 'commands that ended as they were listed');
  });

  test('describeHolder: age in words', () => {
    assert.equal(describeHolder('5 root@ops (pid 9, install-glance apply) from 10.0.0.1 port 5022'), 'root@ops (pid 9, install-glance apply) from 10.0.0.1 port 5022, for 5 s');
    assert.equal(describeHolder('600 x'), 'x, for 10 min');
    assert.equal(describeHolder('? (no holder recorded)'), '(no holder recorded), since a time not recorded');
  });
});
