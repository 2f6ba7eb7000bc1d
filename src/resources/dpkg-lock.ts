// The package manager's locks, and waiting for another process that holds them (unattended-upgrades,
// an operator's apt in another terminal) with a line saying who, instead of apt's silent wait or its
// "Could not get lock" failure. Holders come from /proc/locks (the fcntl locks dpkg and apt take), so
// nothing needs installing on the target (fuser and lsof are not on every controller).
import { defineFact } from '../engine/facts.ts';
import { EngineError } from '../engine/errors.ts';
import { byLine } from './by-line.ts';

/** dpkg's and apt's lock files, frontend first (apt and dpkg ≥ 1.19 take it for a whole run). */
export const DPKG_LOCKS = ['/var/lib/dpkg/lock-frontend', '/var/lib/dpkg/lock', '/var/cache/apt/archives/lock', '/var/lib/apt/lists/lock'];

/**
 * sh: `dpkg_lock_holders` prints "FILE PID COMMAND LINE" per lock held, in DPKG_LOCKS' order; nothing when
 * all are free (a command line's newlines made spaces: one line per holder). One stat and one awk whatever
 * the number of files (it runs in every run's facts).
 */
export const HOLDERS_SH = [
  'dpkg_lock_holders() {',
  `  l=$(stat -c '%i %n' ${DPKG_LOCKS.join(' ')} 2>/dev/null)`,
  '  [ -n "$l" ] || return 0',
  // A line of /proc/locks: "N: POSIX ADVISORY WRITE PID MAJ:MIN:INODE START END"; a waiter has "->" after N:.
  '  awk -v l="$l" \'BEGIN { n = split(l, x, "\\n"); for (j = 1; j <= n; j++) { split(x[j], y, " "); ino[j] = y[1]; file[y[1]] = y[2] } }',
  '    $2 != "->" { k = split($6, a, ":"); i = a[k]; if ((i in file) && $5 > 0 && !((i, $5) in seen)) { seen[i, $5] = 1; held[i] = held[i] " " $5 } }',
  '    END { for (j = 1; j <= n; j++) { m = split(held[ino[j]], p, " "); for (q = 1; q <= m; q++) print file[ino[j]], p[q] } }\' /proc/locks 2>/dev/null |',
  // printf, not echo: dash's echo would read a backslash in a command line as an escape.
  '  while read -r f p; do printf \'%s %s %s\\n\' "$f" "$p" "$(tr \'\\000\\n\' \'  \' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-160)"; done',
  '}',
].join('\n');

/**
 * sh: `dpkg_wait_locks LIMIT` returns once no lock is held, printing "@@ lock-held WAITED FILE PID CMD" every
 * 5 s while one is; after LIMIT seconds prints "@@ lock-timeout WAITED FILE PID CMD" and returns 75.
 */
export const WAIT_SH = [
  HOLDERS_SH,
  'dpkg_wait_locks() {',
  '  waited=0',
  '  while h=$(dpkg_lock_holders | head -n 1) && [ -n "$h" ]; do',
  '    if [ "$waited" -ge "$1" ]; then echo "@@ lock-timeout $waited $h"; return 75; fi',
  '    [ $((waited % 5)) -eq 0 ] && echo "@@ lock-held $waited $h"',
  '    sleep 1; waited=$((waited + 1))',
  '  done',
  '}',
].join('\n');

export interface LockHolder {
  file: string;
  pid: number;
  command: string;
}

export function parseHolder(text: string): LockHolder | undefined {
  const m = /^(\S+) (\d+) ?(.*)$/.exec(text.trim());
  return m ? { file: m[1]!, pid: Number(m[2]), command: m[3]!.trim() || '(command unknown)' } : undefined;
}

export const describeLockHolder = (h: LockHolder) => `pid ${h.pid} (${h.command}) holds ${h.file}`;

/** Who holds the package manager's locks right now (for the plan: an install will wait for them). */
export const dpkgLockFact = defineFact('dpkg locks', `${HOLDERS_SH}\ndpkg_lock_holders`, (raw): LockHolder[] =>
  raw.split('\n').map(parseHolder).filter((h): h is LockHolder => !!h));

/**
 * Progress from the "@@ lock-held" lines of a script that waits (the other lines go to `next`), and the
 * error for its exit 75.
 */
export function lockWatcher(say: (line: string) => void, limitSec: number, next?: (chunk: string) => void) {
  let last: { waited: number; holder?: LockHolder } | undefined;
  const lines = byLine((line) => {
    const m = /^@@ lock-(held|timeout) (\d+) (.*)$/.exec(line);
    if (!m) return;
    last = { waited: Number(m[2]), holder: parseHolder(m[3]!) };
    if (m[1] === 'held' && last.holder) say(`waiting for the package manager: ${describeLockHolder(last.holder)} (${last.waited} s so far, up to ${limitSec} s)`);
  });
  return {
    onStdout(chunk: string) {
      next?.(chunk);
      lines(chunk);
    },
    /** The error for a wait that ran out. */
    timeout(step: string): EngineError {
      const who = last?.holder ? describeLockHolder(last.holder) : 'another process holds the dpkg lock';
      return new EngineError(step, `the package manager is busy: ${who}, still after ${limitSec} s`,
        `let it finish (unattended-upgrades can take minutes; "ps -fp ${last?.holder?.pid ?? 'PID'}" shows it) or stop it, then run again; --dpkg-lock-timeout SECONDS waits longer`);
    },
  };
}
