// The kill-point matrix (issue 11, item 1): a fresh apply and a drift repair, each stopped at a step
// boundary or in the middle of a long step (apt, db_sync, restart, the verify upload), by SIGKILL of the
// CLI or by cutting its SSH connection on the controller's side. After each, one apply converges: exit 0,
// the plan after it is empty, Glance uploads an image, the journal is empty, and every restart and db_sync
// that was owed is done (the schema at head, glance-api started after its config and its package).
// Each apply is held to its plan (item 8). The moment is found from the run's own lines (-v: the plan,
// each resource as it finishes, the progress of long steps, every remote command as it ends), then, for
// the middle of a step, by polling the controller; never by sleeping. Three labs run rows side by side.
//
// KP_ROWS=F4,D3 runs only those rows; KP_LABS=2 uses two labs. The table of results is written to
// $KP_TABLE (default: install-glance-killpoints.md in the temp directory) and said as diagnostics.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, labSsh, labUp, labDown, explain, assertPlanKept, assertEmptyPlan, reportOf, changed, keystoneToken, GLANCE_DEPS, type CliResult } from './helpers.ts';
import { startCli, cutSsh, untilOnController, settle, type LiveRun } from './kp-helpers.ts';
import type { LabRecord } from '../../src/lab/lab.ts';
import type { HostReport } from '../../src/engine/report-model.ts';

/**
 * SIGKILL of the CLI; its SSH connection cut (the controller's sshd process for it killed); or, as a reboot
 * or the OOM killer would, the db_sync itself killed on the controller while the run goes on.
 */
type How = 'SIGKILL' | 'cut SSH' | 'db_sync killed';

interface Row {
  id: string;
  scenario: 'fresh' | 'drift';
  point: string;
  /** The run's stderr line that marks the moment. */
  line: RegExp;
  /** Then, for the middle of a step, a shell condition on the controller that says the step is under way. */
  until?: string;
  how: How;
  /** The next apply starts at once, racing whatever the dead run left running (else: once the controller is quiet, after a plan). */
  immediately?: boolean;
  /** Known not to converge on this branch alone: why (the row still runs, and is reported). */
  todo?: string;
  /**
   * The kill comes while apt works (or the lane beside it): the lab is a bare snapshot, with all ~110
   * packages to unpack. Every other row's lab has Glance's dependencies installed (GLANCE_DEPS), so the
   * install its fresh apply goes through first takes seconds; the kill point itself is the same.
   */
  wholeInstall?: true;
}

const TABLES = 'mysql -N -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = \'glance\'"';
const midSync = `pgrep -f '/glance-manage db_sync' >/dev/null && [ "$(${TABLES})" -ge 5 ]`;
const midApt = 'pgrep -x dpkg >/dev/null';

