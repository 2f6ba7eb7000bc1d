// Become: what reaches the controller (sudo's argv, the password only ever on stdin ahead of a marker),
// sudo's refusals said as what to do, the marker shell and the perl relay run for real on this machine.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { become, sudoArgv, sudoRefusal, SKIP_TO_MARKER } from '../../src/transport/become.ts';
import { relayArgv, openRelay } from '../../src/transport/unix-relay.ts';
import type { ExecStream } from '../../src/transport/ssh.ts';
import { TransportError } from '../../src/transport/errors.ts';
import { Secret, SecretText } from '../../src/secret.ts';
import { FakeTransport, ok, fail, type RecordedCommand } from './fake-transport.ts';

const PASSWORD = 'hunter2 with spaces';

function inner(answer: (c: RecordedCommand) => ReturnType<typeof ok> = () => ok()) {
  return new FakeTransport({ host: 'ctl', user: 'ops', answer });
}

describe('sudoArgv', () => {
  test('without a password: sudo -n, the command after --', () => {
    assert.deepEqual(sudoArgv(['id', '-u'], {}), ['sudo', '-n', '--', 'id', '-u']);
    assert.deepEqual(sudoArgv(['id'], { user: 'glance' }), ['sudo', '-n', '-u', 'glance', '--', 'id']);
  });
  test('with a password: sudo -S with no prompt, the marker shell, the marker as $0', () => {
    assert.deepEqual(sudoArgv(['id'], { marker: 'M' }), ['sudo', '-S', '-p', '', '--', 'sh', '-c', SKIP_TO_MARKER, 'M', 'id']);
  });
});

describe('sudoRefusal', () => {
  const ctx = { host: 'ctl', sshUser: 'ops', withPassword: false };
  test('a sudo that wants a password says --ask-become-pass or NOPASSWD', () => {
    const r = sudoRefusal({ code: 1, stderr: 'sudo: a password is required\n' }, ctx);
    assert.match(r!.message, /sudo on ctl wants a password for ops \(nothing was changed\)/);
    assert.match(r!.hint, /--ask-become-pass/);
    assert.match(r!.hint, /ops ALL=\(ALL\) NOPASSWD: ALL/);
  });
  test('a wrong password, as sudo -S says it', () => {
    const r = sudoRefusal({ code: 1, stderr: 'Sorry, try again.\nsudo: no password was provided\nsudo: 1 incorrect password attempt\n' }, ctx);
    assert.match(r!.message, /refused the password given for ops/);
  });
  test('no sudo at all is the shell\'s 127', () => {
    assert.match(sudoRefusal({ code: 127, stderr: 'sh: 1: sudo: not found\n' }, ctx)!.message, /sudo is not installed on ctl/);
  });
  test('not a sudoer; an unknown become user', () => {
    assert.match(sudoRefusal({ code: 1, stderr: 'sudo: ops is not in the sudoers file.\n' }, ctx)!.message, /ops may not run commands as root/);
    assert.match(sudoRefusal({ code: 1, stderr: 'sudo: unknown user nosuch\n' }, { ...ctx, becomeUser: 'nosuch' })!.hint, /--become-user/);
  });
  test('the command\'s own failure is not sudo\'s', () => {
    assert.equal(sudoRefusal({ code: 1, stderr: 'grep: no match\n' }, ctx), undefined);
    assert.equal(sudoRefusal({ code: 2, stderr: 'sudo: x\n' }, ctx), undefined);
    assert.equal(sudoRefusal({ code: 0, stderr: '' }, ctx), undefined);
  });
});

