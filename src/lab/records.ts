// What a lab is on disk (its record) and whether it runs: cheap to load (no zx), so the CLI can find lab
// targets without loading the lab builder.
import fs from 'node:fs';
import path from 'node:path';
import { paths } from './paths.ts';
import { LabError } from './errors.ts';

/** The Debian releases a snapshot is debootstrapped from. */
export const releases = ['bookworm', 'bullseye', 'trixie'] as const;
export type Release = (typeof releases)[number];

/**
 * What `lab up --release` accepts: a Debian release, or `juno`, the seed's Ubuntu 14.04 controller as far
 * as a Debian lab can look like one (bookworm underneath, with the trusty-shaped layer on top). Named
 * like the install-glance profile it is for, so `lab up --release juno` and `plan --release juno` match.
 */
export const labReleases = [...releases, 'juno'] as const;
export type LabRelease = (typeof labReleases)[number];

export interface LabRecord {
  name: string;
  index: number;
  address: string;
  gateway: string;
  release: LabRelease;
  /** The top layer under the lab's overlay: the snapshot's rootfs, or a variant's layer (it holds the openrc). */
  snapshot: string;
  /** The overlay's lower layers, top first (absent in records written before variants: [snapshot]). */
  lowers?: string[];
  /** The Debian release underneath (absent: `release` itself). */
  base?: Release;
  /** Keystone serves HTTPS with a CA made for this lab; the CA's certificate is at caFile on the host. */
  tls?: boolean;
  caFile?: string;
  /** Glance's dependencies installed in its snapshot layer (`lab up --glance-deps`): a fresh apply installs Glance's own packages only. */
  glanceDeps?: boolean;
  holderPid: number;
  nsPid: number;
  hostKey: string;
  createdAt: string;
  /** Reached only through this lab (`lab up --behind`): the host cannot open its sshd, the bastion can. */
  behind?: { name: string; address: string };
}

export type LabState = 'running' | 'stopped';

const NAME_RE = /^[a-z][a-z0-9-]{0,30}$/;

export function checkName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new LabError(`"${name}" is not a lab name`, 'use lower-case letters, digits and "-", starting with a letter (at most 31 characters)');
  }
}

/** Names for `lab up --count N`: the first is `controller`, as in the seed; the others are numbered. */
export function defaultNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? 'controller' : `controller-${i + 1}`));
}

export function readRecord(name: string): LabRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(paths.lab(name), 'lab.json'), 'utf8')) as LabRecord;
  } catch {
    return undefined;
  }
}

export function listRecords(): LabRecord[] {
  if (!fs.existsSync(paths.labs)) return [];
  return fs
    .readdirSync(paths.labs)
    .map(readRecord)
    .filter((r): r is LabRecord => r !== undefined)
    .sort((a, b) => a.index - b.index);
}

function cmdline(pid: number): string | undefined {
  try {
    return pid > 0 ? fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

/** Running when the recorded holder is this lab's `unshare … install-glance-lab NAME`, not a pid reused since. */
export function stateOf(r: LabRecord): LabState {
  const cmd = cmdline(r.holderPid);
  return cmd?.startsWith('unshare\0') && cmd.includes(`$0 = "install-glance-lab ${r.name}";`) ? 'running' : 'stopped';
}

