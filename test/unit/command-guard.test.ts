// The guard around a run's commands, run for real on this machine (sh, flock): commands pass through
// untouched until the run lock is held; after it, each holds a shared lock on the commands file for as
// long as it runs, with its output, exit status and stdin as they were, and without the lock's
// descriptor in the command itself (a daemon it starts must not inherit it).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import type { ExecOptions, ExecResult, Transport } from '../../src/transport/ssh.ts';
import { guardedTransport, guardedArgv } from '../../src/engine/command-guard.ts';
import { until } from './engine-helpers.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-guard-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'run.lock.commands');

/** Runs argv here; remembers what it was asked, and by which method. */
function localTransport(): Transport & { asked: { how: string; argv: string[] }[] } {
  const asked: { how: string; argv: string[] }[] = [];
  const run = (argv: string[], opts: ExecOptions = {}): Promise<ExecResult> => new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? 255, stdout, stderr }));
    child.stdin.end(opts.stdin);
  });
  return {
    host: 'local', user: 'me', stats: { roundTrips: 0, commands: 0 }, asked,
    exec: (argv, opts) => { asked.push({ how: 'exec', argv }); return run(argv, opts); },
    script: (source, args = [], opts = {}) => { asked.push({ how: 'script', argv: args }); return run(['sh', '-s', '--', ...args], { ...opts, stdin: source }); },
    writeFileAtomic: () => { asked.push({ how: 'write', argv: [] }); return Promise.resolve(); },
    openTcp: () => Promise.reject(new Error('not used')),
    openUnixSocket: () => Promise.reject(new Error('not used')),
    execStream: (argv) => { asked.push({ how: 'stream', argv }); return Promise.reject(new Error('not used')); },
    close: () => {},
  };
}

const lockedBySomeone = () => spawnSync('flock', ['-n', file, 'true']).status !== 0;

test('before guard(): every command goes to the transport below as it was given', async () => {
  const inner = localTransport();
  const t = guardedTransport(inner);
  assert.equal((await t.exec(['echo', 'hi'])).stdout, 'hi\n');
  assert.equal((await t.script('echo "$1"', ['x'])).stdout, 'x\n');
  assert.deepEqual(inner.asked, [{ how: 'exec', argv: ['echo', 'hi'] }, { how: 'script', argv: ['x'] }]);
});

test('after guard(): a command holds a shared lock on the file while it runs; output, status and stdin are its own', async () => {
  const inner = localTransport();
  const t = guardedTransport(inner);
  t.guard(file);
  const go = path.join(dir, 'go');
  const command = ['sh', '-c', `cat; ls -l /proc/self/fd/; until [ -e ${go} ]; do sleep 0.05; done; exit 7`];
  const running = t.exec(command, { stdin: 'from stdin\n', what: 'a test command' });
  // It runs until told to end: the lock is looked for while it surely runs, however loaded the machine.
  await until(lockedBySomeone, 'the file is locked while it runs', 10_000);
  fs.writeFileSync(go, '');
  const r = await running;
  assert.equal(r.code, 7);
  assert.match(r.stdout, /^from stdin\n/);
  assert.doesNotMatch(r.stdout, /run\.lock\.commands/, 'the command itself has no descriptor on the file');
  assert.ok(!lockedBySomeone(), 'free once it ended');
  assert.deepEqual(inner.asked[0]!.argv, guardedArgv(file, 'a test command', command));
});

test('after guard(): a script is run from stdin inside the guard, labelled by its arguments, never by its text', async () => {
  const inner = localTransport();
  const t = guardedTransport(inner);
  t.guard(file);
  const r = await t.script('echo "$1 $2"\nexit 3', ['a', 'b']);
  assert.deepEqual([r.code, r.stdout], [3, 'a b\n']);
  assert.equal(inner.asked[0]!.how, 'exec', 'through exec: the guard is the command, the script its stdin');
  assert.equal(inner.asked[0]!.argv[4], 'sh -s -- a b');
  assert.ok(!inner.asked[0]!.argv.some((a) => a.includes('echo')), 'no line of the script on the command line');
});

test('a label never breaks the holder\'s reading of it: newlines and tabs become spaces', () => {
  assert.equal(guardedArgv(file, 'one\ntwo\tthree', ['true'])[4], 'one two three');
});

test('with its directory gone, a guarded command still runs (unguarded)', async () => {
  const t = guardedTransport(localTransport());
  t.guard(path.join(dir, 'gone', 'run.lock.commands'));
  const r = await t.exec(['echo', 'ran']);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'ran\n', '']);
});

test('writes, relays and everything else go to the transport below untouched', async () => {
  const inner = localTransport();
  const t = guardedTransport(inner);
  t.guard(file);
  await t.writeFileAtomic('/x', 'y', 'root:root', 0o600);
  await t.execStream(['cat']).catch(() => {});
  assert.deepEqual(inner.asked.map((a) => `${a.how} ${a.argv.join(' ')}`.trim()), ['write', 'stream cat']);
  assert.equal(t.host, 'local');
});
