// A lab variant is a layer over a base snapshot: the upper directory of one overlay mount made at build
// time, then a lower layer (above the base) of every lab of that variant. The base snapshot and its cache
// key stay as they are; the variant has a key of its own (the base's key + the variant's recipe files).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sh } from './local.ts';
import { projectPath } from '../project-root.ts';
import { paths } from './paths.ts';
import { building, withBuildLock } from './building.ts';
import { ensureSnapshot, step, type Progress } from './snapshot.ts';
import type { Release } from './records.ts';
import { pruneSnapshots } from './prune.ts';
import { isolated, tracked } from './isolate.ts';
import { adminPasswordOf } from './credentials.ts';

export const variants = ['trusty', 'tls', 'glance-deps'] as const;
export type Variant = (typeof variants)[number];

/** What a variant's layer makes of the base, for its progress line. */
const describe: Record<Variant, string> = {
  trusty: 'trusty shape',
  tls: 'TLS Keystone',
  'glance-deps': 'Glance\'s dependencies installed',
};

/** A change in how a layer is built (outside its recipe files) must be a new key too. */
const VARIANT_LAYOUT = 2;

/** What a lab mounts: its lower layers, top first, and the top one (where the lab's openrc is). */
export interface Stack {
  release: Release;
  variant?: Variant;
  /** `bookworm-<key>` or `bookworm.tls-<key>`: the directory under the snapshot cache. */
  id: string;
  top: string;
  lowers: string[];
}

const recipeDir = (v: Variant) => projectPath('src', 'lab', 'recipe', v);

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

export function variantKey(variant: Variant, release: Release, baseKey: string): string {
  const dir = recipeDir(variant);
  const h = crypto.createHash('sha256').update(`${variant}\n${release}\n${baseKey}\n${VARIANT_LAYOUT}\n`);
  for (const f of filesUnder(dir)) {
    // Only the executable bit: git keeps no other mode, and a checkout's umask must not change the key.
    const exec = fs.statSync(path.join(dir, f)).mode & 0o111 ? 'x' : '-';
    h.update(`${f}\n${exec}\n`).update(fs.readFileSync(path.join(dir, f)));
  }
  return h.digest('hex').slice(0, 12);
}

/** The base snapshot of RELEASE, and the VARIANT's layer over it when one is asked for; each built once. */
export async function ensureStack(release: Release, variant: Variant | undefined, progress: Progress): Promise<Stack> {
  const base = await ensureSnapshot(release, progress);
  if (!variant) return { release, id: path.basename(path.dirname(base.rootfs)), top: base.rootfs, lowers: [base.rootfs] };
  const name = `${release}.${variant}`;
  const key = variantKey(variant, release, base.key);
  const dir = paths.snapshot(name, key);
  const ready = (): Stack | undefined => (fs.existsSync(path.join(dir, 'ready'))
    ? { release, variant, id: path.basename(dir), top: path.join(dir, 'layer'), lowers: [path.join(dir, 'layer'), base.rootfs] }
    : undefined);
  const found = ready();
  if (found) return found;
  return withBuildLock(name, progress, async () => {
    const again = ready();
    if (again) return again;
    await buildLayer(variant, release, base.rootfs, dir, progress);
    pruneSnapshots(name, path.basename(dir), progress);
    return ready()!;
  });
}

/** The secrets a variant's recipe needs, passed in its environment (never on a command line). */
function recipeEnv(variant: Variant, baseRootfs: string): { env: Record<string, string>; credentials?: Record<string, string> } {
  const env = { ADMIN_PASS: adminPasswordOf(baseRootfs) };
  if (variant !== 'trusty') return { env };
  // As trusty's packages make them: root's password chosen at install (debconf), the maintenance
  // account's 16 characters from [a-zA-Z0-9] (mysql-server-5.5.postinst).
  const alnum = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const debianSysMaint = Array.from(crypto.randomBytes(16), (b) => alnum[b % alnum.length]).join('');
  const mysqlRoot = crypto.randomBytes(18).toString('base64url');
  return {
    env: { ...env, MYSQL_ROOT_PASS: mysqlRoot, DEBIAN_SYS_MAINT_PASS: debianSysMaint },
    credentials: { mysqlRootPassword: mysqlRoot, debianSysMaintPassword: debianSysMaint },
  };
}

async function buildLayer(variant: Variant, release: Release, baseRootfs: string, dir: string, progress: Progress): Promise<void> {
  const recipe = recipeDir(variant);
  const { env, credentials } = recipeEnv(variant, baseRootfs);
  await building(dir, progress, async (tmp) => {
    const [layer, work, merged] = ['layer', 'work', 'merged'].map((d) => path.join(tmp, d)) as [string, string, string];
    for (const d of [layer, work, merged]) fs.mkdirSync(d, { mode: 0o755 });
    // In namespaces of its own, loopback only: the overlay, the recipe's files copied in, the pseudo file
    // systems, then the recipe in a chroot. Everything it mounts or starts dies with it.
    const inside = [
      'set -e',
      'mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4"',
      'mkdir -p "$4/tmp/lab-variant" && cp -a "$5/." "$4/tmp/lab-variant/"',
      'mount -t proc proc "$4/proc" && mount --rbind /dev "$4/dev" && mount -t tmpfs tmpfs "$4/run"',
      'ip link set lo up',
      'exec chroot "$4" /bin/bash -s',
    ].join('\n');
    await step(`${describe[variant]} over ${release}`, progress, () =>
      tracked(sh({ env: { ...process.env, ...env }, input: fs.readFileSync(path.join(recipe, 'configure.sh')) })`${isolated({ net: true })} sh -c ${inside} sh ${baseRootfs} ${layer} ${work} ${merged} ${recipe}`));
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmdirSync(merged);
    // A lab's top layer holds its openrc (the lab reads the admin password there): a layer whose recipe
    // left it as the base has it gets the base's copy.
    const openrc = path.join('root', 'openstack', 'admin-openrc.sh');
    const layerOpenrc = path.join(layer, openrc);
    if (!fs.existsSync(layerOpenrc)) {
      fs.mkdirSync(path.dirname(layerOpenrc), { recursive: true, mode: 0o700 });
      // copyFile keeps the base's mode (0600): no chmod after it.
      fs.copyFileSync(path.join(baseRootfs, openrc), layerOpenrc);
    }
    if (credentials) fs.writeFileSync(path.join(tmp, 'credentials.json'), JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
    return { variant, release, base: baseRootfs, builtAt: new Date().toISOString() };
  });
}
