// A host's transport with every remote command, file write and socket tunnel reported to a trace sink
// as it ends (for -v). It carries the sink, so the HTTP layer reports each API call itself: TCP tunnels
// are not reported here, one per request would only repeat the API call's own line.
import type { StartOptions, Transport } from '../transport/ssh.ts';
import { quote, quoteArgv } from '../transport/quote.ts';
import type { TraceEvent, TraceSink, Traced } from '../trace.ts';

const octal = (m: number) => m.toString(8).padStart(4, '0');

/** A script in one line: its length and its first line that does something (for the facts script, the facts). */
function scriptText(source: string): string {
  const facts = [...source.matchAll(/^echo '==> (.*)'; \($/gm)].map((m) => m[1]!.replace(/'\\''/g, "'"));
  if (facts.length) {
    const names = facts.join(', ');
    return `<<facts: ${names.length > 80 ? `${names.slice(0, 79)}…` : names}>>`;
  }
  const lines = source.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const first = lines.find((l) => !/^(exec 2>\/dev\/null|set -[a-z]+)$/.test(l)) ?? lines[0] ?? '';
  const shown = first.length > 60 ? `${first.slice(0, 59)}…` : first;
  return `<<script of ${lines.length} line${lines.length === 1 ? '' : 's'}: ${shown}>>`;
}

/** `sh -s -- args <<script of 35 lines: …>>`: a script run from stdin, in one line. */
export function scriptSummary(source: string, args: readonly string[] = []): string {
  return `sh -s${args.length ? ` -- ${quoteArgv([...args])}` : ''} ${scriptText(source)}`;
}

/** A command line as the shell gets it, an argument that is a whole script (`sh -c '…'`) shown in one line. */
export function commandSummary(argv: readonly string[]): string {
  return argv.map((a) => (a.includes('\n') ? scriptText(a) : quote(a))).join(' ');
}

export function tracedTransport(t: Transport, sink: TraceSink): Transport & Traced {
  async function timed<T>(kind: TraceEvent['kind'], what: string, run: () => Promise<T>, outcome: (r: T) => string): Promise<T> {
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    try {
      const r = await run();
      sink({ kind, what, outcome: outcome(r), ms: ms() });
      return r;
    } catch (e) {
      sink({ kind, what, outcome: `failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, ms: ms() });
      throw e;
    }
  }
  return {
    get host() { return t.host; },
    get user() { return t.user; },
    get stats() { return t.stats; },
    trace: sink,
    exec: (argv, opts) =>
      timed('exec', `${commandSummary(argv)}${opts?.stdin !== undefined ? ' (with input on stdin)' : ''}`, () => t.exec(argv, opts), (r) => `exit ${r.code}`),
    script: (source, args, opts) => timed('script', scriptSummary(source, args), () => t.script(source, args, opts), (r) => `exit ${r.code}`),
    writeFileAtomic: (path, content, owner, mode) =>
      timed('write', `${path} (${owner} ${octal(mode)})`, () => t.writeFileAtomic(path, content, owner, mode), () => 'written'),
    openUnixSocket: (socketPath, opts) =>
      timed('tunnel', `unix socket ${socketPath}${opts?.privileged ? ' (privileged)' : ''}`, () => t.openUnixSocket(socketPath, opts), () => 'open'),
    openTcp: (host, port) => t.openTcp(host, port),
    // A relay: traced when it starts (it runs as long as the stream it carries).
    execStream: (argv) => timed('exec', `${commandSummary(argv)} (a stream)`, () => t.execStream(argv), () => 'started'),
    // Held open (the run lock's holder): traced when it starts, and again when it ends.
    ...(t.start ? {
      start: async (argv: string[], opts?: StartOptions) => {
        const what = `${opts?.what ?? commandSummary(argv)} (held open)`;
        const p = await timed('exec', what, () => t.start!(argv, opts), () => 'started');
        const t0 = performance.now();
        // Ended by us (its stdin closed: the run lock let go) it ends as it is told to, whatever its status.
        let endedByUs = false;
        p.done.then((r) => sink({ kind: 'exec', what, outcome: endedByUs ? 'released' : `ended, exit ${r.code}`, ms: Math.round(performance.now() - t0) }), () => {});
        return { write: (d) => p.write(d), end: () => { endedByUs = true; p.end(); }, done: p.done };
      },
    } : {}),
    get lost() { return t.lost; },
    ...(t.probe ? { probe: (ms: number) => t.probe!(ms) } : {}),
    close: () => t.close(),
  };
}
