// Host-key policy as OpenSSH has it, on a known_hosts file in a temp dir: a known key is trusted, an
// unknown one refused (with its fingerprint) unless trust on first use is asked for, then recorded;
// a changed key always refused. Plain, comma-listed, hashed (|1|salt|hash) and [host]:port entries.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { checkHostKey, fingerprint } from '../../src/transport/known-hosts.ts';
import { generateKeyPair } from '../../src/transport/keys.ts';

interface HostKey { type: string; b64: string; blob: Buffer; pub: string }
function hostKey(comment = 'test'): HostKey {
  const pub = generateKeyPair(comment).public.trim();
  const [type, b64] = pub.split(' ') as [string, string];
  return { type, b64, blob: Buffer.from(b64, 'base64'), pub };
}

/** The way OpenSSH hashes a name (HashKnownHosts): |1|base64(salt)|base64(HMAC-SHA1(salt, name)). */
function hashed(name: string): string {
  const salt = crypto.randomBytes(20);
  return `|1|${salt.toString('base64')}|${crypto.createHmac('sha1', salt).update(name).digest('base64')}`;
}

/** A key blob of another type (only its type string matters to the policy). */
function blobOfType(type: string): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, crypto.randomBytes(64)]);
}

const A = hostKey('a');
const B = hostKey('b');
let dir = '';
let file = '';
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'known-hosts-test-'));
  file = path.join(dir, 'ssh', 'known_hosts');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
const write = (text: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
};

test('the keys under test are ed25519 and differ', () => {
  assert.equal(A.type, 'ssh-ed25519');
  assert.notEqual(A.b64, B.b64);
});

test('a known key is trusted; the file is not touched', () => {
  const text = `# a comment\nother ${B.type} ${B.b64}\ncontroller ${A.type} ${A.b64} root@controller\n`;
  write(text);
  assert.deepEqual(checkHostKey({ knownHostsFile: file }, 'controller', 22, A.blob), { ok: true });
  assert.equal(fs.readFileSync(file, 'utf8'), text);
});

test('a comma-separated host list matches each of its names', () => {
  write(`controller,10.213.1.2 ${A.type} ${A.b64}\n`);
  assert.deepEqual(checkHostKey({ knownHostsFile: file }, '10.213.1.2', 22, A.blob), { ok: true });
  assert.deepEqual(checkHostKey({ knownHostsFile: file }, 'controller', 22, A.blob), { ok: true });
  assert.equal(checkHostKey({ knownHostsFile: file }, '10.213.1.3', 22, A.blob).ok, false);
});

test('an unknown key is refused with its SHA256 fingerprint and the --accept-new-host-key hint; no file is created', () => {
  const v = checkHostKey({ knownHostsFile: file }, 'controller', 22, A.blob);
  assert.equal(v.ok, false);
  if (v.ok) return;
  const fp = `SHA256:${crypto.createHash('sha256').update(A.blob).digest('base64').replace(/=+$/, '')}`;
  assert.equal(fingerprint(A.blob), fp);
  assert.ok(v.problem.includes(fp), v.problem);
  assert.match(v.problem, /not known/);
  assert.match(v.hint, /--accept-new-host-key/);
  assert.ok(v.hint.includes(file), 'the hint names the file it would record the key in');
  assert.equal(fs.existsSync(file), false);
  assert.equal(fs.existsSync(path.dirname(file)), false);
});

test('the fingerprint is the one ssh-keygen -l prints', { skip: spawnSync('ssh-keygen', ['-?']).error ? 'no ssh-keygen here' : false }, () => {
  const pubFile = path.join(dir, 'key.pub');
  fs.writeFileSync(pubFile, A.pub + '\n');
  const r = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.split(' ')[1], fingerprint(A.blob));
});

test('acceptNewHostKey records an unknown key as "host type base64" and trusts it from then on', () => {
  assert.deepEqual(checkHostKey({ knownHostsFile: file, acceptNewHostKey: true }, 'controller', 22, A.blob), { ok: true });
  assert.equal(fs.readFileSync(file, 'utf8'), `controller ${A.type} ${A.b64}\n`);
  assert.deepEqual(checkHostKey({ knownHostsFile: file }, 'controller', 22, A.blob), { ok: true });
});

