// A Transport with no SSH behind it, for engine unit tests: every command is recorded and answered by
// the test (a function of what was sent, or a FakeController holding files and the journal), round
// trips are counted as the real transport counts them, and tunnels fail unless the test supplies one.
// Each answer arrives one macrotask later, as over a wire: other work interleaves while a command runs.
import type { Duplex } from 'node:stream';
import type { ExecOptions, ExecResult, ExecStream, Transport } from '../../src/transport/ssh.ts';
import { TransportError } from '../../src/transport/errors.ts';
import { Secret, SecretText } from '../../src/secret.ts';

export interface RecordedCommand {
  /** exec: an argv; script: `sh -s -- args` with the source on stdin; write: writeFileAtomic. */
  kind: 'exec' | 'script' | 'write';
  /** exec: the argv as given; script: ['sh', '-s', '--', ...args]; write: ['write', path, owner, octal mode]. */
  argv: string[];
  /** A script's source. */
  source?: string;
  /** What went to stdin (a written file's bytes, revealed as the real transport does at the wire). */
  stdin?: string;
}

export type Answer = (cmd: RecordedCommand) => ExecResult | Promise<ExecResult>;

export interface FakeTransportOptions {
  host?: string;
  user?: string;
  answer: Answer;
  /** Told when each command has been answered (a test's timeline of what the host saw, in order). */
  onAnswered?: (cmd: RecordedCommand, result: ExecResult) => void;
  openTcp?: (host: string, port: number) => Promise<Duplex>;
  openUnixSocket?: (path: string) => Promise<Duplex>;
  execStream?: (argv: string[]) => Promise<ExecStream>;
}

export const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
export const fail = (stderr: string, code = 1): ExecResult => ({ code, stdout: '', stderr });

const roundTrip = () => new Promise<void>((r) => setImmediate(r));

export class FakeTransport implements Transport {
  readonly host: string;
  readonly user: string;
  readonly stats = { roundTrips: 0, commands: 0 };
  readonly commands: RecordedCommand[] = [];
  closed = false;
  /** Set by a test: the connection died under the run. */
  lost?: TransportError;

  constructor(private readonly opts: FakeTransportOptions) {
    this.host = opts.host ?? 'controller';
    this.user = opts.user ?? 'root';
  }

  async #run(cmd: RecordedCommand): Promise<ExecResult> {
    if (this.closed) throw new TransportError(this.host, 'exec', 'the fake connection is closed', 'a test used the transport after close()');
    this.stats.roundTrips++;
    this.stats.commands++;
    this.commands.push(cmd);
    await roundTrip();
    const result = await this.opts.answer(cmd);
    this.opts.onAnswered?.(cmd, result);
    return result;
  }

  exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const stdin = opts.stdin === undefined ? undefined : String(opts.stdin);
    return this.#run({ kind: 'exec', argv: [...argv], ...(stdin === undefined ? {} : { stdin }) });
  }

  script(source: string, args: string[] = []): Promise<ExecResult> {
    return this.#run({ kind: 'script', argv: ['sh', '-s', '--', ...args], source });
  }

  async writeFileAtomic(path: string, content: string | Buffer | Secret | SecretText, owner: string, mode: number): Promise<void> {
    const bytes = content instanceof Secret || content instanceof SecretText ? content.reveal() : String(content);
    const r = await this.#run({ kind: 'write', argv: ['write', path, owner, mode.toString(8)], stdin: bytes });
    if (r.code !== 0) throw new TransportError(this.host, 'write', `could not write ${path}: ${r.stderr.trim() || `exit ${r.code}`}`, 'check the directory exists and the disk has room');
  }

  // A tunnel is a round trip on the real connection too (counted before it is known to fail).
  openTcp(host: string, port: number): Promise<Duplex> {
    this.stats.roundTrips++;
    return this.opts.openTcp?.(host, port) ?? Promise.reject(noTunnel(this.host, `${host}:${port}`));
  }

  openUnixSocket(path: string): Promise<Duplex> {
    this.stats.roundTrips++;
    return this.opts.openUnixSocket?.(path) ?? Promise.reject(noTunnel(this.host, path));
  }

  execStream(argv: string[]): Promise<ExecStream> {
    this.stats.roundTrips++;
    this.stats.commands++;
    return this.opts.execStream?.(argv) ?? Promise.reject(noTunnel(this.host, argv.join(' ')));
  }

  close(): void {
    this.closed = true;
  }
}

const noTunnel = (host: string, what: string) =>
  new TransportError(host, 'tunnel', `cannot open a tunnel to ${what}: the fake transport has none`, 'give the FakeTransport an openTcp/openUnixSocket answer');

/** One fact section of the engine's facts script: its key and its snippet. */
export interface FactSection { key: string; script: string }

/**
 * The sections of a facts script (see factsScript in src/engine/facts.ts): a header
 * `echo '==> key'; (` then the snippet, then a line `)` before the next header.
 */
