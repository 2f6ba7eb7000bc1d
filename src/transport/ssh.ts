// The one SSH connection per host, and the only module that imports ssh2. Everything remote rides on
// it: commands (argv quoted, stdin closed), atomic file writes (content on stdin, never in argv),
// and the tunnels that MySQL and the HTTP APIs use. Nothing opens a port on the controller.
import fs from 'node:fs';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { checkHostKey, type HostKeyPolicy } from './known-hosts.ts';
import { TransportError } from './errors.ts';
import { quoteArgv } from './quote.ts';
import { Secret, SecretText } from '../secret.ts';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Written to the command's stdin, which is then closed. The only way a secret reaches a remote process. */
  stdin?: string | Buffer;
  /** Called with each chunk of stdout as it comes, for progress. */
  onStdout?: (chunk: string) => void;
  /** Ends the wait (the remote command is left to itself) after this long; a command that can block should have one. */
  timeoutMs?: number;
  /** What the command is, for the timeout's message ("apt-get install"). */
  what?: string;
}

/**
 * A remote command that runs while its caller holds it: its stdin stays open for the caller to write to,
 * and it ends when the caller ends its stdin, or when the connection dies (sshd closes its pipes).
 */
export interface RemoteProcess {
  write(data: string): void;
  /** Closes its stdin; the command sees EOF. */
  end(): void;
  /** Its exit; rejects when the connection was lost first. */
  readonly done: Promise<ExecResult>;
}

export interface ConnectOptions extends HostKeyPolicy {
  host: string;
  port?: number;
  user?: string;
  /** Path of a private key; without it, the SSH agent, then ~/.ssh/id_ed25519 and id_rsa. */
  identity?: string;
  timeoutMs?: number;
}

export interface Transport {
  readonly host: string;
  readonly user: string;
  exec(argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Runs a shell script given on stdin (`sh -s -- args…`); a script can carry input after it only through `opts.stdin`. */
  script(source: string, args?: string[], opts?: Omit<ExecOptions, 'stdin'>): Promise<ExecResult>;
  /** Temp file + fsync + rename. A Secret or SecretText content is revealed here, as the bytes on stdin. */
  writeFileAtomic(path: string, content: string | Buffer | Secret | SecretText, owner: string, mode: number): Promise<void>;
  openUnixSocket(socketPath: string): Promise<Duplex>;
  openTcp(host: string, port: number): Promise<Duplex>;
  /** Starts a command whose stdin stays open (a lock holder fed a heartbeat); stdout chunks go to onStdout. */
  start?(argv: string[], opts?: { onStdout?: (chunk: string) => void }): Promise<RemoteProcess>;
  /** Why the connection died under a run (keepalives unanswered, reset), once it did; undefined while it is up. */
  readonly lost?: TransportError;
  /**
   * Whether the link still answers: a command that times out (Keystone silent, a query unanswered) may be
   * the link dying before the keepalives tell. Resolves with the connection's loss (and drops it) when no
   * answer comes in timeoutMs, undefined when it answers.
   */
  probe?(timeoutMs: number): Promise<TransportError | undefined>;
  readonly stats: { roundTrips: number; commands: number };
  close(): void;
}

/**
 * How long a silent link is tolerated: a keepalive every 5 s, and the connection given up after 3 go
 * unanswered, so a dead link (a cable, a firewall dropping packets) ends a run in about 20 s, not at
 * TCP's own timeout (minutes to hours).
 */
export const KEEPALIVE = { intervalMs: 5_000, countMax: 2 };

function defaultIdentity(): { privateKey?: Buffer; agent?: string } {
  if (process.env.SSH_AUTH_SOCK) return { agent: process.env.SSH_AUTH_SOCK };
  const home = process.env.HOME ?? '/root';
  for (const f of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    const p = `${home}/.ssh/${f}`;
    if (fs.existsSync(p)) return { privateKey: fs.readFileSync(p) };
  }
  return {};
}

export function connect(opts: ConnectOptions): Promise<Transport> {
  const port = opts.port ?? 22;
  const user = opts.user ?? 'root';
  const where = port === 22 ? opts.host : `${opts.host}:${port}`;
  let auth: { privateKey?: Buffer; agent?: string };
  try {
    auth = opts.identity ? { privateKey: fs.readFileSync(opts.identity) } : defaultIdentity();
  } catch (e) {
    return Promise.reject(new TransportError(opts.host, 'connect', `cannot read the identity file ${opts.identity}: ${(e as Error).message}`, 'pass a readable private key with --identity', e));
  }
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let hostKeyProblem: TransportError | undefined;
    client.once('ready', () => {
      const t = wrap(client, opts.host, user);
      // Every small packet otherwise waits ~40 ms for a delayed ACK (each tunnelled response, each
      // exit status). Our side: TCP_NODELAY. sshd's side: it sets TCP_NODELAY once a session asks for
      // a pty, so one throwaway `true` with a pty does it; nothing waits for it.
      client.setNoDelay(true);
      t.stats.commands++;
      client.exec('true', { pty: true }, (err, stream) => {
        if (!err) stream.on('error', () => {}).resume();
      });
      resolve(t);
    });
    client.once('error', (err: Error & { level?: string; code?: string }) => {
      if (hostKeyProblem) return reject(hostKeyProblem);
      if (err.level === 'client-authentication') {
        return reject(new TransportError(opts.host, 'connect', `${user}@${where} refused every key offered`, `check the user (--user) and key (--identity); the key's public half must be in ~${user}/.ssh/authorized_keys`, err));
      }
      if (err.level === 'client-timeout' || err.code === 'ETIMEDOUT') {
        return reject(new TransportError(opts.host, 'connect', `no SSH answer from ${where} in time`, 'check the address, the port (--port) and that sshd runs', err));
      }
      if (err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH' || err.code === 'ENOTFOUND' || err.code === 'ENETUNREACH') {
        return reject(new TransportError(opts.host, 'connect', `cannot reach ${where} (${err.code})`, 'check the address and the port (--port), and that sshd runs there', err));
      }
      reject(new TransportError(opts.host, 'connect', `SSH to ${where} failed: ${err.message}`, 'check the host and its sshd', err));
    });
    client.connect({
      host: opts.host,
      port,
      username: user,
      readyTimeout: opts.timeoutMs ?? 15_000,
      keepaliveInterval: KEEPALIVE.intervalMs,
      keepaliveCountMax: KEEPALIVE.countMax,
      ...auth,
      hostVerifier: (key: Buffer) => {
        const verdict = checkHostKey(opts, opts.host, port, key);
        if (verdict.ok) return true;
        hostKeyProblem = new TransportError(opts.host, 'host key', verdict.problem, verdict.hint);
        return false;
      },
    });
  });
}