describe('become() over a transport', () => {
  test('without a password: every command, script and write runs through sudo -n; stdin is the data alone', async () => {
    const t0 = inner();
    const t = await become(t0);
    await t.exec(['id', '-u']);
    await t.script('echo hi', ['a b']);
    await t.writeFileAtomic('/etc/x.conf', new SecretText(['k = ', new Secret('s3')]), 'root:glance', 0o640);
    assert.equal(t0.commands.length, 3, 'no probe without a password');
    assert.deepEqual(t0.commands[0]!.argv, ['sudo', '-n', '--', 'id', '-u']);
    assert.deepEqual(t0.commands[1]!.argv, ['sudo', '-n', '--', 'sh', '-s', '--', 'a b']);
    assert.equal(t0.commands[1]!.stdin, 'echo hi');
    assert.deepEqual(t0.commands[2]!.argv.slice(0, 6), ['sudo', '-n', '--', 'sh', '-c', t0.commands[2]!.argv[5]]);
    assert.deepEqual(t0.commands[2]!.argv.slice(6), ['write', '/etc/x.conf', 'root:glance', '640', '6'], 'the size, so a write cut short is never renamed in');
    assert.equal(t0.commands[2]!.stdin, 'k = s3');
    assert.equal(t.stats, t0.stats, 'one connection, one set of counters');
  });

  test('with a password: probed once alone, then ahead of each command\'s stdin with the marker; never in an argv', async () => {
    const t0 = inner();
    const t = await become(t0, { password: new Secret(PASSWORD), user: 'root' });
    await t.script('echo hi');
    await t.writeFileAtomic('/etc/x', 'DATA\n', 'root:root', 0o600);
    const [probe, script, write] = t0.commands;
    assert.deepEqual(probe!.argv, ['sudo', '-S', '-p', '', '-u', 'root', '--', 'true']);
    assert.equal(probe!.stdin, `${PASSWORD}\n`);
    const marker = script!.argv[script!.argv.indexOf(SKIP_TO_MARKER) + 1]!;
    assert.match(marker, /^install-glance-[0-9a-f]{12}$/);
    assert.equal(script!.stdin, `${PASSWORD}\n${marker}\necho hi`);
    assert.equal(write!.stdin, `${PASSWORD}\n${marker}\nDATA\n`);
    for (const c of t0.commands) assert.ok(!c.argv.join(' ').includes('hunter2'), 'the password is never in an argv');
  });

  test('a wrong password stops at the probe, before any command runs', async () => {
    const t0 = inner(() => fail('Sorry, try again.\nsudo: 1 incorrect password attempt\n'));
    await assert.rejects(become(t0, { password: new Secret('nope') }), (e: TransportError) => e.step === 'become' && /refused the password/.test(e.message));
    assert.equal(t0.commands.length, 1);
  });

  test('a sudo refusal on any command is a TransportError at step "become"; a command\'s own failure is its result', async () => {
    let said = 'sudo: a password is required\n';
    const t = await become(inner(() => fail(said)));
    await assert.rejects(t.exec(['true']), (e: TransportError) => e.step === 'become' && /wants a password for ops/.test(e.message));
    said = 'no such file\n';
    assert.equal((await t.exec(['cat', '/x'])).code, 1);
  });

  test('a plain unix socket stays the SSH user\'s tunnel; a privileged one is a relay run by sudo', async () => {
    const asked: string[] = [];
    const t0 = new FakeTransport({
      host: 'ctl', user: 'ops', answer: () => ok(),
      openUnixSocket: async (p) => { asked.push(`tunnel ${p}`); return new PassThrough(); },
      execStream: async (argv) => { asked.push(argv.slice(0, 5).join(' ')); return fakeStream('ready\n'); },
    });
    const t = await become(t0);
    await t.openUnixSocket('/run/mysqld/mysqld.sock');
    await t.openUnixSocket('/run/mysqld/mysqld.sock', { privileged: true });
    assert.deepEqual(asked, ['tunnel /run/mysqld/mysqld.sock', 'sudo -n -- perl -e']);
  });

  test('a relay that sudo refuses says sudo\'s words; one that cannot connect names the socket', async () => {
    const t0 = new FakeTransport({ host: 'ctl', user: 'ops', answer: () => ok(), execStream: async () => fakeStream('sudo: a password is required\n', true) });
    await assert.rejects((await become(t0)).openUnixSocket('/s', { privileged: true }), (e: TransportError) => e.step === 'become');
    const t1 = new FakeTransport({ host: 'ctl', user: 'ops', answer: () => ok(), execStream: async () => fakeStream('cannot connect to /s: No such file or directory\n', true) });
    await assert.rejects((await become(t1)).openUnixSocket('/s', { privileged: true }), (e: TransportError) => e.step === 'tunnel' && /cannot reach \/s as root: cannot connect/.test(e.message));
  });
});

/** A channel whose stderr says `said` (and then ends, when `end`). */
function fakeStream(said: string, end = false): ExecStream {
  const s = new PassThrough() as PassThrough & { stderr: PassThrough };
  s.stderr = new PassThrough();
  setImmediate(() => (end ? s.stderr.end(said) : s.stderr.write(said)));
  return s;
}

describe('the marker shell (sh, for real)', () => {
  const run = (stdin: Buffer) => spawnSync('sh', ['-c', SKIP_TO_MARKER, 'MARK', 'od', '-An', '-c'], { input: stdin });
  const data = Buffer.from([0x00, 0x0a, 0xff, 0x41, 0x0a]);
  for (const [what, prefix] of [['sudo took the password line', 'MARK\n'], ['sudo asked nothing (NOPASSWD): the line is dropped', `${PASSWORD}\nMARK\n`]] as const) {
    test(`${what}; binary data passes whole`, () => {
      const r = run(Buffer.concat([Buffer.from(prefix), data]));
      assert.equal(r.status, 0, r.stderr.toString());
      assert.equal(r.stdout.toString(), spawnSync('od', ['-An', '-c'], { input: data }).stdout.toString());
      assert.ok(!r.stdout.toString().includes('hunter2'));
    });
  }
  test('no marker: exit 125, the command never runs', () => {
    assert.equal(run(Buffer.from('a\nb\nc\n')).status, 125);
  });
});

describe('the perl relay (perl, for real, on a local socket)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-relay-'));
  const local = async (argv: string[]): Promise<ExecStream> => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const { Duplex } = await import('node:stream');
    const d = Duplex.from({ writable: child.stdin!, readable: child.stdout! }) as unknown as ExecStream;
    (d as { stderr: unknown }).stderr = child.stderr;
    return d;
  };

  test('ready once connected; bytes both ways; the server sees the end of our side', async () => {
    const sock = path.join(dir, 'echo.sock');
    let serverSawEnd = false;
    const server = net.createServer((c) => {
      c.write('hello\n');
      c.on('data', (d) => c.write(d.toString().toUpperCase()));
      c.on('end', () => { serverSawEnd = true; c.end(); });
    });
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const s = await openRelay(local, sock, (said) => new Error(said));
      const got: string[] = [];
      s.on('data', (d: Buffer) => got.push(d.toString()));
      s.write('abc');
      await until(() => got.join('') === 'hello\nABC');
      s.end();
      await until(() => serverSawEnd);
      // The relay may have ended (and the stream closed) while we polled for the server's side.
      await new Promise((r) => (s.closed ? r(undefined) : s.once('close', r).resume()));
    } finally {
      server.close();
    }
  });

  test('a socket nobody listens on: the relay ends before ready, saying why', async () => {
    await assert.rejects(openRelay(local, path.join(dir, 'none.sock'), (said) => new Error(said)), /cannot connect to .*none\.sock: No such file or directory/);
  });

  test('argv: the script inline, the socket as its one argument', () => {
    const a = relayArgv('/run/x.sock');
    assert.deepEqual([a[0], a[1], a[3]], ['perl', '-e', '/run/x.sock']);
  });

  test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
