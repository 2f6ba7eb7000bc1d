// Helpers for tests that need real lab controllers: run the CLI as a subprocess (as an operator or CI
// would), bring labs up for one test and always take them down, and look for anything a lab left behind.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { paths } from '../../src/lab/paths.ts';
import type { LabRecord } from '../../src/lab/lab.ts';
import type { HostReport } from '../../src/engine/report-model.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The command as an operator runs it: node on bin/install-glance.cjs, which loads the esbuild bundle in
 * dist/. Not `tsx src/cli/main.ts`: that transpiles on every start (~0.3 s of CPU more per run, hundreds
 * of runs in the lab suite) and is not what ships. The checkout's wrapper (bin/install-glance) rebuilds the
 * bundle once here when a source is newer; the build swaps files in by rename, so test files starting
 * together never load half of one.
 */
export const cliArgv: readonly string[] = [process.execPath, path.join(repoRoot, 'bin', 'install-glance.cjs')];
execFileSync('sh', [path.join(repoRoot, 'bin', 'install-glance'), '--version'], { cwd: repoRoot, stdio: 'ignore' });

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Replaces the environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Killed (SIGKILL) after this long; default 120 s. */
  timeoutMs?: number;
}

/** `install-glance ARGS` in a child process (the bundle, see cliArgv); never throws on exit code. */
export function runCli(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  return run(cliArgv[0]!, [...cliArgv.slice(1), ...args], opts);
}

/** Any command, same contract as runCli. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: repoRoot, env: opts.env ?? process.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `${stderr}\n(killed by ${signal})` : stderr });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // a child that exits without reading its input is its own business
      child.stdin.end(opts.input);
    }
  });
}

/** A failed command as an assertion message: what ran and all it said. */
export function explain(what: string, r: CliResult): string {
  return `${what}: exit ${r.code}\n${failuresOf(r.stdout)}--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/**
 * What failed in a `--json` report, in a few lines ahead of it: CI keeps only the head of a failure's
 * message, and a report's failed resource is far down, past the ones that were fine.
 */
function failuresOf(stdout: string): string {
  let hosts: Partial<HostReport>[];
  try {
    hosts = (JSON.parse(stdout) as { hosts?: Partial<HostReport>[] }).hosts ?? [];
  } catch {
    return '';
  }
  const lines = hosts.flatMap((h) => [
    ...(h.error ? [`${h.host}: error at ${h.error.step}: ${h.error.message} / what to do: ${h.error.hint}`] : []),
    ...(h.resources ?? []).filter((x) => x.status === 'failed').map((x) => `${h.host}: failed ${x.kind} ${x.id} after ${x.ms} ms: ${x.error ?? x.why}`),
    ...(h.handlers ?? []).filter((x) => x.status !== 'changed').map((x) => `${h.host}: handler ${x.name} ${x.status}: ${x.reason}`),
  ]);
  return lines.length ? `--- what failed\n${lines.join('\n')}\n` : '';
}

export function readLab(name: string): LabRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(paths.lab(name), 'lab.json'), 'utf8')) as LabRecord;
  } catch {
    return undefined;
  }
}

/** One LabRecord per name: `const [a, b] = await labUp(['t-x', 't-y'])` types a and b as LabRecord. */
export type Labs<N extends readonly string[]> = { -readonly [K in keyof N]: LabRecord };

/** `lab up NAMES…`; throws with the CLI's output unless it succeeds. Returns the records, in the order given. */
export async function labUp<const N extends readonly string[]>(names: N, extra: readonly string[] = []): Promise<Labs<N>> {
  // The first `up` on a machine builds the snapshot (1.5–2.5 min) while the others wait for it.
  const r = await runCli(['lab', 'up', ...names, ...extra], { timeoutMs: 15 * 60_000 });
  if (r.code !== 0) throw new Error(explain(`lab up ${names.join(' ')}`, r));
  return names.map((n) => {
    const rec = readLab(n);
    if (!rec) throw new Error(`lab up ${n} succeeded but left no record\n${r.stderr}`);
    return rec;
  }) as Labs<N>;
}

/** `lab down NAME`, quietly accepting a lab that is already gone. */
export async function labDown(name: string): Promise<void> {
  const r = await runCli(['lab', 'down', name]);
  if (r.code !== 0 && !r.stderr.includes(`no lab named ${name}`)) throw new Error(explain(`lab down ${name}`, r));
}

/** Labs NAMES up for the length of fn, down afterwards whatever happens. */
export async function withLabs<const N extends readonly string[], T>(names: N, fn: (labs: Labs<N>) => Promise<T>): Promise<T> {
  try {
    return await fn(await labUp(names));
  } finally {
    const downs = await Promise.allSettled(names.map(labDown));
    const failed = downs.find((d): d is PromiseRejectedResult => d.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

export function withLab<T>(name: string, fn: (lab: LabRecord) => Promise<T>): Promise<T> {
  return withLabs([name], ([lab]) => fn(lab));
}

/** COMMAND run by root's shell on the lab, over ssh with the lab's client key and known_hosts. */
export function labSsh(lab: Pick<LabRecord, 'address'>, command: string, opts: RunOptions = {}): Promise<CliResult> {
  return run('ssh', ['-i', paths.clientKey, '-o', `UserKnownHostsFile=${paths.knownHosts}`, '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `root@${lab.address}`, command], opts);
}

/** The admin password the lab's Keystone was bootstrapped with (from the snapshot, on the host). */
export function adminPassword(lab: Pick<LabRecord, 'snapshot'>): string {
  const rc = fs.readFileSync(path.join(lab.snapshot, 'root', 'openstack', 'admin-openrc.sh'), 'utf8');
  const m = /^export OS_PASSWORD='([^']*)'$/m.exec(rc);
  if (!m?.[1]) throw new Error('no admin password in the snapshot');
  return m[1];
}

/** POST /v3/auth/tokens as admin: the HTTP status and the token, if one was issued. */
export async function keystoneToken(lab: Pick<LabRecord, 'address' | 'snapshot'>): Promise<{ status: number; token: string | null }> {
  const body = { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: adminPassword(lab) } } },
    scope: { project: { name: 'admin', domain: { id: 'default' } } } } };
  const res = await fetch(`http://${lab.address}:5000/v3/auth/tokens`, {
    method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  return { status: res.status, token: res.headers.get('x-subject-token') };
}

