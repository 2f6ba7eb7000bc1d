// Helpers the safety lab tests share: a CLI run in the background (to race it, kill it or cut its link
// while it works), the lab's Keystone and Glance read from the host, and firewall rules that always go.
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { repoRoot, run, keystoneToken, labSsh, explain, cliArgv, type CliResult } from './helpers.ts';
import type { LabRecord } from '../../src/lab/lab.ts';

export interface Background {
  child: ChildProcess;
  /** What it said so far. */
  readonly stdout: string;
  readonly stderr: string;
  started: number;
  /** Its end: exit code, output, and when (ms since the epoch). */
  done: Promise<CliResult & { ended: number }>;
}

/** `install-glance ARGS` in the background. */
export function startCli(args: string[], env: NodeJS.ProcessEnv): Background {
  const child = spawn(cliArgv[0]!, [...cliArgv.slice(1), ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15 * 60_000);
  const done = new Promise<CliResult & { ended: number }>((resolve) => child.on('close', (code, signal) => {
    clearTimeout(timer);
    resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `${stderr}\n(killed by ${signal})` : stderr, ended: Date.now() });
  }));
  return { child, get stdout() { return stdout; }, get stderr() { return stderr; }, started: Date.now(), done };
}

/** Waits until cond() holds, polling; fails the test naming what it waited for. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 120_000, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting until ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The run lock file's content on the lab ('' when none). */
export async function runLockHolder(lab: LabRecord): Promise<string> {
  return (await labSsh(lab, 'cat /var/lib/install-glance/run.lock 2>/dev/null; true')).stdout.trim();
}

/** Runs fn with iptables RULES inserted on this host, and takes them out again whatever happens. */
export async function withRules<T>(rules: string[][], fn: () => Promise<T>): Promise<T> {
  const added: string[][] = [];
  try {
    for (const r of rules) {
      const res = await run('iptables', ['-w', '-I', ...r]);
      assert.equal(res.code, 0, explain(`iptables -I ${r.join(' ')}`, res));
      added.push(r);
    }
    return await fn();
  } finally {
    for (const r of added.reverse()) await run('iptables', ['-w', '-D', ...r]);
  }
}

/** Keystone's answer to an admin GET, from the host, as JSON. */
export async function keystoneGet<T>(lab: LabRecord, pathAndQuery: string): Promise<T> {
  const { token } = await keystoneToken(lab);
  assert.ok(token, 'an admin token from the lab\'s Keystone');
  const res = await fetch(`http://${lab.address}:5000/v3${pathAndQuery}`, { headers: { 'x-auth-token': token }, signal: AbortSignal.timeout(15_000) });
  assert.equal(res.status, 200, `GET ${pathAndQuery}`);
  return (await res.json()) as T;
}

/** Status of GET /v2/images on the lab's glance-api with an admin token (0 when nothing answers). */
export async function glanceListStatus(lab: LabRecord): Promise<number> {
  const { token } = await keystoneToken(lab);
  try {
    const res = await fetch(`http://${lab.address}:9292/v2/images?limit=1`, { headers: { 'x-auth-token': token ?? '' }, signal: AbortSignal.timeout(15_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** The one host of a --json report. */
export interface HostJson {
  error?: { step: string; message: string; hint: string };
  resources: { kind: string; id: string; action: string; status: string; why: string }[];
  handlers: { name: string; status: string; reason: string; rollback?: { status: string; resources: string[] } }[];
  verify?: { kind: string; ok: boolean };
}

export function hostOf(r: CliResult): HostJson {
  try {
    return (JSON.parse(r.stdout) as { hosts: HostJson[] }).hosts[0]!;
  } catch {
    throw new Error(explain('no JSON report', r));
  }
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The error as the operator saw it: from "error at" through "what to do", in one line (for a test's diagnostic). */
export function errorSaid(text: string): string {
  const lines = text.split('\n');
  const from = lines.findIndex((l) => /^\s*error at /.test(l));
  if (from < 0) return '(no error line)';
  const to = lines.findIndex((l, i) => i > from && /^\s*what to do: /.test(l));
  return lines.slice(from, to < 0 ? from + 1 : to + 1).map((l) => l.trim()).join(' / ');
}

/** The first line of text matching re, trimmed ('(none)' when none does). */
export function lineSaid(text: string, re: RegExp): string {
  return text.split('\n').find((l) => re.test(l))?.trim() ?? '(none)';
}
