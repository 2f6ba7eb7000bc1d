// A lab that is safe to share (issue 13, item 5): a lab of another kind under a running name is refused
// before anything is built; an interrupted snapshot build leaves nothing, and one killed outright is
// swept by the next build (never a build that still runs); `lab down` takes several names; `--all`
// asks on a terminal and refuses elsewhere without --yes; `lab list` is aligned, or JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot, runCli, run, labUp, labDown, leftovers, footprint, explain, poll, cliArgv } from './helpers.ts';
import { paths } from '../../src/lab/paths.ts';
import { buildLock } from '../../src/lab/building.ts';


function scratch(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ig-${prefix}-`));
}

/** Every process whose command line names DIR. */
function processesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const p of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dir)) found.push(`${p}: ${cmd.trim()}`);
    } catch { /* gone */ }
  }
  return found;
}

/** Every mount under DIR, in any mount namespace on the machine. */
function mountsUnder(dir: string): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  for (const p of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const ns = fs.readlinkSync(`/proc/${p}/ns/mnt`);
      if (seen.has(ns)) continue;
      seen.add(ns);
      for (const line of fs.readFileSync(`/proc/${p}/mountinfo`, 'utf8').split('\n')) if (line.split(' ')[4]?.startsWith(dir)) found.push(line);
    } catch { /* gone */ }
  }
  return found;
}

interface Running { child: ChildProcess; stderr: () => string; exit: Promise<number | NodeJS.Signals> }

function startCli(args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(cliArgv[0]!, [...cliArgv.slice(1), ...args], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = new Promise<number | NodeJS.Signals>((resolve) => child.on('close', (code, signal) => resolve(signal ?? code ?? -1)));
  return { child, stderr: () => stderr, exit };
}

test('a running lab of another kind under the name is refused before anything is built', async () => {
  const name = 'lv-kind';
  const cache = scratch('cache');
  try {
    await labDown(name);
    await labUp([name]);
    const env = { ...process.env, INSTALL_GLANCE_CACHE: cache };
    for (const [args, want] of [[['--release', 'bullseye'], 'bullseye'], [['--tls'], 'bookworm --tls'], [['--release', 'juno'], 'juno']] as const) {
      const r = await runCli(['lab', 'up', name, ...args], { env });
      assert.equal(r.code, 1, explain(`lab up ${name} ${args.join(' ')}`, r));
      assert.match(r.stderr, new RegExp(`lab ${name} is already up as bookworm, not ${want.replace(/-/g, '\\-')}`));
      assert.match(r.stderr, new RegExp(`lab down ${name}`));
      assert.doesNotMatch(r.stderr, /snapshot:/);
    }
    assert.deepEqual(fs.readdirSync(cache), [], 'something was built for a refused lab up');
  } finally {
    await labDown(name);
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test('an interrupted build leaves nothing; a killed one is swept by the next build, and a build that still runs never is', { timeout: 10 * 60_000 }, async () => {
  const cache = scratch('cache');
  const snaps = path.join(cache, 'snapshots');
  const env = { ...process.env, INSTALL_GLANCE_CACHE: cache };
  // A build that still runs (a live pid that owns its lock), and one whose process is gone.
  const holder = spawn('sleep', ['600'], { stdio: 'ignore' });
  const gone = spawn('true');
  await new Promise((r) => gone.on('exit', r));
  const lock = path.join(paths.locks, `${buildLock('lvfake', snaps)}.lock`);
  const held = `lvfake-0123456789ab.building-${holder.pid}`;
  const stale = `lvfake-0123456789ab.building-${gone.pid}`;
  fs.mkdirSync(paths.locks, { recursive: true });
  fs.writeFileSync(lock, String(holder.pid));
  for (const d of [held, stale]) fs.mkdirSync(path.join(snaps, d, 'rootfs'), { recursive: true });
  const debootstrapping = () => processesUnder(cache).some((p) => p.includes('debootstrap '));
  const builds: Running[] = [];
  try {
    // 1. Killed outright while debootstrap runs: every process of the build goes with it; its directory stays.
    const first = startCli(['lab', 'snapshot', '--release', 'bullseye'], env);
    builds.push(first);
    assert.ok(await poll(() => debootstrapping() && fs.readdirSync(snaps).some((d) => d.endsWith(`.building-${first.child.pid}`)), 120_000, 100),
      `the build did not start debootstrap:\n${first.stderr()}`);
    assert.match(first.stderr(), new RegExp(`snapshot: removed ${stale}, left by a build that no longer runs`));
    await new Promise((r) => setTimeout(r, 2000));
    first.child.kill('SIGKILL');
    assert.equal(await first.exit, 'SIGKILL');
    assert.ok(await poll(() => processesUnder(cache).length === 0, 15_000, 100), `processes of the killed build still run:\n${processesUnder(cache).join('\n')}`);
    const killedDir = fs.readdirSync(snaps).find((d) => d.endsWith(`.building-${first.child.pid}`));
    assert.ok(killedDir, 'the killed build left no directory (was it a real build?)');
    assert.ok(fs.readdirSync(path.join(snaps, killedDir, 'rootfs')).length > 0, 'the killed build had written nothing');

    // 2. The next build sweeps it, then is interrupted itself (SIGINT): it removes what it wrote.
    const second = startCli(['lab', 'snapshot', '--release', 'bullseye'], env);
    builds.push(second);
    assert.ok(await poll(() => debootstrapping() && second.stderr().includes(`removed ${killedDir}`), 120_000, 100), `no sweep, or no debootstrap:\n${second.stderr()}`);
    await new Promise((r) => setTimeout(r, 2000));
    second.child.kill('SIGINT');
    assert.equal(await second.exit, 130, second.stderr());
    assert.match(second.stderr(), new RegExp(`snapshot: interrupted \\(SIGINT\\); removed the half-built bullseye-[0-9a-f]+\\.building-${second.child.pid}`));
    assert.match(second.stderr(), /^snapshot: debootstrap bullseye … failed after [\d.]+ s$/m);
    assert.deepEqual(fs.readdirSync(snaps), [held], 'left behind, or swept a build that still runs');
    assert.deepEqual(processesUnder(cache), []);
    assert.deepEqual(mountsUnder(cache), []);
  } finally {
    // A failed assertion must not leave a build running on (it would debootstrap for minutes beside the other tests).
    for (const b of builds) if (b.child.exitCode === null && b.child.signalCode === null) {
      b.child.kill('SIGKILL');
      await b.exit;
    }
    await poll(() => processesUnder(cache).length === 0, 15_000, 100);
    holder.kill('SIGKILL');
    fs.rmSync(lock, { force: true });
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test('lab down takes several names: the known ones go, an unknown one is an error; lab list is aligned and --json lists them', async () => {
  const [a, b] = ['lv-dn1', 'lv-dn2'];
  await Promise.all([labDown(a), labDown(b)]);
  try {
    const [la, lb] = await labUp([a, b]);
    const table = await runCli(['lab', 'list']);
    assert.equal(table.code, 0, explain('lab list', table));
    const lines = table.stdout.trimEnd().split('\n');
    const col = (header: string) => lines[0]!.indexOf(header);
    for (const [lab, line] of [la, lb].map((l) => [l, lines.find((x) => x.startsWith(`${l.name} `))] as const)) {
      assert.ok(line, `${lab.name} is not in lab list:\n${table.stdout}`);
      assert.equal(line.slice(col('ADDRESS')).split(' ')[0], lab.address);
      assert.equal(line.slice(col('STATE')).split(' ')[0], 'running');
    }
    const json = await runCli(['lab', 'list', '--json']);
    assert.equal(json.code, 0, explain('lab list --json', json));
    const doc = JSON.parse(json.stdout) as { labs: { name: string; address: string; state: string }[] };
    assert.deepEqual(doc.labs.filter((l) => [a, b].includes(l.name)).map((l) => `${l.name} ${l.address} ${l.state}`).sort(),
      [`${a} ${la.address} running`, `${b} ${lb.address} running`]);

    const fps = [footprint(la), footprint(lb)];
    const down = await runCli(['lab', 'down', a, 'lv-nosuch', b]);
    assert.equal(down.code, 1, explain('lab down with an unknown name', down));
    assert.match(down.stderr, /no lab named lv-nosuch\b/);
    assert.match(down.stderr, new RegExp(`${a}: down in`));
    assert.match(down.stderr, new RegExp(`${b}: down in`));
    assert.deepEqual(await leftovers(a, fps[0]), []);
    assert.deepEqual(await leftovers(b, fps[1]), []);
    const after = JSON.parse((await runCli(['lab', 'list', '--json'])).stdout) as { labs: { name: string }[] };
    assert.deepEqual(after.labs.filter((l) => [a, b].includes(l.name)), []);
  } finally {
    await Promise.all([labDown(a), labDown(b)]);
  }
});

test('lab down --all: refused without a terminal unless --yes; on a terminal it asks, and only y takes the labs down', async () => {
  // A state root of its own: --all here must never reach anyone else's labs.
  const state = scratch('state');
  const env = { ...process.env, INSTALL_GLANCE_STATE: state };
  const cli = (args: string) => `${cliArgv.map((a) => JSON.stringify(a)).join(' ')} ${args}`;
  /** The CLI on a pseudo-terminal (util-linux script), with INPUT typed into it. */
  const onTty = (args: string, input: string) => run('script', ['-qec', cli(args), '/dev/null'], { env, input });
  const running = async () => (JSON.parse((await runCli(['lab', 'list', '--json'], { env })).stdout) as { labs: { name: string; state: string }[] }).labs;
  try {
    const none = await runCli(['lab', 'down', '--all'], { env });
    assert.equal(none.code, 0, explain('lab down --all with no labs', none));
    assert.match(none.stderr, /no labs to take down/);

    const up = await runCli(['lab', 'up', 'lv-all'], { env, timeoutMs: 15 * 60_000 });
    assert.equal(up.code, 0, explain('lab up in a state root of its own', up));

    const piped = await runCli(['lab', 'down', '--all'], { env });
    assert.equal(piped.code, 64, explain('lab down --all, not on a terminal', piped));
    assert.match(piped.stderr, /every lab on this machine \(1: lv-all\).*not a terminal; add --yes/);

    const no = await onTty('lab down --all', 'n\n');
    assert.equal(no.code, 1, explain('lab down --all, answered n', no));
    assert.match(no.stdout, /take down all 1 lab on this machine \(lv-all\)\? \[y\/N\]/);
    assert.match(no.stdout, /not confirmed; no lab was taken down/);
    assert.deepEqual((await running()).map((l) => `${l.name} ${l.state}`), ['lv-all running']);

    const yes = await onTty('lab down --all', 'y\n');
    assert.equal(yes.code, 0, explain('lab down --all, answered y', yes));
    assert.match(yes.stdout, /lv-all: down in/);
    assert.deepEqual(await running(), []);
  } finally {
    await runCli(['lab', 'down', '--all', '--yes'], { env });
    fs.rmSync(state, { recursive: true, force: true });
  }
});
