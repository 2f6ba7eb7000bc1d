// Who holds dpkg's lock, as the remote scripts print it, and what the operator sees while a run waits
// for it and when the wait runs out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lockWatcher, parseHolder, dpkgLockFact } from '../../src/resources/dpkg-lock.ts';

test('a holder line: file, pid, command line (which may be missing)', () => {
  assert.deepEqual(parseHolder('/var/lib/dpkg/lock-frontend 812 /usr/bin/python3 /usr/bin/unattended-upgrade '), { file: '/var/lib/dpkg/lock-frontend', pid: 812, command: '/usr/bin/python3 /usr/bin/unattended-upgrade' });
  assert.deepEqual(parseHolder('/var/lib/dpkg/lock 90'), { file: '/var/lib/dpkg/lock', pid: 90, command: '(command unknown)' });
  assert.equal(parseHolder('garbage'), undefined);
  assert.deepEqual(dpkgLockFact.parse('/var/lib/dpkg/lock 90 dpkg --configure -a\n\n'), [{ file: '/var/lib/dpkg/lock', pid: 90, command: 'dpkg --configure -a' }]);
});

test('while waiting: one progress line per report, naming the holder; the other lines go on (apt\'s status)', () => {
  const said: string[] = [];
  const passed: string[] = [];
  const w = lockWatcher((l) => said.push(l), 300, (c) => passed.push(c));
  w.onStdout('@@ lock-held 0 /var/lib/dpkg/lock-frontend 812 /usr/bin/python3 /usr/bin/unattended-upgrade\n@@ lock-he');
  w.onStdout('ld 5 /var/lib/dpkg/lock-frontend 812 /usr/bin/python3 /usr/bin/unattended-upgrade\npmstatus:glance:10:Unpacking glance\n');
  assert.deepEqual(said, [
    'waiting for the package manager: pid 812 (/usr/bin/python3 /usr/bin/unattended-upgrade) holds /var/lib/dpkg/lock-frontend (0 s so far, up to 300 s)',
    'waiting for the package manager: pid 812 (/usr/bin/python3 /usr/bin/unattended-upgrade) holds /var/lib/dpkg/lock-frontend (5 s so far, up to 300 s)',
  ]);
  assert.equal(passed.join(''), '@@ lock-held 0 /var/lib/dpkg/lock-frontend 812 /usr/bin/python3 /usr/bin/unattended-upgrade\n@@ lock-held 5 /var/lib/dpkg/lock-frontend 812 /usr/bin/python3 /usr/bin/unattended-upgrade\npmstatus:glance:10:Unpacking glance\n');
});

test('a wait that ran out: the error names the holder, the wait, and what to do', () => {
  const w = lockWatcher(() => {}, 30);
  w.onStdout('@@ lock-timeout 30 /var/lib/dpkg/lock 4242 apt-get install foo\n');
  const e = w.timeout('apt-package');
  assert.equal(e.step, 'apt-package');
  assert.equal(e.message, 'the package manager is busy: pid 4242 (apt-get install foo) holds /var/lib/dpkg/lock, still after 30 s');
  assert.match(e.hint, /let it finish .*ps -fp 4242.*--dpkg-lock-timeout/);
});