function wrap(client: ssh2.Client, host: string, user: string): Transport {
  const stats = { roundTrips: 0, commands: 0 };
  let lost: TransportError | undefined;
  let closing = false;
  const lose = (why: string, cause?: unknown) => {
    if (closing || lost) return;
    lost = new TransportError(host, 'ssh', `the SSH connection to ${host} was lost: ${why}`,
      'check the network path to the controller and its sshd; then run again: what this run left owed (a restart) is in the journal and is done next time', cause);
  };
  // After ready, an error is the connection dying (a keepalive unanswered, a reset): it is recorded and
  // every command or tunnel still waiting on it fails with it, instead of looking like a command's exit.
  client.on('error', (err: Error & { level?: string }) => {
    const silentMs = KEEPALIVE.intervalMs * (KEEPALIVE.countMax + 1);
    lose(err.level === 'client-timeout' ? `no answer to keepalives for ${silentMs / 1000} s (a dead link?)` : err.message, err);
  });
  client.on('close', () => lose('it was closed by the other side'));

  const exec = (argv: string[], opts: ExecOptions = {}) => run(quoteArgv(argv), opts);

  function run(command: string, opts: ExecOptions): Promise<ExecResult> {
    stats.roundTrips++;
    stats.commands++;
    return new Promise((resolve, reject) => {
      client.exec(command, (err, stream) => {
        if (err) return reject(new TransportError(host, 'exec', `could not start a remote command: ${err.message}`, 'the SSH connection may have dropped; run again', err));
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        let timer: NodeJS.Timeout | undefined;
        if (opts.timeoutMs) {
          timer = setTimeout(() => {
            stream.close();
            reject(new TransportError(host, 'exec', `${opts.what ?? 'a remote command'} did not finish in ${(opts.timeoutMs ?? 0) / 1000} s on ${host}`, 'see on the controller what it waits for (ps, its log), then run again'));
          }, opts.timeoutMs);
        }
        stream.on('data', (d: Buffer) => {
          out.push(d);
          opts.onStdout?.(d.toString());
        });
        stream.stderr.on('data', (d: Buffer) => errs.push(d));
        stream.once('close', (code: number | null, signal?: string) => {
          if (timer) clearTimeout(timer);
          // A channel closed by the connection's death has no exit status: that is the connection's failure, not the command's.
          if (lost && code == null && !signal) return reject(lost);
          resolve({ code: code ?? (signal ? 128 : 255), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errs).toString() });
        });
        stream.end(opts.stdin ?? undefined);
      });
    });
  }

  function start(argv: string[], opts: { onStdout?: (chunk: string) => void } = {}): Promise<RemoteProcess> {
    stats.roundTrips++;
    stats.commands++;
    if (lost) return Promise.reject(lost);
    return new Promise((resolve, reject) => {
      client.exec(quoteArgv(argv), (err, stream) => {
        if (err) return reject(new TransportError(host, 'exec', `could not start a remote command: ${err.message}`, 'the SSH connection may have dropped; run again', err));
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        stream.on('data', (d: Buffer) => {
          out.push(d);
          opts.onStdout?.(d.toString());
        });
        stream.stderr.on('data', (d: Buffer) => errs.push(d));
        const done = new Promise<ExecResult>((res, rej) => stream.once('close', (code: number | null, signal?: string) => {
          if (lost && code == null && !signal) return rej(lost);
          res({ code: code ?? (signal ? 128 : 255), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errs).toString() });
        }));
        done.catch(() => {});
        resolve({
          write: (data) => {
            if (stream.writable) stream.write(data);
          },
          end: () => {
            if (stream.writable) stream.end();
          },
          done,
        });
      });
    });
  }

  function channel(open: (cb: (err: Error | undefined, s: ssh2.ClientChannel) => void) => void, what: string): Promise<Duplex> {
    stats.roundTrips++;
    return new Promise((resolve, reject) =>
      open((err, s) => (err ? reject(new TransportError(host, 'tunnel', `cannot open a tunnel to ${what}: ${err.message}`, `check that ${what} is up on the controller`, err)) : resolve(s))),
    );
  }

  return {
    host,
    user,
    stats,
    exec,
    start,
    get lost() {
      return lost;
    },
    async probe(timeoutMs) {
      if (lost) return lost;
      const answered = await run('true', { timeoutMs }).then(() => true, () => false);
      if (answered || lost) return lost;
      lose(`it stopped answering (no reply to a probe in ${timeoutMs / 1000} s: a dead link?)`);
      // A dead link never completes a polite end; the socket goes now, or it keeps the process alive for minutes.
      client.destroy();
      return lost;
    },
    script: (source, args = [], opts = {}) => run(quoteArgv(['sh', '-s', '--', ...args]), { ...opts, stdin: source }),
    async writeFileAtomic(path, content, owner, mode) {
      // Temp file + fsync + rename in the target's directory: a reader sees the old file or the new one.
      const bytes = content instanceof Secret || content instanceof SecretText ? content.reveal() : content;
      const r = await run(quoteArgv(['sh', '-c', WRITE_ATOMIC, 'write', path, owner, mode.toString(8)]), { stdin: bytes, timeoutMs: 60_000, what: `writing ${path}` });
      if (r.code !== 0) throw new TransportError(host, 'write', `could not write ${path}: ${r.stderr.trim() || `exit ${r.code}`}`, 'check the directory exists and the disk has room');
    },
    openUnixSocket: (socketPath) => channel((cb) => client.openssh_forwardOutStreamLocal(socketPath, cb), socketPath),
    openTcp: (h, p) => channel((cb) => client.forwardOut('127.0.0.1', 0, h, p, cb), `${h}:${p}`),
    close: () => {
      closing = true;
      if (lost) client.destroy();
      else client.end();
    },
  };
}

const WRITE_ATOMIC = [
  'set -e',
  'tmp=$(mktemp "$(dirname "$1")/.install-glance.XXXXXX")',
  'trap \'rm -f "$tmp"\' EXIT',
  'dd of="$tmp" conv=fsync status=none',
  'chown "$2" "$tmp"',
  'chmod "$3" "$tmp"',
  'mv -f "$tmp" "$1"',
  'trap - EXIT',
].join('\n');

/**
 * An ed25519 key pair OpenSSH can load. ssh2's keygen strips a leading zero byte from the 32-byte
 * public key (1 key in 256; mscdex/ssh2#1390, #1513): sshd then says "error in libcrypto" and has no
 * host key (a lab never answers). Such a pair is drawn again.
 */
export function generateKeyPair(comment: string): { private: string; public: string } {
  for (;;) {
    const k = ssh2.utils.generateKeyPairSync('ed25519', { comment });
    const blob = Buffer.from(k.public.split(' ')[1] ?? '', 'base64');
    const typeLen = blob.readUInt32BE(0);
    if (blob.length === 4 + typeLen + 4 + 32 && blob.readUInt32BE(4 + typeLen) === 32) return { private: k.private, public: k.public };
  }
}
