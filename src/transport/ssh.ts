// The one SSH connection per host, and the only module that imports ssh2. Everything remote rides on
// it: commands (argv quoted, stdin closed), atomic file writes (content on stdin, never in argv),
// and the tunnels that MySQL and the HTTP APIs use. Nothing opens a port on the controller. A host
// behind jump hosts is reached as ssh -J does: one session per hop, each tunnelled through the last.
import type { Duplex, Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import ssh2 from 'ssh2';
import { checkHostKey, type HostKeyPolicy } from './known-hosts.ts';
import { TransportError } from './errors.ts';
import { quoteArgv } from './quote.ts';
import { Secret, SecretText } from '../secret.ts';
import { readKeyFile, defaultKeyFiles, orderOffers, unlock, type KeyFile, type KeyLike, type Offer, type ParseKey, type Problem } from './identities.ts';

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

export type ExecStream = Duplex & { readonly stderr: Readable };

export interface StartOptions {
  onStdout?: (chunk: string) => void;
  /** What it is, in a few words, for a trace (its command line is a long script). */
  what?: string;
}

export interface ConnectOptions extends HostKeyPolicy {
  host: string;
  port?: number;
  user?: string;
  /** The name the operator gave (an ssh_config alias), for messages; default: host. */
  alias?: string;
  /** A key named on the command line (ssh -i): offered before identityFiles, and it must be readable. */
  identity?: string;
  /** ssh_config's IdentityFile list. Without it (and without identity): ~/.ssh/id_ed25519, id_ecdsa, id_rsa. */
  identityFiles?: string[];
  /** Offer only those keys, from the agent or the files (ssh's IdentitiesOnly). */
  identitiesOnly?: boolean;
  /** The agent's socket; false: no agent; unset: $SSH_AUTH_SOCK. */
  agent?: string | false;
  /** Hosts to go through, first to last (ssh's ProxyJump), each with its own user, keys and known_hosts. */
  jump?: ConnectOptions[];
  /** For the TCP connection, the handshake and the login of each hop (not while a passphrase is typed). */
  timeoutMs?: number;
}

export interface Transport {
  readonly host: string;
  readonly user: string;
  /** The SSH server's software as its greeting names it (`OpenSSH_6.6.1p1`), when known: for messages. */
  readonly serverSoftware?: string;
  exec(argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Runs a shell script given on stdin (`sh -s -- args…`); a script can carry input after it only through `opts.stdin`. */
  script(source: string, args?: string[], opts?: Omit<ExecOptions, 'stdin'>): Promise<ExecResult>;
  /** Temp file + fsync + rename. A Secret or SecretText content is revealed here, as the bytes on stdin. */
  writeFileAtomic(path: string, content: string | Buffer | Secret | SecretText, owner: string, mode: number): Promise<void>;
  /** `privileged`: connected by the user commands run as (see become.ts), so the server's peer check sees it; here that is the SSH user. */
  openUnixSocket(socketPath: string, opts?: { privileged?: boolean }): Promise<Duplex>;
  openTcp(host: string, port: number): Promise<Duplex>;
  /** Starts a command whose stdin stays open (a lock holder fed a heartbeat); stdout chunks go to onStdout. */
  start?(argv: string[], opts?: StartOptions): Promise<RemoteProcess>;
  /** Why the connection died under a run (keepalives unanswered, reset), once it did; undefined while it is up. */
  readonly lost?: TransportError;
  /**
   * Whether the link still answers: a command that times out (Keystone silent, a query unanswered) may be
   * the link dying before the keepalives tell. Resolves with the connection's loss (and drops it) when no
   * answer comes in timeoutMs, undefined when it answers.
   */
  probe?(timeoutMs: number): Promise<TransportError | undefined>;
  /** A command whose stdin and stdout are the stream (a relay); its stderr apart. Nothing is written to stdin or ended for it. */
  execStream(argv: string[]): Promise<ExecStream>;
  readonly stats: { roundTrips: number; commands: number };
  close(): void;
}

/**
 * How long a silent link is tolerated: a keepalive every 5 s, and the connection given up after 3 go
 * unanswered, so a dead link (a cable, a firewall dropping packets) ends a run in about 20 s, not at
 * TCP's own timeout (minutes to hours).
 */
export const KEEPALIVE = { intervalMs: 5_000, countMax: 2 };

/** How a hop is named in messages: its alias and port, with the address when the alias is not it. */
function hopName(o: ConnectOptions): string {
  return o.alias && o.alias !== o.host ? o.alias : o.host;
}
function hopWhere(o: ConnectOptions): string {
  return `${hopName(o)}:${o.port ?? 22}`;
}

/**
 * One SSH session to opts.host, through opts.jump's hosts first when there are any: each hop is its
 * own ssh2 client (its own host-key check, user and keys) whose socket is a TCP forward opened by the
 * hop before it. Closing the transport closes the whole chain.
 */
export async function connect(opts: ConnectOptions): Promise<Transport> {
  const hops = [...(opts.jump ?? []), opts];
  const clients: ssh2.Client[] = [];
  try {
    for (const [i, hop] of hops.entries()) {
      clients.push(await openHop(hop, hops.slice(0, i), clients[i - 1]));
    }
  } catch (e) {
    for (const c of clients.reverse()) c.end();
    throw e;
  }
  const client = clients[clients.length - 1]!;
  const jumps = clients.slice(0, -1).reverse();
  client.once('close', () => jumps.forEach((j) => j.end()));
  const t = wrap(client, opts.host, opts.user ?? 'root');
  t.stats.commands++; // the throwaway `true` with a pty that openHop started
  return t;
}

/** A connect deadline that can stop while someone types a passphrase. */
function deadline(ms: number, onExpire: () => void) {
  let left = ms;
  let started = Date.now();
  let timer: NodeJS.Timeout | undefined = setTimeout(onExpire, left);
  return {
    pause() {
      if (!timer) return;
      clearTimeout(timer);
      timer = undefined;
      left -= Date.now() - started;
    },
    resume() {
      if (timer) return;
      started = Date.now();
      timer = setTimeout(onExpire, Math.max(left, 0));
    },
    clear() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

function openHop(o: ConnectOptions, before: ConnectOptions[], through: ssh2.Client | undefined): Promise<ssh2.Client> {
  const port = o.port ?? 22;
  const user = o.user ?? 'root';
  const where = hopWhere(o);
  const via = before.length ? ` (reached through ${before.map(hopName).join(' → ')})` : '';
  const fail = (step: string, message: string, hint: string, cause?: unknown) => new TransportError(o.host, step, message + via, hint, cause);
  let files: KeyFile[];
  try {
    files = keyFiles(o);
  } catch (e) {
    return Promise.reject(fail('connect', `cannot read the identity file ${o.identity}: ${(e as Error).message}`, 'pass a readable private key with --identity', e));
  }

  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    const problems: Problem[] = [];
    let settled = false;
    let hostKeyProblem: TransportError | undefined;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clock.clear();
      if (err) {
        client.destroy();
        reject(err);
      } else resolve(client);
    };
    const clock = deadline(o.timeoutMs ?? 15_000, () =>
      finish(fail('connect', `no SSH answer from ${where} in time${o.alias && o.alias !== o.host ? ` (${o.host})` : ''}`, before.length
        ? `check that ${hopName(before[before.length - 1]!)} can reach ${o.host} on port ${port} and that sshd runs there`
        : 'check the address, the port (--port) and that sshd runs', undefined)));
    const agent = new OfferedKeys(o, files, problems, clock);

    client.once('ready', () => {
      // Every small packet otherwise waits ~40 ms for a delayed ACK (each tunnelled response, each
      // exit status). Our side has TCP_NODELAY from the start (below). sshd's side: it sets TCP_NODELAY
      // once a session asks for a pty, so one throwaway `true` with a pty does it; nothing waits for it.
      client.exec('true', { pty: true }, (err, stream) => {
        if (!err) stream.on('error', () => {}).resume();
      });
      finish();
    });
    client.on('error', (err: Error & { level?: string; code?: string; hint?: string }) => {
      // A key that could not be used (agent gone, passphrase not given): ssh2 goes on with the next one.
      if (err.level === 'agent') return void problems.push({ message: err.message, hint: err.hint });
      if (settled) return;
      if (hostKeyProblem) return finish(hostKeyProblem);
      if (err.level === 'client-authentication') {
        const why = problems.length ? `; ${problems.map((p) => p.message).join('; ')}` : '';
        const hint = problems.find((p) => p.hint)?.hint
          ?? `check the user (--user) and key (--identity, or IdentityFile in the ssh config); the key's public half must be in ~${user}/.ssh/authorized_keys`;
        return finish(fail('connect', `${user}@${where} refused every key offered (${agent.summary()})${why}`, hint, err));
      }
      if (err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH' || err.code === 'ENOTFOUND' || err.code === 'ENETUNREACH' || err.code === 'EAI_AGAIN') {
        return finish(fail('connect', `cannot reach ${where} (${o.alias && o.alias !== o.host ? `${o.host}: ` : ''}${err.code})`, 'check the address and the port (--port, or Host/HostName/Port in the ssh config), and that sshd runs there', err));
      }
      finish(fail('connect', `SSH to ${where} failed: ${err.message}`, 'check the host and its sshd', err));
    });
    client.once('close', () => finish(fail('connect', `${where} closed the connection before the login finished`, 'check its sshd (MaxStartups, AllowUsers) and, through a jump host, that it allows TCP forwarding')));

    const method: ssh2.AgentAuthMethod = { type: 'agent', username: user, agent };
    const start = (sock?: Duplex) => {
      if (settled) return;
      client.connect({
        host: o.host,
        port,
        sock,
        username: user,
        readyTimeout: 0, // the deadline above, which stops while a passphrase is typed
        keepaliveInterval: KEEPALIVE.intervalMs,
        keepaliveCountMax: KEEPALIVE.countMax,
        authHandler: [method],
        hostVerifier: (key: Buffer) => {
          const verdict = checkHostKey(o, o.host, port, key);
          if (verdict.ok) return true;
          hostKeyProblem = new TransportError(o.host, 'host key', `${hopName(o) === o.host ? '' : `${hopName(o)}: `}${verdict.problem}${via}`, verdict.hint);
          return false;
        },
      });
      // Before the login, not after it: the handshake sends small packets back to back (NEWKEYS, then
      // SERVICE_REQUEST), and Nagle held the second until sshd's delayed ACK of the first, ~40 ms, once
      // or twice per login (connect and one command on a lab, median of 20: 103 -> 63 ms; the last line
      // of `npm run bench:jump` prints it). A no-op on a channel (a host behind a jump host), whose own
      // connection has it.
      client.setNoDelay(true);
    };
    if (!through) return start();
    through.forwardOut('127.0.0.1', 0, o.host, port, (err, channel) => {
      if (err) {
        const last = hopName(before[before.length - 1]!);
        return finish(fail('connect', `cannot reach ${where} from ${last}: ${err.message}`,
          `check that ${last} can reach ${o.host} on port ${port} (ssh ${last} nc -vz ${o.host} ${port}) and that its sshd allows TCP forwarding`, err));
      }
      start(channel);
    });
  });
}

/** The key files a hop offers, in order (ssh -i first, then IdentityFile, else the defaults). */
function keyFiles(o: ConnectOptions): KeyFile[] {
  const files: KeyFile[] = [];
  if (o.identity) {
    const f = readKeyFile(o.identity, parseKey);
    if (f.state === 'missing') throw new Error('no such file');
    if (f.state === 'unreadable') throw new Error(f.problem.message);
    files.push(f);
  }
  const rest = o.identityFiles ?? (o.identity ? [] : defaultKeyFiles());
  for (const p of rest) if (!files.some((f) => f.path === p)) files.push(readKeyFile(p, parseKey));
  return files;
}

const parseKey: ParseKey = (data, passphrase) => ssh2.utils.parseKey(data, passphrase) as KeyLike | Error;

/**
 * The keys of one hop as one ssh2 agent, in OpenSSH's order: ssh2 offers each, and asks us to sign
 * only when the server accepts it. Agent keys are signed by the agent, file keys here (a locked one
 * is opened then, its passphrase asked once).
 */
class OfferedKeys extends ssh2.BaseAgent<ssh2.ParsedKey> {
  private offers: Offer<ssh2.ParsedKey>[] = [];
  private agentCount = 0;

  constructor(private o: ConnectOptions, private files: KeyFile[], private problems: Problem[], private clock: { pause(): void; resume(): void }) {
    super();
    for (const f of files) {
      if (f.state === 'unreadable') problems.push(f.problem);
      else if (f.state === 'missing' && o.identityFiles?.includes(f.path)) problems.push({ message: `IdentityFile ${f.path} does not exist` });
    }
  }

  summary(): string {
    const files = this.offers.filter((x) => x.from === 'file').map((x) => (x.from === 'file' ? x.file.path : ''));
    const agent = !this.agentSocket() ? 'no agent' : this.agentCount ? `${this.agentCount} from the agent` : 'none from the agent';
    return `${agent}${files.length ? `, ${files.join(', ')}` : ', no key file'}`;
  }

  private agentSocket(): string | undefined {
    return this.o.agent === false ? undefined : this.o.agent ?? process.env.SSH_AUTH_SOCK ?? undefined;
  }

  getIdentities(cb: (err: Error | null, keys?: ssh2.ParsedKey[]) => void): void {
    void (async () => {
      const agentKeys: { key: ssh2.ParsedKey; blob: Buffer }[] = [];
      const sock = this.agentSocket();
      if (sock) {
        try {
          const keys = await new Promise<ssh2.KnownPublicKeys<ssh2.ParsedKey>>((res, rej) => new ssh2.OpenSSHAgent(sock).getIdentities((e, k) => (e ? rej(e) : res(k ?? []))));
          for (const entry of keys) {
            const k = ssh2.utils.parseKey('pubKey' in entry ? ('pubKey' in entry.pubKey ? entry.pubKey.pubKey : entry.pubKey) : entry);
            if (!(k instanceof Error)) agentKeys.push({ key: k, blob: k.getPublicSSH() });
          }
        } catch (e) {
          this.problems.push({ message: `the SSH agent at ${sock} did not answer (${(e as Error).message})` });
        }
      }
      this.agentCount = agentKeys.length;
      this.offers = orderOffers(agentKeys, this.files, this.o.identitiesOnly ?? false);
      const keys: ssh2.ParsedKey[] = [];
      for (const offer of this.offers) {
        if (offer.from === 'agent') keys.push(offer.key);
        else if (offer.blob) keys.push(this.publicKey(offer.blob));
        else {
          // An encrypted key whose public half is not readable: OpenSSH asks for the passphrase now, so do we.
          const key = await this.open(offer.file);
          if ('message' in key) this.problems.push(key);
          else {
            keys.push(key as ssh2.ParsedKey);
            offer.blob = key.getPublicSSH();
          }
        }
      }
      cb(null, keys);
    })().catch((e: Error) => cb(e));
  }

  private publicKey(blob: Buffer): ssh2.ParsedKey {
    const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString();
    return ssh2.utils.parseKey(`${type} ${blob.toString('base64')}`) as ssh2.ParsedKey;
  }

  /** The private key, or why it cannot be had. */
  private async open(file: KeyFile & { state: 'ready' | 'locked' }): Promise<KeyLike | Problem> {
    if (file.state === 'ready') return file.key;
    this.clock.pause();
    try {
      return await unlock(file, parseKey);
    } catch (e) {
      return { message: (e as Error).message, hint: (e as { hint?: string }).hint };
    } finally {
      this.clock.resume();
    }
  }

  sign(pubKey: ssh2.ParsedKey, data: Buffer, options: ssh2.SigningRequestOptions | ssh2.SignCallback, cb?: ssh2.SignCallback): void {
    const done = (typeof options === 'function' ? options : cb)!;
    const hash = typeof options === 'function' ? undefined : options?.hash;
    const blob = pubKey.getPublicSSH();
    const offer = this.offers.find((x) => x.blob?.equals(blob));
    if (!offer) return done(new Error('asked to sign with a key that was not offered'));
    if (offer.from === 'agent') {
      const sock = this.agentSocket();
      if (!sock) return done(new Error('the SSH agent is gone'));
      new ssh2.OpenSSHAgent(sock).sign(offer.key, data, { hash }, done);
      return;
    }
    void this.open(offer.file).then((key) => {
      if ('message' in key) return done(Object.assign(new Error(`the server accepts ${offer.file.path}, but ${key.message.replace(/^the key \S+ is/, 'it is')}`), { hint: key.hint }));
      const sig = key.sign(data, hash);
      if (sig instanceof Error) return done(new Error(`signing with ${offer.file.path} failed: ${sig.message}`));
      done(undefined, sig);
    });
  }
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
        // A character split between two packets reaches onStdout whole.
        const text = opts.onStdout ? new StringDecoder('utf8') : undefined;
        stream.on('data', (d: Buffer) => {
          out.push(d);
          if (text) opts.onStdout?.(text.write(d));
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

  function start(argv: string[], opts: StartOptions = {}): Promise<RemoteProcess> {
    stats.roundTrips++;
    stats.commands++;
    if (lost) return Promise.reject(lost);
    return new Promise((resolve, reject) => {
      client.exec(quoteArgv(argv), (err, stream) => {
        if (err) return reject(new TransportError(host, 'exec', `could not start a remote command: ${err.message}`, 'the SSH connection may have dropped; run again', err));
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        // A character split between two packets reaches onStdout whole.
        const text = opts.onStdout ? new StringDecoder('utf8') : undefined;
        stream.on('data', (d: Buffer) => {
          out.push(d);
          if (text) opts.onStdout?.(text.write(d));
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
    // ssh2 keeps the server's identification line's software part, unexported (lib/client.js onHeader).
    serverSoftware: (client as unknown as { _remoteVer?: string })._remoteVer,
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
      const r = await run(quoteArgv(writeAtomicArgv(path, owner, mode, bytes)), { stdin: bytes, timeoutMs: 60_000, what: `writing ${path}` });
      if (r.code !== 0) throw new TransportError(host, 'write', `could not write ${path}: ${r.stderr.trim() || `exit ${r.code}`}`, 'check the directory exists and the disk has room');
    },
    openUnixSocket: (socketPath) => channel((cb) => client.openssh_forwardOutStreamLocal(socketPath, cb), socketPath),
    openTcp: (h, p) => channel((cb) => client.forwardOut('127.0.0.1', 0, h, p, cb), `${h}:${p}`),
    execStream: (argv) => channel((cb) => client.exec(quoteArgv(argv), cb), argv[0] ?? 'a command') as Promise<ExecStream>,
    close: () => {
      closing = true;
      if (lost) client.destroy();
      else client.end();
    },
  };
}

/**
 * Arguments: PATH OWNER MODE SIZE; the bytes on stdin. A connection that dies mid-write ends stdin early
 * (sshd closes the pipe) and dd takes that for the end: without SIZE a cut-off run would put half a
 * config file in place. So the file is renamed in only when all SIZE bytes arrived.
 */
export const WRITE_ATOMIC = [
  'set -e',
  'tmp=$(mktemp "$(dirname "$1")/.install-glance.XXXXXX")',
  'trap \'rm -f "$tmp"\' EXIT',
  'dd of="$tmp" conv=fsync status=none',
  'got=$(stat -c %s "$tmp")',
  '[ "$got" = "$4" ] || { echo "only $got of $4 bytes arrived (the input ended early); $1 is as it was" >&2; exit 1; }',
  'chown "$2" "$tmp"',
  'chmod "$3" "$tmp"',
  'mv -f "$tmp" "$1"',
  'trap - EXIT',
].join('\n');

/** The argv that writes `bytes` to `path` with WRITE_ATOMIC (the bytes go on its stdin). */
export function writeAtomicArgv(path: string, owner: string, mode: number, bytes: string | Buffer): string[] {
  return ['sh', '-c', WRITE_ATOMIC, 'write', path, owner, mode.toString(8), String(Buffer.byteLength(bytes))];
}

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
