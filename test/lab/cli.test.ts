// The command line's habits on a real lab controller: each resource's line printed as it finishes (its
// arrival timed, well before the run ends), the plan's counts, the recap; a clean log when piped and a
// status line rewritten in place on a terminal (util-linux `script` gives the run a pty); -v showing
// every remote command and API call with status and time and never a secret; -q silent when nothing
// changes; colour only when asked for off a terminal; several hosts, one unreachable, in one recap; and
// every --json document checked against schema/report.schema.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { runCli, labSsh, explain, useLab, adminPassword, repoRoot, cliArgv, type CliResult } from './helpers.ts';
import { paths } from '../../src/lab/paths.ts';
import type { HostReport } from '../../src/engine/report-model.ts';
import { reportErrors } from '../report-schema.ts';

const LAB = 'ch-cli';
const fixture = useLab(LAB);
const env: NodeJS.ProcessEnv = { ...fixture.env, NO_COLOR: undefined, FORCE_COLOR: undefined };

interface Line { ms: number; stream: 'out' | 'err'; text: string }

/** `install-glance ARGS --lab LAB` with every output line timed from the start, as it arrives. */
function timedRun(args: string[], extraEnv: Record<string, string | undefined> = {}): Promise<CliResult & { lines: Line[]; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cliArgv[0]!, [...cliArgv.slice(1), ...args, '--lab', LAB], { cwd: repoRoot, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Line[] = [];
    const out = { out: '', err: '' };
    const partial = { out: '', err: '' };
    for (const stream of ['out', 'err'] as const) {
      (stream === 'out' ? child.stdout : child.stderr).setEncoding('utf8').on('data', (d: string) => {
        out[stream] += d;
        const parts = (partial[stream] + d).split('\n');
        partial[stream] = parts.pop()!;
        for (const text of parts) lines.push({ ms: performance.now() - t0, stream, text });
      });
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 400_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout: out.out, stderr: out.err, lines, ms: performance.now() - t0 });
    });
  });
}

async function cli(args: string[], extraEnv: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runCli([...args, '--lab', LAB], { env: { ...env, ...extraEnv }, timeoutMs: 400_000 });
}

/** The --json document of a run, checked against the schema. */
function jsonOf(r: CliResult): { exitStatus: number; tool: { version: string }; startedAt: string; hosts: (HostReport & { exitStatus: number })[] } {
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(reportErrors(doc), [], 'the document conforms to schema/report.schema.json');
  return doc;
}

async function sh(command: string): Promise<string> {
  const r = await labSsh(fixture.lab(), command);
  assert.equal(r.code, 0, explain(command, r));
  return r.stdout;
}

const ESC = /\x1b\[/;
const drift = () => sh("sed -i 's/^region_name = RegionOne/region_name = regionOne/' /etc/glance/glance-api.conf");

/** Every secret of the run: the two generated ones and the lab's Keystone admin password. */
function secrets(): string[] {
  const dir = env.INSTALL_GLANCE_SECRETS!;
  const generated = Object.values(JSON.parse(fs.readFileSync(path.join(dir, `${LAB}.json`), 'utf8')) as Record<string, string>);
  assert.equal(generated.length, 2);
  return [...generated, adminPassword(fixture.lab())];
}

test('a fresh apply, piped: each resource printed as it finishes, the plan first, the recap last; a clean log', async () => {
  const r = await timedRun(['apply']);
  assert.equal(r.code, 0, explain('apply', r));
  const out = r.lines.filter((l) => l.stream === 'out');
  const at = (re: RegExp) => {
    const l = out.find((x) => re.test(x.text));
    assert.ok(l, `${re} in\n${r.stdout}`);
    return l;
  };
  const header = at(new RegExp(`^${LAB} \\(${fixture.lab().address.replace(/\./g, '\\.')}, Debian GNU/Linux 12 \\(bookworm\\), profile bookworm\\) — apply$`));
  const planLine = at(/^ {2}Plan: \d+ to add, \d+ to change, 0 to destroy\.$/);
  const database = at(/^ {2}changed {2}mysql-database glance — /);
  const apt = at(/^ {2}changed {2}apt-package glance — /);
  const verified = at(/^ {2}verified image [0-9a-f-]{36}: active/);
  const recap = at(/^RECAP$/);
  const recapLine = at(new RegExp(`^${LAB} : ok=\\d+ +changed=\\d+ +unreachable=0 +failed=0 +skipped=0$`));
  assert.ok(header.ms <= planLine.ms && planLine.ms <= database.ms && database.ms <= apt.ms && apt.ms <= verified.ms && verified.ms <= recap.ms && recap.ms <= recapLine.ms, 'in order');
  // The database's line came when it was done, not when the host ended: the package install, the
  // restart and the upload all came after it.
  assert.ok(verified.ms - database.ms > 3000, `mysql-database printed ${((r.ms - database.ms) / 1000).toFixed(1)} s before the end (verified ${((verified.ms - database.ms) / 1000).toFixed(1)} s after it)`);
  // Piped: no colour, no carriage return, progress as plain lines on stderr (apt's bar every 10 %).
  assert.doesNotMatch(r.stdout + r.stderr, ESC);
  assert.doesNotMatch(r.stdout + r.stderr, /\r/);
  const bars = r.lines.filter((l) => l.stream === 'err' && l.text.startsWith(`${LAB}: apt [`));
  assert.ok(bars.length >= 3 && bars.length <= 15, `${bars.length} apt progress lines`);
  for (const s of secrets()) assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), 'a secret was printed');
});