// ---- what a lab is made of on the host, to prove `down` leaves none of it ----

const NS_KINDS = ['mnt', 'pid', 'net', 'uts', 'ipc'] as const;

function pids(): number[] {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}

function readOr(file: string, fallback = ''): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** Start time of PID in clock ticks since boot (field 22 of /proc/PID/stat), or undefined if gone. */
function startTicks(pid: number): number | undefined {
  return stat(pid)?.start;
}

function stat(pid: number): { state: string; start: number } | undefined {
  const text = readOr(`/proc/${pid}/stat`);
  if (!text) return undefined;
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', start: Number(fields[19]) };
}

/** Now, in the same clock ticks (USER_HZ is 100 on Linux). */
function nowTicks(): number {
  return Math.ceil(Number(readOr('/proc/uptime', '0').split(' ')[0]) * 100) + 1;
}

/** What identifies a running lab: its namespaces' inodes and its processes (pid + start time). */
export interface LabFootprint {
  name: string;
  index: number;
  namespaces: string[];
  processes: { pid: number; start: number }[];
}

/** Taken while the lab runs, before `down`: namespaces of its PID 1, and every process in them. */
export function footprint(lab: LabRecord): LabFootprint {
  const namespaces = NS_KINDS.map((k) => fs.readlinkSync(`/proc/${lab.nsPid}/ns/${k}`));
  const processes = pids()
    .filter((p) => p === lab.holderPid || safeReadlink(`/proc/${p}/ns/pid`) === namespaces[1])
    .map((pid) => ({ pid, start: startTicks(pid) ?? -1 }));
  return { name: lab.name, index: lab.index, namespaces, processes };
}

function safeReadlink(p: string): string | undefined {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}

const holderRe = (name: string) => new RegExp(`install-glance-lab ${name.replace(/[-]/g, '\\-')}(?![a-z0-9-])`);

