// Preflight on a real controller (issue 11, item 6): before any change, what would make the install fail
// half-way is found and said with its fix — the image store or apt without room, the controller's clock
// against Keystone's Date, the controller's name not resolving on the controller, Glance's port held by
// another process, the package mirror not answering when packages are to be downloaded, MariaDB not
// listening where Glance connects, MariaDB and Keystone down. A plan shows each as an error with its hint
// (exit 1); an apply refuses to start: no database, no package, nothing. Once each is mended, apply
// installs Glance, and a converged re-apply still gathers its facts in one remote command.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, explain, useLab, labSsh, poll, reportOf, type CliResult } from './helpers.ts';
import type { HostReport } from '../../src/engine/report-model.ts';

const LAB = 'sb-preflight';
const fixture = useLab(LAB);
const lab = () => fixture.lab();
const env = fixture.env;

type Run = CliResult & { report?: HostReport };

async function cli(args: string[]): Promise<Run> {
  const r = await runCli([...args, '--json'], { env, timeoutMs: 600_000 });
  return { ...r, report: reportOf(r) };
}

async function sh(command: string): Promise<string> {
  const r = await labSsh(lab(), command, { timeoutMs: 180_000 });
  assert.equal(r.code, 0, explain(command, r));
  return r.stdout;
}

/** Nothing of Glance on the controller yet: no database, no account, no package. */
async function untouched(): Promise<void> {
  assert.equal((await sh('mysql -N -e "SHOW DATABASES LIKE \'glance\'" 2>/dev/null || true')).trim(), '', 'the glance database was created');
  assert.match(await sh('dpkg-query -W -f=\'${Status}\' glance 2>&1 || true'), /^(?!install ok installed)/, 'glance was installed');
}

/** A plan and an apply that both stop at the preflight with exactly these checks failing; the apply changed nothing. */
async function refused(t: TestContext, args: string[], checks: string[], each: RegExp[], o: { readsFail?: boolean } = {}): Promise<Run> {
  const plan = await cli(['plan', '--lab', LAB, ...args]);
  // What the operator reads, in the test's log.
  t.diagnostic(`plan (${((plan.report?.durationMs ?? 0) / 1000).toFixed(1)} s): ${plan.report?.error?.message ?? ''}\n  what to do: ${plan.report?.error?.hint ?? ''}`);
  assert.equal(plan.code, 1, explain('plan', plan));
  assert.equal(plan.report?.error?.step, 'preflight', explain('plan', plan));
  assert.deepEqual(plan.report?.preflight?.map((p) => p.check).sort(), [...checks].sort(), explain('plan', plan));
  // The plan still shows what it would change (unless the reads themselves fail for the same cause).
  if (!o.readsFail) assert.ok((plan.report?.resources.length ?? 0) > 0, 'the plan shows what it would change');
  for (const re of each) assert.match(plan.stderr, re, explain('plan', plan));
  for (const p of plan.report!.preflight!) assert.ok(p.hint.length > 10, `a fix for ${p.check}`);
  const apply = await cli(['apply', '--lab', LAB, ...args]);
  t.diagnostic(`apply refused in ${((apply.report?.durationMs ?? 0) / 1000).toFixed(1)} s`);
  assert.equal(apply.code, 1, explain('apply', apply));
  assert.equal(apply.report?.error?.step, 'preflight', explain('apply', apply));
  assert.equal(apply.report?.changed, 0);
  assert.match(apply.report!.error!.message, /failed before any change \(nothing was changed\)/);
  await untouched();
  return plan;
}

