// A snapshot (or a variant's layer) is built in DIR.building-<pid> and renamed into place only when it is
// complete, so a half-built one is never used. An interrupted build removes its directory; one killed
// outright (SIGKILL, a crash) leaves it, and the next build sweeps it once no build holds it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { paths } from './paths.ts';
import { killTracked } from './isolate.ts';
import { alive, withLock } from './lock.ts';
import type { Progress } from './snapshot.ts';

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

/** `<name>-<key>.building-<pid>`, name being a release or a variant (`bookworm.tls`). */
const BUILDING_RE = /^(.+)-[0-9a-f]+\.building-(\d+)$/;

/**
 * The lock a build of NAME (a release, or a variant such as `bookworm.tls`) into SNAPSHOTS holds. Locks are
 * machine-wide (paths.ts), but a build into another cache (INSTALL_GLANCE_CACHE) shares nothing with this
 * one: its lock is its own, so it never waits behind a build of the same release elsewhere.
 */
export function buildLock(name: string, snapshots = paths.snapshots): string {
  return `snapshot-${name}-${crypto.createHash('sha256').update(path.resolve(snapshots)).digest('hex').slice(0, 10)}`;
}

/**
 * The build directories among ENTRIES that no build holds: a build holds its directory while its pid is
 * alive and owns the lock of that snapshot (OWNER, by the snapshot's name); a reused pid owns no build lock.
 */
export function staleBuilds(entries: string[], owner: (name: string) => number | undefined, alive: (pid: number) => boolean): string[] {
  return entries.filter((e) => {
    const m = BUILDING_RE.exec(e);
    if (!m) return false;
    const pid = Number(m[2]);
    return !(owner(m[1]!) === pid && alive(pid));
  });
}

/**
 * FN under the build lock of NAME. Waiting for another build of it says so, naming its pid, and then how
 * long it waited: the other build may take minutes, and a silent wait looks like a hang.
 */
export function withBuildLock<T>(name: string, progress: Progress, fn: () => Promise<T>): Promise<T> {
  let waiting: { pid: number; since: number } | undefined;
  const line = (pid: number) => `snapshot: another build of ${name} runs (pid ${pid}); waiting for it …`;
  return withLock(buildLock(name), async () => {
    if (waiting) progress(`${line(waiting.pid)} ${((Date.now() - waiting.since) / 1000).toFixed(1)} s`);
    return fn();
  }, {
    onWait: (pid) => {
      waiting = { pid, since: waiting?.since ?? Date.now() };
      progress(line(pid), { pending: true });
    },
  });
}

function lockOwner(name: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(paths.locks, `${buildLock(name)}.lock`), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes DIR without ever leaving its file system: whatever an older, killed build left mounted under it
 * (debootstrap mounts /proc and /sys in the target) is unmounted first, and `rm --one-file-system`
 * refuses to go into anything still mounted rather than delete through it.
 */
export function removeTree(dir: string): void {
  if (!fs.existsSync(dir)) return;
  const prefix = dir + path.sep;
  const mounted = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && (m === dir || m.startsWith(prefix)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounted) spawnSync('umount', ['-l', m]);
  const r = spawnSync('rm', ['-rf', '--one-file-system', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`could not remove ${dir}: ${r.stderr.trim()}`);
}

/** Removes the build directories left by builds that no longer run. */
export function sweepStale(progress: Progress): void {
  if (!fs.existsSync(paths.snapshots)) return;
  for (const e of staleBuilds(fs.readdirSync(paths.snapshots), lockOwner, alive)) {
    removeTree(path.join(paths.snapshots, e));
    progress(`snapshot: removed ${e}, left by a build that no longer runs`);
  }
}

/**
 * Builds DIR: FN fills the build directory and returns what the `ready` file records; then the directory
 * is renamed into place. On failure, or on SIGINT/SIGTERM/SIGHUP meanwhile, its commands are killed and
 * its directory removed (then the signal ends this process, as it would have).
 */
export async function building(dir: string, progress: Progress, fn: (tmp: string) => Promise<object>): Promise<void> {
  sweepStale(progress);
  const tmp = `${dir}.building-${process.pid}`;
  removeTree(tmp);
  fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
  let interrupted: Promise<never> | undefined;
  const onSignal = (signal: keyof typeof SIGNALS) => {
    interrupted ??= (async () => {
      await killTracked();
      removeTree(tmp);
      progress(`snapshot: interrupted (${signal}); removed the half-built ${path.basename(tmp)}`);
      process.exit(128 + SIGNALS[signal]);
    })();
  };
  for (const s of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) process.on(s, onSignal);
  try {
    const ready = await fn(tmp);
    fs.writeFileSync(path.join(tmp, 'ready'), JSON.stringify(ready) + '\n');
    removeTree(dir);
    fs.renameSync(tmp, dir);
  } catch (e) {
    // A signal also makes the running command fail: let the signal's handler finish and exit.
    if (interrupted) await interrupted;
    await killTracked();
    removeTree(tmp);
    throw e;
  } finally {
    for (const s of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) process.off(s, onSignal);
  }
}
