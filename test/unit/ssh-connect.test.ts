// connect(): which keys it offers and in what order, as OpenSSH does: against a local SSH server that
// records every offer, with key files made by ssh-keygen and a real ssh-agent. Also the jump chain:
// a second local server forwards TCP as a bastion does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, type ConnectOptions } from '../../src/transport/ssh.ts';
import { TransportError } from '../../src/transport/errors.ts';
import { orderOffers, type KeyFile } from '../../src/transport/identities.ts';
import { fakeSshServer, makeKey, startAgent, tmpDir, blobOf, type FakeServer } from './ssh-fixtures.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = tmpDir('ssh-identities-');
const good = makeKey(dir, 'good');
const other = makeKey(dir, 'other');
const locked = makeKey(dir, 'locked', 'correct horse');
const lockedStranger = makeKey(dir, 'locked-stranger', 'battery staple');
let server: FakeServer;
let knownHosts = '';

before(async () => {
  server = await fakeSshServer([good.pub, locked.pub]);
  knownHosts = path.join(dir, 'known_hosts');
  fs.writeFileSync(knownHosts, `[127.0.0.1]:${server.port} ${server.hostKeyLine}\n`);
});
after(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const base = (extra: Partial<ConnectOptions>): ConnectOptions => ({ host: '127.0.0.1', port: server.port, knownHostsFile: knownHosts, timeoutMs: 5000, ...extra });

async function offered(opts: ConnectOptions): Promise<{ offers: string[]; error?: TransportError }> {
  const from = server.offers.length;
  let error: TransportError | undefined;
  try {
    (await connect(opts)).close();
  } catch (e) {
    error = e as TransportError;
  }
  const names = new Map([[blobOf(good.pub), 'good'], [blobOf(other.pub), 'other'], [blobOf(locked.pub), 'locked'], [blobOf(lockedStranger.pub), 'locked-stranger']]);
  return { offers: server.offers.slice(from).filter((o) => !o.signed).map((o) => names.get(o.key!) ?? 'unknown'), error };
}

test('an agent that holds no key does not stop the fallback to the key files', async () => {
  const agent = await startAgent(tmpDir('agent-empty-'));
  try {
    const r = await offered(base({ agent: agent.socket, identityFiles: [other.path, good.path] }));
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(r.offers, ['other', 'good']);
  } finally {
    agent.stop();
  }
});

test('the agent first (its keys for the listed files in their order, then its others), then the files it does not hold', async () => {
  const agent = await startAgent(tmpDir('agent-two-'));
  try {
    agent.add(other.path);
    const r = await offered(base({ agent: agent.socket, identityFiles: [good.path] }));
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(r.offers, ['other', 'good'], 'the agent key that is not in the list, then the file');

    agent.add(good.path);
    const both = await offered(base({ agent: agent.socket, identityFiles: [good.path] }));
    assert.deepEqual(both.offers, ['good'], 'the agent holds the listed key: it is offered first, from the agent');

    const only = await offered(base({ agent: agent.socket, identityFiles: [other.path], identitiesOnly: true }));
    assert.deepEqual(only.offers, ['other'], 'IdentitiesOnly: no agent key but the listed ones');
    assert.match(only.error?.message ?? '', /refused every key offered/);
  } finally {
    agent.stop();
  }
});

test('a dead agent socket is skipped, not fatal', async () => {
  const r = await offered(base({ agent: path.join(dir, 'no-such-agent.sock'), identityFiles: [good.path] }));
  assert.equal(r.error, undefined, r.error?.message);
  assert.deepEqual(r.offers, ['good']);
});

test('a passphrase-protected key the server does not want is never opened; one it wants, without a terminal, is a clear error naming ssh-add', async () => {
  const skipped = await offered(base({ agent: false, identityFiles: [lockedStranger.path, good.path] }));
  assert.equal(skipped.error, undefined, skipped.error?.message);
  assert.deepEqual(skipped.offers, ['locked-stranger', 'good']);

  const r = await offered(base({ agent: false, identityFiles: [locked.path] }));
  assert.ok(r.error instanceof TransportError);
  assert.match(r.error.message, /refused every key offered/);
  assert.match(r.error.message, new RegExp(`the server accepts ${locked.path}, but it is passphrase-protected and there is no terminal`));
  assert.match(r.error.hint, new RegExp(`ssh-add ${locked.path}`));
  assert.doesNotMatch(r.error.message + r.error.hint, /correct horse/);
});

test('the agent signs for a passphrase-protected file it holds: no passphrase needed', async () => {
  const agent = await startAgent(tmpDir('agent-locked-'));
  try {
    agent.add(locked.path, 'correct horse');
    const r = await offered(base({ agent: agent.socket, identityFiles: [locked.path], identitiesOnly: true }));
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(r.offers, ['locked']);
  } finally {
    agent.stop();
  }
});

test('output seen as it comes: a character split between two packets arrives whole', async () => {
  const t = await connect(base({ identity: good.path, agent: false }));
  try {
    const chunks: string[] = [];
    const r = await t.exec(['split-utf8'], { onStdout: (d) => chunks.push(d) });
    assert.equal(r.stdout, 'é\n');
    assert.equal(chunks.join(''), 'é\n');
    assert.ok(chunks.length >= 2, `${chunks.length} chunks`);
  } finally {
    t.close();
  }
});

test('--identity that cannot be read is an error before connecting', async () => {
  const r = await offered(base({ identity: path.join(dir, 'nope') }));
  assert.match(r.error?.message ?? '', /cannot read the identity file/);
  assert.deepEqual(r.offers, []);
});

test('orderOffers: files the agent holds come first in file order, duplicates once, IdentitiesOnly filters the agent', () => {
  const b = (n: number) => Buffer.from([0, 0, 0, 1, n]);
  const agent = [{ key: 'A3', blob: b(3) }, { key: 'A1', blob: b(1) }, { key: 'A9', blob: b(9) }];
  const files: KeyFile[] = [
    { path: 'f1', state: 'ready', key: {} as never, blob: b(1) },
    { path: 'f2', state: 'locked', data: Buffer.alloc(0), blob: b(2) },
    { path: 'f3', state: 'public', blob: b(3) },
    { path: 'f4', state: 'missing' },
    { path: 'f5', state: 'locked', data: Buffer.alloc(0) },
  ];
  const show = (o: ReturnType<typeof orderOffers<string>>) => o.map((x) => (x.from === 'agent' ? x.key : x.file.path));
  assert.deepEqual(show(orderOffers(agent, files, false)), ['A1', 'A3', 'A9', 'f2', 'f5']);
  assert.deepEqual(show(orderOffers(agent, files, true)), ['A1', 'A3', 'f2', 'f5']);
  assert.deepEqual(show(orderOffers([], files, false)), ['f1', 'f2', 'f5']);
});

// ---- through a jump host ----

test('through a jump host: each hop checks its own host key and logs in with its own keys; closing the target closes the chain', async () => {
  const bastion = await fakeSshServer([other.pub]);
  try {
    fs.appendFileSync(knownHosts, `[127.0.0.1]:${bastion.port} ${bastion.hostKeyLine}\n`);
    const jump: ConnectOptions = { host: '127.0.0.1', port: bastion.port, alias: 'bastion', agent: false, identityFiles: [other.path], knownHostsFile: knownHosts };
    const t = await connect(base({ agent: false, identityFiles: [good.path], jump: [jump] }));
    assert.deepEqual(bastion.forwards, [`127.0.0.1:${server.port}`]);
    assert.equal(bastion.logins, 1);
    const r = await t.exec(['true']);
    assert.equal(r.code, 0);
    t.close();
    for (let i = 0; i < 100 && bastion.open > 0; i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(bastion.open, 0, 'the jump connection is still open after close()');
  } finally {
    await bastion.close();
  }
});

test('through a jump host: errors name the hop that failed', async () => {
  const bastion = await fakeSshServer([other.pub]);
  const bastionKh = path.join(dir, 'kh-bastion');
  fs.writeFileSync(bastionKh, `[127.0.0.1]:${bastion.port} ${bastion.hostKeyLine}\n`);
  const jump: ConnectOptions = { host: '127.0.0.1', port: bastion.port, alias: 'bastion', agent: false, identityFiles: [other.path], knownHostsFile: bastionKh };
  try {
    // The target's key is not in the file the target is checked against.
    const unknown = await offered(base({ alias: 'controller', agent: false, identityFiles: [good.path], knownHostsFile: path.join(dir, 'empty-kh'), jump: [jump] }));
    assert.equal(unknown.error?.step, 'host key');
    assert.match(unknown.error?.message ?? '', /^controller: the host key of \[127\.0\.0\.1\]:\d+ is not known .* \(reached through bastion\)$/);

    // Nothing listens where the bastion is told to go.
    const closed = await new Promise<number>((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)); }); });
    const refused = await offered({ host: '127.0.0.1', port: closed, alias: 'controller', agent: false, identityFiles: [good.path], knownHostsFile: knownHosts, jump: [jump] });
    assert.match(refused.error?.message ?? '', new RegExp(`cannot reach controller:${closed} from bastion`));

    // The bastion itself is not there.
    const down = await offered(base({ agent: false, identityFiles: [good.path], jump: [{ ...jump, port: closed }] }));
    assert.match(down.error?.message ?? '', new RegExp(`^cannot reach bastion:${closed} \\(127\\.0\\.0\\.1: ECONNREFUSED\\)$`));
  } finally {
    await bastion.close();
  }
});

