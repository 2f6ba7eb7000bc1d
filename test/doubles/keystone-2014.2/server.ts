// A conformance double of keystone 2014.2 (Juno) as the Juno guide runs it (keystone-all, SQL backends,
// UUID tokens, MySQL with utf8_general_ci): two node:http listeners on free localhost ports standing for
// its public port 5000 and admin port 35357, one in-memory store behind both. Each listener is the
// paste app of etc/keystone-paste.ini for its port: [composite:main] or [composite:admin] (urlmap /v2.0,
// /v3, /), and in each pipeline url_normalize, token_auth and json_body before the routes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { callArgs, match, type Ctx, type DoubleConfig, type Route } from './app.ts';
import { KsError, noRoute, renderError, unexpectedError, validationError, type Answer } from './errors.ts';
import { Store } from './store.ts';
import { seedJunoGuide, type Seeded } from './seed.ts';
import { authRoutes } from './v3-auth.ts';
import { identityRoutes } from './v3-identity.ts';
import { catalogRoutes } from './v3-catalog.ts';
import { v2AdminRoutes } from './v2-admin.ts';
import { v2VersionRoutes } from './versions.ts';

export type { DoubleConfig } from './app.ts';

export interface Seen {
  port: 'main' | 'admin';
  method: string;
  url: string;
  status: number;
  /** The request's JSON body, parsed (test-local: it may hold passwords). */
  json?: unknown;
}

export interface KeystoneDouble {
  /** Stands for 5000 ([composite:main]). */
  mainPort: number;
  /** Stands for 35357 ([composite:admin]). */
  adminPort: number;
  store: Store;
  config: DoubleConfig;
  seeded: Seeded;
  seen: Seen[];
  close(): Promise<void>;
}

const V3: Route[] = [...authRoutes, ...identityRoutes, ...catalogRoutes];

/** [pipeline:public_api] has no crud_extension: of our v2.0 routes only the version document is on the public port. */
function appFor(port: 'main' | 'admin', path: string): { routes: Route[]; inner: string } | undefined {
  // paste urlmap: the longest prefix that ends at a path segment boundary
  for (const [prefix, routes] of [['/v2.0', port === 'admin' ? [...v2AdminRoutes, ...v2VersionRoutes] : v2VersionRoutes], ['/v3', V3]] as const) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return { routes: [...routes], inner: path.slice(prefix.length) || '/' };
  }
  return undefined; // "/": the versions list, not modelled
}

/** middleware/core.py JsonBodyMiddleware. */
function jsonBody(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  if (!raw.length) return {};
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct !== 'application/json' && ct !== '') throw validationError('application/json', 'Content-Type header');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw validationError('valid JSON', 'request body');
  }
  if (parsed === null || parsed === false || parsed === 0 || parsed === '') parsed = {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw validationError('valid JSON object', 'request body');
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed as object)) {
    if (k === 'self' || k === 'context' || k.startsWith('_')) continue;
    params[k] = v;
  }
  return params;
}

function handle(store: Store, config: DoubleConfig, port: 'main' | 'admin', req: http.IncomingMessage, raw: Buffer): { answer: Answer; json?: unknown } {
  const hostUrl = `http://${req.headers.host ?? `localhost:${port === 'main' ? 5000 : 35357}`}`;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  let path = q < 0 ? url : url.slice(0, q);
  const queryString = q < 0 ? '' : url.slice(q + 1);
  // NormalizingFilter: a trailing slash goes
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  let json: unknown;
  try {
    const app = appFor(port, path);
    if (!app) throw noRoute();
    const params = jsonBody(raw, req.headers['content-type']);
    json = raw.length ? params : undefined;
    const m = match(app.routes, req.method ?? 'GET', app.inner);
    if (!m) throw noRoute();
    const query: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(queryString)) query[k] = v;
    const tokenHeader = req.headers['x-auth-token'];
    const subjectHeader = req.headers['x-subject-token'];
    const ctx: Ctx = {
      store,
      config,
      port,
      method: req.method ?? 'GET',
      path: app.inner,
      queryString,
      query,
      params,
      tokenId: Array.isArray(tokenHeader) ? tokenHeader[0] : tokenHeader,
      subjectTokenId: Array.isArray(subjectHeader) ? subjectHeader[0] : subjectHeader,
      hostUrl,
      vars: m.vars,
    };
    return { answer: m.route.handle(ctx, callArgs(ctx, m.route)), json };
  } catch (e) {
    return { answer: renderError(e instanceof KsError ? e : unexpectedError(), hostUrl), json };
  }
}

/** common/wsgi.py render_response: Vary: X-Auth-Token always, JSON when there is a body, 204 without. */
function send(res: http.ServerResponse, a: Answer): void {
  const headers: Record<string, string> = { Vary: 'X-Auth-Token', ...a.headers };
  let body = Buffer.alloc(0);
  if (a.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = Buffer.from(JSON.stringify(a.body));
  }
  headers['Content-Length'] = String(body.length);
  res.writeHead(a.status, headers);
  // On HEAD, node sends the headers (Content-Length included) and no body, as keystone does since 2014.2
  // (render_response(method='HEAD') keeps the GET headers and empties the body).
  res.end(body);
}

export async function startKeystoneDouble(opts: Partial<DoubleConfig> & { adminPassword?: string } = {}): Promise<KeystoneDouble> {
  const store = new Store();
  const config: DoubleConfig = {
    listLimit: opts.listLimit,
    tokenTtlMs: opts.tokenTtlMs ?? 3600_000,
    urlCheck: opts.urlCheck ?? '2014.2',
    authMethods: opts.authMethods ?? ['external', 'password', 'token'],
  };
  const seeded = seedJunoGuide(store, opts.adminPassword);
  const seen: Seen[] = [];
  const listen = async (port: 'main' | 'admin') => {
    const srv = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const { answer, json } = handle(store, config, port, req, Buffer.concat(chunks));
        seen.push({ port, method: req.method ?? '', url: req.url ?? '', status: answer.status, json });
        send(res, answer);
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    return srv;
  };
  const main = await listen('main');
  const admin = await listen('admin');
  return {
    mainPort: (main.address() as AddressInfo).port,
    adminPort: (admin.address() as AddressInfo).port,
    store,
    config,
    seeded,
    seen,
    async close() {
      for (const s of [main, admin]) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}
