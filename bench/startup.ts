// Start-up time of the command line, printed (never asserted): the median wall time of N runs of
// `bin/install-glance --version`, `--help`, `lab list` (the checkout's wrapper: sh, the freshness check,
// node), the same through the bundle directly (`node dist/install-glance.mjs …`), and a bare `node -e 0`
// as the floor; with the files and packages each one loads from node_modules.
//
//   npm run bench:startup -- [--runs N]
//
// Timings on a shared 2-core machine are noisy: compare medians taken back to back, not across days.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(opt.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const wrapper = path.join(repoRoot, 'bin', 'install-glance');
const bundle = path.join(repoRoot, 'dist', 'install-glance.mjs');
const preload = path.join(repoRoot, 'test', 'loaded-modules.mjs');
// `lab list` reads the state directory only; a scratch one keeps the figure independent of running labs.
const env = { ...process.env, INSTALL_GLANCE_STATE: fs.mkdtempSync(path.join(os.tmpdir(), 'ig-startup-')) };

interface Case { label: string; cmd: string; args: string[] }
const commands = [['--version'], ['--help'], ['lab', 'list']];
const cases: Case[] = [
  { label: 'node -e 0', cmd: process.execPath, args: ['-e', '0'] },
  ...commands.map((c) => ({ label: `bin/install-glance ${c.join(' ')}`, cmd: wrapper, args: c })),
  ...commands.map((c) => ({ label: `node dist/install-glance.mjs ${c.join(' ')}`, cmd: process.execPath, args: [bundle, ...c] })),
];

/** CPU time (user + system) of this process's waited-for children, in ms (/proc: 10 ms ticks). */
function childCpuMs(): number {
  const fields = fs.readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10; // cutime, cstime (fields 16, 17 of stat)
}

/** One run: wall time, and CPU time, which a busy machine inflates less than wall time. */
function once(c: Case, extraEnv: Record<string, string> = {}, nodeOptions = ''): { wall: number; cpu: number } {
  const cpu0 = childCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(c.cmd, c.args, { env: { ...env, ...extraEnv, NODE_OPTIONS: nodeOptions }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${c.label} exited ${r.status}: ${r.stderr}`);
  return { wall, cpu: childCpuMs() - cpu0 };
}

/** The files under node_modules one run loads, grouped by package. */
function loaded(c: Case): { files: number; packages: string[] } {
  if (c.args[0] === '-e') return { files: 0, packages: [] };
  const out = path.join(env.INSTALL_GLANCE_STATE, 'loaded.txt');
  fs.rmSync(out, { force: true });
  once(c, { LOADED_MODULES_OUT: out }, `--import=${preload}`);
  const files = [...new Set(fs.readFileSync(out, 'utf8').split('\n').filter((u) => u.includes('/node_modules/')))];
  const pkgs = new Set(files.map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? '?'));
  return { files: files.length, packages: [...pkgs].sort() };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

once(cases[1]!); // the wrapper bundles dist/ when it is stale: once, outside the timings
const times = new Map<Case, { wall: number; cpu: number }[]>(cases.map((c) => [c, []]));
// Interleaved, so a burst of load from elsewhere on the machine hits every case alike.
for (let i = 0; i < runs; i++) for (const c of cases) times.get(c)!.push(once(c));

console.log(`start-up, median of ${runs} runs, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(2)}, node ${process.versions.node}`);
console.log(`  ${''.padEnd(42)}  wall ms (over node)   cpu ms   files and packages from node_modules`);
const wallOf = (c: Case) => median(times.get(c)!.map((t) => t.wall));
const cpuOf = (c: Case) => median(times.get(c)!.map((t) => t.cpu));
for (const c of cases) {
  const l = loaded(c);
  const over = c === cases[0] ? '' : `+${(wallOf(c) - wallOf(cases[0]!)).toFixed(0)}`;
  const mods = c === cases[0] ? '' : `${l.files}${l.packages.length ? ` (${l.packages.join(', ')})` : ''}`;
  console.log(`  ${c.label.padEnd(42)} ${wallOf(c).toFixed(0).padStart(6)} ${over.padStart(8)} ${cpuOf(c).toFixed(0).padStart(12)}   ${mods}`);
}
fs.rmSync(env.INSTALL_GLANCE_STATE, { recursive: true, force: true });
