// One run at a time per target: an flock(1) on a file on the target, held by a remote shell started on
// the run's own SSH connection, whose stdin is fed a heartbeat. When the run ends, is killed, or its link
// dies, the heartbeat stops (EOF at once for a closed connection, silence for a dead link): the shell
// kills its process group and the kernel drops the lock with the last open descriptor. Nothing is left
// to clean up by hand, and a dead run never wedges the next one for longer than HEARTBEAT.silenceSec.
// The run's first read (its facts) can ride along: run by the holder once the lock is held, on the same
// channel, so taking the lock costs no round trip of its own and the facts are read under the lock.
import crypto from 'node:crypto';
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
  /** The tool's name, for the holder's label another run is shown ("install-glance"). */
  tool: string;
  /** The heartbeat (default HEARTBEAT); a test shortens it. */
  heartbeat?: { everyMs: number; silenceSec: number };
}

/** The heartbeat: a byte every `everyMs`; the holder lets go after `silenceSec` without one. */
export const HEARTBEAT = { everyMs: 5_000, silenceSec: 20 };

/** Who holds the lock, as another run is shown it: the operator's user and machine, the process, the tool and mode. */
export function holderLabel(tool: string, mode: string): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry for this uid (a container): the pid still says which process
  }
  return `${user}@${os.hostname()} (pid ${process.pid}, ${tool} ${mode})`;
}

/** The file every command of the run holding the lock holds a shared lock on while it runs (command-guard.ts). */
export const commandsFile = (lock: string) => `${lock}.commands`;

