// The engine's figures on a lab controller, printed (never asserted): a fresh apply, where its time goes
// (apt, db_sync, restart, the closing upload: the work itself; the rest is engine overhead), and the
// converged re-apply as an operator runs it (bin/install-glance, wall clock, median of 5), with the
// SSH round trips, remote commands and Keystone requests it took. Usage: npm run bench [-- --runs N] [--lab NAME]
// (--lab: the lab's name, default bench-eng; machines shared by several people give each their own)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, labUp, labDown } from '../test/lab/helpers.ts';
import type { HostReport } from '../src/engine/report-model.ts';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const LAB = arg('--lab') ?? 'bench-eng';
const runs = Number(arg('--runs')) || 5;
const env = { ...process.env, INSTALL_GLANCE_SECRETS: fs.mkdtempSync(path.join(os.tmpdir(), 'ig-bench-')) };
const bin = path.join(repoRoot, 'bin', 'install-glance');

function apply(): { wallMs: number; report: HostReport } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(bin, ['apply', '--lab', LAB, '--json'], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`apply exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return { wallMs, report: (JSON.parse(r.stdout) as { hosts: HostReport[] }).hosts[0]! };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

spawnSync(bin, ['--help'], { stdio: 'ignore' }); // bundles dist/ once, outside the timings
await labDown(LAB);
await labUp([LAB]);
try {
  const fresh = apply();
  const r = fresh.report;
  const work = (kind: string) => r.resources.filter((x) => x.kind === kind).reduce((a, x) => a + x.ms, 0);
  const apt = work('apt-package');
  // The sync is the schema resource's handler (run after the packages and the config, like the restart).
  const isSync = (name: string) => name.startsWith('sync-');
  const sync = work('db-schema') + r.handlers.filter((h) => isSync(h.name)).reduce((a, h) => a + (h.ms ?? 0), 0);
  const restart = r.handlers.filter((h) => !isSync(h.name)).reduce((a, h) => a + (h.ms ?? 0), 0);
  const verify = r.verify?.ms ?? 0;
  const floor = apt + sync + restart + verify;
  console.log(`install-glance bench on lab ${LAB} (${r.os}, profile ${r.release}), ${os.cpus().length} CPUs`);
  console.log(`fresh apply: ${s(fresh.wallMs)} wall (engine ${s(r.durationMs)}), changed=${r.changed}`);
  console.log(`  the work: apt ${s(apt)}, db_sync ${s(sync)}, restart+ready ${s(restart)}, verify upload ${s(verify)} = ${s(floor)}`);
  console.log(`  engine overhead: ${s(r.durationMs - floor)} (${(((r.durationMs - floor) / r.durationMs) * 100).toFixed(1)} % of the engine's time); process start ${s(fresh.wallMs - r.durationMs)}`);
  console.log(`  ssh round trips ${r.stats.sshRoundTrips}, remote commands ${r.stats.remoteCommands}, keystone requests ${r.stats.keystoneRequests ?? 0}`);
  const again = Array.from({ length: runs }, () => apply());
  const changed = again.map((x) => x.report.changed);
  console.log(`converged re-apply x${runs}: wall ${again.map((x) => s(x.wallMs)).join(', ')}; median ${s(median(again.map((x) => x.wallMs)))} (engine median ${s(median(again.map((x) => x.report.durationMs)))})`);
  const st = again[again.length - 1]!.report.stats;
  console.log(`  changed ${changed.join(',')}; ssh connections 1, round trips ${st.sshRoundTrips}, remote commands ${st.remoteCommands}, keystone requests ${st.keystoneRequests ?? 0}`);
} finally {
  await labDown(LAB);
  fs.rmSync(env.INSTALL_GLANCE_SECRETS, { recursive: true, force: true });
}
