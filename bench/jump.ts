// What a jump host costs, printed (never asserted): a converged re-apply as an operator runs it
// (bin/install-glance, wall clock), direct to a lab controller (--lab) and through a bastion lab to
// another one behind it (--host ALIAS -F FILE, ProxyJump), median of N each, taken in turns so that
// both see the same load. Usage: npm run bench:jump [-- --runs N]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, labUp, labDown } from '../test/lab/helpers.ts';
import { paths } from '../src/lab/paths.ts';
import type { HostReport } from '../src/engine/report-model.ts';
import { connect, type ConnectOptions } from '../src/transport/ssh.ts';
import { loadSshConfig, resolveHost, localContext } from '../src/transport/ssh-config.ts';

const [BASTION, BEHIND, DIRECT] = ['ssh-bench-bast', 'ssh-bench-ctl', 'ssh-bench-direct'];
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-bench-jump-'));
const env = { ...process.env, INSTALL_GLANCE_SECRETS: path.join(tmp, 'secrets') };
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
await Promise.all([BEHIND, DIRECT, BASTION].map(labDown));
try {
  const [bastion, direct] = await labUp([BASTION, DIRECT]);
  const [behind] = await labUp([BEHIND], ['--behind', BASTION]);
  const config = path.join(tmp, 'ssh_config');
  fs.writeFileSync(config, [
    'Host ctl', `  HostName ${behind.address}`, '  User root', `  IdentityFile ${paths.clientKey}`, '  ProxyJump bastion', `  UserKnownHostsFile ${paths.knownHosts}`,
    'Host bastion', `  HostName ${bastion.address}`, '  User root', `  IdentityFile ${paths.clientKey}`, `  UserKnownHostsFile ${paths.knownHosts}`, ''].join('\n'));
  const ways = { direct: ['--lab', DIRECT], jump: ['--host', 'ctl', '-F', config] };
  // The fresh installs, side by side; only the converged re-applies are timed.
  for (const args of Object.values(ways)) apply(args);
  const times: Record<keyof typeof ways, { wallMs: number; report: HostReport }[]> = { direct: [], jump: [] };
  for (let i = 0; i < runs; i++) for (const [way, args] of Object.entries(ways) as [keyof typeof ways, string[]][]) times[way].push(apply(args));
  console.log(`converged re-apply, direct vs through a jump host (labs on this machine, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)}):`);
  for (const [way, xs] of Object.entries(times)) {
    console.log(`  ${way.padEnd(6)} wall ${xs.map((x) => s(x.wallMs)).join(', ')}; median ${s(median(xs.map((x) => x.wallMs)))} (engine median ${s(median(xs.map((x) => x.report.durationMs)))}); changed ${xs.map((x) => x.report.changed).join(',')}`);
  }
  const d = median(times.jump.map((x) => x.wallMs)) - median(times.direct.map((x) => x.wallMs));
  console.log(`  the jump host adds ${s(d)} to the median (${((median(times.jump.map((x) => x.wallMs)) / median(times.direct.map((x) => x.wallMs))) * 100 - 100).toFixed(0)} %)`);

  // The part the jump host changes, alone: log in and run one command (in this process, no start-up).
  const reach: Record<string, ConnectOptions> = {
    direct: { host: direct.address, identity: paths.clientKey, identitiesOnly: true, knownHostsFile: paths.knownHosts },
    jump: resolveHost(loadSshConfig(config, localContext()), 'ctl').options,
  };
  const ms: Record<string, number[]> = { direct: [], jump: [] };
  for (let i = 0; i < 2 * runs; i++) {
    for (const [way, opts] of Object.entries(reach)) {
      const t0 = process.hrtime.bigint();
      const t = await connect(opts);
      await t.exec(['true']);
      ms[way]!.push(Number(process.hrtime.bigint() - t0) / 1e6);
      t.close();
    }
  }
  console.log(`connect + one command, median of ${2 * runs}: direct ${median(ms.direct!).toFixed(0)} ms, through the jump host ${median(ms.jump!).toFixed(0)} ms`);
} finally {
  await labDown(BEHIND);
  await Promise.all([DIRECT, BASTION].map(labDown));
  fs.rmSync(tmp, { recursive: true, force: true });
}
