// Debian packages, installed when missing: debconf answered first (so the packages configure nothing
// behind our back), no recommends, noninteractive with stdin closed, progress from apt's status fd.
// The preseed is not checked afterwards (glance-common's postinst deletes one of its own answers).
// Purged, config files and all, when the playbook wants them absent.
import type { Diff, Ensure, Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import { defineFact } from '../engine/facts.ts';
import { EngineError } from '../engine/errors.ts';
import { aptProgress } from './apt-progress.ts';
import { WAIT_SH, lockWatcher } from './dpkg-lock.ts';

export interface DpkgEntry {
  version: string;
  /** dpkg's two-letter state: `ii` installed, `rc` removed with config files left, `iU`/`iF` half done, … */
  status: string;
}

/** Every package dpkg knows, in one dpkg-query (it reads its whole database either way). */
export const dpkgFact = defineFact(
  'dpkg',
  "dpkg-query -W -f='${Package}\\t${Version}\\t${db:Status-Abbrev}\\n'",
  (raw): Record<string, DpkgEntry> => {
    const out: Record<string, DpkgEntry> = {};
    for (const line of raw.split('\n')) {
      const [name, version, status] = line.split('\t');
      if (name && status) out[name] = { version: version ?? '', status: status.trim() };
    }
    return out;
  },
);

export interface AptPackagesSpec {
  /** The name in reports (e.g. the main package). */
  id: string;
  packages: readonly string[];
  /** debconf answers given before the packages install. */
  preseed?: readonly string[];
  ensure?: Ensure;
  notifies?: readonly string[];
  /** Seconds to wait for another process that holds dpkg's lock (default 300). */
  lockTimeoutSec?: number;
  /** What to do when apt knows no such package (the packages come from an archive to add first). */
  source?: string;
}

export interface PackagesState {
  /** Installed package → version. */
  installed: Record<string, string>;
  missing: string[];
  /** Present in dpkg's database in any state but "not installed" (for a purge: config files left count). */
  present: string[];
  /**
   * For a purge: what apt would remove with each present package, alone (read by simulating). A package
   * whose purge would take anything outside our list (a client library the identity service needs) stays.
   */
  removes?: Record<string, string[]>;
}

export type AptOp = { op: 'install'; packages: string[]; preseed: string[] } | { op: 'purge'; packages: string[] };

/** Present packages whose purge takes nothing but packages of our list; the rest, with what they would take. */
export function purgeable(s: PackagesState): { purge: string[]; kept: [string, string[]][] } {
  const ours = new Set(s.present);
  const purge: string[] = [];
  const kept: [string, string[]][] = [];
  for (const p of s.present) {
    const others = (s.removes?.[p] ?? []).filter((x) => !ours.has(x));
    if (others.length) kept.push([p, others]);
    else purge.push(p);
  }
  return { purge, kept };
}

export function aptPackagesDiff(s: PackagesState, desired: Pick<AptPackagesSpec, 'preseed' | 'ensure'>): Diff<AptOp> {
  if (desired.ensure === 'absent') {
    const { purge, kept } = purgeable(s);
    const keptWhy = kept.map(([p, others]) => `${p} (purging it would also remove ${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''})`).join('; ');
    if (!purge.length) return noChange(kept.length ? `kept, as others need them: ${keptWhy}` : 'none of the packages is installed');
    return {
      action: 'delete',
      changes: [...purge.map((p) => ({ field: 'package', from: p, to: '(purged)' })), ...kept.map(([p]) => ({ field: 'package', from: p, to: '(kept: others need it)' }))],
      why: `installed: ${purge.join(', ')}${kept.length ? `; kept: ${keptWhy}` : ''}`,
      ops: [{ op: 'purge', packages: purge }],
    };
  }
  if (!s.missing.length) return noChange(`installed: ${Object.entries(s.installed).map(([p, v]) => `${p} ${v}`).join(', ')}`);
  return {
    action: 'create', changes: s.missing.map((p) => ({ field: 'package', to: p })), why: `not installed: ${s.missing.join(', ')}`,
    ops: [{ op: 'install', packages: s.missing, preseed: [...(desired.preseed ?? [])] }],
  };
}

// Both scripts first wait (LIMIT seconds at most) for another holder of dpkg's lock, saying who it is;
// apt's own lock timeout is left only for the moment between that wait and apt taking the lock.
const INSTALL = [
  'set -u',
  'export DEBIAN_FRONTEND=noninteractive LC_ALL=C',
  WAIT_SH,
  'dpkg_wait_locks "$1" || exit 75; shift',
  'preseed=$1; shift',
  '[ -z "$preseed" ] || printf "%s\\n" "$preseed" | debconf-set-selections',
  // Status lines on fd 3 → our stdout; apt's own output → stderr. (Status-Fd=1 breaks maintainer scripts that print.)
  'install() { apt-get -q -y --no-install-recommends -o APT::Status-Fd=3 -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=60 install "$@" </dev/null 3>&1 1>&2; }',
  // A controller whose package lists are old or missing: update once, then try again.
  'install "$@" || { echo "install-glance: apt-get update" >&2; apt-get -q update </dev/null >&2 && install "$@"; }',
].join('\n');

// What apt would remove with each package, alone: `==> pkg` then one name per line.
const SIMULATE = [
  'export LC_ALL=C',
  'for p in "$@"; do echo "==> $p"; apt-get -s -q purge "$p" </dev/null 2>/dev/null | awk \'$1 == "Purg" || $1 == "Remv" { print $2 }\'; done',
].join('\n');

// The purge asked for, and nothing more: simulated again right before, refused if apt would take another package.
const PURGE = [
  'set -u',
  'export DEBIAN_FRONTEND=noninteractive LC_ALL=C',
  WAIT_SH,
  'dpkg_wait_locks "$1" || exit 75; shift',
  'for x in $(apt-get -s -q purge "$@" </dev/null 2>/dev/null | awk \'$1 == "Purg" || $1 == "Remv" { print $2 }\'); do',
  '  mine=; for p in "$@"; do [ "$x" = "$p" ] && mine=1; done',
  '  [ -n "$mine" ] || { echo "purging $* would also remove $x: refused, nothing removed" >&2; exit 3; }',
  'done',
  'apt-get -q -y -o APT::Status-Fd=3 -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=60 purge "$@" </dev/null 3>&1 1>&2',
].join('\n');

function parseSimulation(out: string): Record<string, string[]> {
  const removes: Record<string, string[]> = {};
  let current: string[] | undefined;
  for (const line of out.split('\n')) {
    const head = /^==> (\S+)$/.exec(line);
    if (head) removes[head[1]!] = current = [];
    else if (line.trim() && current) current.push(line.trim());
  }
  return removes;
}

export function aptPackages(spec: AptPackagesSpec): Resource<PackagesState, AptOp> {
  return {
    kind: 'apt-package',
    id: spec.id,
    notifies: spec.notifies,
    async read(host) {
      const dpkg = await host.fact(dpkgFact);
      const installed = Object.fromEntries(spec.packages.filter((p) => dpkg[p]?.status === 'ii').map((p) => [p, dpkg[p]!.version]));
      const present = spec.packages.filter((p) => dpkg[p] && !dpkg[p]!.status.startsWith('un') && !dpkg[p]!.status.startsWith('pn'));
      const state: PackagesState = { installed, missing: spec.packages.filter((p) => !(p in installed)), present };
      if (spec.ensure === 'absent' && present.length) {
        const r = await host.t.script(SIMULATE, present);
        if (r.code !== 0) throw new EngineError('apt-package', `apt-get -s purge failed (exit ${r.code}): ${r.stderr.trim()}`, 'fix the package manager on the controller (apt-get -f install), then run again');
        state.removes = parseSimulation(r.stdout);
      }
      return state;
    },
    diff: (current) => aptPackagesDiff(current, spec),
    async apply(host, ops) {
      const limit = spec.lockTimeoutSec ?? 300;
      for (const o of ops) {
        const argv = o.op === 'install' ? ['sh', '-c', INSTALL, 'install', String(limit), o.preseed.join('\n'), ...o.packages] : ['sh', '-c', PURGE, 'purge', String(limit), ...o.packages];
        const locks = lockWatcher(host.progress, limit, aptProgress(host.progress, o.op === 'install' ? 'apt' : 'apt purge'));
        // Bounded, generously: a slow mirror can take many minutes, a hung maintainer script forever.
        const r = await host.t.exec(argv, { onStdout: locks.onStdout, timeoutMs: (limit + 3600) * 1000, what: `apt-get ${o.op} ${o.packages.join(' ')}` });
        if (r.code === 75) throw locks.timeout('apt-package');
        if (r.code !== 0) {
          const lines = (r.stderr || r.stdout).trim().split('\n').filter((l) => !l.startsWith('pmstatus') && !l.startsWith('dlstatus'));
          // apt's own errors (E: …) say it; the progress before them does not.
          const errors = lines.filter((l) => l.startsWith('E: '));
          const said = (errors.length ? errors : lines).slice(-6).join('\n');
          const unknown = o.op === 'install' && spec.source && /Unable to locate package|has no installation candidate/.test(r.stderr);
          throw new EngineError('apt-package', `apt-get ${o.op} ${o.packages.join(' ')} failed (exit ${r.code}):\n${said}`,
            unknown ? spec.source! : 'fix the package manager on the controller (apt-get -f install, the mirror, disk space), then run again');
        }
      }
      await host.refreshFacts();
    },
  };
}
