// Who holds dpkg's lock, as the remote scripts print it, and what the operator sees while a run waits
// for it and when the wait runs out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lockWatcher, parseHolder, dpkgLockFact, DPKG_LOCKS, HOLDERS_SH } from '../../src/resources/dpkg-lock.ts';

test('the holders script on this machine\'s /proc/locks: the files in their order, each holder once, a missing file skipped, nothing when free', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-locks-'));
  // The script's own paths moved into a scratch directory; the third one is never made.
  const files = DPKG_LOCKS.map((_f, i) => path.join(dir, `lock-${i}`));
  for (const [i, f] of files.entries()) if (i !== 2) fs.writeFileSync(f, '');
  let script = `${HOLDERS_SH}\ndpkg_lock_holders`;
  for (const [i, f] of DPKG_LOCKS.entries()) script = script.replace(f, files[i]!);
  const holders = () => execFileSync('sh', ['-c', script], { encoding: 'utf8' });
  assert.equal(holders(), '', 'free');
  // flock(1) holds the last file, one perl process both the second and the first (bootstrap.sh installs perl).
  const a = spawn('flock', [files[3]!, 'sleep', '30'], { stdio: 'ignore' });
  // Its script has a newline (made a space) and a backslash (kept: printf, not dash's echo).
  const b = spawn('perl', ['-e', 'open(A, ">>", $ARGV[0]) or die; open(B, ">>", $ARGV[1]) or die; flock(A, 2); flock(B, 2);\n$| = 1; print "held\\n"; sleep 30', files[1]!, files[0]!], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await new Promise<void>((r) => b.stdout!.once('data', () => r()));
    for (let i = 0; i < 50 && !holders().includes(files[3]!); i++) await new Promise((r) => setTimeout(r, 50));
    const lines = holders().trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' '));
    assert.deepEqual(lines, [`${files[0]} ${b.pid}`, `${files[1]} ${b.pid}`, `${files[3]} ${a.pid}`]);
    assert.match(holders(), /^\S+ \d+ perl -e open\(A, .* flock\(B, 2\); \$\| = 1; print "held\\n"; sleep 30 /m, 'each with its command line on one line, as it is');
  } finally {
    a.kill();
    b.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

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