test('a host that accepts TCP but never speaks SSH is a timeout naming it, at the configured ConnectTimeout', async () => {
  const silent = net.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as net.AddressInfo).port;
  try {
    const t0 = Date.now();
    const r = await offered({ host: '127.0.0.1', port, alias: 'mute', agent: false, identityFiles: [good.path], knownHostsFile: knownHosts, timeoutMs: 300 });
    assert.match(r.error?.message ?? '', /^no SSH answer from mute:\d+ in time \(127\.0\.0\.1\)$/);
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
  } finally {
    silent.close();
  }
});

test('on a terminal, a passphrase-protected key the server wants is asked for once per file, without echo', async () => {
  const child = spawn('script', ['-qfec', `${process.execPath} --import tsx test/fixtures/transport/connect-twice.ts '${JSON.stringify(base({ agent: false, identityFiles: [locked.path] }))}'`, '/dev/null'],
    { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  const waitFor = (re: RegExp, count = 1) => new Promise<void>((resolve, reject) => {
    const check = () => {
      if ((screen.match(new RegExp(re.source, 'g')) ?? []).length >= count) resolve();
    };
    child.stdout.on('data', check);
    child.once('exit', () => reject(new Error(`exited before ${re}; screen:\n${screen}`)));
    check();
  });
  child.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d));
  const logins = server.logins;
  await waitFor(/Enter passphrase for key '[^']+locked':/);
  child.stdin.write('not it\r');
  await waitFor(/Wrong passphrase, try again\./);
  await waitFor(/Enter passphrase for key/, 2);
  child.stdin.write('correct horse\r');
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  assert.equal(code, 0, screen);
  assert.match(screen, /logged in twice/);
  assert.equal((screen.match(/Enter passphrase/g) ?? []).length, 2, `one wrong try, then one right, and no prompt for the second connection:\n${screen}`);
  assert.doesNotMatch(screen, /correct horse|not it/, 'the passphrase was echoed');
  assert.equal(server.logins - logins, 2);
});
