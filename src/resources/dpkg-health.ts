// The package manager in a state to install anything: no dpkg run left half-done. A dpkg killed mid-way
// (a reboot, an OOM kill, a cut SSH session) leaves packages half-installed or unpacked but not
// configured, and updates in /var/lib/dpkg/updates/ that apt refuses to work past ("dpkg was interrupted,
// you must manually run 'dpkg --configure -a'"). Read from the dpkg fact's status letters and that
// directory; repaired with `dpkg --configure -a`, then `apt-get -f install` for what configuring cannot
// mend (a half-installed package must be unpacked again), noninteractive, keeping the operator's config
// files, with progress; after waiting for another process that holds dpkg's lock, which may be the very
// run that left those states and is still going.
//
// Its own kind (not a step of apt-packages): the plan shows the repair as a change of its own, the repair
// is owed whatever the packages wanted are, and the proof after apply reads it again.
import type { Diff, Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import { defineFact } from '../engine/facts.ts';
import { EngineError } from '../engine/errors.ts';
import { dpkgFact, type DpkgEntry } from './apt-packages.ts';
import { aptProgress } from './apt-progress.ts';
import { WAIT_SH, describeLockHolder, dpkgLockFact, lockWatcher, type LockHolder } from './dpkg-lock.ts';
import { byLine } from './by-line.ts';

/** How many updates an interrupted dpkg left in its journal (files named by number in updates/). */
// Names of digits only, as dpkg writes them; counted by the shell alone (it runs in every run's facts).
export const dpkgUpdatesFact = defineFact('dpkg updates', 'n=0; for f in /var/lib/dpkg/updates/*; do case ${f##*/} in \'\'|*[!0-9]*) ;; *) n=$((n + 1)) ;; esac; done; echo $n', (raw) => Number(raw.trim()) || 0);

/** dpkg-query's second status letter, for what is not done: */
const HALF: Record<string, string> = {
  H: 'half-installed',
  U: 'unpacked, not configured',
  F: 'half-configured',
  W: 'awaiting triggers',
  t: 'triggers pending',
};

export interface BrokenPackage {
  name: string;
  state: string;
  /** dpkg's reinst-required flag: only unpacking it again mends it. */
  reinstall: boolean;
}

/** Packages whose state is not final (installed, config files, not installed), from the dpkg fact. */
export function brokenPackages(dpkg: Record<string, DpkgEntry>): BrokenPackage[] {
  const out: BrokenPackage[] = [];
  for (const [name, { status }] of Object.entries(dpkg)) {
    const state = HALF[status[1] ?? ''];
    const reinstall = status[2] === 'R';
    if (state || reinstall) out.push({ name, state: state ?? 'must be reinstalled', reinstall: reinstall || status[1] === 'H' });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export interface DpkgHealthState {
  broken: BrokenPackage[];
  /** Entries in /var/lib/dpkg/updates/ not yet folded into dpkg's status file. */
  updates: number;
  holders: LockHolder[];
}

export type DpkgOp = { op: 'repair'; configure: true; reinstall: string[] };

const list = (names: string[], max = 4) => `${names.slice(0, max).join(', ')}${names.length > max ? ` and ${names.length - max} more` : ''}`;

function summary(s: DpkgHealthState): string {
  const byState = new Map<string, string[]>();
  for (const p of s.broken) byState.set(p.state, [...(byState.get(p.state) ?? []), p.name]);
  const parts = [...byState].map(([state, names]) => `${state}: ${list(names)}`);
  if (s.updates) parts.unshift(`${s.updates} update${s.updates > 1 ? 's' : ''} left in /var/lib/dpkg/updates`);
  return parts.join('; ');
}

export function dpkgHealthDiff(s: DpkgHealthState): Diff<DpkgOp> {
  const busy = s.holders.length ? `${describeLockHolder(s.holders[0]!)} now` : '';
  if (!s.broken.length && !s.updates) {
    return noChange(`dpkg has no interrupted run to finish${busy ? ` (${busy}: an install waits for it)` : ''}`);
  }
  const changes = s.broken.map((p) => ({ field: p.name, from: p.state, to: 'installed' }));
  if (s.updates) changes.unshift({ field: 'dpkg journal', from: `${s.updates} pending`, to: 'applied' });
  return {
    action: 'update',
    changes,
    why: busy
      ? `dpkg is busy: ${busy}; half-done so far: ${summary(s)}; apply waits for it, then repairs what is still left`
      : `dpkg was interrupted (${summary(s)}): apt installs nothing until it is repaired`,
    ops: [{ op: 'repair', configure: true, reinstall: s.broken.filter((p) => p.reinstall).map((p) => p.name) }],
  };
}

// Arguments: LIMIT (seconds to wait for another holder of the lock). dpkg's and apt's status lines go to
// stdout (fd 3), their words to stderr. `dpkg --audit` and `apt-get check` say whether anything is left.
const REPAIR = [
  'set -u',
  'export DEBIAN_FRONTEND=noninteractive LC_ALL=C',
  WAIT_SH,
  'dpkg_wait_locks "$1" || exit 75',
  'left() { [ -n "$(dpkg --audit 2>/dev/null)" ] || ! apt-get check -q </dev/null >/dev/null 2>&1; }',
  'if [ -n "$(ls -A /var/lib/dpkg/updates 2>/dev/null)" ] || left; then',
  '  echo "install-glance: dpkg --configure -a" >&2',
  '  dpkg --configure -a --force-confdef --force-confold --status-fd 3 </dev/null 3>&1 1>&2',
  'fi',
  'if left; then',
  '  echo "install-glance: apt-get -f install" >&2',
  '  apt-get -q -y -f --no-install-recommends -o APT::Status-Fd=3 -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=60 \\',
  '    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install </dev/null 3>&1 1>&2',
  'fi',
  'if left; then echo "install-glance: still left after the repair:" >&2; dpkg --audit >&2; apt-get check -q </dev/null >&2; exit 3; fi',
  'exit 0',
].join('\n');

/** dpkg's own status lines ("processing: configure: glance-api: 2:25…") as progress, one per package. */
function dpkgProgress(say: (line: string) => void): (chunk: string) => void {
  return byLine((line) => {
    const m = /^processing: (configure|trigproc|install|upgrade): ([^:\s]+)/.exec(line);
    if (m) say(`dpkg --configure -a: ${m[1] === 'trigproc' ? 'triggers of' : m[1]} ${m[2]}`);
  });
}

export interface DpkgHealthSpec {
  /** Seconds to wait for another process that holds dpkg's lock. */
  lockTimeoutSec: number;
  notifies?: readonly string[];
}

export function dpkgHealth(spec: DpkgHealthSpec): Resource<DpkgHealthState, DpkgOp> {
  return {
    kind: 'dpkg-health',
    id: 'dpkg',
    notifies: spec.notifies,
    async read(host) {
      const [dpkg, updates, holders] = await Promise.all([host.fact(dpkgFact), host.fact(dpkgUpdatesFact), host.fact(dpkgLockFact)]);
      return { broken: brokenPackages(dpkg), updates, holders };
    },
    diff: (current) => dpkgHealthDiff(current),
    async apply(host) {
      host.progress('dpkg: finishing what an interrupted run left (dpkg --configure -a, then apt-get -f install if needed) …');
      const t0 = Date.now();
      const apt = aptProgress(host.progress, 'apt -f install');
      const dpkg = dpkgProgress(host.progress);
      const locks = lockWatcher(host.progress, spec.lockTimeoutSec, (chunk) => {
        apt(chunk);
        dpkg(chunk);
      });
      const r = await host.t.exec(['sh', '-c', REPAIR, 'dpkg-repair', String(spec.lockTimeoutSec)], {
        onStdout: locks.onStdout, timeoutMs: (spec.lockTimeoutSec + 1800) * 1000, what: 'the dpkg repair',
      });
      if (r.code === 75) throw locks.timeout('dpkg-health');
      if (r.code !== 0) {
        const said = r.stderr.trim().split('\n').filter((l) => !/^\(Reading database/.test(l)).slice(-12).join('\n');
        throw new EngineError('dpkg-health', `dpkg could not be repaired (exit ${r.code}):\n${said}`,
          'repair it by hand on the controller (dpkg --configure -a; apt-get -f install; dpkg --audit lists what is left), then run again');
      }
      host.progress(`dpkg repaired (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      await host.refreshFacts();
    },
  };
}
