// The atomic write's script, run for real on this machine (sh, dd, stat, mv): a reader sees the old file
// or the new one, never half of it, and a write whose input ends early (a connection that died
// mid-write: sshd closes the command's stdin, and dd takes that for the end) leaves the old file alone.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { WRITE_ATOMIC } from '../../src/transport/ssh.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-write-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const me = `${os.userInfo().uid}:${os.userInfo().gid}`;

function write(file: string, input: string, size: number) {
  return spawnSync('sh', ['-c', WRITE_ATOMIC, 'write', file, me, '640', String(size)], { input, encoding: 'utf8' });
}

test('all the bytes: the file is replaced, with its mode', () => {
  const file = path.join(dir, 'whole.conf');
  fs.writeFileSync(file, 'old\n');
  const r = write(file, 'new content\n', Buffer.byteLength('new content\n'));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.readFileSync(file, 'utf8'), 'new content\n');
  assert.equal(fs.statSync(file).mode & 0o777, 0o640);
});

test('input that ends early: an error saying so, the old file as it was, no temporary file left', () => {
  const file = path.join(dir, 'cut.conf');
  fs.writeFileSync(file, 'old\n');
  const whole = '[DEFAULT]\nkey = value\n';
  const r = write(file, whole.slice(0, 10), Buffer.byteLength(whole));
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim(), `only 10 of ${Buffer.byteLength(whole)} bytes arrived (the input ended early); ${file} is as it was`);
  assert.equal(fs.readFileSync(file, 'utf8'), 'old\n');
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('.install-glance.')), []);
});
