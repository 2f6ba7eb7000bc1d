// What the operator reads: one line per resource (a plan in Terraform's vocabulary, or a recap in
// Ansible's), masked details under it, the handlers, the closing check, and a final line per host; the
// plan's counts the Terraform way, a recap over all hosts the Ansible way. Built in pieces, so a live
// display can print each resource as it finishes and the rest when the host ends. Colour is the
// caller's choice (`Paint`; plain text by default). The JSON report is the same data.
import type { Action } from './resource.ts';
import type { HandlerResult, HostReport, Mode, ResourceResult, Status } from './report-model.ts';

/** The styles a report uses; picocolors' `createColors()` is one, `plain` is none. */
export interface Paint {
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  cyan(s: string): string;
  magenta(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const same = (s: string) => s;
export const plain: Paint = { green: same, yellow: same, red: same, cyan: same, magenta: same, dim: same, bold: same };

const SYMBOL: Record<Action, string> = { none: ' ', create: '+', update: '~', replace: '-/+', delete: '-' };

function statusColour(p: Paint, s: Status): (t: string) => string {
  return { ok: p.green, changed: p.yellow, failed: p.red, skipped: p.cyan, pending: p.yellow, 'rolled-back': p.magenta }[s];
}

function actionColour(p: Paint, a: Action): (t: string) => string {
  return { none: p.green, create: p.green, update: p.yellow, replace: p.magenta, delete: p.red }[a];
}

/** `controller (10.213.1.2, Debian GNU/Linux 12 (bookworm), profile bookworm) — apply` */
export function hostHeader(h: HostReport, p: Paint = plain): string {
  return `${p.bold(h.host)} (${h.address}${h.os ? `, ${h.os}` : ''}${h.release ? `, profile ${h.release}` : ''}) — ${h.mode}`;
}

export function noteLines(h: HostReport, p: Paint = plain): string[] {
  return (h.notes ?? []).map((n) => `  ${p.cyan('note    ')} ${n}`);
}

/** A masked detail line (a config diff's `+key = …`, `-key = …`, `[section]`) in its colour. */
function detailLine(line: string, p: Paint): string {
  const d = String(line); // a careless caller's Secret prints as [secret], as everywhere
  const c = d.startsWith('+') ? p.green : d.startsWith('-') ? p.red : d.startsWith('[') ? p.bold : same;
  return `      ${c(d)}`;
}

/** One resource: its line, then (for a change) its masked detail lines or its changes. */
export function resourceLines(r: ResourceResult, mode: Mode, p: Paint = plain): string[] {
  const name = `${r.kind} ${r.id}`;
  let head: string;
  if (mode === 'plan') head = r.action === 'none' ? `  ${p.green('ok')}       ${name}` : `  ${actionColour(p, r.action)(`${SYMBOL[r.action].padEnd(3)} ${r.action.padEnd(6)}`)} ${name}`;
  else head = `  ${statusColour(p, r.status)(r.status.padEnd(8))} ${name}`;
  const lines = [`${head} — ${r.error ? p.red(r.error) : r.why}`];
  if (r.action !== 'none' && r.status !== 'skipped') {
    if (r.detail?.length) lines.push(...r.detail.map((d) => detailLine(d, p)));
    else for (const c of r.changes) lines.push(`      ${c.field}: ${c.from !== undefined && c.from !== '' ? `${c.from} → ` : ''}${c.to ?? ''}`);
  }
  return lines;
}

export interface PlanCounts {
  add: number;
  change: number;
  destroy: number;
}

/** Terraform's counts: a create adds, an update changes, a delete destroys, a replace destroys and adds. */
export function planCounts(results: readonly Pick<ResourceResult, 'action'>[]): PlanCounts {
  const n: PlanCounts = { add: 0, change: 0, destroy: 0 };
  for (const { action } of results) {
    if (action === 'create' || action === 'replace') n.add++;
    if (action === 'update') n.change++;
    if (action === 'delete' || action === 'replace') n.destroy++;
  }
  return n;
}

/** `Plan: 1 to add, 2 to change, 0 to destroy.`, or `No changes.`; handlers owed are said after. */
export function planSummary(n: PlanCounts, handlers = 0, p: Paint = plain): string {
  const owed = handlers ? `; ${handlers} handler${handlers > 1 ? 's' : ''} to run` : '';
  if (!n.add && !n.change && !n.destroy) return handlers ? `Plan: 0 to add, 0 to change, 0 to destroy${owed}.` : p.green('No changes.');
  return `${p.bold('Plan:')} ${p.green(`${n.add} to add`)}, ${p.yellow(`${n.change} to change`)}, ${p.red(`${n.destroy} to destroy`)}${owed}.`;
}

/** An apply's plan before anything is touched: the counts, then one line per change with its reason. */
export function plannedLines(changes: readonly ResourceResult[], owed: readonly string[], p: Paint = plain): string[] {
  const out = [`  ${planSummary(planCounts(changes), 0, p)}${owed.length ? ` Pending from an earlier run: ${owed.join(', ')}.` : ''}`];
  for (const r of changes) out.push(`    ${actionColour(p, r.action)(`${SYMBOL[r.action].padEnd(3)} ${r.action.padEnd(6)}`)} ${r.kind} ${r.id} (${r.why})`);
  return out;
}

export function summaryLine(h: HostReport, p: Paint = plain): string {
  const counts = h.mode === 'plan' ? `ok=${h.ok} to-change=${h.changed}` : `ok=${h.ok} changed=${h.changed}`;
  const failed = h.failed ? p.red(`failed=${h.failed}`) : `failed=${h.failed}`;
  return `${p.bold(h.host)}: ${counts} ${failed} (${(h.durationMs / 1000).toFixed(1)} s)`;
}

export function handlerLine(x: HandlerResult, mode: Mode, p: Paint = plain): string {
  const status = mode === 'plan' ? 'pending' : x.status;
  return `  ${statusColour(p, status)(status.padEnd(8))} handler ${x.name} — ${x.reason}${x.ms !== undefined ? p.dim(` (${(x.ms / 1000).toFixed(1)} s)`) : ''}`;
}

/** The host's error and what to do, when it failed. */
export function errorLines(h: HostReport, p: Paint = plain): string[] {
  if (!h.error) return [];
  return [`  ${p.red(`error at ${h.error.step}:`)} ${h.error.message.split('\n').join('\n    ')}`, `  ${p.yellow('what to do:')} ${h.error.hint}`];
}

/** What comes once the host's run is over: handlers, the closing check, the plan's counts, the error, the summary. */
export function tailLines(h: HostReport, p: Paint = plain): string[] {
  const out = h.handlers.map((x) => handlerLine(x, h.mode, p));
  if (h.verify) out.push(`  ${p.green('verified')} ${h.verify.summary}`);
  if (h.mode === 'plan' && !h.error) out.push(`  ${planSummary(planCounts(h.resources), h.handlers.length, p)}`);
  out.push(...errorLines(h, p), summaryLine(h, p));
  return out;
}

export function formatHost(h: HostReport, p: Paint = plain): string {
  return [hostHeader(h, p), ...noteLines(h, p), ...h.resources.flatMap((r) => resourceLines(r, h.mode, p)), ...tailLines(h, p)].join('\n');
}

export interface RecapCounts {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
}

/** Ansible's recap counts for a host (a plan's changes count as changed, as in Ansible's check mode). */
export function recapCounts(h: HostReport): RecapCounts {
  if (h.unreachable) return { ok: 0, changed: 0, unreachable: 1, failed: 0, skipped: 0 };
  return { ok: h.ok, changed: h.changed, unreachable: 0, failed: h.failed, skipped: h.resources.filter((r) => r.status === 'skipped').length };
}

/** One line per host over the whole run: `controller : ok=11 changed=0 unreachable=0 failed=0 skipped=0`. */
export function recapLines(hosts: readonly HostReport[], p: Paint = plain): string[] {
  const width = Math.max(0, ...hosts.map((h) => h.host.length));
  const lines = hosts.map((h) => {
    const n = recapCounts(h);
    const name = h.unreachable || n.failed ? p.red : n.changed ? p.yellow : p.green;
    // Each count in a column wide enough for three digits, as Ansible's recap lines up.
    const count = (k: keyof RecapCounts, c: (s: string) => string, last = false) => {
      const text = last ? `${k}=${n[k]}` : `${k}=${n[k]}`.padEnd(k.length + 4);
      return n[k] ? c(text) : text;
    };
    return `${name(h.host.padEnd(width))} : ${[count('ok', p.green), count('changed', p.yellow), count('unreachable', p.red), count('failed', p.red), count('skipped', p.cyan, true)].join(' ')}`;
  });
  return [p.bold('RECAP'), ...lines];
}

/** A host's exit status: 1 it failed (or was unreachable), 2 a plan with changes pending, 0 otherwise. */
export function hostExitStatus(h: HostReport): 0 | 1 | 2 {
  if (h.error || h.failed || h.unreachable) return 1;
  if (h.mode === 'plan' && (h.changed > 0 || h.handlers.length > 0)) return 2;
  return 0;
}

/** The run's exit status: 1 when any host failed, else 2 when any plan has changes, else 0. */
export function runExitStatus(hosts: readonly HostReport[]): 0 | 1 | 2 {
  const all = hosts.map(hostExitStatus);
  return all.includes(1) ? 1 : all.includes(2) ? 2 : 0;
}

/** Who made the report and when: the caller knows (the engine knows no command line). */
export interface RunInfo {
  tool: { name: string; version: string; commit: string };
  /** ISO 8601, when the command started. */
  startedAt: string;
  mode: Mode;
}

/** The --json document: one object for the whole run (schema/report.schema.json). */
export function jsonReport(hosts: HostReport[], info?: RunInfo): string {
  const doc = {
    version: 1,
    ...(info ? { tool: info.tool, startedAt: info.startedAt, mode: info.mode } : {}),
    exitStatus: runExitStatus(hosts),
    hosts: hosts.map((h) => ({ ...h, unreachable: !!h.unreachable, exitStatus: hostExitStatus(h) })),
  };
  return JSON.stringify(doc, null, 2);
}
