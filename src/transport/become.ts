// Privilege escalation as Ansible's `become` does it with sudo: a Transport whose every command (facts,
// exec, scripts, file writes) runs through sudo on the controller, while the tunnels (HTTP to the APIs,
// a MySQL login as a service user) stay the SSH user's own, as they need no root. A unix socket that
// must be reached as root (MariaDB's unix_socket login) is relayed by a root-run process instead.
//
// Without a password: `sudo -n`, which fails at once instead of asking. With one (--ask-become-pass):
// `sudo -S -p ''`, the password as the first line of stdin, never on a command line. Commands that read
// stdin themselves (an atomic write, a script, a relay) get the password line, then a marker line, then
// their data: a root shell reads up to the marker and execs the command on what is left. sudo reads its
// password one byte at a time, so the data stays whole; a sudo that asked for nothing (NOPASSWD) leaves
// the password line for that shell to drop, so it never reaches the command.
import crypto from 'node:crypto';
import type { Duplex } from 'node:stream';
import { TransportError } from './errors.ts';
import { writeAtomicArgv, type ExecOptions, type ExecResult, type ExecStream, type RemoteProcess, type StartOptions, type Transport } from './ssh.ts';
import { openRelay } from './unix-relay.ts';
import { Secret, SecretText } from '../secret.ts';

export interface BecomeOptions {
  /** Whom commands run as (`sudo -u`); default root. */
  user?: string;
  /** For a sudo that asks for one: fed on stdin (sudo -S), never on a command line. */
  password?: Secret;
}

/** Reads the password line (when sudo left it) and the marker line ($0), then runs the command on the rest of stdin. */
export const SKIP_TO_MARKER = 'IFS= read -r l || exit 125; [ "$l" = "$0" ] || { IFS= read -r l && [ "$l" = "$0" ]; } || exit 125; exec "$@"';

/** The argv that runs `argv` through sudo; `marker` is given exactly when a password is fed on stdin. */
export function sudoArgv(argv: readonly string[], o: { user?: string; marker?: string }): string[] {
  const as = o.user ? ['-u', o.user] : [];
  if (o.marker === undefined) return ['sudo', '-n', ...as, '--', ...argv];
  return ['sudo', '-S', '-p', '', ...as, '--', 'sh', '-c', SKIP_TO_MARKER, o.marker, ...argv];
}

export interface Refusal {
  message: string;
  hint: string;
}

/**
 * Whether a command's failure is sudo's own (it ran nothing), said for the operator; undefined when the
 * command itself ran. sudo exits 1 with a "sudo: " line when it refuses; a missing sudo is the shell's 127.
 */
export function sudoRefusal(r: { code: number | null; stderr: string }, ctx: { host: string; sshUser: string; becomeUser?: string; withPassword: boolean }): Refusal | undefined {
  const lines = r.stderr.split('\n');
  const who = ctx.sshUser;
  const as = ctx.becomeUser ?? 'root';
  if (r.code === 127 && lines.some((l) => /\bsudo\b.*not found/.test(l))) {
    return { message: `sudo is not installed on ${ctx.host}, so ${who} cannot become ${as}`, hint: 'install it as root (apt-get install sudo) and allow this user in /etc/sudoers.d/, or connect as root (--user root)' };
  }
  // A wrong password: "Sorry, try again." then sudo's own lines.
  const own = lines.filter((l) => l.startsWith('sudo: ')).map((l) => l.slice('sudo: '.length).trim());
  if (r.code !== 1 || !own.length) return undefined;
  const said = own.join('; ');
  const nopasswd = `let ${who} run sudo without a password (a line "${who} ALL=(ALL) NOPASSWD: ALL" in /etc/sudoers.d/)`;
  if (/a password is required/.test(said)) {
    return { message: `sudo on ${ctx.host} wants a password for ${who} (nothing was changed)`, hint: `run again with --ask-become-pass (asked once, fed to sudo on stdin), or ${nopasswd}` };
  }
  if (/incorrect password|no password was provided|Sorry, try again/.test(r.stderr)) {
    return { message: `sudo on ${ctx.host} refused the password given for ${who} (nothing was changed)`, hint: `give ${who}'s own login password at the --ask-become-pass prompt` };
  }
  if (/not in the sudoers file|may not run sudo|is not allowed to (execute|run)/.test(said)) {
    return { message: `${who} may not run commands as ${as} with sudo on ${ctx.host}: ${said}`, hint: `allow it in /etc/sudoers.d/ ("${who} ALL=(ALL) NOPASSWD: ALL"), or connect as root (--user root)` };
  }
  if (/unknown user/.test(said)) {
    return { message: `sudo on ${ctx.host} knows no user ${as}: ${said}`, hint: 'check --become-user (or ansible_become_user in the inventory)' };
  }
  if (/terminal is required|must have a tty/.test(said)) {
    return { message: `sudo on ${ctx.host} insists on a terminal for ${who}: ${said}`, hint: `allow ${who} without one ("Defaults:${who} !requiretty" in /etc/sudoers.d/)` };
  }
  return { message: `sudo on ${ctx.host} failed for ${who}: ${said}`, hint: `check sudo for ${who} on the controller (sudo -l)` };
}