// Arguments: LOCK HOLDER WAIT(1|0) SILENCE THEN END. Lines on stdout: `held AGE HOLDER…` while another run
// holds it (repeated every few seconds while waiting), `left PID (LABEL)<tab>…` while commands an earlier run
// started still run (command-guard.ts; repeated too), `locked` once this one holds it and they are done,
// then THEN's output (when THEN is a script), a newline, and `END STATUS`. Exit 75: held and WAIT=0; 76:
// an earlier run's commands still run and WAIT=0; 69: no flock on the target; 70: the lock file cannot be made.
const HOLD = [
  'set -u',
  'lock=$1 me=$2 wait=$3 silence=$4 then=$5 end=$6',
  'command -v flock >/dev/null 2>&1 || { echo "no flock(1) on this host (util-linux)" >&2; exit 69; }',
  // The watcher: a "." at least every $silence s on stdin, or this whole process group ends (and the lock with it).
  // It is started before the lock file is opened, so it never holds the lock itself.
  'exec 3<&0',
  '( while [ "$(timeout "$silence" head -c1 <&3)" = . ]; do :; done; kill -TERM 0 ) </dev/null >/dev/null 2>&1 &',
  'exec 3<&-',
  'holder() { read -r since who <"$lock" 2>/dev/null && [ -n "$since" ] && echo "$(( $(date +%s) - since )) $who" || echo "? (no holder recorded)"; }',
  // The guards holding the commands file (their fd 8), each with its label (GUARD's $1), tab after tab;
  // called with its own fd 8 closed, and not listing this shell, which holds it to wait on it.
  'left() { for d in /proc/[0-9]*; do [ "${d#/proc/}" != $$ ] && [ "$d/fd/8" -ef "$lock.commands" ] && printf "%s (%s)\\t" "${d#/proc/}" "$(tr \'\\000\' \'\\n\' <"$d/cmdline" 2>/dev/null | sed -n 5p)"; done; }',
  // On the way to the facts, builtins only but flock itself: the directory made only the first time, the
  // file by the redirection.
  '[ -d "${lock%/*}" ] || mkdir -p "${lock%/*}" || exit 70',
  'exec 9>>"$lock"',
  'while :; do',
  '  if flock -n 9; then',
  // A tear-down may have removed the file this descriptor locks: then the path is another file, and
  // holding this one excludes nobody. Open the path again and lock that.
  '    if ! [ /proc/self/fd/9 -ef "$lock" ]; then',
  '      exec 9>&-; [ -d "${lock%/*}" ] || mkdir -p "${lock%/*}" || exit 70; exec 9>>"$lock"; continue',
  '    fi',
  '    set -- ${SSH_CLIENT:-?}',
  // Who holds it, for a run that waits: written beside what follows, not before it.
  '    printf "%s %s from %s port %s\\n" "$(date +%s)" "$me" "$1" "${2:-?}" >"$lock" &',
  // What an earlier run started and still runs ends first (a dead run's restart, say): its commands
  // hold a shared lock on the commands file; an exclusive one, let go at once, says they are done.
  '    exec 8>>"$lock.commands" || exit 70',
  '    if ! flock -n 8; then',
  '      [ "$wait" = 1 ] || { echo "left $(left 8>&-)"; exit 76; }',
  '      echo "left $(left 8>&-)"',
  '      until flock -w 5 8; do echo "left $(left 8>&-)"; done',
  '    fi',
  '    exec 8>&-',
  '    echo locked',
  // Not the lock's descriptor, not the heartbeat: the script is a reader and nothing else.
  // A newline before the end line, whether or not the output ended with one (the caller takes it off).
  '    if [ -n "$then" ]; then sh -c "$then" </dev/null 9>&-; rc=$?; echo; echo "$end $rc"; fi',
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
 * `PID (LABEL)<tab>…` from the script, as "pid 123 (restart glance-api), pid 456 (apt-get install)"; a pid
 * whose label could not be read (it ended meanwhile) is named alone.
 */
export function describeLeftovers(line: string): string {
  const each = line.split('\t').map((x) => x.trim()).filter(Boolean).map((x) => {
    const m = /^(\d+) \((.*)\)$/.exec(x);
    if (!m) return x;
    return m[2] ? `pid ${m[1]} (${m[2]})` : `pid ${m[1]}`;
  });
  return each.join(', ') || 'commands that ended as they were listed';
}

/** Says a line when its key is new, and again every 30 s while the key stays the same. */
function nowAndThen(progress: (line: string) => void): (key: string, line: string) => void {
  let last: string | undefined;
  let at = 0;
  return (key, line) => {
    if (key === last && Date.now() - at <= 30_000) return;
    last = key;
    at = Date.now();
    progress(line);
  };
}

export interface HeldRunLock {
  /** Lets the lock go (the holder's stdin ends). */
  release(): void;
  /** How long another run was waited for; 0 when the lock was free. */
  waitedMs: number;
  /** The run waited for, as the lock file named it last (when one was). */
  waitedFor?: string;
  /** How long the commands an earlier run left running were waited for, and what they were, when there were any. */
  leftWaitedMs?: number;
  leftover?: string;
  /** What `then` printed, run on the target once the lock was held, and its exit status. */
  thenOutput?: string;
  thenStatus?: number;
}

/** A script the holder runs once it holds the lock (the facts), on the same channel: no round trip of its own. */
export interface ThenScript {
  script: string;
  /** How long it may take once the lock is held. */
  timeoutMs: number;
  /** What it is, for a timeout's message ("the fact-gathering script"). */
  what: string;
}

/**
 * Takes the run lock on the target; resolves once it is held (and `then` ran), with a release function;
 * `onHeld` is called the moment it is held.
 * While another run holds it, says so through `progress` (who, for how long), again when the holder
 * changes and every 30 s.
 */
export async function takeRunLock(t: Transport, opts: RunLockOptions, holder: string, progress: (line: string) => void, then?: ThenScript, onHeld?: () => void): Promise<HeldRunLock> {
  let all = '';
  let scanned = 0;
  let lockedAt = -1;
  // The run waited for (once a `held` line named it), and what an earlier run left running (once a `left` line did).
  let waitedFor: string | undefined;
  let lastHolder = '';
  let leftover = '';
  let leftSince = 0;
  const sayHeld = nowAndThen(progress);
  const sayLeft = nowAndThen(progress);
  let onLocked!: () => void;
  const locked = new Promise<void>((r) => (onLocked = r));
  let onThen!: (out: { output: string; code: number }) => void;
  const thenDone = new Promise<{ output: string; code: number }>((r) => (onThen = r));
  const end = `@@run-lock-then-${crypto.randomBytes(6).toString('hex')}`;
  const endLine = new RegExp(`\n${end} (\\d+)\n`);
  const t0 = Date.now();
  if (!t.start) throw new EngineError('run lock', `the connection to ${t.host} cannot hold a remote command open`, 'run without the run lock, or over SSH');
  const hb = opts.heartbeat ?? HEARTBEAT;
  // THEN's output (a config file in base64 is ~300 KB) is kept as its chunks; only the last few hundred
  // characters are searched for the end line, so a large output costs one join, not a copy and a scan per chunk.
  const thenParts: string[] = [];
  let tail = '';
  const window = end.length + 32;
  let thenEnded = false;
  const onThenData = (chunk: string) => {
    if (thenEnded) return;
    thenParts.push(chunk);
    const look = tail + chunk;
    if (endLine.test(look)) {
      const output = thenParts.join('');
      const m = endLine.exec(output) as RegExpExecArray;
      thenEnded = true;
      onThen({ output: output.slice(0, m.index), code: Number(m[1]) });
    }
    tail = look.slice(-window);
  };
  const onStdout = (chunk: string) => {
    if (lockedAt >= 0) return onThenData(chunk);
    all += chunk;
    // Whole lines only, until `locked`; what follows it is `then`'s output, up to the end line.
    for (let nl = all.indexOf('\n', scanned); lockedAt < 0 && nl >= 0; nl = all.indexOf('\n', scanned)) {
      const line = all.slice(scanned, nl);
      scanned = nl + 1;
      if (line === 'locked') {
        lockedAt = scanned;
        onLocked();
        // Told at once, not when `then` is done: what may start once the lock is held starts beside it.
        onHeld?.();
      } else if (line.startsWith('left ')) {
        leftover = describeLeftovers(line.slice(5));
        if (!leftSince) leftSince = Date.now();
        sayLeft(leftover, `waiting for what an earlier run started on ${t.host} and left running: ${leftover}`);
      } else if (line.startsWith('held ') || line.startsWith('busy ')) {
        lastHolder = describeHolder(line.slice(5));
        if (line.startsWith('held ')) {
          waitedFor = lastHolder.replace(/, for .*$/, '');
          sayHeld(waitedFor, `waiting for the run lock ${opts.path}: another run holds it: ${lastHolder}`);
        }
      }
    }
    if (lockedAt >= 0) onThenData(all.slice(lockedAt));
  };
  const proc: RemoteProcess = await t.start(['sh', '-c', HOLD, 'run-lock', opts.path, holder, opts.wait ? '1' : '0', String(hb.silenceSec), then?.script ?? '', end], {
    onStdout, what: `flock ${opts.path}${then ? `, then ${then.what}` : ''}`,
  });
  const beat = setInterval(() => proc.write('.'), hb.everyMs);
  beat.unref();
  proc.write('.');
  const release = () => {
    clearInterval(beat);
    proc.end();
  };
  let timer: NodeJS.Timeout | undefined;
  const timedOut = (ms: number) => new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  try {
    const first = await Promise.race([locked.then(() => 'locked' as const), proc.done, timedOut(opts.timeoutMs)]);
    clearTimeout(timer);
    if (first === 'locked') {
      const waitedMs = waitedFor !== undefined ? Date.now() - t0 : 0;
      const waited = {
        ...(waitedFor !== undefined ? { waitedFor } : {}),
        ...(leftSince ? { leftWaitedMs: Date.now() - leftSince, leftover } : {}),
      };
      if (waitedFor !== undefined) progress(`run lock taken after ${(waitedMs / 1000).toFixed(1)} s`);
      if (leftSince) progress(`what the earlier run left running ended after ${((Date.now() - leftSince) / 1000).toFixed(1)} s`);
      if (!then) return { release, waitedMs, ...waited };
      const ran = await Promise.race([thenDone, proc.done, timedOut(then.timeoutMs)]);
      if (ran === 'timeout') {
        throw new EngineError('gather facts', `${then.what} did not finish in ${then.timeoutMs / 1000} s on ${t.host}`, 'see on the controller what it waits for (ps, its log), then run again');
      }
      if ('stdout' in ran) {
        throw new EngineError('gather facts', `the run lock's holder on ${t.host} ended before ${then.what} did (exit ${ran.code}): ${ran.stderr.trim() || 'no message'}`,
          'run again; if it happens again, run with -v and look at the controller');
      }
      return { release, waitedMs, ...waited, thenOutput: ran.output, thenStatus: ran.code };
    }
    if (first === 'timeout' && leftSince) {
      throw new EngineError('run lock', `what an earlier run started on ${t.host} still runs after ${Math.round(opts.timeoutMs / 1000)} s: ${leftover}`,
        'see on the controller what those processes wait for (ps, their logs); once they end, run again');
    }
    if (first === 'timeout') {
      throw new EngineError('run lock', `another run still holds the run lock ${opts.path} on ${t.host} after ${Math.round(opts.timeoutMs / 1000)} s: ${lastHolder || 'holder unknown'}`,
        'let that run finish (or stop it: its lock goes with its SSH connection), then run again');
    }
    if (first.code === 75) {
      throw new EngineError('run lock', `another run holds the run lock ${opts.path} on ${t.host}: ${lastHolder}`,
        'wait for it to finish, or run again without --no-wait to wait for it');
    }
    if (first.code === 76) {
      throw new EngineError('run lock', `the run before this one ended, but what it started on ${t.host} still runs: ${leftover}`,
        'wait a few seconds for it to finish, or run again without --no-wait to wait for it');
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
