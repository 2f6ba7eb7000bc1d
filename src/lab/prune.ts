// Old snapshots of a release are dead weight once a new one is ready, unless a lab still stands on one:
// its overlay's lower layer must outlive it. (Kept out of snapshot.ts, whose text is part of the
// snapshot's cache key: changing how old snapshots are pruned should not force a rebuild.)
import fs from 'node:fs';
import path from 'node:path';
import { paths } from './paths.ts';

/**
 * The snapshot directories labs use: named by a lab record here (running or not), or the lower layer
 * of an overlay mounted in any mount namespace on the machine (labs of another state root included).
 */
export function snapshotsInUse(): Map<string, string[]> {
  const users = new Map<string, string[]>();
  const use = (rootfs: string, by: string) => {
    const dir = path.dirname(rootfs);
    users.set(dir, [...(users.get(dir) ?? []), by]);
  };
  for (const name of fs.existsSync(paths.labs) ? fs.readdirSync(paths.labs) : []) {
    try {
      const { snapshot, lowers } = JSON.parse(fs.readFileSync(path.join(paths.labs, name, 'lab.json'), 'utf8')) as { snapshot?: string; lowers?: string[] };
      // A variant's lab stands on its layer and on the base snapshot under it.
      for (const layer of lowers ?? (snapshot ? [snapshot] : [])) use(layer, `lab ${name}`);
    } catch { /* no record (yet) */ }
  }
  const seen = new Set<string>();
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let info: string;
    try {
      const ns = fs.readlinkSync(`/proc/${pid}/ns/mnt`);
      if (seen.has(ns)) continue;
      seen.add(ns);
      info = fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
    } catch {
      continue;
    }
    for (const line of info.split('\n')) {
      const m = / - overlay \S+ .*\blowerdir=([^,]+)/.exec(line);
      for (const layer of m?.[1]?.split(':') ?? []) {
        if (layer.startsWith(paths.snapshots + path.sep)) use(layer, 'a mounted overlay');
      }
    }
  }
  return users;
}

/**
 * Removes the snapshots named NAME-<key> other than KEEP (a directory name) that no lab uses. NAME is a
 * release (`bookworm`) or a variant of one (`bookworm.tls`): `bookworm-` never matches `bookworm.tls-…`.
 */
export function pruneSnapshots(name: string, keep: string, progress: (line: string) => void): void {
  const inUse = snapshotsInUse();
  for (const old of fs.readdirSync(paths.snapshots)) {
    if (!old.startsWith(`${name}-`) || old === keep || old.includes('.building-')) continue;
    const dir = path.join(paths.snapshots, old);
    const users = inUse.get(dir);
    if (users) {
      progress(`snapshot: kept the older ${old}, still used by ${[...new Set(users)].join(', ')}`);
      continue;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