const keystoneAnswers = async (dateOffset?: number) => poll(async () => {
  try {
    const res = await fetch(`http://${lab().address}:5000/v3`, { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    const date = res.headers.get('date');
    return res.status === 200 && (dateOffset === undefined ? !date : !!date && Math.abs(Date.parse(date) - Date.now() - dateOffset * 1000) < 60_000);
  } catch {
    return false;
  }
}, 120_000, 500);

test('a healthy controller passes every check: the plan shows its changes, no preflight error', async () => {
  const r = await cli(['plan', '--lab', LAB]);
  assert.equal(r.code, 2, explain('plan', r));
  assert.equal(r.report?.error, undefined);
  assert.equal(r.report?.preflight, undefined);
});

test('port 9292 held by another process: named with its pid and command', async (t) => {
  await sh('setsid -f sh -c \'echo $$ > /tmp/holder.pid; exec python3 -m http.server 9292\' </dev/null >/dev/null 2>&1');
  assert.ok(await poll(async () => (await labSsh(lab(), 'grep -q ":244C 00000000:0000 0A" /proc/net/tcp')).code === 0, 20_000, 200), 'the holder listens');
  try {
    const r = await refused(t, [], ['port 9292'], [/error at preflight: the port 9292 check failed before any change \(nothing was changed\): port 9292 on the controller is held by pid \d+ \(python3 -m http\.server 9292\), not by glance-api/, /what to do: stop that process/]);
    assert.match(r.report!.preflight![0]!.hint, /kill \d+/);
  } finally {
    await sh('kill "$(cat /tmp/holder.pid)"');
  }
});

test('the controller\'s name does not resolve on the controller (--controller ctl-nowhere)', async (t) => {
  await refused(t, ['--controller', 'ctl-nowhere'], ['name'], [/"ctl-nowhere" does not resolve on the controller itself/, new RegExp(`what to do: add "${lab().address.replace(/\./g, '\\.')} ctl-nowhere" to the controller's /etc/hosts`)]);
});

test('the controller\'s clock 2 h behind Keystone\'s (its Date header, 2 h ahead)', async (t) => {
  // Debian runs Keystone under uwsgi, which sends no Date header: the lab's is made to send one, 2 h ahead
  // (a namespace cannot move the controller's own clock, which is this machine's).
  await sh('cp /etc/keystone/keystone-uwsgi.ini /tmp/keystone-uwsgi.ini.orig && echo \'route-run = addheader:Date: ${httptime[7200]}\' >> /etc/keystone/keystone-uwsgi.ini && /etc/init.d/keystone restart </dev/null >/dev/null 2>&1');
  try {
    assert.ok(await keystoneAnswers(7200), 'Keystone answers with a Date 2 h ahead');
    await refused(t, [], ['clock'], [/the controller's clock is 2 h behind Keystone's \(controller .* UTC, Keystone at controller:5000 .* UTC\)/, /what to do: set the controller's clock right \(timedatectl set-ntp true/]);
    // The same header with the right time: no problem.
    await sh('cp /tmp/keystone-uwsgi.ini.orig /etc/keystone/keystone-uwsgi.ini && echo \'route-run = addheader:Date: ${httptime[]}\' >> /etc/keystone/keystone-uwsgi.ini && /etc/init.d/keystone restart </dev/null >/dev/null 2>&1');
    assert.ok(await keystoneAnswers(0), 'Keystone answers with the right Date');
    const ok = await cli(['plan', '--lab', LAB]);
    assert.equal(ok.code, 2, explain('plan with Keystone\'s clock right', ok));
  } finally {
    await sh('cp /tmp/keystone-uwsgi.ini.orig /etc/keystone/keystone-uwsgi.ini && /etc/init.d/keystone restart </dev/null >/dev/null 2>&1');
    assert.ok(await keystoneAnswers(), 'Keystone is back as it was');
  }
});

test('no room: a 200 MiB image store, and 100 MiB for apt\'s downloads (the cached packages out of sight)', async (t) => {
  await sh('mkdir -p /var/lib/glance && mount -t tmpfs -o size=200m tmpfs /var/lib/glance && mount -t tmpfs -o size=100m tmpfs /var/cache/apt/archives');
  try {
    await refused(t, [], ['disk', 'disk'], [
      /- disk: \/var\/lib\/glance on the controller has 200 MiB free; it needs 1024 MiB: 1024 MiB for the image store \(\/var\/lib\/glance\/images\)/,
      /- disk: \/var\/cache\/apt\/archives on the controller has 100 MiB free; it needs \d+ MiB: \d+ MiB of packages to download/,
      /what to do: free space on \/var\/cache\/apt\/archives \(apt-get clean empties \/var\/cache\/apt\/archives\)/,
    ]);
  } finally {
    await sh('umount /var/lib/glance; umount /var/cache/apt/archives');
  }
});

test('the package mirror does not answer (no DNS on the controller), with packages to download', async (t) => {
  // The lab's /etc/hosts is rewritten whenever a lab comes or goes (each knows the others by name): the
  // mirror is made unreachable by a resolver that answers nothing instead.
  await sh('mount -t tmpfs -o size=400m tmpfs /var/cache/apt/archives && cp /etc/resolv.conf /tmp/resolv.conf.orig && echo "nameserver 127.0.0.9" > /etc/resolv.conf');
  try {
    await refused(t, [], ['mirror'], [/the package mirror http:\/\/deb\.debian\.org does not answer from the controller \(deb\.debian\.org does not resolve: .+\), and \d+ MiB of packages are to be downloaded from it/, /what to do: check the controller's network, DNS and \/etc\/apt\/sources\.list/]);
  } finally {
    await sh('cp /tmp/resolv.conf.orig /etc/resolv.conf; umount /var/cache/apt/archives');
  }
});

test('MariaDB listening on 127.0.0.1 only, while Glance connects to controller:3306', async (t) => {
  await sh('printf "[mysqld]\\nbind-address = 127.0.0.1\\n" > /etc/mysql/mariadb.conf.d/99-zz-preflight.cnf && service mariadb restart >/dev/null 2>&1 </dev/null');
  try {
    await refused(t, [], ['mariadb'], [new RegExp(`MariaDB listens only on 127\\.0\\.0\\.1:3306, but Glance connects to controller:3306, which is ${lab().address.replace(/\./g, '\\.')} on the controller`), /what to do: set bind-address = 0\.0\.0\.0/]);
  } finally {
    await sh('rm -f /etc/mysql/mariadb.conf.d/99-zz-preflight.cnf && service mariadb restart >/dev/null 2>&1 </dev/null');
  }
});

test('MariaDB and Keystone both down: both said in one run, each with its fix', async (t) => {
  await sh('service mariadb stop >/dev/null 2>&1; /etc/init.d/keystone stop </dev/null >/dev/null 2>&1; true');
  try {
    await refused(t, [], ['keystone', 'mariadb'], [/- mariadb: .*MariaDB does not answer/, /what to do: start it \(service mariadb start\)/, /- keystone: Keystone does not answer at http:\/\/controller:5000\/v3/], { readsFail: true });
  } finally {
    await sh('service mariadb start >/dev/null 2>&1 </dev/null; /etc/init.d/keystone start </dev/null >/dev/null 2>&1');
    assert.ok(await keystoneAnswers(), 'Keystone is back');
  }
});

test('all mended: apply installs Glance; a converged re-apply gathers its facts, the preflight\'s included, in one remote command', async () => {
  const r = await cli(['apply', '--lab', LAB]);
  assert.equal(r.code, 0, explain('apply', r));
  assert.equal(r.report?.verify?.ok, true);
  const again = await runCli(['apply', '--lab', LAB, '-v'], { env, timeoutMs: 300_000 });
  assert.equal(again.code, 0, explain('converged re-apply', again));
  const runs = again.stderr.split('\n').filter((l) => / run {4}/.test(l));
  assert.equal(runs.filter((l) => /sh -s <<facts: /.test(l)).length, 1, runs.join('\n'));
  assert.ok(!runs.some((l) => /apt-get|getent|preflight apt/.test(l)), `no remote command of the preflight's own:\n${runs.join('\n')}`);
  assert.match(again.stdout + again.stderr, /changed=0 /);
});