test('a converged apply with -v --json: every remote command and API call with its status and time, no secret, a valid document', async () => {
  // A converged run first: it keeps what it read, for the next run to ask ahead (a run that changed something keeps nothing).
  const first = await cli(['apply']);
  assert.equal(first.code, 0, explain('converged apply', first));
  const r = await cli(['apply', '-v', '--json']);
  assert.equal(r.code, 0, explain('apply -v', r));
  const doc = jsonOf(r);
  assert.equal(doc.exitStatus, 0);
  const h = doc.hosts[0]!;
  assert.equal(h.changed, 0);
  assert.equal(h.exitStatus, 0);
  assert.ok(Date.now() - Date.parse(doc.startedAt) < 400_000, doc.startedAt);
  for (const x of h.resources) assert.ok(Number.isInteger(x.ms) && x.ms >= 0, `${x.kind} ${x.id} has its time`);
  const trace = r.stderr.split('\n').filter((l) => l.startsWith(`${LAB}: `));
  const has = (re: RegExp, what: string) => assert.ok(trace.some((l) => re.test(l)), `${what} in\n${trace.join('\n')}`);
  has(new RegExp(`^${LAB}: ssh {4}root@${fixture.lab().address.replace(/\./g, '\\.')}:22 → connected \\(\\d+ ms\\)$`), 'the SSH connection');
  // An apply reads its facts on the run lock's channel, once the lock is held: both are shown.
  has(/: run {4}flock \/var\/lib\/install-glance\/run\.lock, then the fact-gathering script \(held open\) → started \(\d+ ms\)$/, 'the run lock');
  has(/: run {4}sh -s <<facts: os, init, .*>> \(by the run lock's holder\) → exit 0 \(\d+ ms\)$/, 'the facts script');
  // The tokens kept from the runs before: the glance user's is validated, and answers the user and role checks
  // (no lookup of its own, no login). What the converged run before it read is asked again as soon as the run
  // lock is held, beside the facts, and all of it is used.
  has(/: api {4}GET http:\/\/controller:5000\/v3\/auth\/tokens\S* → 200 \(asked ahead\) \(\d+ ms\)$/, 'the kept token\'s validation');
  has(/: api {4}GET http:\/\/controller:5000\/v3\/services\?type=image\S* → 200 \(asked ahead\) \(\d+ ms\)$/, 'a Keystone read');
  has(/: api {4}GET http:\/\/controller:5000\/v3\/endpoints\S* → 200 \(asked ahead\) \(\d+ ms\)$/, 'the endpoints');
  assert.ok(!trace.some((l) => /not used/.test(l)), `nothing asked ahead in vain in\n${trace.join('\n')}`);
  assert.ok(!trace.some((l) => /POST http:\/\/controller:5000\/v3\/auth\/tokens|\/v3\/(users|projects|roles)\?/.test(l)), `no login and no lookup in\n${trace.join('\n')}`);
  has(/: api {4}GET http:\/\/controller:9292\/v2\/images\S* → 200 \(asked ahead\) \(\d+ ms\)$/, 'the Glance check');
  // MariaDB was read by the facts (its own client, root over its socket): no session, no tunnel, no login;
  // the accounts' passwords were checked against the server's hashes.
  assert.ok(!trace.some((l) => /: tunnel /.test(l)), `no tunnel in\n${trace.join('\n')}`);
  for (const id of ['glance@localhost', 'glance@%']) {
    assert.match(h.resources.find((x) => x.kind === 'mysql-user' && x.id === id)?.why ?? '', /exists, its password matches the server's hash, has ALL on glance\.\*$/, id);
  }
  // The human report and the recap still come, on stderr with --json.
  assert.match(r.stderr, new RegExp(`^${LAB} : ok=12 +changed=0 `, 'm'));
  for (const s of secrets()) assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), 'a secret was printed');
});

test('-q on a converged controller prints nothing; a drift prints only its change', async () => {
  const quiet = await cli(['apply', '-q']);
  assert.equal(quiet.code, 0, explain('apply -q', quiet));
  assert.equal(quiet.stdout, '');
  assert.equal(quiet.stderr, '');
  await drift();
  const plan = await cli(['plan', '-q']);
  assert.equal(plan.code, 2, explain('plan -q after drift', plan));
  assert.equal(plan.stdout, [
    `${LAB}: ~   update ini-file /etc/glance/glance-api.conf — content differ`,
    `${LAB}:     [keystone_authtoken]`,
    `${LAB}:     -region_name = regionOne`,
    `${LAB}:     +region_name = RegionOne`,
    '',
  ].join('\n'));
  assert.equal(plan.stderr, '');
});

test('plan --json after a drift: the ini change as data (section, key, from, to), the Terraform counts, exit 2', async () => {
  const r = await cli(['plan', '--json']);
  assert.equal(r.code, 2, explain('plan after drift', r));
  const doc = jsonOf(r);
  assert.equal(doc.exitStatus, 2);
  const ini = doc.hosts[0]!.resources.find((x) => x.kind === 'ini-file')!;
  assert.equal(ini.status, 'pending');
  assert.deepEqual(ini.changes, [{ field: '[keystone_authtoken] region_name', section: 'keystone_authtoken', key: 'region_name', from: 'regionOne', to: 'RegionOne' }]);
  assert.deepEqual(ini.detail, ['[keystone_authtoken]', '-region_name = regionOne', '+region_name = RegionOne']);
  assert.match(r.stderr, /^ {2}Plan: 0 to add, 1 to change, 0 to destroy; 1 handler to run\.$/m);
});

test('on a terminal: the status line is rewritten in place and gone at the end; colour on; the report the same', async () => {
  const typescript = path.join(fixture.tmp, 'tty.out');
  // `script` runs the command on a pseudo-terminal and copies what the terminal got into a file.
  const command = [...cliArgv, 'apply', '--lab', LAB].map((a) => `'${a}'`).join(' ');
  const r = await new Promise<CliResult>((resolve) => {
    const child = spawn('script', ['-qfec', `stty cols 120; ${command}`, typescript], { cwd: repoRoot, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
  assert.equal(r.code, 0, explain('apply on a terminal', r));
  const raw = fs.readFileSync(typescript, 'utf8');
  // The restart's progress line was drawn, then erased in place (carriage return, erase line).
  assert.match(raw, new RegExp(`${LAB}: restart glance-api …\\r\\x1b\\[2K`));
  assert.match(raw, ESC, 'colour on a terminal');
  // What the terminal shows at the end, once every erased status line is taken away: the report alone.
  const screen = raw.replace(/\r\n/g, '\n').replace(/[^\n\r]*\r\x1b\[2K/g, '').replace(/\x1b\[[0-9;]*m/g, '');
  assert.doesNotMatch(screen, /restart glance-api …|verify upload \[/, 'no progress line left on the screen');
  assert.match(screen, /^ {2}changed {2}ini-file \/etc\/glance\/glance-api\.conf — content differ$/m);
  assert.match(screen, /^ {2}changed {2}handler restart-glance-api — ini-file \/etc\/glance\/glance-api\.conf changed \(\d+\.\d s\)$/m);
  assert.match(screen, new RegExp(`^${LAB} : ok=11 +changed=1 +unreachable=0 +failed=0 +skipped=0$`, 'm'));
});

test('colour off a terminal only when asked: FORCE_COLOR colours a pipe, NO_COLOR wins on none', async () => {
  const forced = await cli(['plan'], { FORCE_COLOR: '1' });
  assert.equal(forced.code, 0, explain('plan', forced));
  assert.match(forced.stdout, /\x1b\[32mok\x1b\[39m {7}mysql-database glance/);
  const plain = await cli(['plan'], { NO_COLOR: '1' });
  assert.doesNotMatch(plain.stdout + plain.stderr, ESC);
});

test('several hosts, one unreachable: lines named by host, the error, and one recap; the JSON says unreachable', async () => {
  const inventory = path.join(fixture.tmp, 'hosts.ini');
  fs.writeFileSync(inventory, [
    '[control]',
    `${LAB} ansible_host=${fixture.lab().address} ansible_ssh_private_key_file=${paths.clientKey}`,
    'gone ansible_host=127.0.0.1 ansible_port=1',
    '',
  ].join('\n'));
  const r = await runCli(['plan', '--inventory', inventory, '--known-hosts', paths.knownHosts, '--json'], { env, timeoutMs: 120_000 });
  assert.equal(r.code, 1, explain('plan with an unreachable host', r));
  const doc = jsonOf(r);
  assert.deepEqual(doc.hosts.map((h) => [h.host, h.exitStatus, h.unreachable]), [[LAB, 0, false], ['gone', 1, true]]);
  assert.equal(doc.exitStatus, 1);
  assert.match(r.stderr, new RegExp(`^${LAB}: ok {7}mysql-database glance — `, 'm'));
  assert.match(r.stderr, /^gone: error at connect: cannot reach 127\.0\.0\.1:1 \(ECONNREFUSED\)$/m);
  assert.match(r.stderr, new RegExp(`^RECAP\\n${LAB} : ok=12 +changed=0 +unreachable=0 +failed=0 +skipped=0\\ngone +: ok=0 +changed=0 +unreachable=1 +failed=0 +skipped=0$`, 'm'));
});