test('acceptNewHostKey appends after existing entries and keeps them all valid, even when the file lacks a final newline', () => {
  write(`other ${B.type} ${B.b64}`);
  assert.deepEqual(checkHostKey({ knownHostsFile: file, acceptNewHostKey: true }, 'controller', 22, A.blob), { ok: true });
  assert.deepEqual(fs.readFileSync(file, 'utf8').split('\n'), [`other ${B.type} ${B.b64}`, `controller ${A.type} ${A.b64}`, '']);
  assert.deepEqual(checkHostKey({ knownHostsFile: file }, 'other', 22, B.blob), { ok: true });
  assert.deepEqual(checkHostKey({ knownHostsFile: file }, 'controller', 22, A.blob), { ok: true });
});

test('a changed key of the same type is refused as CHANGED with the ssh-keygen -R line, even with acceptNewHostKey; the file is kept', () => {
  const text = `controller ${A.type} ${A.b64}\n`;
  write(text);
  for (const acceptNewHostKey of [false, true]) {
    const v = checkHostKey({ knownHostsFile: file, acceptNewHostKey }, 'controller', 22, B.blob);
    assert.equal(v.ok, false);
    if (v.ok) return;
    assert.match(v.problem, /CHANGED/);
    assert.ok(v.problem.includes(fingerprint(B.blob)), 'names the new fingerprint');
    assert.ok(v.hint.includes(`ssh-keygen -R 'controller' -f ${file}`), v.hint);
  }
  assert.equal(fs.readFileSync(file, 'utf8'), text);
});

test('a known key of another type does not make this one trusted, nor CHANGED', () => {
  const rsa = blobOfType('ssh-rsa');
  write(`controller ssh-rsa ${rsa.toString('base64')}\n`);
  const v = checkHostKey({ knownHostsFile: file }, 'controller', 22, A.blob);
  assert.equal(v.ok, false);
  if (!v.ok) assert.doesNotMatch(v.problem, /CHANGED/);
});

test('hashed entries (|1|salt|hash) match the host they hash, and only it', () => {
  write(`${hashed('controller')} ${A.type} ${A.b64}\n${hashed('other')} ${B.type} ${B.b64}\n`);
  assert.deepEqual(checkHostKey({ knownHostsFile: file }, 'controller', 22, A.blob), { ok: true });
  assert.deepEqual(checkHostKey({ knownHostsFile: file }, 'other', 22, B.blob), { ok: true });
  assert.equal(checkHostKey({ knownHostsFile: file }, 'third', 22, A.blob).ok, false);
  const changed = checkHostKey({ knownHostsFile: file }, 'controller', 22, B.blob);
  assert.ok(!changed.ok && /CHANGED/.test(changed.problem), 'a hashed entry with another key is a change');
});

test('a malformed hashed entry matches nothing', () => {
  write(`|1|onlysalt ${A.type} ${A.b64}\n`);
  assert.equal(checkHostKey({ knownHostsFile: file }, 'controller', 22, A.blob).ok, false);
});

test('a port other than 22 is [host]:port, both to match (plain or hashed) and to record', () => {
  write(`controller ${A.type} ${A.b64}\n`);
  const at2222 = checkHostKey({ knownHostsFile: file }, 'controller', 2222, A.blob);
  assert.equal(at2222.ok, false, 'a key for port 22 says nothing about port 2222');
  if (!at2222.ok) assert.ok(at2222.problem.includes('[controller]:2222'), at2222.problem);

  assert.deepEqual(checkHostKey({ knownHostsFile: file, acceptNewHostKey: true }, 'controller', 2222, B.blob), { ok: true });
  assert.equal(fs.readFileSync(file, 'utf8').split('\n')[1], `[controller]:2222 ${B.type} ${B.b64}`);
  assert.deepEqual(checkHostKey({ knownHostsFile: file }, 'controller', 2222, B.blob), { ok: true });
  assert.deepEqual(checkHostKey({ knownHostsFile: file }, 'controller', 22, A.blob), { ok: true }, 'port 22 still has its own key');

  write(`${hashed('[controller]:2200')} ${A.type} ${A.b64}\n`);
  assert.deepEqual(checkHostKey({ knownHostsFile: file }, 'controller', 2200, A.blob), { ok: true });
  const changed = checkHostKey({ knownHostsFile: file }, 'controller', 2200, B.blob);
  assert.ok(!changed.ok && changed.hint.includes("ssh-keygen -R '[controller]:2200'"), 'the -R line names [host]:port');
});

test('a @cert-authority line is not trust in that key as a host key', () => {
  write(`@cert-authority controller ${A.type} ${A.b64}\n`);
  assert.equal(checkHostKey({ knownHostsFile: file }, 'controller', 22, A.blob).ok, false);
});
