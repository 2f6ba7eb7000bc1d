// The one door to zx: local commands of the lab builder. zx's template quoting keeps names and paths
// from being read by a shell. Remote commands never come through here (they go over ssh2).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { $ as zx, ProcessOutput } from 'zx';

/**
 * zx runs each command as `bash -c`. A bash whose stdin is a socket (Node's pipes are socketpairs) and
 * whose SHLVL is under 2 (started from cron, a service, or `( … &)`) takes itself for sshd's and reads
 * ~/.bashrc (Debian builds bash with SSH_SOURCE_BASHRC): whatever root's bashrc does then runs before every
 * command (on this project's machines, `pyenv init`: 0.5–1.7 s a command) and may print into output we
 * parse. With --norc the command runs alone.
 */
function spawnWithoutRc(cmd: string, args: readonly string[], opts: SpawnOptions): ChildProcess {
  if (typeof opts.shell !== 'string') return spawn(cmd, args, opts);
  return spawn(opts.shell, ['--norc', '--noprofile', '-c', [cmd, ...args].join(' ')], { ...opts, shell: false });
}

export const sh = zx({ quiet: true, verbose: false, spawn: spawnWithoutRc as typeof spawn });

/** A local command's failure, with what ran and what it said, for an error that names the step. */
export function describeFailure(err: unknown): string {
  if (err instanceof ProcessOutput) {
    const said = (err.stderr || err.stdout).trim().split('\n').slice(-8).join('\n');
    return `exit ${err.exitCode}${said ? `: ${said}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** True when `cmd` is on PATH. */
export async function have(cmd: string): Promise<boolean> {
  const r = await sh`command -v ${cmd}`.nothrow();
  return r.exitCode === 0;
}
