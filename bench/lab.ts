// Figures for the lab, through the CLI as an operator runs it: the snapshot (built only with --rebuild,
// into a scratch cache, never under running labs; otherwise the cached one is described), one fresh lab
// up, three at once, memory per idle lab, and `lab down --all`. Prints; asserts nothing.
//
//   npm run bench:lab -- [--rebuild] [--release bookworm|bullseye|trixie|juno] [--tls] [--settle SECONDS]
//
// Its labs live in a state root of their own (INSTALL_GLANCE_STATE, default /var/lib/install-glance-bench),
// so `lab down --all` here takes down only the bench's labs, never an operator's `controller`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { recipeKey, defaultMirror } from '../src/lab/snapshot.ts';
import { variantKey } from '../src/lab/variant.ts';
import { labReleases, type LabRelease } from '../src/lab/records.ts';
import { stackFor, type LabRecord } from '../src/lab/lab.ts';

const { values: opt } = parseArgs({
  options: {
    rebuild: { type: 'boolean', default: false },
    release: { type: 'string', default: 'bookworm' },
    tls: { type: 'boolean', default: false },
    settle: { type: 'string', default: '5' },
  },
});
if (!(labReleases as readonly string[]).includes(opt.release)) throw new Error(`--release must be one of ${labReleases.join(', ')}`);
const release = opt.release as LabRelease;
const kind = ['--release', release, ...(opt.tls ? ['--tls'] : [])];
const settleMs = Number(opt.settle) * 1000;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(repoRoot, 'bin', 'install-glance');
const stateRoot = process.env.BENCH_LAB_STATE ?? '/var/lib/install-glance-bench';
const defaultCache = process.env.INSTALL_GLANCE_CACHE ?? '/var/cache/install-glance';

interface Run { code: number; ms: number; stdout: string; lines: { ms: number; text: string }[] }

/** `install-glance ARGS` with the bench's state root (and CACHE, if given); stderr lines timed from the start. */
function cli(args: string[], cache?: string): Promise<Run> {
  const env = { ...process.env, INSTALL_GLANCE_STATE: stateRoot, ...(cache ? { INSTALL_GLANCE_CACHE: cache } : {}) };
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let partial = '';
    const lines: Run['lines'] = [];
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop() ?? '';
      for (const text of parts) lines.push({ ms: performance.now() - t0, text });
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (partial) lines.push({ ms: performance.now() - t0, text: partial });
      const run = { code: code ?? 1, ms: performance.now() - t0, stdout, lines };
      if (run.code !== 0) reject(new Error(`install-glance ${args.join(' ')}: exit ${run.code}\n${lines.map((l) => l.text).join('\n')}`));
      else resolve(run);
    });
  });
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (kib: number) => `${Math.round(kib / 1024)} MiB`;

/** "NAME: up at ADDR (release) in N s" as the lab reports it: from its allocation to SSH + a Keystone token. */
function reportedUp(run: Run, name: string): string {
  const m = run.lines.map((l) => new RegExp(`^${name}: up at \\S+ \\([^)]+\\) in ([\\d.]+) s$`).exec(l.text)).find(Boolean);
  return m ? `${m[1]} s` : '?';
}

function record(name: string): LabRecord {
  return JSON.parse(fs.readFileSync(path.join(stateRoot, 'labs', name, 'lab.json'), 'utf8')) as LabRecord;
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** PSS (and RSS) summed over every process in the lab's pid namespace, from /proc/PID/smaps_rollup. */
function labMemory(lab: LabRecord): { pss: number; rss: number; processes: number } {
  const ns = fs.readlinkSync(`/proc/${lab.nsPid}/ns/pid`);
  let pss = 0;
  let rss = 0;
  let processes = 0;
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let pidNs: string;
    try {
      pidNs = fs.readlinkSync(`/proc/${p}/ns/pid`);
    } catch {
      continue;
    }
    if (pidNs !== ns) continue;
    const rollup = readOr(`/proc/${p}/smaps_rollup`);
    if (!rollup) continue; // gone, or a zombie
    processes++;
    pss += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
    rss += Number(/^Rss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
  }
  return { pss, rss, processes };
}

function du(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) total += fs.lstatSync(p).blocks * 512;
    }
  };
  walk(dir);
  return total;
}

