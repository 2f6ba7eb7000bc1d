// The machine-wide lab locks: a live holder is waited for and named to the caller; a dead one's lock is
// taken over; several locks are taken in name order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { withLock, withLocks } from '../../src/lab/lock.ts';
import { paths } from '../../src/lab/paths.ts';
import { until } from './engine-helpers.ts';

function hold(name: string): { pid: number; release: () => void } {
  const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
  fs.mkdirSync(paths.locks, { recursive: true });
  fs.writeFileSync(path.join(paths.locks, `${name}.lock`), String(holder.pid));
  return { pid: holder.pid!, release: () => holder.kill('SIGKILL') };
}

test('withLocks waits for a live holder, telling the caller which lock and whose, then runs once it is gone', async () => {
  const [a, b] = [`ut-a-${process.pid}`, `ut-b-${process.pid}`];
  const holder = hold(b);
  const heard: [string, number][] = [];
  let ran = false;
  try {
    const done = withLocks([b, a], async () => { ran = true; }, (name, owner) => heard.push([name, owner]));
    await until(() => heard.length > 0, 'the wait reported');
    assert.deepEqual(heard, [[b, holder.pid]]);
    assert.equal(ran, false);
    assert.ok(fs.existsSync(path.join(paths.locks, `${a}.lock`)), 'the first lock in name order is held meanwhile');
    holder.release();
    await done;
    assert.equal(ran, true);
    assert.equal(heard.length, 1, 'said once per holder, not once per poll');
    for (const n of [a, b]) assert.equal(fs.existsSync(path.join(paths.locks, `${n}.lock`)), false, `${n} released`);
  } finally {
    holder.release();
    for (const n of [a, b]) fs.rmSync(path.join(paths.locks, `${n}.lock`), { force: true });
  }
});

test('a lock whose holder is gone is taken over without a word of waiting', async () => {
  const name = `ut-gone-${process.pid}`;
  const gone = spawn('true');
  await new Promise((r) => gone.on('exit', r));
  fs.mkdirSync(paths.locks, { recursive: true });
  fs.writeFileSync(path.join(paths.locks, `${name}.lock`), String(gone.pid));
  const heard: number[] = [];
  assert.equal(await withLock(name, async () => 'ran', { onWait: (o) => heard.push(o) }), 'ran');
  assert.deepEqual(heard, []);
});

test('a holder that outlasts the wait is named in the error', async () => {
  const name = `ut-long-${process.pid}`;
  const holder = hold(name);
  try {
    await assert.rejects(withLock(name, async () => 'ran', { waitMs: 300 }), new RegExp(`${name}\\.lock is held by pid ${holder.pid}`));
  } finally {
    holder.release();
    fs.rmSync(path.join(paths.locks, `${name}.lock`), { force: true });
  }
});
