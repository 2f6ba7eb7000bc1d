// Which leftover `.building-<pid>` directories a new snapshot build may sweep: only those no running build
// holds (a build holds its directory while its pid is alive and owns that snapshot's lock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { staleBuilds, buildLock, withBuildLock } from '../../src/lab/building.ts';
import { paths } from '../../src/lab/paths.ts';
import { until } from './engine-helpers.ts';

const entries = [
  'bookworm-fa56e80e8018',                       // a finished snapshot
  'bookworm-fa56e80e8018.building-100',          // its build, still running (pid 100 holds snapshot-bookworm)
  'bookworm-1234567890ab.building-200',          // killed: pid 200 is gone
  'trixie-55e300e841bd.building-300',            // pid 300 alive, but the trixie lock is someone else's
  'bookworm.trusty-993ae4887bc9.building-400',   // a variant's build, running (pid 400 holds snapshot-bookworm.trusty)
  'bookworm.tls-aaaaaaaaaaaa.building-500',      // a variant's build whose lock is free: pid 500 reused by another process
  'bullseye-abc.building-notapid',               // not a build directory of ours
];

test('a build directory is stale unless its pid is alive and owns its snapshot\'s lock', () => {
  const locks: Record<string, number> = { bookworm: 100, trixie: 999, 'bookworm.trusty': 400 };
  const alive = new Set([100, 300, 400, 500, 999]);
  assert.deepEqual(staleBuilds(entries, (l) => locks[l], (p) => alive.has(p)), [
    'bookworm-1234567890ab.building-200',
    'trixie-55e300e841bd.building-300',
    'bookworm.tls-aaaaaaaaaaaa.building-500',
  ]);
});

test('a lock owner that died with its lock file still there holds nothing', () => {
  assert.deepEqual(staleBuilds(['bookworm-fa56e80e8018.building-100'], () => 100, () => false), ['bookworm-fa56e80e8018.building-100']);
});

test('the lock of a build: one per snapshot name and cache, so a build into another cache never waits behind this one', () => {
  const here = '/var/cache/install-glance/snapshots';
  assert.match(buildLock('bookworm', here), /^snapshot-bookworm-[0-9a-f]{10}$/);
  assert.match(buildLock('bookworm.tls', here), /^snapshot-bookworm\.tls-[0-9a-f]{10}$/);
  assert.equal(buildLock('bookworm', here), buildLock('bookworm', `${here}/../snapshots/`), 'the same cache, spelled two ways');
  assert.notEqual(buildLock('bookworm', here), buildLock('bookworm', '/tmp/ig-cache-x/snapshots'));
  assert.notEqual(buildLock('bookworm', here), buildLock('bookworm.tls', here));
});

test('a build that waits for another build of the same snapshot says so, naming its pid, then how long it waited', async () => {
  const name = `ut-wait-${process.pid}`;
  const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
  const lock = path.join(paths.locks, `${buildLock(name)}.lock`);
  fs.mkdirSync(paths.locks, { recursive: true });
  fs.writeFileSync(lock, String(holder.pid));
  const lines: { line: string; pending: boolean }[] = [];
  let ran = false;
  try {
    const done = withBuildLock(name, (line, o) => lines.push({ line, pending: !!o?.pending }), async () => { ran = true; });
    await until(() => lines.length > 0, 'the waiting line');
    assert.deepEqual(lines, [{ line: `snapshot: another build of ${name} runs (pid ${holder.pid}); waiting for it …`, pending: true }]);
    assert.equal(ran, false, 'ran while the other build held the lock');
    holder.kill('SIGKILL');
    await done;
    assert.equal(ran, true);
    assert.match(lines[1]!.line, new RegExp(`^snapshot: another build of ${name} runs \\(pid ${holder.pid}\\); waiting for it … \\d+\\.\\d s$`));
    assert.equal(lines.length, 2);
  } finally {
    holder.kill('SIGKILL');
    fs.rmSync(lock, { force: true });
  }
});

test('a build whose lock is free says nothing about waiting', async () => {
  const lines: string[] = [];
  assert.equal(await withBuildLock(`ut-free-${process.pid}`, (l) => lines.push(l), async () => 7), 7);
  assert.deepEqual(lines, []);
});
