// What every keystone 2014.2 request goes through before and after its controller: the paste pipeline
// (etc/keystone-paste.ini: url_normalize, token_auth, json_body), the routes mapper, the call of the
// controller method with the body's members as keyword arguments (common/wsgi.py Application.__call__),
// the policy checks (common/controller.py protected, filterprotected; common/wsgi.py assert_admin with
// etc/policy.json's "admin_required": "role:admin or is_admin:1"), and list filtering
// (common/controller.py build_driver_hints, filter_by_attributes, limit, wrap_collection;
// common/sql/core.py _filter, truncated).
import type { Store, Token } from './store.ts';
import { sqlEquals } from './store.ts';
import { KsError, forbiddenAction, unauthorized, validationMessage, type Answer } from './errors.ts';

export interface DoubleConfig {
  /**
   * keystone.conf [DEFAULT] list_limit (default None: no limit). common/sql/core.py `truncated` and
   * common/controller.py wrap_collection then cut lists and add "truncated": true.
   */
  listLimit?: number;
  /** [token] expiration (default 3600 s). */
  tokenTtlMs: number;
  /**
   * Which v3 URL check: '2014.2' is common/validation/parameter_types.py `url` at tag 2014.2 (a host name
   * needs a dot and a 2–6 letter TLD, or is localhost or IPv4); '2014.2.1' is the lenient pattern
   * `[a-zA-Z0-9+.-]+:.+` of 2014.2.1–2014.2.4 (commit bd92689e).
   */
  urlCheck: '2014.2' | '2014.2.1';
  /** [auth] methods (common/config.py _DEFAULT_AUTH_METHODS). */
  authMethods: string[];
}

export interface Ctx {
  store: Store;
  config: DoubleConfig;
  /** Which listener: keystone-all's public (5000) or admin (35357) port. */
  port: 'main' | 'admin';
  method: string;
  /** PATH_INFO inside the app (/v3 or /v2.0 stripped by paste urlmap). */
  path: string;
  /** The raw query string, without '?'. */
  queryString: string;
  /** context['query_string'] = dict(req.params): the last value of each name. */
  query: Record<string, string>;
  /** The JSON body's members (json_body middleware), minus any starting with '_' and self/context. */
  params: Record<string, unknown>;
  tokenId: string | undefined;
  /** X-Subject-Token (middleware/core.py TokenAuthMiddleware: context['subject_token_id']). */
  subjectTokenId?: string;
  /** req.host_url: what base_url() falls back to when [DEFAULT] public_endpoint is unset. */
  hostUrl: string;
  /** Route variables. */
  vars: Record<string, string>;
  /**
   * The TypeError of calling the controller with these body members, if any. A method wrapped in
   * protected() meets it only once policy has passed (the wrapper takes **kwargs); others at once.
   */
  argError?: KsError;
}

export interface Route {
  methods: string[];
  /** A routes-style template: /projects/{project_id}/users/{user_id}/roles/{role_id} */
  pattern: string;
  /** The controller method's name (for the TypeError words) and its keyword arguments from the body. */
  fn: string;
  kwargs?: string[];
  /** Keyword arguments without a default: missing → Python's TypeError → 400. */
  required?: string[];
  /** Wrapped in controller.protected()/filterprotected(): a TypeError comes after the policy check. */
  protectedCall?: boolean;
  handle: (ctx: Ctx, args: Record<string, unknown>) => Answer;
}

/** Routes mapper: method and path to route and its variables (percent-decoded), or undefined. */
export function match(routes: Route[], method: string, path: string): { route: Route; vars: Record<string, string> } | undefined {
  for (const route of routes) {
    if (!route.methods.includes(method)) continue;
    const names: string[] = [];
    const re = new RegExp('^' + route.pattern.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, n: string) => {
      names.push(n);
      return '([^/]+)';
    }) + '$');
    const m = re.exec(path);
    if (!m) continue;
    const vars: Record<string, string> = {};
    names.forEach((n, i) => (vars[n] = decodeURIComponent(m[i + 1] ?? '')));
    return { route, vars };
  }
  return undefined;
}

/**
 * Application.__call__: `method(context, **params)` where params are the body's members with ':' and '-'
 * made '_' (_normalize_dict) plus the route's variables. A member the method does not take, or a
 * required one missing, is a TypeError, which keystone answers as ValidationError(e): 400 with Python's words.
 */
export function callArgs(ctx: Ctx, route: Route): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ctx.params)) args[k.replace(/[:-]/g, '_')] = v;
  const allowed = new Set([...(route.kwargs ?? []), ...Object.keys(ctx.vars)]);
  const unexpected = Object.keys(args).find((k) => !allowed.has(k));
  const missing = (route.required ?? []).filter((k) => !(k in args));
  if (unexpected) {
    ctx.argError = validationMessage(`${route.fn}() got an unexpected keyword argument '${unexpected}'`);
  } else if (missing.length) {
    // Python 2.7's words for `def f(self, context, x)` called without x
    const total = 2 + (route.kwargs ?? []).length + Object.keys(ctx.vars).length;
    const given = 2 + Object.keys(args).length + Object.keys(ctx.vars).length;
    ctx.argError = validationMessage(`${route.fn}() takes exactly ${total} arguments (${given} given)`);
  }
  if (ctx.argError && !route.protectedCall) throw ctx.argError;
  return args;
}

/**
 * The token behind X-Auth-Token (controller.py _build_policy_check_credentials, wsgi.py assert_admin):
 * none, unknown or expired is TokenNotFound, answered as a bare Unauthorized.
 */
