// The package manager as a real controller may have it: another process holding dpkg's lock (a stand-in
// for unattended-upgrades, holding the locks as apt does), and a dpkg SIGKILLed mid-unpack. The lock is
// waited for with a line naming its holder, up to --dpkg-lock-timeout, then a clear error; the
// interrupted dpkg is found by plan, shown as a change of its own, and repaired by apply before it
// installs anything; after that, Glance works and the next plan is empty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, labSsh, explain, useLab, reportOf, assertPlanKept, assertEmptyPlan } from './helpers.ts';
import type { HostReport } from '../../src/engine/report-model.ts';
import { hostOf, seconds, errorSaid, lineSaid, startCli, waitFor } from './sa-helpers.ts';

const LAB = 'sa-dpkg';
const fixture = useLab(LAB);
const { env } = fixture;

async function sh(command: string): Promise<string> {
  const r = await labSsh(fixture.lab(), command);
  assert.equal(r.code, 0, explain(command, r));
  return r.stdout.trim();
}

/** Starts the stand-in for SECONDS; resolves with its pid once it holds the locks. */
async function holdDpkgLock(seconds: number): Promise<number> {
  const out = await sh([
    "cat > /usr/local/bin/unattended-upgrade <<'PY'",
    '#!/usr/bin/python3',
    '# A stand-in for unattended-upgrades: holds dpkg\'s locks as apt does (fcntl), for N seconds.',
    'import fcntl, sys, time',
    "fs = [open(p, 'w') for p in ('/var/lib/dpkg/lock-frontend', '/var/lib/dpkg/lock')]",
    'for f in fs: fcntl.lockf(f, fcntl.LOCK_EX)',
    "print('locked', flush=True)",
    'time.sleep(float(sys.argv[1]))',
    'PY',
    'chmod 755 /usr/local/bin/unattended-upgrade',
    // An earlier holder's "locked" must not pass for this one's (the child truncates the file only once it runs).
    'rm -f /tmp/uu.out',
    `setsid /usr/local/bin/unattended-upgrade ${seconds} </dev/null >/tmp/uu.out 2>&1 & echo $!`,
    'i=0; until grep -qs locked /tmp/uu.out || [ $i -ge 100 ]; do sleep 0.1; i=$((i+1)); done; grep -q locked /tmp/uu.out',
  ].join('\n'));
  return Number(out.split('\n')[0]);
}

// apt-get install of Glance, SIGKILLed (dpkg and apt both) once dpkg has unpacked a few packages.
const KILL_MID_UNPACK = [
  'export DEBIAN_FRONTEND=noninteractive',
  'rm -f /tmp/st',
  '( apt-get install -y -q --no-install-recommends -o APT::Status-Fd=3 glance python3-glanceclient </dev/null 3>/tmp/st >/tmp/apt.out 2>&1 & )',
  'i=0; until [ "$(grep -c "pmstatus:.*Unpacking" /tmp/st 2>/dev/null)" -ge 3 ] || [ $i -ge 3000 ]; do sleep 0.05; i=$((i+1)); done',
  'pkill -9 -x dpkg; pkill -9 -x apt-get; sleep 1',
  'ls -A /var/lib/dpkg/updates | grep -c "^[0-9]*$"',
].join('\n');

test('dpkg\'s lock held past --dpkg-lock-timeout: apply waits, naming the holder, then stops with a clear error, nothing installed', async (t) => {
  const pid = await holdDpkgLock(120);
  try {
    const t0 = Date.now();
    const r = await runCli(['apply', '--lab', LAB, '--dpkg-lock-timeout', '6'], { env, timeoutMs: 300_000 });
    t.diagnostic(`lock held past the timeout: apply ended after ${seconds(Date.now() - t0)}`);
    assert.equal(r.code, 1, explain('apply', r));
    assert.match(r.stderr, new RegExp(`waiting for the package manager: pid ${pid} \\(/usr/bin/python3 /usr/local/bin/unattended-upgrade 120\\) holds /var/lib/dpkg/lock-frontend \\(0 s so far, up to 6 s\\)`), explain('the waiting line', r));
    assert.match(r.stdout, new RegExp(`error at apt-package glance: the package manager is busy: pid ${pid} \\(/usr/bin/python3 /usr/local/bin/unattended-upgrade 120\\) holds /var/lib/dpkg/lock-frontend, still after 6 s`), explain('the error', r));
    assert.match(r.stdout, new RegExp(`what to do: let it finish .*ps -fp ${pid}`));
    assert.equal(await sh("dpkg-query -W -f='${db:Status-Abbrev}' glance 2>/dev/null || true"), '', 'glance not installed');
    t.diagnostic(`saw: ${lineSaid(r.stderr, /waiting for the package manager/)} | ${errorSaid(r.stdout)}`);
  } finally {
    await sh(`kill ${pid} 2>/dev/null; true`);
  }
});