/**
 * Everything of lab NAME still on this host, as readable lines; [] when nothing is left. `fp`, taken
 * before `down`, adds its namespaces and processes; `since` (clock ticks, default now) tells its
 * processes from newer ones that happen to reuse a pid or a namespace inode.
 */
export async function leftovers(name: string, fp?: LabFootprint, since = nowTicks()): Promise<string[]> {
  const left: string[] = [];
  // dir
  if (fs.existsSync(paths.lab(name))) left.push(`dir ${paths.lab(name)}`);
  // processes: the holder and PID 1 carry the lab's name in their command line
  for (const p of pids()) {
    const cmd = readOr(`/proc/${p}/cmdline`).replace(/\0/g, ' ');
    if (holderRe(name).test(cmd)) left.push(`process ${p}: ${cmd.trim()}`);
  }
  if (fp) {
    for (const { pid, start } of fp.processes) {
      // A zombie has let go of everything (namespaces, mounts, memory); it only waits for its parent (init) to reap it.
      const now = stat(pid);
      if (now?.start === start && now.state !== 'Z') left.push(`process ${pid} of the lab still runs: ${readOr(`/proc/${pid}/cmdline`).replace(/\0/g, ' ').trim()}`);
    }
    // namespaces: no process that was there before `down` is in any of them
    const held = new Set<string>();
    for (const p of pids()) {
      const start = startTicks(p);
      if (start === undefined || start > since) continue;
      for (const k of NS_KINDS) {
        const ns = safeReadlink(`/proc/${p}/ns/${k}`);
        if (ns && fp.namespaces.includes(ns) && !held.has(ns)) {
          held.add(ns);
          left.push(`namespace ${ns} (held by pid ${p})`);
        }
      }
    }
  }
  // mounts, in any mount namespace on the host
  const labDir = `${paths.lab(name)}/`;
  const seenMnt = new Set<string>();
  for (const p of pids()) {
    const mnt = safeReadlink(`/proc/${p}/ns/mnt`);
    if (!mnt || seenMnt.has(mnt)) continue;
    seenMnt.add(mnt);
    for (const line of readOr(`/proc/${p}/mountinfo`).split('\n')) {
      if (line.includes(labDir) || line.split(' ')[4] === paths.lab(name)) left.push(`mount (${mnt}, pid ${p}): ${line}`);
    }
  }
  // network namespaces made visible with `ip netns attach`
  const netns = await run('ip', ['netns', 'list']);
  if (netns.stdout.split('\n').some((l) => l.split(' ')[0] === name)) left.push(`ip netns ${name}`);
  // iptables: jumps and NAT rules carry the lab's name as their comment
  const comment = `install-glance lab ${name}`;
  for (const table of ['filter', 'nat']) {
    const rules = await run('iptables', ['-w', '-t', table, '-S']);
    if (rules.code !== 0) throw new Error(explain(`iptables -t ${table} -S`, rules));
    for (const line of rules.stdout.split('\n')) if (line.includes(`"${comment}"`)) left.push(`iptables ${table}: ${line}`);
  }
  // veth and chain, by the lab's index: only its own if no other lab holds that index now
  if (fp) {
    const othersIndex = fs.existsSync(paths.labs)
      ? fs.readdirSync(paths.labs).map(readLab).some((r) => r && r.name !== name && r.index === fp.index)
      : false;
    if (!othersIndex) {
      const links = await run('ip', ['-o', 'link', 'show']);
      if (new RegExp(`^\\d+: igh${fp.index}[@:]`, 'm').test(links.stdout)) left.push(`veth igh${fp.index}`);
      const chains = await run('iptables', ['-w', '-S']);
      if (chains.stdout.split('\n').includes(`-N IG-LAB-${fp.index}`)) left.push(`iptables chain IG-LAB-${fp.index}`);
    }
  }
  return left;
}