const at = {
  plan: /^\s+Plan: \d+ to add/,
  database: /^\s+changed\s+mysql-user glance@%/,
  apt: /apt \[#+\.*\]\s+[3-6]\d% /,
  packages: /^\s+changed\s+apt-package glance/,
  config: /^\s+changed\s+ini-file \/etc\/glance\/glance-api\.conf/,
  handedOver: /^\s+changed\s+db-schema glance/,
  sync: /glance-manage db_sync …/,
  synced: /glance-manage db_sync' glance → exit 0/,
  restart: /restart glance-api …/,
  restarted: /restart glance-api done/,
  upload: /verify upload \[/,
};

const ROWS: Row[] = [
  { id: 'F1', scenario: 'fresh', point: 'plan shown, nothing changed yet', line: at.plan, how: 'SIGKILL' },
  { id: 'F2', scenario: 'fresh', point: 'database lane done (apt under way)', line: at.database, how: 'cut SSH', wholeInstall: true },
  { id: 'F3', scenario: 'fresh', point: 'mid-apt (dpkg unpacking)', line: at.apt, until: midApt, how: 'SIGKILL', wholeInstall: true },
  { id: 'F4', scenario: 'fresh', point: 'mid-apt (dpkg unpacking)', line: at.apt, until: midApt, how: 'cut SSH', wholeInstall: true },
  { id: 'F5', scenario: 'fresh', point: 'packages installed, config not written', line: at.packages, how: 'cut SSH' },
  { id: 'F6', scenario: 'fresh', point: 'config written, schema not reached', line: at.config, how: 'SIGKILL' },
  { id: 'F7', scenario: 'fresh', point: 'schema handed to its handler, no handler run', line: at.handedOver, how: 'cut SSH' },
  { id: 'F8', scenario: 'fresh', point: 'mid-db_sync (tables being made)', line: at.sync, until: midSync, how: 'SIGKILL', immediately: true },
  { id: 'F9', scenario: 'fresh', point: 'mid-db_sync (tables being made)', line: at.sync, until: midSync, how: 'cut SSH' },
  { id: 'F10', scenario: 'fresh', point: 'db_sync done, restart not started', line: at.synced, how: 'SIGKILL' },
  { id: 'F11', scenario: 'fresh', point: 'mid-restart', line: at.restart, how: 'cut SSH', immediately: true },
  { id: 'F12', scenario: 'fresh', point: 'restart done, journal not crossed out', line: at.restarted, how: 'SIGKILL' },
  { id: 'F13', scenario: 'fresh', point: 'mid-verify upload', line: at.upload, how: 'cut SSH' },
  { id: 'F14', scenario: 'fresh', point: 'mid-db_sync (tables being made)', line: at.sync, until: midSync, how: 'db_sync killed' },
  { id: 'D1', scenario: 'drift', point: 'plan shown, nothing changed yet', line: at.plan, how: 'cut SSH' },
  { id: 'D2', scenario: 'drift', point: 'database made again, config written', line: at.config, how: 'SIGKILL' },
  { id: 'D3', scenario: 'drift', point: 'mid-db_sync (tables being made)', line: at.sync, until: midSync, how: 'cut SSH', immediately: true },
  { id: 'D4', scenario: 'drift', point: 'mid-db_sync (tables being made)', line: at.sync, until: midSync, how: 'SIGKILL' },
  { id: 'D5', scenario: 'drift', point: 'mid-restart', line: at.restart, how: 'SIGKILL', immediately: true },
  { id: 'D6', scenario: 'drift', point: 'restart done, journal not crossed out', line: at.restarted, how: 'cut SSH' },
  { id: 'D7', scenario: 'drift', point: 'mid-verify upload', line: at.upload, how: 'SIGKILL' },
  { id: 'D8', scenario: 'drift', point: 'mid-db_sync (tables being made)', line: at.sync, until: midSync, how: 'db_sync killed' },
];

const only = process.env.KP_ROWS?.split(',').map((s) => s.trim()).filter(Boolean);
const rows = ROWS.filter((r) => !only || only.includes(r.id));
const labCount = Math.max(1, Math.min(Number(process.env.KP_LABS ?? 3), rows.length));
const tableFile = process.env.KP_TABLE ?? path.join(os.tmpdir(), 'install-glance-killpoints.md');

/** Every drift of the catalogue the repair mends at once: the glance database gone (db_sync owed), a password, a key, an endpoint. */
const DRIFTED = ['db-schema glance', 'ini-file /etc/glance/glance-api.conf', 'keystone-endpoint image public/internal/admin', 'mysql-database glance', 'mysql-user glance@%'];
const DRIFT = [
  "sed -i 's/^region_name = RegionOne$/region_name = regionOne/' /etc/glance/glance-api.conf",
  "mysql -e \"ALTER USER 'glance'@'%' IDENTIFIED BY 'drifted'; DROP DATABASE glance\"",
  '. ~/openstack/admin-openrc.sh; python3 - <<\'PY\'\n' +
  'import json, os, urllib.request\n' +
  'def call(m, p, b=None, t=None):\n' +
  "    r = urllib.request.Request('http://controller:5000/v3' + p, method=m, data=json.dumps(b).encode() if b else None, headers={'Content-Type': 'application/json', **({'X-Auth-Token': t} if t else {})})\n" +
  '    return urllib.request.urlopen(r)\n' +
  "a = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {'name': 'admin', 'domain': {'id': 'default'}, 'password': os.environ['OS_PASSWORD']}}}, 'scope': {'project': {'name': 'admin', 'domain': {'id': 'default'}}}}}\n" +
  "t = call('POST', '/auth/tokens', a).headers['X-Subject-Token']\n" +
  "svc = json.load(call('GET', '/services?type=image', t=t))['services'][0]['id']\n" +
  "eps = [e for e in json.load(call('GET', '/endpoints?service_id=' + svc, t=t))['endpoints'] if e['interface'] == 'internal']\n" +
  "call('DELETE', '/endpoints/' + eps[0]['id'], t=t)\n" +
  'PY',
].join('\n');

type Run = CliResult & { report?: HostReport };

/** One lab and the rows it runs, one after another. */
class Worker {
  lab: LabRecord | undefined;
  env: NodeJS.ProcessEnv = {};
  /** Converged with Glance installed (a drift row can start), as far as this worker knows. */
  converged = false;
  constructor(readonly name: string) {}

  async cli(args: string[], timeoutMs = 20 * 60_000): Promise<Run> {
    const r = await runCli([...args, '--lab', this.name, '--json'], { env: this.env, timeoutMs });
    return { ...r, report: reportOf(r) };
  }

  async sh(command: string): Promise<string> {
    const r = await labSsh(this.lab!, command, { timeoutMs: 120_000 });
    assert.equal(r.code, 0, explain(command, r));
    return r.stdout;
  }

  /** A new controller from the snapshot (the bare one for WHOLEINSTALL), and no secrets kept for it. */
  async fresh(wholeInstall = false): Promise<void> {
    await labDown(this.name);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ig-${this.name}-`));
    this.env = { ...process.env, INSTALL_GLANCE_SECRETS: path.join(dir, 'secrets') };
    [this.lab] = await labUp([this.name], wholeInstall ? [] : GLANCE_DEPS);
    this.converged = false;
  }

  /** Glance installed and converged (a fresh controller and an apply, unless the last row left it so). */
  async ready(): Promise<void> {
    if (this.converged && this.lab) return;
    await this.fresh();
    const r = await this.cli(['apply']);
    assert.equal(r.code, 0, explain('apply before a drift row', r));
    this.converged = true;
  }
}

interface Result {
  row: Row;
  said: string;
  left: string[];
  next: string;
  converged: boolean;
  seconds: number;
  error?: string;
}

const results: Result[] = [];

function line(r: Result): string {
  const { row } = r;
  return `| ${row.id} ${row.scenario} | ${row.point} | ${row.how}${row.immediately ? ', next apply at once' : ''} | ${r.said}${r.left.length ? `; left running: ${r.left.join(', ')}` : ''} | ${r.next} | ${r.converged ? 'y' : 'n'} | ${r.seconds.toFixed(1)} |`;
}

function writeTable(): void {
  const head = '| row | kill point | how killed | what the killed run said | what the next apply did | converged | s (next apply) |\n|---|---|---|---|---|---|---|\n';
  const sorted = [...results].sort((a, b) => ROWS.indexOf(a.row) - ROWS.indexOf(b.row));
  fs.writeFileSync(tableFile, head + sorted.map(line).join('\n') + '\n');
}

/** What the next apply did, in a line: the resources it changed, the handlers it ran, its check. */
function summary(run: Run): string {
  const r = run.report;
  if (!r) return '(no report)';
  const c = changed(r);
  const parts = [c.resources.length ? `changed ${c.resources.join(', ')}` : 'changed nothing', c.handlers.length ? `ran ${c.handlers.join(', ')}` : 'no handler'];
  if (/waiting for what an earlier run started/.test(run.stderr)) parts.push(`waited for what the dead run left running (${/left running: (.*)$/m.exec(run.stderr)?.[1] ?? '?'})`);
  if (/waiting for a glance-manage db_sync/.test(run.stderr)) parts.push('waited for the db_sync the dead run left running');
  const leftImage = r.notes.find((n) => /an earlier check left behind/.test(n));
  if (leftImage) parts.push(`noted ${leftImage.split(' (')[0]}`);
  const schema = r.resources.find((x) => x.kind === 'db-schema' && x.planned);
  if (schema?.changes.some((x) => x.field === 'tables')) parts.push('dropped the empty tables a cut-off db_sync left');
  if (r.verify) parts.push(`verify ${r.verify.kind}`);
  return parts.join('; ');
}

/** The killed run's last word: its error, or that it was killed. */
function saidBy(how: How, r: CliResult): string {
  if (how === 'SIGKILL') return 'killed (nothing more)';
  const err = reportOf(r)?.error;
  return err ? `exit ${r.code}: error at ${err.step}: ${err.message.split('\n')[0]}` : `exit ${r.code}`;
}

async function kill(w: Worker, row: Row, live: LiveRun): Promise<CliResult> {
  await live.line(row.line);
  // The middle of a step: the run goes on until the controller shows the step under way.
  if (row.until) await untilOnController(w.lab!, row.until);
  // Cutting takes a command on the controller (a second or more on a loaded machine): the run is frozen
  // meanwhile, so the link dies where it was seen, not a step later. (What it already started there runs on.)
  if (row.how === 'cut SSH') live.child.kill('SIGSTOP');
  if (row.how === 'SIGKILL') live.child.kill('SIGKILL');
  else if (row.how === 'cut SSH') {
    await cutSsh(w.lab!, live.child.pid!);
    live.child.kill('SIGCONT');
  } else await w.sh("pkill -KILL -f '/glance-manage db_sync'");
  // Unless killed, the run must end by itself (naming what happened); five minutes is far beyond any wait of its.
  const timer = setTimeout(() => live.child.kill('SIGKILL'), 300_000);
  try {
    const r = await live.exited;
    if (row.how !== 'SIGKILL') assert.doesNotMatch(r.stderr, /killed by SIGKILL/, explain('the run ends by itself', r));
    return r;
  } finally {
    clearTimeout(timer);
  }
}

/** Every restart and db_sync owed is done: nothing in the journal, glance-api started after its config and its package were last written. */
async function assertOwedDone(w: Worker): Promise<void> {
  assert.equal((await w.sh('cat /var/lib/install-glance/pending 2>/dev/null || true')).trim(), '', 'the journal is empty');
  const [started, conf, pkg] = (await w.sh(
    'pid=$(cat /run/glance/glance-api.pid); echo $(( $(date +%s) - $(ps -o etimes= -p "$pid") )) $(stat -c %Y /etc/glance/glance-api.conf) $(stat -c %Y /var/lib/dpkg/info/glance-api.list)',
  )).trim().split(' ').map(Number);
  assert.ok(started! + 1 >= Math.max(conf!, pkg!), `glance-api started at ${started}, before its config (${conf}) or its package (${pkg}) last changed`);
}

/** Images the checks made (tagged install-glance-verify) that Glance still has, as the admin sees them. */
async function checkImagesLeft(lab: LabRecord): Promise<string[]> {
  const { token } = await keystoneToken(lab);
  assert.ok(token, 'an admin token');
  const res = await fetch(`http://${lab.address}:9292/v2/images?tag=install-glance-verify&limit=100`, { headers: { 'x-auth-token': token }, signal: AbortSignal.timeout(30_000) });
  assert.equal(res.status, 200);
  return ((await res.json()) as { images: { id: string; status: string }[] }).images.map((i) => `${i.id} (${i.status})`);
}

async function runRow(w: Worker, row: Row): Promise<Result> {
  const result: Result = { row, said: '', left: [], next: '', converged: false, seconds: 0 };
  results.push(result);
  try {
    if (row.scenario === 'fresh') {
      await w.fresh(row.wholeInstall);
    } else {
      await w.ready();
      w.converged = false;
      await w.sh(DRIFT);
      const plan = await w.cli(['plan']);
      assert.equal(plan.code, 2, explain('plan after the drift', plan));
      assert.deepEqual(plan.report?.resources.filter((r) => r.action !== 'none').map((r) => `${r.kind} ${r.id}`).sort(), DRIFTED, explain('the plan shows exactly the drift', plan));
    }
    const live = startCli(['apply', '--lab', w.name, '-v', '--json'], w.env);
    const killed = await kill(w, row, live);
    result.said = saidBy(row.how, killed);
    let plan: Run | undefined;
    if (!row.immediately) {
      result.left = await settle(w.lab!);
      plan = await w.cli(['plan']);
      assert.ok(plan.code === 0 || plan.code === 2, explain('plan after the kill', plan));
    }
    const t0 = Date.now();
    const next = await w.cli(['apply']);
    result.seconds = (Date.now() - t0) / 1000;
    result.next = summary(next);
    if (next.report?.error) result.next += `; error at ${next.report.error.step}: ${next.report.error.message.split('\n')[0]}`;
    assert.equal(next.code, 0, explain('the next apply', next));
    // Item 8: a separate plan before it, or (at once) its own plan, is what it did.
    assertPlanKept((plan ?? next).report!, next.report!);
    assertEmptyPlan(await w.cli(['plan']));
    await assertOwedDone(w);
    const v = await w.cli(['verify']);
    assert.equal(v.code, 0, explain('verify after the next apply', v));
    assert.equal(v.report?.verify?.kind, 'upload');
    if (v.report?.verify?.removedLeftovers) result.next += `; the verify after removed ${(v.report.verify.removedLeftovers as string[]).length} image(s) the dead check left`;
    assert.deepEqual(await checkImagesLeft(w.lab!), [], 'no image of a check is left in Glance');
    result.converged = true;
    w.converged = true;
    return result;
  } catch (e) {
    result.error = (e as Error).message;
    throw e;
  } finally {
    writeTable();
  }
}

// Rows dealt to labs so each lab runs fresh and drift rows alike (a fresh row leaves the lab converged for a drift row).
const workers = Array.from({ length: labCount }, (_, i) => new Worker(`kp-${i + 1}`));
const dealt = workers.map(() => [] as Row[]);
const fresh = rows.filter((r) => r.scenario === 'fresh');
const drift = rows.filter((r) => r.scenario === 'drift');
[...fresh, ...drift].forEach((r, i) => dealt[i % labCount]!.push(r));
for (const list of dealt) list.sort((a, b) => (a.scenario === b.scenario ? 0 : a.scenario === 'fresh' ? -1 : 1));

after(async () => {
  writeTable();
  await Promise.allSettled(workers.map((w) => labDown(w.name)));
});

describe('kill points: one apply after each converges and does what was owed', { concurrency: labCount }, () => {
  for (const [i, w] of workers.entries()) {
    describe(`lab ${w.name}`, { concurrency: 1 }, () => {
      for (const row of dealt[i]!) {
        test(`${row.id} ${row.scenario}: ${row.how} at "${row.point}"`, { timeout: 40 * 60_000, ...(row.todo ? { todo: row.todo } : {}) }, async (t) => {
          try {
            const r = await runRow(w, row);
            t.diagnostic(line(r));
          } catch (e) {
            t.diagnostic(line(results.find((x) => x.row === row)!));
            throw e;
          }
        });
      }
    });
  }
});

test('a db_sync an earlier run left running: the plan says so, apply waits for it (saying so), reads the schema again and does not sync twice', { timeout: 30 * 60_000 }, async () => {
  const w = workers[0]!;
  await w.ready();
  w.converged = false;
  // What a run cut off mid-sync leaves: an empty glance database, and its db_sync still running under the lock
  // (held here until the test lets it go, so the moment is the test's, not a race).
  await w.sh('rm -f /tmp/kp-go; mysql -e "DROP DATABASE glance; CREATE DATABASE glance"');
  await w.sh("nohup flock /run/lock/install-glance.glance-manage.lock sh -c 'while [ ! -e /tmp/kp-go ]; do sleep 0.2; done; su -s /bin/sh -c \"glance-manage db_sync\" glance' >/dev/null 2>&1 &");
  await untilOnController(w.lab!, '! flock -n /run/lock/install-glance.glance-manage.lock true', 60);
  const plan = await w.cli(['plan']);
  assert.equal(plan.code, 2, explain('plan', plan));
  const schema = plan.report?.resources.find((r) => r.kind === 'db-schema');
  assert.match(schema?.why ?? '', /a sync an earlier run started is still running/, explain('plan', plan));
  assert.deepEqual(plan.report?.handlers.map((h) => h.name), ['sync-glance-schema', 'restart-glance-api']);

  const live = startCli(['apply', '--lab', w.name, '-v', '--json'], w.env);
  await live.line(/waiting for a glance-manage db_sync an earlier run left running/);
  await w.sh('touch /tmp/kp-go');
  const r = await live.exited;
  const report = reportOf(r);
  assert.equal(r.code, 0, explain('apply', r));
  assertPlanKept(plan.report!, report!);
  assert.doesNotMatch(r.stderr, /run\s+flock -w 900 \S+ su -s \/bin\/sh -c 'glance-manage db_sync'/, 'the schema was at head once the earlier sync ended: no second sync');
  assertEmptyPlan(await w.cli(['plan']));
  await assertOwedDone(w);
  w.converged = true;
});

test('the table', () => {
  writeTable();
  for (const r of [...results].sort((a, b) => ROWS.indexOf(a.row) - ROWS.indexOf(b.row))) console.log(line(r));
  console.log(`(table in ${tableFile})`);
});
