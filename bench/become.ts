// Converged re-apply as root vs as a sudoer with --become, on one lab controller, printed (never
// asserted): a fresh apply as root, then N runs of each, in turns (root, ops, root, ops, …) so that the
// machine's load falls on both alike; wall clock of bin/install-glance as an operator runs it, medians
// and their ratio. Usage: npm run bench:become [-- --runs N]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, labUp, labDown } from '../test/lab/helpers.ts';
import { sudoersOnly, asUser } from '../test/lab/become-helpers.ts';
import type { HostReport } from '../src/engine/report-model.ts';

const LAB = 'bc-bench';
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const env = { ...process.env, INSTALL_GLANCE_SECRETS: fs.mkdtempSync(path.join(os.tmpdir(), 'ig-bench-become-')) };
const bin = path.join(repoRoot, 'bin', 'install-glance');

function apply(args: string[]): { wallMs: number; report: HostReport } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(bin, ['apply', ...args, '--json'], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`apply ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return { wallMs, report: (JSON.parse(r.stdout) as { hosts: HostReport[] }).hosts[0]! };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

spawnSync(bin, ['--help'], { stdio: 'ignore' }); // bundles dist/ once, outside the timings
await labDown(LAB);
const [lab] = await labUp([LAB]);
try {
  await sudoersOnly(lab, { keepRootLogin: true });
  const root = asUser(lab, 'root');
  const ops = [...asUser(lab, 'ops'), '--become'];
  const fresh = apply(root);
  console.log(`install-glance bench:become on lab ${LAB} (${fresh.report.os}), ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`fresh apply as root: ${s(fresh.wallMs)}, changed=${fresh.report.changed}`);
  const asRoot: { wallMs: number; report: HostReport }[] = [];
  const asOps: { wallMs: number; report: HostReport }[] = [];
  for (let i = 0; i < runs; i++) {
    asRoot.push(apply(root));
    asOps.push(apply(ops));
  }
  for (const [who, xs] of [['root', asRoot], ['ops --become', asOps]] as const) {
    const st = xs[xs.length - 1]!.report.stats;
    console.log(`converged re-apply as ${who} x${runs}: wall ${xs.map((x) => s(x.wallMs)).join(', ')}; median ${s(median(xs.map((x) => x.wallMs)))} (engine median ${s(median(xs.map((x) => x.report.durationMs)))}); changed ${xs.map((x) => x.report.changed).join(',')}; round trips ${st.sshRoundTrips}, remote commands ${st.remoteCommands}`);
  }
  const ratio = median(asOps.map((x) => x.wallMs)) / median(asRoot.map((x) => x.wallMs));
  const engineRatio = median(asOps.map((x) => x.report.durationMs)) / median(asRoot.map((x) => x.report.durationMs));
  console.log(`--become / root: ${ratio.toFixed(2)}x wall, ${engineRatio.toFixed(2)}x engine (target <= 1.2x)`);
} finally {
  await labDown(LAB);
  fs.rmSync(env.INSTALL_GLANCE_SECRETS, { recursive: true, force: true });
}