export function credentials(ctx: Ctx): Token {
  const t = ctx.tokenId ? ctx.store.tokens.get(ctx.tokenId) : undefined;
  if (!t || t.expires <= Date.now()) throw unauthorized();
  return t;
}

/** "admin_required": "role:admin or is_admin:1"; oslo policy compares role names without case. */
function isAdmin(t: Token): boolean {
  return t.roles.some((r) => r.name.toLowerCase() === 'admin');
}

/**
 * controller.py protected(): the caller's token first (401), then the target entity when the route names
 * one (its NotFound, 404, before any policy answer), then the rule (403 ForbiddenAction).
 */
export function protect(ctx: Ctx, action: string, getMember?: () => void): void {
  const t = credentials(ctx);
  getMember?.();
  if (!isAdmin(t)) throw forbiddenAction(`identity:${action}`);
  if (ctx.argError) throw ctx.argError;
}

/** wsgi.py Application.assert_admin (v2.0): no project scope is Unauthorized, no admin role Forbidden. */
export function assertAdmin(ctx: Ctx): void {
  const t = credentials(ctx);
  if (!t.project_id) throw unauthorized();
  if (!isAdmin(t)) throw forbiddenAction('admin_required');
}

// ---- lists ----

interface Filter {
  name: string;
  value: string;
  comparator: 'equals' | 'contains' | 'startswith' | 'endswith' | string;
  caseSensitive: boolean;
}

/** controller.py build_driver_hints: supported names exactly, `name__[i]contains` etc.; anything else ignored. */
function hints(query: Record<string, string>, supported: string[]): Filter[] {
  const out: Filter[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (supported.includes(key)) {
      out.push({ name: key, value, comparator: 'equals', caseSensitive: true });
      continue;
    }
    for (const valid of supported) {
      if (!key.startsWith(`${valid}__`)) continue;
      let comparator = key.slice(valid.length + 2);
      let caseSensitive = true;
      if (comparator.startsWith('i')) {
        caseSensitive = false;
        comparator = comparator.slice(1);
      }
      out.push({ name: valid, value, comparator, caseSensitive });
    }
  }
  return out;
}

/** openstack/common/strutils.py bool_from_string(default=True), as utils.attr_as_boolean uses it. */
function attrAsBoolean(v: string): boolean {
  const s = v.trim().toLowerCase();
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(s)) return false;
  return true;
}

function inexact(f: Filter, target: unknown): boolean {
  if (typeof target !== 'string') return false;
  const a = f.caseSensitive ? f.value : f.value.toLowerCase();
  const b = f.caseSensitive ? target : target.toLowerCase();
  if (f.comparator === 'contains') return b.includes(a);
  if (f.comparator === 'startswith') return b.startsWith(a);
  if (f.comparator === 'endswith') return b.endsWith(a);
  return true; // "We silently ignore unsupported filters"
}

/**
 * The filters of a list call, where keystone applies them: on a column, SQL (`filter_by`, compared under
 * the collation; booleans through attr_as_boolean; case-insensitive inexact as ILIKE); anything else (a
 * member of `extra`, a case-sensitive inexact filter) in Python, exactly, after the query.
 */
export function filterRows<T extends Record<string, unknown>>(rows: T[], query: Record<string, string>, supported: string[], columns: readonly string[]): T[] {
  let out = rows;
  for (const f of hints(query, supported)) {
    const onColumn = columns.includes(f.name);
    if (f.comparator === 'equals') {
      out = out.filter((r) => {
        const v = r[f.name];
        if (typeof v === 'boolean') return v === attrAsBoolean(f.value);
        if (onColumn) return typeof v === 'string' && sqlEquals(v, f.value);
        return v === f.value;
      });
    } else if (onColumn && !f.caseSensitive) {
      out = out.filter((r) => inexact(f, r[f.name]));
    } else {
      out = out.filter((r) => f.name in r && inexact(f, r[f.name]));
    }
  }
  return out;
}

/** controller.py V3Controller wrap_member: links.self = <host>/v3/<collection>/<id>. */
export function wrapMember(ctx: Ctx, collection: string, member: string, ref: Record<string, unknown>): Record<string, unknown> {
  ref.links = { ...(ref.links as object | undefined), self: `${ctx.hostUrl}/v3/${collection}/${String(ref.id)}` };
  return { [member]: ref };
}

/** controller.py V3Controller wrap_collection: limit (list_limit), member links, collection links, truncated. */
export function wrapCollection(ctx: Ctx, collection: string, member: string, refs: Record<string, unknown>[]): Record<string, unknown> {
  let list = refs;
  let truncated = false;
  if (ctx.config.listLimit !== undefined && list.length > ctx.config.listLimit) {
    list = list.slice(0, ctx.config.listLimit);
    truncated = true;
  }
  for (const r of list) wrapMember(ctx, collection, member, r);
  const self = `${ctx.hostUrl}/v3/${ctx.path.replace(/^\/+/, '')}${ctx.queryString ? `?${ctx.queryString}` : ''}`;
  return { [collection]: list, links: { next: null, self, previous: null }, ...(truncated ? { truncated: true } : {}) };
}

/** A controller's return value: None is 204; a V3Controller's POST is 201, anything else 200 (wsgi.py _get_response_code). */
export function ok(body: unknown, status = 200): Answer {
  return body === undefined || body === null ? { status: 204 } : { status, body };
}

export { KsError };
