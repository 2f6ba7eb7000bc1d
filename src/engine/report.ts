// What the operator reads: one line per resource (a plan in Terraform's vocabulary, or a recap in
// Ansible's), masked details under it, the handlers, the closing check, and a final line per host.
// The JSON report is the same data.
import type { HostReport, ResourceResult } from './report-model.ts';

const SYMBOL: Record<ResourceResult['action'], string> = { none: ' ', create: '+', update: '~', replace: '-/+', delete: '-' };

function resourceLine(r: ResourceResult, mode: HostReport['mode']): string[] {
  const name = `${r.kind} ${r.id}`;
  let head: string;
  if (mode === 'plan') head = r.action === 'none' ? `  ok       ${name}` : `  ${SYMBOL[r.action].padEnd(3)} ${r.action.padEnd(6)} ${name}`;
  else head = `  ${r.status.padEnd(8)} ${name}`;
  const lines = [`${head} — ${r.error ?? r.why}`];
  if (r.action !== 'none' && r.status !== 'skipped') {
    if (r.detail?.length) lines.push(...r.detail.map((d) => `      ${d}`));
    else for (const c of r.changes) lines.push(`      ${c.field}: ${c.from !== undefined && c.from !== '' ? `${c.from} → ` : ''}${c.to ?? ''}`);
  }
  return lines;
}

export function summaryLine(h: HostReport): string {
  const counts = h.mode === 'plan' ? `ok=${h.ok} to-change=${h.changed}` : `ok=${h.ok} changed=${h.changed}`;
  return `${h.host}: ${counts} failed=${h.failed} (${(h.durationMs / 1000).toFixed(1)} s)`;
}

export function formatHost(h: HostReport): string {
  const out = [`${h.host} (${h.address}${h.os ? `, ${h.os}` : ''}${h.release ? `, profile ${h.release}` : ''}) — ${h.mode}`];
  for (const n of h.notes ?? []) out.push(`  note     ${n}`);
  for (const r of h.resources) out.push(...resourceLine(r, h.mode));
  for (const x of h.handlers) out.push(`  ${(h.mode === 'plan' ? 'pending' : x.status).padEnd(8)} handler ${x.name} — ${x.reason}`);
  if (h.verify) out.push(`  verified ${h.verify.summary}`);
  if (h.error) out.push(`  error at ${h.error.step}: ${h.error.message.split('\n').join('\n    ')}`, `  what to do: ${h.error.hint}`);
  out.push(summaryLine(h));
  return out.join('\n');
}

/** The --json document: one object for the whole run. */
export function jsonReport(hosts: HostReport[]): string {
  return JSON.stringify({ version: 1, hosts }, null, 2);
}