/**
 * `inner`, with every command run through sudo. With a password, it is tried once here (a wrong one is
 * said before anything runs; sudo's own delay after a wrong password comes once, not per command).
 */
export async function become(inner: Transport, o: BecomeOptions = {}): Promise<Transport> {
  const marker = o.password ? `install-glance-${crypto.randomBytes(6).toString('hex')}` : undefined;
  const ctx = { host: inner.host, sshUser: inner.user, becomeUser: o.user, withPassword: !!o.password };
  // The password and the marker ahead of a command's own stdin: revealed here, at the wire.
  const preamble = (): string => (o.password ? `${o.password.reveal()}\n${marker}\n` : '');
  const refused = (r: { code: number | null; stderr: string }) => {
    const x = sudoRefusal(r, ctx);
    if (x) throw new TransportError(inner.host, 'become', x.message, x.hint);
  };

  async function exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const data = opts.stdin === undefined ? '' : opts.stdin;
    const stdin = o.password ? Buffer.concat([Buffer.from(preamble()), Buffer.from(data)]) : opts.stdin;
    const r = await inner.exec(sudoArgv(argv, { user: o.user, marker }), { ...opts, stdin });
    refused(r);
    if (r.code === 125 && marker && !r.stdout) {
      throw new TransportError(inner.host, 'become', `sudo on ${inner.host} did not pass the command its input (exit 125: ${r.stderr.trim() || 'no marker line'})`, 'check that sudo -S reads the password from stdin there (no askpass program configured)');
    }
    return r;
  }

  /** A command held open (the run lock's holder): its stdin, after the password lines, is the caller's. */
  async function start(argv: string[], opts: StartOptions = {}): Promise<RemoteProcess> {
    const p = await inner.start!(sudoArgv(argv, { user: o.user, marker }), opts);
    if (o.password) p.write(preamble());
    const done = p.done.then((r) => {
      refused(r);
      return r;
    });
    done.catch(() => {});
    return { write: (d) => p.write(d), end: () => p.end(), done };
  }

  async function execStream(argv: string[]): Promise<ExecStream> {
    const s = await inner.execStream(sudoArgv(argv, { user: o.user, marker }));
    if (o.password) s.write(preamble());
    return s;
  }

  const t: Transport = {
    host: inner.host,
    user: inner.user,
    stats: inner.stats,
    exec,
    ...(inner.start ? { start } : {}),
    // The link is the SSH user's: whether it died, and the probe that asks, need no sudo.
    get lost() {
      return inner.lost;
    },
    ...(inner.probe ? { probe: (ms: number) => inner.probe!(ms) } : {}),
    script: (source, args = [], opts = {}) => exec(['sh', '-s', '--', ...args], { ...opts, stdin: source }),
    async writeFileAtomic(path, content, owner, mode) {
      const bytes = content instanceof Secret || content instanceof SecretText ? content.reveal() : content;
      const r = await exec(writeAtomicArgv(path, owner, mode, bytes), { stdin: bytes });
      if (r.code !== 0) throw new TransportError(inner.host, 'write', `could not write ${path}: ${r.stderr.trim() || `exit ${r.code}`}`, 'check the directory exists and the disk has room');
    },
    async openUnixSocket(socketPath, opts = {}): Promise<Duplex> {
      // A world-connectable socket (a password login) needs no root: the SSH user's stream-local forward.
      if (!opts.privileged) return inner.openUnixSocket(socketPath);
      return openRelay(execStream, socketPath, (stderr) => {
        refused({ code: 1, stderr });
        return new TransportError(inner.host, 'tunnel', `cannot reach ${socketPath} as ${o.user ?? 'root'}: ${stderr.trim() || 'the relay ended at once'}`,
          `check that ${socketPath} exists (is its server running?)`);
      });
    },
    openTcp: (host, port) => inner.openTcp(host, port),
    execStream,
    close: () => inner.close(),
  };

  if (o.password) {
    // One try of the password alone: a wrong one is refused here, before any command sees its stdin.
    const r = await inner.exec(['sudo', '-S', '-p', '', ...(o.user ? ['-u', o.user] : []), '--', 'true'], { stdin: `${o.password.reveal()}\n` });
    refused(r);
    if (r.code !== 0) throw new TransportError(inner.host, 'become', `sudo on ${inner.host} could not run "true" as ${o.user ?? 'root'} (exit ${r.code}): ${r.stderr.trim()}`, `check sudo for ${inner.user} on the controller (sudo -l)`);
  }
  return t;
}