/** Repeats fn until it returns true or timeoutMs passes; returns fn's last answer. */
export async function poll(fn: () => Promise<boolean> | boolean, timeoutMs = 10_000, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * `lab up` options for a lab whose tests are about what comes after the package install: Glance's ~100
 * dependencies are installed in the lab's snapshot layer, so a fresh apply there unpacks Glance's own 7
 * packages (~5 s of CPU instead of ~35 s) and does everything else as on a bare controller. The tests of
 * the install itself (apt's progress, a cut or kill during it, dpkg's state, the preflight's sizes, the
 * process list while apt runs, the releases) keep the bare snapshot.
 */
export const GLANCE_DEPS: readonly string[] = ['--glance-deps'];

/**
 * For a test file that works on one lab: brings it up before the file's tests and down after them,
 * with a private secrets dir for the CLI. Returns the lab (once `before` ran) and the CLI's environment.
 */
export function useLab(name: string, upArgs: readonly string[] = []): { lab: () => LabRecord; env: NodeJS.ProcessEnv; tmp: string } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `ig-${name}-`));
  const env = { ...process.env, INSTALL_GLANCE_SECRETS: path.join(tmp, 'secrets') };
  let record: LabRecord | undefined;
  let failed: unknown;
  before(async () => {
    try {
      await labDown(name);
      [record] = await labUp([name], upArgs);
    } catch (e) {
      failed = e;
      throw e;
    }
  });
  after(async () => {
    await labDown(name);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  return {
    lab: () => {
      if (!record) throw new Error(`lab ${name} is not up${failed ? `: ${(failed as Error).message}` : ' yet'}`);
      return record;
    },
    env,
    tmp,
  };
}

// ---- plans that do not lie ----

const named = (r: { kind: string; id: string }) => `${r.kind} ${r.id}`;

/** What a plan (or an apply's own plan, `planned`) promised: the resources with a change, and the handlers owed. */
export function promised(plan: HostReport): { resources: string[]; handlers: string[] } {
  const resources = plan.mode === 'plan' ? plan.resources.filter((r) => r.action !== 'none') : plan.resources.filter((r) => r.planned);
  return { resources: resources.map(named).sort(), handlers: plan.handlers.map((h) => h.name) };
}

/** What an apply changed: the resources it changed, and the handlers it ran. */
export function changed(apply: HostReport): { resources: string[]; handlers: string[] } {
  return {
    resources: apply.resources.filter((r) => r.status === 'changed').map(named).sort(),
    handlers: apply.handlers.filter((h) => h.status === 'changed').map((h) => h.name),
  };
}

/**
 * The apply changed exactly what the plan promised: the same resources and the same handlers (by name,
 * in order), so a plan an operator read before saying yes held no surprise. `plan` may be the apply itself
 * (its own plan, taken before anything was touched).
 */
export function assertPlanKept(plan: HostReport, apply: HostReport): void {
  const p = promised(plan);
  const a = changed(apply);
  assert.deepEqual(a.resources, p.resources, `the resources apply changed are the ones the plan promised\n${JSON.stringify({ promised: p, changed: a }, null, 1)}`);
  assert.deepEqual(a.handlers, p.handlers, `the handlers apply ran are the ones the plan said were owed\n${JSON.stringify({ promised: p, changed: a }, null, 1)}`);
}

/** A plan with nothing to do: exit 0, no resource to change, no handler owed. */
export function assertEmptyPlan(r: CliResult & { report?: HostReport }, what = 'plan after apply'): void {
  assert.equal(r.code, 0, explain(what, r));
  assert.ok(r.report, explain(`${what}: a JSON report`, r));
  assert.deepEqual(promised(r.report), { resources: [], handlers: [] }, explain(what, r));
}

/** The first host's report of a `--json` run, or undefined when stdout is not one. */
export function reportOf(r: CliResult): HostReport | undefined {
  try {
    return (JSON.parse(r.stdout) as { hosts: HostReport[] }).hosts[0];
  } catch {
    return undefined;
  }
}

/** The CLI against one lab with --json: its result, and the host's report when stdout is JSON. */
export async function labCliJson(labName: string, args: string[], opts: RunOptions = {}): Promise<CliResult & { report?: HostReport }> {
  const r = await runCli([...args, '--lab', labName, '--json'], opts);
  return { ...r, report: reportOf(r) };
}

/** A command on the lab that must succeed: its stdout. */
export async function labShOk(lab: Pick<LabRecord, 'address'>, command: string): Promise<string> {
  const r = await labSsh(lab, command);
  assert.equal(r.code, 0, explain(command, r));
  return r.stdout;
}
