// The request layer the Keystone and Glance clients share: every request counted, a tunnel that does not
// open or an answer that does not come turned into the API's own error (naming the service and what to
// do), JSON bodies with a Secret's value put on the wire only there, and the API's error words pulled out
// of its answer with every known secret replaced by [secret].
import type { Readable } from 'node:stream';
import type { ApiError } from './api-error.ts';
import type { Transport } from '../transport/ssh.ts';
import { Secret } from '../secret.ts';
import { traceOf, traceUrl } from '../trace.ts';
import { HttpError, httpRequest, type HttpResponse, type TlsTrust } from './http.ts';
import { beforeRequest } from './read-ahead.ts';

export interface ApiCallerOptions {
  /** How error messages name the API's answers: "Keystone: GET /users answered 500: …". */
  api: string;
  /** How they name the daemon that does not answer: "glance-api does not answer at …". */
  daemon: string;
  /** Where requests go unless one names another base; no trailing slash. */
  base: string;
  /** Per request (the longest silence); default 30 s. */
  timeoutMs?: number;
  /** The API's error class. */
  makeError: (message: string, hint: string, request: { method: string; path: string; status?: number }, cause?: unknown) => ApiError;
  /** What to do when nothing answers at the base. */
  connectHint: (base: string) => string;
  /** What to do when the answer does not come in time. */
  timeoutHint: string;
  /** For https bases: the CA to trust, or none at all. */
  tls?: TlsTrust;
}

export interface SendOptions {
  /** Goes only into an X-Auth-Token header. */
  token?: string;
  /** The token a validation asks about: only into an X-Subject-Token header. */
  subjectToken?: string;
  /** Sent as application/json; any Secret in it is revealed here and nowhere else. */
  json?: unknown;
  /** A raw body, with its content type; a stream is sent as it is read (its length in contentLength). */
  body?: string | Buffer | Readable;
  contentType?: string;
  /** The length of a streamed body (sent as Content-Length: not every WSGI server takes a chunked upload). */
  contentLength?: number;
  /** Another base for this one request (Keystone's v2.0 admin API beside its v3). */
  base?: string;
  timeoutMs?: number;
  onProgress?: (bytesSent: number) => void;
  /** A POST that changes nothing a read sees (a login): reads asked ahead stay good after it. */
  readOnly?: boolean;
}

export class ApiCaller {
  requests = 0;
  readonly base: string;
  readonly timeoutMs: number;

  constructor(
    readonly t: Transport,
    readonly o: ApiCallerOptions,
  ) {
    this.base = o.base.replace(/\/+$/, '');
    this.timeoutMs = o.timeoutMs ?? 30_000;
  }

  async send(method: string, path: string, opts: SendOptions = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.token) headers['x-auth-token'] = opts.token;
    if (opts.subjectToken) headers['x-subject-token'] = opts.subjectToken;
    let body: string | Buffer | Readable | undefined = opts.body;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = jsonWithSecrets(opts.json);
    } else if (opts.contentType) {
      headers['content-type'] = opts.contentType;
    }
    if (opts.contentLength !== undefined) headers['content-length'] = String(opts.contentLength);
    const base = opts.base ?? this.base;
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    this.requests++;
    // -v: each call once it ends, with its status and time (never a header or a body).
    const trace = traceOf(this.t);
    let t0 = performance.now();
    const traced = (outcome: string) => trace?.({ kind: 'api', what: `${method} ${traceUrl(base + path)}`, outcome, ms: Math.round(performance.now() - t0) });
    const changes = !opts.readOnly && method !== 'GET' && method !== 'HEAD';
    const ahead = body === undefined ? beforeRequest(this.t, { method, url: base + path, token: opts.token, subjectToken: opts.subjectToken }, changes) : undefined;
    if (ahead) {
      const res = await ahead.answer.catch(() => undefined);
      if (res) {
        t0 = ahead.started;
        traced(`${res.status} (asked ahead)`);
        return res;
      }
      // No answer came to it: ask for real.
    }
    try {
      const res = await httpRequest(this.t, base + path, { method, headers, body, timeoutMs, onProgress: opts.onProgress, tls: this.o.tls });
      traced(String(res.status));
      return res;
    } catch (e) {
      traced(e instanceof HttpError ? (e.kind === 'connect' ? 'no answer' : e.kind) : 'failed');
      if (e instanceof HttpError && e.kind === 'connect') {
        throw this.o.makeError(`${this.o.daemon} does not answer at ${base}; is it running on the controller?`, this.o.connectHint(base), { method, path }, e);
      }
      if (e instanceof HttpError && e.kind === 'timeout') {
        throw this.o.makeError(`${this.o.daemon} at ${base} gave no answer to ${method} ${path} in ${timeoutMs} ms`, this.o.timeoutHint, { method, path }, e);
      }
      // The problem and its hint apart, so the hint is said once.
      if (e instanceof HttpError && (e.kind === 'tls' || e.kind === 'unsupported')) {
        const err = this.o.makeError(`${this.o.api}: ${e.problem}`, e.hint, { method, path }, e);
        err.step = this.o.api.toLowerCase();
        throw err;
      }
      throw e;
    }
  }

  /** The error for an answer we did not expect: the request, the status, the API's words (scrubbed). */
  unexpected(method: string, path: string, res: HttpResponse, secrets: (string | Secret | undefined)[], hint = 'see the message; the service\'s log on the controller has the detail'): ApiError {
    return this.o.makeError(`${this.o.api}: ${method} ${path} answered ${res.status}: ${apiMessage(res, secrets)}`, hint, { method, path, status: res.status });
  }
}

/**
 * JSON text of `value` with each Secret's value in place. JSON.stringify calls a Secret's toJSON
 * ("[secret]") before a replacer sees it, so the replacer looks at the holder's original property.
 */
export function jsonWithSecrets(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, key: string, v: unknown): unknown {
    const original = (this as Record<string, unknown>)[key];
    return original instanceof Secret ? original.reveal() : v;
  });
}

/**
 * What an API said, in one line of at most 300 characters: `{"error": {"message"|"title"}}` (Keystone,
 * Glance v2), `{"message"}`, else the body's text without HTML tags (webob pages). Each secret of 4
 * characters or more is replaced by [secret].
 */
export function apiMessage(res: HttpResponse, secrets: (string | Secret | undefined)[]): string {
  let msg = res.text();
  try {
    const j = res.json<{ error?: { message?: string; title?: string }; message?: string }>();
    msg = j.error?.message ?? j.error?.title ?? j.message ?? msg;
  } catch {
    // not JSON: the text it is
  }
  if (typeof msg !== 'string') msg = JSON.stringify(msg);
  // Scrubbed before it is cut, so no secret survives in part at the cut.
  return scrub(msg.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim(), secrets).slice(0, 300) || '(no message)';
}

/** `text` with every secret (4 characters or more) replaced by [secret]. */
export function scrub(text: string, secrets: (string | Secret | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    const v = s instanceof Secret ? s.reveal() : s;
    if (v && v.length >= 4) out = out.split(v).join('[secret]');
  }
  return out;
}
