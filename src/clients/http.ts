// A tiny HTTP client whose every connection is a tunnel on the host's one SSH connection
// (`Transport.openTcp`): the URL's host name is resolved on the controller, nothing is opened on its
// firewall. One request = one forwardOut channel; no keep-alive (Keystone's uwsgi closes anyway).
// https: TLS runs over the tunnel (tls-tunnel.ts), checked against the trust the request is given.
import { request as httpRequestRaw, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { Transport } from '../transport/ssh.ts';
import { secureTunnel, TlsError, type TlsTrust } from './tls-tunnel.ts';
import { noteServerDate } from './server-clock.ts';

export type { TlsTrust } from './tls-tunnel.ts';

export interface HttpRequestOptions {
  method: string;
  headers?: Record<string, string>;
  body?: string | Buffer | Readable;
  /** The longest silence tolerated (tunnel opening, sending, waiting, receiving); default 30 s. */
  timeoutMs?: number;
  /** Called with the running total of request-body bytes handed to the tunnel. */
  onProgress?: (bytesSent: number) => void;
  /** For https: the CA to trust (default: the system's roots), or no check at all. */
  tls?: TlsTrust;
}

export interface HttpResponse {
  status: number;
  /** Lower-cased names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  header(name: string): string | undefined;
  text(): string;
  json<T = unknown>(): T;
}

export type HttpFailure = 'connect' | 'timeout' | 'broken' | 'unsupported' | 'tls';

/** A request that got no HTTP answer: which URL, what went wrong, what to do. Never holds a body or a header value. */
export class HttpError extends Error {
  constructor(
    readonly kind: HttpFailure,
    readonly method: string,
    readonly url: string,
    readonly problem: string,
    readonly hint: string,
    cause?: unknown,
  ) {
    super(`${problem}; ${hint}`, cause === undefined ? undefined : { cause });
    this.name = 'HttpError';
  }
}

const CHUNK = 64 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

/** Where a URL goes, for the tunnel: host name as written (resolved on the controller) and port. */
export function tunnelTarget(url: URL): { host: string; port: number } {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80 };
}

export function httpRequest(t: Transport, url: string, opts: HttpRequestOptions): Promise<HttpResponse> {
  const method = opts.method.toUpperCase();
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    return Promise.reject(new HttpError('unsupported', method, url, `"${url}" is not a URL`, 'check the endpoint URL', e));
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return Promise.reject(new HttpError('unsupported', method, url, `${u.protocol} URLs are not supported (${url})`, 'use an http:// or https:// URL'));
  }
  const secure = u.protocol === 'https:';
  const { host, port } = tunnelTarget(u);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const headers: Record<string, string> = { ...opts.headers };
  const body = opts.body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) headers['content-length'] = String(Buffer.byteLength(body));

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    let tunnel: Duplex | undefined;
    let timer: NodeJS.Timeout | undefined;
    const fail = (err: HttpError) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      req.destroy();
      tunnel?.destroy();
      reject(err);
    };
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(
        () => fail(new HttpError('timeout', method, url, `${method} ${url} got no answer in ${timeoutMs} ms`, `check that the service behind ${u.host} runs on the controller and is not stuck (its log), then run again`)),
        timeoutMs,
      );
    };
    arm();

    const req = httpRequestRaw({
      method,
      host: u.hostname,
      port,
      // The Host header leaves out the scheme's own port, as a browser's does.
      defaultPort: secure ? 443 : 80,
      path: u.pathname + u.search,
      headers,
      // The callback form: the tunnel opens asynchronously over SSH (and TLS, checked, over it).
      createConnection: (_o, done) => {
        t.openTcp(host, port).then(
          async (s) => {
            tunnel = s;
            if (settled) return s.destroy();
            let stream: Duplex = s;
            if (secure) {
              try {
                stream = tunnel = await secureTunnel(s, { host, port }, opts.tls ?? {});
              } catch (e) {
                const te = e as TlsError;
                return fail(new HttpError('tls', method, url, te.problem ?? String(e), te.hint ?? 'check the server\'s certificate', e));
              }
              if (settled) return stream.destroy();
            }
            done(null, stream);
          },
          (e: unknown) =>
            fail(new HttpError('connect', method, url, `cannot reach ${u.host} for ${method} ${url}: ${(e as Error).message}`, `check that the service listens on ${u.host} as seen from the controller`, e)),
        );
        return undefined;
      },
    });

    req.on('error', (e: NodeJS.ErrnoException) =>
      fail(new HttpError('broken', method, url, `${method} ${url} failed: ${e.code ?? e.message}`, 'the service or the SSH connection dropped the request; run again', e)),
    );
    req.on('response', (res) => {
      // Its clock, for a check that then needs no request of its own (server-clock.ts).
      noteServerDate(t, u, res.headers.date);
      const chunks: Buffer[] = [];
      arm();
      res.on('data', (d: Buffer) => {
        chunks.push(d);
        arm();
      });
      res.on('error', (e: NodeJS.ErrnoException) =>
        fail(new HttpError('broken', method, url, `${method} ${url}: the answer was cut off (${e.code ?? e.message})`, 'run again', e)),
      );
      res.on('end', () => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        const raw = Buffer.concat(chunks);
        const status = res.statusCode ?? 0;
        resolve({
          status,
          headers: res.headers,
          header: (name) => {
            const v = res.headers[name.toLowerCase()];
            return Array.isArray(v) ? v.join(', ') : v;
          },
          text: () => raw.toString('utf8'),
          json: <T>() => {
            try {
              return JSON.parse(raw.toString('utf8')) as T;
            } catch (e) {
              throw new HttpError('broken', method, url, `${method} ${url} answered ${status} with a body that is not JSON (${raw.length} bytes)`, `check that ${u.host} is the service you think it is`, e);
            }
          },
        });
      });
    });

    void sendBody(req, body, (n) => {
      arm();
      opts.onProgress?.(n);
    }).catch((e: Error) =>
      fail(new HttpError('broken', method, url, `${method} ${url}: sending the body failed (${e.message})`, 'check the source of the upload and run again', e)),
    );
  });
}

/** Writes the body with backpressure; reports bytes once each chunk is handed to the connection. */
async function sendBody(req: ClientRequest, body: HttpRequestOptions['body'], progress: (n: number) => void): Promise<void> {
  if (body === undefined) {
    req.end();
    return;
  }
  const source: Iterable<Buffer> | AsyncIterable<Buffer | string> =
    typeof body === 'string' || Buffer.isBuffer(body) ? chunksOf(Buffer.isBuffer(body) ? body : Buffer.from(body)) : body;
  let sent = 0;
  for await (const chunk of source) {
    if (req.destroyed) return;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const ok = req.write(buf, (err) => {
      if (err) return;
      sent += buf.length;
      progress(sent);
    });
    if (!ok) await drained(req);
  }
  if (!req.destroyed) req.end();
}

function* chunksOf(buf: Buffer): Generator<Buffer> {
  for (let i = 0; i < buf.length; i += CHUNK) yield buf.subarray(i, i + CHUNK);
}

function drained(req: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });
}
