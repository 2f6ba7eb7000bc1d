// One run at a time per target: an flock(1) on a file on the target, held by a remote shell started on
// the run's own SSH connection, whose stdin is fed a heartbeat. When the run ends, is killed, or its link
// dies, the heartbeat stops (EOF at once for a closed connection, silence for a dead link): the shell
// kills its process group and the kernel drops the lock with the last open descriptor. Nothing is left
// to clean up by hand, and a dead run never wedges the next one for longer than HEARTBEAT.silenceSec.
import os from 'node:os';
import type { RemoteProcess, Transport } from '../transport/ssh.ts';
import { EngineError } from './errors.ts';

export interface RunLockOptions {
  /** The lock file on the target (its directory is made when missing). */
  path: string;
  /** false: refuse at once when another run holds it (`--no-wait`). */
  wait: boolean;
  /** How long to wait for it at most. */
  timeoutMs: number;
  /** The heartbeat (default HEARTBEAT); a test shortens it. */
  heartbeat?: { everyMs: number; silenceSec: number };
}

/** The heartbeat: a byte every `everyMs`; the holder lets go after `silenceSec` without one. */
export const HEARTBEAT = { everyMs: 5_000, silenceSec: 20 };

/** Who holds the lock, as another run is shown it: the operator's user and machine, the process, the mode. */
export function holderLabel(mode: string): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry for this uid (a container): the pid still says which process
  }
  return `${user}@${os.hostname()} (pid ${process.pid}, install-glance ${mode})`;
}

// Arguments: LOCK HOLDER WAIT(1|0) SILENCE. Lines on stdout: `held AGE HOLDER…` while another run holds
// it (repeated every few seconds while waiting), `locked` once this one holds it. Exit 75: held and
// WAIT=0; 69: no flock on the target; 70: the lock file cannot be made.
const HOLD = [
  'set -u',
  'lock=$1 me=$2 wait=$3 silence=$4',
  'command -v flock >/dev/null 2>&1 || { echo "no flock(1) on this host (util-linux)" >&2; exit 69; }',
  'mkdir -p "$(dirname "$lock")" && touch "$lock" || exit 70',
  // The watcher: a "." at least every $silence s on stdin, or this whole process group ends (and the lock with it).
  // It is started before the lock file is opened, so it never holds the lock itself.
  'exec 3<&0',
  '( while [ "$(timeout "$silence" head -c1 <&3)" = . ]; do :; done; kill -TERM 0 ) </dev/null >/dev/null 2>&1 &',
  'exec 3<&-',
  'holder() { read -r since who <"$lock" 2>/dev/null && [ -n "$since" ] && echo "$(( $(date +%s) - since )) $who" || echo "? (no holder recorded)"; }',
  'exec 9>>"$lock"',
  'while :; do',
  '  if flock -n 9; then',
  // A tear-down may have removed the file this descriptor locks: then the path is another file, and
  // holding this one excludes nobody. Open the path again and lock that.
  '    if [ "$(stat -L -c %d:%i /proc/self/fd/9 2>/dev/null)" != "$(stat -c %d:%i "$lock" 2>/dev/null)" ]; then',
  '      exec 9>&-; touch "$lock" || exit 70; exec 9>>"$lock"; continue',
  '    fi',
  '    set -- ${SSH_CLIENT:-?}',
  '    printf "%s %s from %s port %s\\n" "$(date +%s)" "$me" "$1" "${2:-?}" >"$lock"',
  '    echo locked',
  '    break',
  '  fi',
  '  [ "$wait" = 1 ] || { echo "busy $(holder)"; exit 75; }',
  '  echo "held $(holder)"',
  '  flock -w 5 9 || :',
  'done',
  // Holding: until the watcher ends the group.
  'wait',
].join('\n');

const ago = (s: string) => {
  const n = Number(s);
  if (!Number.isFinite(n)) return 'since a time not recorded';
  return n < 120 ? `for ${n} s` : n < 7200 ? `for ${Math.round(n / 60)} min` : `for ${(n / 3600).toFixed(1)} h`;
};

/** `AGE WHO…` from the script, as "root@ops (pid 123, install-glance apply) from 10.0.0.5, for 12 s". */
export function describeHolder(line: string): string {
  const [age = '', ...who] = line.trim().split(' ');
  return `${who.join(' ') || 'another run'}, ${ago(age)}`;
}

/**
 * Takes the run lock on the target; resolves once it is held, with a release function. While another run
 * holds it, says so through `progress` (who, for how long), again when the holder changes and every 30 s.
 */
export async function takeRunLock(t: Transport, opts: RunLockOptions, holder: string, progress: (line: string) => void): Promise<() => void> {
  let buf = '';
  let said = '';
  let saidAt = 0;
  let lastHolder = '';
  let onLocked!: () => void;
  const locked = new Promise<void>((r) => (onLocked = r));
  const t0 = Date.now();
  if (!t.start) throw new EngineError('run lock', `the connection to ${t.host} cannot hold a remote command open`, 'run without the run lock, or over SSH');
  const hb = opts.heartbeat ?? HEARTBEAT;
  const proc: RemoteProcess = await t.start(['sh', '-c', HOLD, 'run-lock', opts.path, holder, opts.wait ? '1' : '0', String(hb.silenceSec)], {
    onStdout: (chunk) => {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'locked') onLocked();
        else if (line.startsWith('held ') || line.startsWith('busy ')) {
          lastHolder = describeHolder(line.slice(5));
          const who = lastHolder.replace(/, for .*$/, '');
          if (line.startsWith('held ') && (who !== said || Date.now() - saidAt > 30_000)) {
            said = who;
            saidAt = Date.now();
            progress(`waiting for the run lock ${opts.path}: another run holds it: ${lastHolder}`);
          }
        }
      }
    },
  });
  const beat = setInterval(() => proc.write('.'), hb.everyMs);
  beat.unref();
  proc.write('.');
  const release = () => {
    clearInterval(beat);
    proc.end();
  };
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), opts.timeoutMs)));
  try {
    const first = await Promise.race([locked.then(() => 'locked' as const), proc.done, timedOut]);
    if (first === 'locked') {
      if (said) progress(`run lock taken after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return release;
    }
    release();
    if (first === 'timeout') {
      throw new EngineError('run lock', `another run still holds the run lock ${opts.path} on ${t.host} after ${Math.round(opts.timeoutMs / 1000)} s: ${lastHolder || 'holder unknown'}`,
        'let that run finish (or stop it: its lock goes with its SSH connection), then run again');
    }
    if (first.code === 75) {
      throw new EngineError('run lock', `another run holds the run lock ${opts.path} on ${t.host}: ${lastHolder}`,
        'wait for it to finish, or run again without --no-wait to wait for it');
    }
    throw new EngineError('run lock', `cannot take the run lock ${opts.path} on ${t.host} (exit ${first.code}): ${first.stderr.trim() || 'no message'}`,
      first.code === 69 ? 'install util-linux (flock) on the controller' : `check that ${opts.path}'s directory can be written by ${t.user}`);
  } catch (e) {
    release();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
