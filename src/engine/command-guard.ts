// What a run started on the target outlives the run: sshd signals nothing to a command without a
// terminal when its connection goes, so a run killed during a restart leaves `service glance-api stop;
// …; start` running on the controller after its run lock was let go. The next run, restarting the same
// service at the same time, had its daemon's pid file removed by the dead run's stop (CI, 2026-11-27).
// So once a run holds the run lock, each command it starts holds a shared flock on a second file for as
// long as it runs, and a run that takes the lock first waits for that file to be free of every such
// command (run-lock.ts): what a dead run left running ends before the next run reads anything.
//
// The lock is held by a small shell around the command, not by the command: a daemon the command starts
// (an init script's) does not inherit it and so never holds up the next run. File writes are not guarded:
// one is a rename once all its bytes are in (ssh.ts WRITE_ATOMIC), done when the connection goes. A
// relay (execStream) and the held-open lock holder (start) end with their connection and are not either.
import type { Transport } from '../transport/ssh.ts';
import { commandSummary } from './traced-transport.ts';

/**
 * Arguments: FILE ($0) LABEL ($1) then the command. One line on purpose: the run lock's holder reads a
 * guard's label as the fifth field of its /proc/PID/cmdline, split at NULs and newlines. With the state
 * directory gone (a tear-down removed it) the command runs unguarded rather than not at all. The command
 * runs in a subshell that closes fd 8 and execs it: dash, given `cmd 8>&-`, would move the shell's own
 * fd 8 elsewhere while cmd runs, and the holder looks for it as fd 8.
 */
export const GUARD = '[ -d "${0%/*}" ] && exec 8>>"$0" && flock -s 8; shift; (exec 8>&- "$@")';

/** The argv that runs `argv` holding the shared lock on `file`, labelled for a run that waits for it. */
export function guardedArgv(file: string, label: string, argv: readonly string[]): string[] {
  return ['sh', '-c', GUARD, file, label.replace(/[\n\t\0]/g, ' '), ...argv];
}

const short = (s: string) => (s.length > 60 ? `${s.slice(0, 59)}…` : s);

export interface GuardedTransport extends Transport {
  /** From now on, every command holds a shared lock on `file` while it runs. */
  guard(file: string): void;
}

/** `t` unchanged until `guard(file)` is called; then its commands and scripts run inside GUARD. */
export function guardedTransport(t: Transport): GuardedTransport {
  let file: string | undefined;
  return {
    get host() { return t.host; },
    get user() { return t.user; },
    get serverSoftware() { return t.serverSoftware; },
    get stats() { return t.stats; },
    get lost() { return t.lost; },
    guard(f) {
      file = f;
    },
    exec: (argv, opts) => (file ? t.exec(guardedArgv(file, opts?.what ?? short(commandSummary(argv)), argv), opts) : t.exec(argv, opts)),
    // The same `sh -s -- args` with the script on stdin as the transports below run it, inside the guard.
    // Its label never quotes the script: a script travels on stdin, and a label is on the command line.
    script: (source, args = [], opts = {}) =>
      (file ? t.exec(guardedArgv(file, opts.what ?? short(commandSummary(['sh', '-s', '--', ...args])), ['sh', '-s', '--', ...args]), { ...opts, stdin: source }) : t.script(source, args, opts)),
    writeFileAtomic: (path, content, owner, mode) => t.writeFileAtomic(path, content, owner, mode),
    openUnixSocket: (socketPath, opts) => t.openUnixSocket(socketPath, opts),
    openTcp: (host, port) => t.openTcp(host, port),
    execStream: (argv) => t.execStream(argv),
    ...(t.start ? { start: t.start.bind(t) } : {}),
    ...(t.probe ? { probe: t.probe.bind(t) } : {}),
    close: () => t.close(),
  };
}
