// The one SSH connection per host, and the only module that imports ssh2. Everything remote rides on
// it: commands (argv quoted, stdin closed), atomic file writes (content on stdin, never in argv),
// and the tunnels that MySQL and the HTTP APIs use. Nothing opens a port on the controller.
import fs from 'node:fs';
import type { Duplex, Readable } from 'node:stream';
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
  timeoutMs?: number;
}

export type ExecStream = Duplex & { readonly stderr: Readable };

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
  /** `privileged`: connected by the user commands run as (see become.ts), so the server's peer check sees it; here that is the SSH user. */
  openUnixSocket(socketPath: string, opts?: { privileged?: boolean }): Promise<Duplex>;
  openTcp(host: string, port: number): Promise<Duplex>;
  /** A command whose stdin and stdout are the stream (a relay); its stderr apart. Nothing is written to stdin or ended for it. */
  execStream(argv: string[]): Promise<ExecStream>;
  readonly stats: { roundTrips: number; commands: number };
  close(): void;
}

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
      keepaliveInterval: 10_000,
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
  const closed = new Promise<void>((r) => client.once('close', () => r()));
  void closed;

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
            reject(new TransportError(host, 'exec', `a remote command took longer than ${opts.timeoutMs} ms`, 'see the controller for what hangs'));
          }, opts.timeoutMs);
        }
        stream.on('data', (d: Buffer) => {
          out.push(d);
          opts.onStdout?.(d.toString());
        });
        stream.stderr.on('data', (d: Buffer) => errs.push(d));
        stream.once('close', (code: number | null, signal?: string) => {
          if (timer) clearTimeout(timer);
          resolve({ code: code ?? (signal ? 128 : 255), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errs).toString() });
        });
        stream.end(opts.stdin ?? undefined);
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
    script: (source, args = [], opts = {}) => run(quoteArgv(['sh', '-s', '--', ...args]), { ...opts, stdin: source }),
    async writeFileAtomic(path, content, owner, mode) {
      // Temp file + fsync + rename in the target's directory: a reader sees the old file or the new one.
      const bytes = content instanceof Secret || content instanceof SecretText ? content.reveal() : content;
      const r = await run(quoteArgv(['sh', '-c', WRITE_ATOMIC, 'write', path, owner, mode.toString(8)]), { stdin: bytes });
      if (r.code !== 0) throw new TransportError(host, 'write', `could not write ${path}: ${r.stderr.trim() || `exit ${r.code}`}`, 'check the directory exists and the disk has room');
    },
    openUnixSocket: (socketPath) => channel((cb) => client.openssh_forwardOutStreamLocal(socketPath, cb), socketPath),
    openTcp: (h, p) => channel((cb) => client.forwardOut('127.0.0.1', 0, h, p, cb), `${h}:${p}`),
    execStream: (argv) => channel((cb) => client.exec(quoteArgv(argv), cb), argv[0] ?? 'a command') as Promise<ExecStream>,
    close: () => client.end(),
  };
}

export const WRITE_ATOMIC = [
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