export function factSections(source: string): FactSection[] {
  const lines = source.split('\n');
  const out: FactSection[] = [];
  const header = /^echo '==> ((?:[^']|'\\'')*)'; \($/;
  for (let i = 0; i < lines.length; i++) {
    const m = header.exec(lines[i]!);
    if (!m) continue;
    const body: string[] = [];
    for (i++; i < lines.length && !(lines[i] === ')' && (i + 1 >= lines.length || lines[i + 1]!.startsWith("echo '==> "))); i++) body.push(lines[i]!);
    out.push({ key: m[1]!.replace(/'\\''/g, "'"), script: body.join('\n') });
  }
  return out;
}

const isFactsScript = (cmd: RecordedCommand) => cmd.kind === 'script' && !!cmd.source?.startsWith('exec 2>/dev/null') && cmd.source.includes("echo '==> end'");

/** What a command was, in one line, for a test's timeline: `facts os,init,…`, `journal add a b`, or the argv. */
export function describeCommand(cmd: RecordedCommand): string {
  if (isFactsScript(cmd)) return `facts ${factSections(cmd.source!).map((s) => s.key).join(',')}`;
  const j = journalCommand(cmd);
  if (j) return `journal ${j.op} ${j.names.join(' ')}`;
  return cmd.argv.join(' ');
}

/** The engine's journal commands: `sh -c <script> journal <path> <names…>` (add) or `… <path> <name>` (remove). */
export function journalCommand(cmd: RecordedCommand): { op: 'add' | 'remove'; path: string; names: string[] } | undefined {
  const [sh, c, script, argv0, path, ...names] = cmd.argv;
  if (cmd.kind !== 'exec' || sh !== 'sh' || c !== '-c' || argv0 !== 'journal' || !script || !path) return undefined;
  if (script.includes('grep -vxF')) return { op: 'remove', path, names };
  if (script.includes('>>"$f"')) return { op: 'add', path, names };
  return undefined;
}

/**
 * A small controller behind the fake transport: files (what `cat` facts read), fact answers by key, the
 * journal's add and remove, and rules a test adds for anything else. A command nobody answers gets exit
 * 127 and is kept in `unanswered`, so a test can assert it sent nothing unexpected.
 */
export class FakeController {
  readonly files = new Map<string, string>();
  readonly facts = new Map<string, string | (() => string)>();
  readonly unanswered: RecordedCommand[] = [];
  readonly #rules: { match: (cmd: RecordedCommand) => boolean; answer: Answer }[] = [];
  init: 'systemd' | 'sysvinit' | 'upstart' = 'systemd';

  constructor(files: Record<string, string> = {}) {
    for (const [p, c] of Object.entries(files)) this.files.set(p, c);
  }

  /** A rule consulted before the built-in answers (the latest rule first): to fail a journal write, say. */
  on(match: (cmd: RecordedCommand) => boolean, answer: Answer): this {
    this.#rules.unshift({ match, answer });
    return this;
  }

  /** The journal file's names, as the target holds them now. */
  journal(path: string): string[] {
    return (this.files.get(path) ?? '').split('\n').filter(Boolean);
  }

  readonly answer: Answer = (cmd) => {
    const rule = this.#rules.find((r) => r.match(cmd));
    if (rule) return rule.answer(cmd);
    if (isFactsScript(cmd)) return ok(this.#facts(cmd.source!));
    const j = journalCommand(cmd);
    if (j?.op === 'add') {
      const have = this.journal(j.path);
      this.files.set(j.path, [...have, ...j.names.filter((n) => !have.includes(n))].map((n) => `${n}\n`).join(''));
      return ok();
    }
    if (j?.op === 'remove') {
      if (this.files.has(j.path)) this.files.set(j.path, this.journal(j.path).filter((n) => n !== j.names[0]).map((n) => `${n}\n`).join(''));
      return ok();
    }
    if (cmd.kind === 'write') {
      this.files.set(cmd.argv[1]!, cmd.stdin ?? '');
      return ok();
    }
    this.unanswered.push(cmd);
    return fail(`fake controller: no answer for ${describeCommand(cmd)}`, 127);
  };

  #facts(source: string): string {
    const parts = factSections(source).map(({ key, script }) => {
      const v = this.#fact(key, script);
      return `==> ${key}\n${v}${v === '' || v.endsWith('\n') ? '' : '\n'}`;
    });
    return `${parts.join('')}==> end\n`;
  }

  #fact(key: string, script: string): string {
    const given = this.facts.get(key);
    if (given !== undefined) return typeof given === 'function' ? given() : given;
    if (key === 'init') return this.init;
    // `cat /path` or `cat '/path'`: the file, or nothing (stderr is discarded in the facts script).
    const cat = /^cat (?:'((?:[^']|'\\'')*)'|(\S+))$/.exec(script.trim());
    if (cat) return this.files.get(cat[1]?.replace(/'\\''/g, "'") ?? cat[2]!) ?? '';
    return '';
  }
}
