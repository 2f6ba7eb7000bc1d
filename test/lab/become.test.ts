// Become on a controller as cloud images come: root's SSH login off, a sudoer `ops` (no password asked)
// does the whole job with --become: a fresh apply, a converged re-apply that writes nothing, verify;
// MariaDB's admin works without root's login (a root-run relay of its socket). A sudo that wants a
// password stops before any change, saying what to do; --ask-become-pass feeds it on stdin, never
// where the controller's process list shows it; on a terminal it is asked without echo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { runCli, explain, useLab, labSsh, repoRoot, cliArgv, type CliResult, GLANCE_DEPS } from './helpers.ts';
import { quoteArgv } from '../../src/transport/quote.ts';
import { sudoersOnly, userSsh, rootSh, asUser, ASKS_PASSWORD } from './become-helpers.ts';
import type { HostReport } from '../../src/engine/report-model.ts';

const LAB = 'bc-become';
const fixture = useLab(LAB, GLANCE_DEPS);
const lab = () => fixture.lab();

async function cli(args: string[], input?: string): Promise<CliResult & { report?: HostReport }> {
  const r = await runCli([...args, '--json'], { env: fixture.env, timeoutMs: 300_000, ...(input === undefined ? {} : { input }) });
  let report: HostReport | undefined;
  try {
    report = (JSON.parse(r.stdout) as { hosts: HostReport[] }).hosts[0];
  } catch {
    /* not JSON: the assertion that follows shows the output */
  }
  return { ...r, report };
}

const ops = () => [...asUser(lab(), 'ops'), '--become'];
const glanceApiPid = async () => (await rootSh(lab(), 'cat /run/glance/glance-api.pid')).trim();
const glanceInstalled = async () => (await rootSh(lab(), "dpkg-query -W -f='${Status}' glance 2>/dev/null || true")).includes('ok installed');

async function writeCounters(): Promise<string> {
  return rootSh(lab(), "mysql -N -e \"SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_insert','Com_update','Com_delete','Com_create_db','Com_create_user','Com_alter_user','Com_grant','Com_replace')\"");
}

test('set-up: root cannot log in over SSH; ops can and has passwordless sudo; asks must give a password', async () => {
  await sudoersOnly(lab());
  const root = await labSsh(lab(), 'true');
  assert.notEqual(root.code, 0, 'root still logs in');
  assert.equal((await userSsh(lab(), 'ops', 'sudo -n id -u')).stdout.trim(), '0');
  assert.match((await userSsh(lab(), 'asks', 'sudo -n true')).stderr, /a password is required/);
});

test('as ops without --become: the error says to use --become (root\'s openrc and unix_socket login are out of reach)', async () => {
  const r = await cli(['plan', ...asUser(lab(), 'ops')]);
  assert.equal(r.code, 1, explain('plan as ops without become', r));
  assert.match(r.report?.error?.hint ?? '', /--become/);
});

test('a sudo that wants a password: a clear error before any change', async () => {
  for (const mode of ['plan', 'apply']) {
    const r = await cli([mode, ...asUser(lab(), 'asks'), '--become']);
    assert.equal(r.code, 1, explain(`${mode} as asks`, r));
    assert.equal(r.report?.error?.step, 'become');
    assert.match(r.report?.error?.message ?? '', /sudo on \S+ wants a password for asks \(nothing was changed\)/);
    assert.match(r.report?.error?.hint ?? '', /--ask-become-pass/);
    assert.deepEqual(r.report?.resources, []);
  }
  assert.equal(await glanceInstalled(), false, 'nothing was installed');
});