/** The plan taken with dpkg interrupted: what the apply that repairs it must do, and nothing else. */
let planned: HostReport | undefined;

test('dpkg SIGKILLed mid-unpack: plan shows the repair as its own change', async (t) => {
  const updates = Number(await sh(KILL_MID_UNPACK));
  const audit = await sh('dpkg --audit; true');
  assert.ok(updates > 0 || audit !== '', 'dpkg was left interrupted');
  const plan = await runCli(['plan', '--lab', LAB, '--json'], { env });
  assert.equal(plan.code, 2, explain('plan', plan));
  const health = hostOf(plan).resources.find((r) => r.kind === 'dpkg-health');
  assert.equal(health?.action, 'update', JSON.stringify(health));
  assert.match(health!.why, /^dpkg was interrupted \(.*\): apt installs nothing until it is repaired$/);
  assert.match(plan.stderr, /~ +update dpkg-health dpkg — dpkg was interrupted/);
  t.diagnostic(`plan saw: ${lineSaid(plan.stderr, /update dpkg-health dpkg/)}`);
  // Before the install, in the packages lane.
  const kinds = hostOf(plan).resources.map((r) => r.kind);
  assert.ok(kinds.indexOf('dpkg-health') < kinds.indexOf('apt-package'));
  planned = reportOf(plan);
});

test('apply waits for the lock\'s holder, repairs dpkg, then installs: Glance works, dpkg is clean, the next plan is empty', async (t) => {
  // The holder lets go only once apply is seen waiting for it (on a busy machine a fixed hold may end first).
  const pid = await holdDpkgLock(900);
  const t0 = Date.now();
  const run = startCli(['apply', '--lab', LAB, '--json'], env);
  let waitedFrom = 0;
  try {
    await waitFor('apply waits for the package manager', () => run.stderr.includes(`waiting for the package manager: pid ${pid} `) || run.child.exitCode !== null, 600_000, 200);
    waitedFrom = Date.now();
  } finally {
    await sh(`kill ${pid} 2>/dev/null; true`);
  }
  const r = await run.done;
  t.diagnostic(`repair + install: ${seconds(r.ended - t0)} in all, ${seconds(r.ended - waitedFrom)} after the holder let go`);
  assert.equal(r.code, 0, explain('apply', r));
  assert.match(r.stderr, new RegExp(`waiting for the package manager: pid ${pid} \\(/usr/bin/python3 /usr/local/bin/unattended-upgrade 900\\)`), explain('waited, naming it', r));
  assert.match(r.stderr, /dpkg --configure -a: configure \S+/, explain('configured what was unpacked', r));
  assert.match(r.stderr, /dpkg repaired \([\d.]+ s\)/);
  t.diagnostic(`saw: ${lineSaid(r.stderr, /waiting for the package manager/)} | ${lineSaid(r.stderr, /dpkg: finishing/)} | ${lineSaid(r.stderr, /dpkg repaired/)}`);
  // The repair before the install.
  assert.ok(r.stderr.indexOf('dpkg repaired') < r.stderr.search(/apt \[/), 'repaired before apt installed anything');
  const h = hostOf(r);
  assert.equal(h.resources.find((x) => x.kind === 'dpkg-health')?.status, 'changed');
  assert.equal(h.verify?.kind, 'upload');
  assert.equal(h.verify?.ok, true);
  assert.equal(await sh('dpkg --audit; ls -A /var/lib/dpkg/updates'), '');
  // The plan did not lie: the apply changed what it promised (the repair included), and nothing is left.
  assert.ok(planned, 'the plan of the test before');
  assertPlanKept(planned, reportOf(r)!);
  const plan = await runCli(['plan', '--lab', LAB, '--json'], { env });
  assertEmptyPlan({ ...plan, report: reportOf(plan) });
});