async function memoryLine(names: string[]): Promise<string> {
  await sleep(settleMs);
  return names
    .map((n) => {
      const lab = record(n);
      const m = labMemory(lab);
      const upper = du(path.join(stateRoot, 'labs', n, 'upper'));
      return `${n} ${mib(m.pss)} PSS (RSS ${mib(m.rss)}, ${m.processes} processes, upper dir ${mib(upper / 1024)})`;
    })
    .join('; ');
}

async function main(): Promise<void> {
  const leftover = fs.existsSync(path.join(stateRoot, 'labs')) ? fs.readdirSync(path.join(stateRoot, 'labs')) : [];
  if (leftover.length) {
    console.log(`(taking down bench labs left over from an earlier run: ${leftover.join(', ')})`);
    await cli(['lab', 'down', '--all', '--yes']);
  }
  console.log(`lab bench: ${kind.slice(1).join(' ')}, ${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, node ${process.version}; state root ${stateRoot}`);

  // Snapshot: built into a scratch cache with --rebuild (the shared one may be a running lab's lower
  // layer); otherwise the shared cached one is described, or built (and timed) if it is missing.
  // A variant (juno, --tls) is its layer over the base snapshot: the directory that says it is built.
  const { base, variant } = stackFor(release, { tls: opt.tls });
  const baseKey = recipeKey(base, defaultMirror());
  const dirName = variant ? `${base}.${variant}-${variantKey(variant, base, baseKey)}` : `${base}-${baseKey}`;
  let cache: string | undefined;
  let cached = path.join(defaultCache, 'snapshots', dirName);
  if (opt.rebuild) {
    fs.mkdirSync(`${defaultCache}-bench`, { recursive: true });
    cache = fs.mkdtempSync(path.join(`${defaultCache}-bench`, 'cache-'));
    cached = path.join(cache, 'snapshots', dirName);
  }
  try {
    if (!fs.existsSync(path.join(cached, 'ready'))) {
      const run = await cli(['lab', 'up', 'bench-0', ...kind], cache);
      const steps = run.lines.filter((l) => /^snapshot: .* … [\d.]+ s$/.test(l.text));
      const built = steps.at(-1)?.ms ?? NaN;
      console.log(`snapshot build (${opt.rebuild ? '--rebuild, scratch cache' : 'not cached'}): ${s(built)} — ${steps.map((l) => l.text.replace(/^snapshot: /, '')).join(', ')}`);
      console.log(`  (the lab up after it: ${s(run.ms - built)}, lab ready in ${reportedUp(run, 'bench-0')})`);
      await cli(['lab', 'down', 'bench-0'], cache);
    } else {
      const ready = JSON.parse(fs.readFileSync(path.join(cached, 'ready'), 'utf8')) as { builtAt: string };
      console.log(`snapshot: cached ${path.basename(cached)}, built ${ready.builtAt}, ${(du(cached) / 2 ** 30).toFixed(2)} GiB on disk (--rebuild to time a build)`);
    }

    const singles: Run[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await cli(['lab', 'up', 'bench-1', ...kind], cache);
      singles.push(run);
      if (i < 2) await cli(['lab', 'down', 'bench-1'], cache);
    }
    console.log(`one fresh lab up: ${singles.map((r) => s(r.ms)).join(', ')} (CLI wall, 3 runs); lab ready in ${singles.map((r) => reportedUp(r, 'bench-1')).join(', ')}`);
    console.log(`idle lab memory, one bench lab up (after ${opt.settle} s idle): ${await memoryLine(['bench-1'])}`);
    const down1 = await cli(['lab', 'down', 'bench-1'], cache);

    const names = ['bench-1', 'bench-2', 'bench-3'];
    const three = await cli(['lab', 'up', ...names, ...kind], cache);
    console.log(`three at once (one \`lab up\`): ${s(three.ms)} CLI wall; each ready in ${names.map((n) => reportedUp(three, n)).join(', ')}`);
    console.log(`idle lab memory, three bench labs up (after ${opt.settle} s idle): ${await memoryLine(names)}`);
    const downAll = await cli(['lab', 'down', '--all', '--yes'], cache);
    console.log(`lab down --all (3 labs): ${s(downAll.ms)} CLI wall; lab down (1 lab): ${s(down1.ms)}`);
    const others = await cli(['lab', 'list'], cache);
    if (others.stdout.trim().split('\n').length > 1) console.log(`(bench labs still listed after down --all:\n${others.stdout})`);
  } finally {
    if (cache) {
      await cli(['lab', 'down', '--all', '--yes'], cache).catch(() => {});
      fs.rmSync(cache, { recursive: true, force: true });
    }
  }
}

await main();