test('--ask-become-pass: a wrong password is refused; the right one (stdin) plans, and never shows in the process list', async () => {
  const wrong = await cli(['plan', ...asUser(lab(), 'asks'), '--become', '--ask-become-pass'], 'not it\n');
  assert.equal(wrong.code, 1, explain('plan with a wrong sudo password', wrong));
  assert.match(wrong.report?.error?.message ?? '', /refused the password given for asks/);

  await rootSh(lab(), "rm -f /tmp/ps.stop /tmp/ps.log; nohup sh -c 'while [ ! -e /tmp/ps.stop ]; do ps -eww -o args= >>/tmp/ps.log; echo --- >>/tmp/ps.log; sleep 0.01; done' >/dev/null 2>&1 &");
  const r = await cli(['plan', ...asUser(lab(), 'asks'), '--become', '--ask-become-pass'], `${ASKS_PASSWORD}\n`);
  await rootSh(lab(), 'touch /tmp/ps.stop');
  assert.equal(r.code, 2, explain('plan with the sudo password', r));
  // The plan read MariaDB as its root (through the relay) and the files as root.
  assert.equal(r.report?.resources.find((x) => x.kind === 'mysql-database')?.action, 'create');
  const ps = await rootSh(lab(), 'cat /tmp/ps.log');
  assert.match(ps, /sudo -S -p/, 'the sampling saw sudo run');
  assert.ok(!ps.includes(ASKS_PASSWORD), 'the sudo password appeared in the process list');
  assert.ok(!(r.stdout + r.stderr).includes(ASKS_PASSWORD), 'the sudo password was printed');
  assert.equal(await glanceInstalled(), false, 'a plan changes nothing');
});

test('--ask-become-pass on a terminal: asked without echo, typed once the prompt shows', async () => {
  // util-linux's script gives the CLI a pty; the password is typed only after the prompt, as a person would.
  const argv = [...cliArgv, 'plan', ...asUser(lab(), 'asks'), '--become', '--ask-become-pass'];
  const child = spawn('script', ['-qefc', quoteArgv(argv), '/dev/null'], { cwd: repoRoot, env: fixture.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let typed = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (!typed && out.includes('BECOME password:')) {
      typed = true;
      child.stdin.write(`${ASKS_PASSWORD}\r`);
    }
  });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.ok(typed, `no prompt on the terminal:\n${out}`);
  assert.equal(code, 2, `plan through a pty: exit ${code}\n${out}`);
  assert.match(out, /mysql-database glance/);
  assert.ok(!out.includes(ASKS_PASSWORD), 'the password was echoed');
});

test('ops with --become: fresh apply, converged re-apply (0 changed, nothing written), verify', async () => {
  const fresh = await cli(['apply', ...ops()]);
  assert.equal(fresh.code, 0, explain('fresh apply as ops', fresh));
  assert.ok(fresh.report!.changed >= 10, `changed=${fresh.report!.changed}`);
  assert.equal(fresh.report?.verify?.kind, 'upload');
  assert.equal(fresh.report?.verify?.ok, true);
  assert.equal((await rootSh(lab(), 'stat -c "%U:%G %a" /etc/glance/glance-api.conf')).trim(), 'root:glance 640');

  const pid = await glanceApiPid();
  const file = await rootSh(lab(), 'stat -c "%i %Y" /etc/glance/glance-api.conf');
  const counters = await writeCounters();
  const again = await cli(['apply', ...ops()]);
  assert.equal(again.code, 0, explain('converged re-apply as ops', again));
  assert.equal(again.report?.changed, 0, explain('converged re-apply as ops', again));
  assert.deepEqual(again.report?.handlers, []);
  assert.equal(again.report?.verify?.kind, 'list');
  assert.equal(await glanceApiPid(), pid, 'glance-api was restarted');
  assert.equal(await rootSh(lab(), 'stat -c "%i %Y" /etc/glance/glance-api.conf'), file, 'glance-api.conf was rewritten');
  assert.equal(await writeCounters(), counters, 'MariaDB saw a write');

  const v = await cli(['verify', ...ops()]);
  assert.equal(v.code, 0, explain('verify as ops', v));
  assert.equal(v.report?.verify?.ok, true);
});
