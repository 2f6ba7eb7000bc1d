// What `-v` shows: each remote command, file write, tunnel and API call once it ends, with its outcome
// and time. The engine wraps a host's transport to record what runs on it, and the transport it hands
// out carries the sink, so the HTTP layer built on that transport reports its calls there too (no
// client or resource is told about tracing). It lives outside the engine, as secret.ts does, so that
// clients need not import the engine. An event never holds a secret: command lines and URLs hold none
// by design, and stdin, request bodies and file contents are never part of one.
export type TraceKind = 'connect' | 'exec' | 'script' | 'write' | 'tunnel' | 'api';

export interface TraceEvent {
  kind: TraceKind;
  /** The command line, the path written, the socket, `METHOD URL`, or `user@host:port`. */
  what: string;
  /** `exit 0`, an HTTP status, `written`, `open`, or what went wrong. */
  outcome: string;
  ms: number;
}

export type TraceSink = (e: TraceEvent) => void;

/** A transport that is traced carries its sink. */
export interface Traced {
  readonly trace?: TraceSink;
}

/** The sink a (transport) object carries, if it is traced. */
export function traceOf(x: unknown): TraceSink | undefined {
  return typeof x === 'object' && x !== null ? (x as Traced).trace : undefined;
}

/** A URL as a trace shows it: the value of any query parameter that looks like a credential masked. */
export function traceUrl(url: string): string {
  return url.replace(/([?&][^=&#]*(?:pass|token|secret|key)[^=&#]*=)[^&#]*/gi, '$1***');
}
