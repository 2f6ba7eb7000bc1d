// Which leftover `.building-<pid>` directories a new snapshot build may sweep: only those no running build
// holds (a build holds its directory while its pid is alive and owns that snapshot's lock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { staleBuilds, buildLock } from '../../src/lab/building.ts';

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
  const locks: Record<string, number> = { 'snapshot-bookworm': 100, 'snapshot-trixie': 999, 'snapshot-bookworm.trusty': 400 };
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

test('the lock of a release and of a variant', () => {
  assert.equal(buildLock('bookworm'), 'snapshot-bookworm');
  assert.equal(buildLock('bookworm.tls'), 'snapshot-bookworm.tls');
});
