// The lab's snapshot: a debootstrapped Debian rootfs with sshd, MariaDB and a bootstrapped Keystone,
// built once per release and recipe, then the read-only lower layer of every lab's overlay.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sh, describeFailure } from './local.ts';
import { projectPath } from '../project-root.ts';
import { paths } from './paths.ts';
import { building, withBuildLock } from './building.ts';
import { isolated, tracked } from './isolate.ts';
import { LabError } from './errors.ts';
import type { Release } from './records.ts';
export { releases, type Release } from './records.ts';
import { pruneSnapshots } from './prune.ts';

const recipeDir = projectPath('src', 'lab', 'recipe');
const recipeFiles = ['install.sh', 'configure.sh'];

export interface Snapshot {
  release: Release;
  key: string;
  rootfs: string;
}

/**
 * A line of progress. A `pending` line is the start of the next one (`snapshot: debootstrap bookworm …`):
 * a terminal shows it until the line that completes it replaces it (`… 61.2 s`); a log keeps only that.
 */
export type Progress = (line: string, opts?: { pending?: boolean }) => void;

/** The cache key: a changed recipe (or mirror) is a new snapshot, with no flag to remember. */
/** What the build does outside the recipe scripts; a change here must be a new snapshot too. */
const DEBOOTSTRAP_ARGS = ['--variant=minbase'];
const SNAPSHOT_LAYOUT = 1;

export function recipeKey(release: Release, mirror: string): string {
  const h = crypto.createHash('sha256').update(`${release}\n${mirror}\n`);
  for (const f of recipeFiles) h.update(fs.readFileSync(path.join(recipeDir, f)));
  h.update(JSON.stringify({ debootstrap: DEBOOTSTRAP_ARGS, layout: SNAPSHOT_LAYOUT }));
  return h.digest('hex').slice(0, 12);
}

export function defaultMirror(): string {
  return process.env.INSTALL_GLANCE_MIRROR ?? 'http://deb.debian.org/debian';
}

export async function ensureSnapshot(release: Release, progress: Progress): Promise<Snapshot> {
  const mirror = defaultMirror();
  const key = recipeKey(release, mirror);
  const dir = paths.snapshot(release, key);
  const ready = (): Snapshot | undefined =>
    fs.existsSync(path.join(dir, 'ready')) ? { release, key, rootfs: path.join(dir, 'rootfs') } : undefined;
  const found = ready();
  if (found) return found;
  return withBuildLock(release, progress, async () => ready() ?? build(release, key, mirror, dir, progress));
}

/** One build step: one line of progress, with the time it took (`snapshot: debootstrap bookworm … 61.2 s`). */
export async function step(name: string, progress: Progress, fn: () => Promise<unknown>): Promise<void> {
  const t0 = Date.now();
  const took = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  progress(`snapshot: ${name} …`, { pending: true });
  try {
    await fn();
  } catch (e) {
    progress(`snapshot: ${name} … failed after ${took()}`);
    throw new LabError(`snapshot build failed at "${name}": ${describeFailure(e)}`, 'the half-built snapshot was removed; fix the cause and run the command again', e);
  }
  progress(`snapshot: ${name} … ${took()}`);
}

async function build(release: Release, key: string, mirror: string, dir: string, progress: Progress): Promise<Snapshot> {
  const secret = () => crypto.randomBytes(18).toString('base64url');
  const env = { ...process.env, MIRROR: mirror, RELEASE: release, ADMIN_PASS: secret(), KEYSTONE_DBPASS: secret() };
  await building(dir, progress, async (tmp) => {
    const root = path.join(tmp, 'rootfs');
    // debootstrap mounts /proc and /sys in the target: in a mount namespace of its own, they go with it.
    await step(`debootstrap ${release}`, progress, () => tracked(sh`${isolated({ procAt: '/proc' })} debootstrap ${DEBOOTSTRAP_ARGS} ${release} ${root} ${mirror}`));
    fs.copyFileSync('/etc/resolv.conf', path.join(root, 'etc/resolv.conf'));
    await step('install sshd, MariaDB, Keystone', progress, () =>
      tracked(sh({ env, input: fs.readFileSync(path.join(recipeDir, 'install.sh')) })`${isolated({ procAt: path.join(root, 'proc') })} sh -c ${`mount --rbind /dev "$1/dev" && exec chroot "$1" /bin/bash -s`} sh ${root}`));
    // No network but loopback while Keystone and MariaDB run for the bootstrap.
    await step('bootstrap MariaDB and Keystone', progress, () =>
      tracked(sh({ env, input: fs.readFileSync(path.join(recipeDir, 'configure.sh')) })`${isolated({ net: true, procAt: path.join(root, 'proc') })} sh -c ${`ip link set lo up && mount --rbind /dev "$1/dev" && mount -t tmpfs tmpfs "$1/run" && exec chroot "$1" /bin/bash -s`} sh ${root}`));
    return { release, key, mirror, builtAt: new Date().toISOString() };
  });
  pruneSnapshots(release, path.basename(dir), progress);
  return { release, key, rootfs: path.join(dir, 'rootfs') };
}
