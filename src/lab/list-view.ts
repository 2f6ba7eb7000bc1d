// `lab list` as a table for people (columns aligned) and as JSON for scripts. Pure: records and the
// state of each in, text out.
import type { LabRecord, LabState } from './records.ts';

export interface ListedLab { record: LabRecord; state: LabState }

export function age(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : s < 172_800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86_400)}d`;
}

/** Rows of cells as lines, each column as wide as its widest cell, two spaces apart; no trailing blanks. */
export function alignColumns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** RELEASE as given to `lab up` (juno is bookworm underneath), KEYSTONE the scheme clients must use. */
export function labTable(labs: ListedLab[], now: number): string {
  const rows = [['NAME', 'ADDRESS', 'RELEASE', 'KEYSTONE', 'STATE', 'AGE'],
    ...labs.map(({ record: r, state }) => [r.name, r.address, `${r.base ? `${r.release} (${r.base})` : r.release}${r.glanceDeps ? ' +glance-deps' : ''}`, r.tls ? 'https' : 'http', state, age(r.createdAt, now)])];
  return alignColumns(rows).join('\n') + '\n';
}

export function labJson(labs: ListedLab[]): string {
  return JSON.stringify({
    version: 1,
    labs: labs.map(({ record: r, state }) => ({
      name: r.name, address: r.address, release: r.release, base: r.base ?? r.release, tls: !!r.tls, glanceDeps: !!r.glanceDeps,
      keystone: `${r.tls ? 'https' : 'http'}://${r.address}:5000/v3`,
      ...(r.caFile ? { caFile: r.caFile } : {}),
      state, createdAt: r.createdAt, snapshot: r.snapshot,
    })),
  }, null, 2) + '\n';
}
