// POST /v3/auth/tokens as keystone 2014.2 answers it: auth/controllers.py Auth.authenticate_for_token,
// AuthInfo (_validate_auth_methods, _validate_and_normalize_scope_data, _lookup_domain, _lookup_project),
// _check_and_set_default_scoping; auth/plugins/password.py (UserAuthInfo, Password.authenticate);
// token/providers/common.py V3TokenDataHelper.get_token_data; catalog/backends/sql.py get_v3_catalog;
// auth/controllers.py render_token_data_response (201, X-Subject-Token). Tokens are UUIDs, as the Juno
// guide's [token] provider = keystone.token.providers.uuid.Provider makes them.
// GET /v3/auth/tokens: Auth.validate_token (same file), protected by "identity:validate_token":
// "rule:service_or_admin" (etc/policy.json; the double models the admin half, as protect() does).
import crypto from 'node:crypto';
import type { Ctx, Route } from './app.ts';
import { protect } from './app.ts';
import { KsError, authMethodNotSupported, unauthorized, validationError, type Answer } from './errors.ts';
import { checkPassword, newId, sqlEquals, type Domain, type Project, type Store, type User } from './store.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** AuthInfo._lookup_domain / UserAuthInfo._lookup_domain: id or name (400 if neither); unknown or disabled → 401. */
function lookupDomain(store: Store, info: unknown): Domain {
  const d = isObj(info) ? info : {};
  if (!d.id && !d.name) throw validationError('id or name', 'domain');
  const ref = d.name ? store.domains.find((x) => sqlEquals(x.name, String(d.name))) : store.byId(store.domains, String(d.id));
  if (!ref || !ref.enabled) throw unauthorized();
  return ref;
}

/** AuthInfo._lookup_project: by id, or by name within a domain (400 without one); unknown or disabled → 401. */
function lookupProject(store: Store, info: Obj): Project {
  if (!info.id && !info.name) throw validationError('id or name', 'project');
  let ref: Project | undefined;
  if (info.name) {
    if (!('domain' in info)) throw validationError('domain', 'project');
    const domain = lookupDomain(store, info.domain);
    ref = store.projects.find((p) => sqlEquals(p.name, String(info.name)) && sqlEquals(p.domain_id, domain.id));
  } else {
    ref = store.byId(store.projects, String(info.id));
    if (ref) lookupDomain(store, { id: ref.domain_id });
  }
  if (!ref || !ref.enabled) throw unauthorized();
  return ref;
}

/** password.py UserAuthInfo + Password.authenticate: the user, or 401 with the same words whatever was wrong. */
function passwordUser(store: Store, payload: unknown): User {
  const p = isObj(payload) ? payload : {};
  if (!('user' in p)) throw validationError('user', 'password');
  const u = isObj(p.user) ? p.user : {};
  if (!u.id && !u.name) throw validationError('id or name', 'user');
  let user: User | undefined;
  if (u.name) {
    if (!('domain' in u)) throw validationError('domain', 'user');
    const domain = lookupDomain(store, u.domain);
    user = store.users.find((x) => sqlEquals(x.name, String(u.name)) && sqlEquals(x.domain_id, domain.id));
  } else {
    user = store.byId(store.users, String(u.id));
    if (user) lookupDomain(store, { id: user.domain_id });
  }
  if (!user || !user.enabled) throw unauthorized();
  // identity/backends/sql.py Identity.authenticate → utils.check_password; "Invalid username or password"
  if (!checkPassword(u.password, user.password)) throw unauthorized();
  return user;
}

/** format_url: $(name)s substitutions; a URL that does not format is left out of the catalog. */
function formatUrl(url: string, subs: Record<string, string>): string | undefined {
  try {
    return url.replace(/\$\((\w+)\)s/g, (_m, k: string) => {
      if (!(k in subs)) throw new Error(k);
      return subs[k] as string;
    });
  } catch {
    return undefined;
  }
}

/** catalog/backends/sql.py Catalog.get_v3_catalog. */
export function v3Catalog(store: Store, userId: string, projectId: string): Obj[] {
  return store.services.filter((s) => s.enabled).map((svc) => {
    const endpoints = store.endpoints
      .filter((e) => e.service_id === svc.id && e.enabled)
      .flatMap((e) => {
        const url = formatUrl(e.url, { tenant_id: projectId, user_id: userId });
        if (url === undefined) return [];
        // to_dict, then del service_id, legacy_endpoint_id, enabled; region = region_id
        return [{ ...e.extra, id: e.id, interface: e.interface, region_id: e.region_id, url, region: e.region_id }];
      });
    const out: Obj = { endpoints, id: svc.id, type: svc.type };
    if (svc.extra.name) out.name = svc.extra.name;
    return out;
  });
}

/** timeutils.isotime(subsecond=True): 2014-10-16T12:00:00.000000Z */
function isotime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** token/provider.py audit_info → random_urlsafe_str: 22 characters of urlsafe base64. */
const auditId = (): string => crypto.randomBytes(16).toString('base64url').slice(0, 22);

export function authenticateForToken(ctx: Ctx, args: Obj): Answer {
  const store = ctx.store;
  const includeCatalog = !('nocatalog' in ctx.query);
  const auth = args.auth;
  if (!isObj(auth) || !Object.keys(auth).length) throw validationError('auth', 'request body');
  // _validate_auth_methods
  if (!('identity' in auth)) throw validationError('identity', 'auth');
  const identity = isObj(auth.identity) ? auth.identity : {};
  if (!('methods' in identity)) throw validationError('methods', 'identity');
  const methods = [...new Set(Array.isArray(identity.methods) ? (identity.methods as unknown[]).map(String) : [])];
  for (const m of methods) if (!(m in identity)) throw validationError(m, 'identity');
  for (const m of methods) if (!ctx.config.authMethods.includes(m)) throw authMethodNotSupported(ctx.config.authMethods);
  // _validate_and_normalize_scope_data: before any password is checked
  let project: Project | undefined;
  if ('scope' in auth) {
    const scope = isObj(auth.scope) ? auth.scope : {};
    const kinds = ['project', 'domain', 'OS-TRUST:trust'].filter((k) => k in scope);
    if (kinds.length !== 1) throw validationError('project, domain, or OS-TRUST:trust', 'scope');
    if (kinds[0] !== 'project') throw unauthorized(); // domain and trust scopes: not modelled (the client never asks)
    project = lookupProject(store, isObj(scope.project) ? scope.project : {});
  }
  // authenticate: only the password method is modelled (the client sends nothing else)
  if (!methods.includes('password')) throw unauthorized();
  const user = passwordUser(store, identity.password);
  // _check_and_set_default_scoping: an unscoped request gets the user's default project when it may
  if (!project && user.default_project_id) {
    const dp = store.byId(store.projects, user.default_project_id);
    if (dp?.enabled && store.rolesOf(user.id, dp.id).length) project = dp;
  }
  // V3TokenDataHelper.get_token_data
  const domainOf = (id: string) => {
    const d = store.byId(store.domains, id)!;
    return { id: d.id, name: d.name };
  };
  const now = Date.now();
  const expires = now + ctx.config.tokenTtlMs;
  const data: Obj = { methods, extras: {} };
  let roles: { id: string; name: string }[] = [];
  if (project) {
    data.project = { id: project.id, name: project.name, domain: domainOf(project.domain_id) };
  }
  data.user = { id: user.id, name: user.name, domain: domainOf(user.domain_id) };
  if (project) {
    roles = store.rolesOf(user.id, project.id).map((r) => ({ id: r.id, name: r.name }));
    // _populate_roles: "User %(user_id)s has no access to project %(project_id)s" → Unauthorized
    if (!roles.length) throw unauthorized();
    data.roles = roles;
  }
  data.audit_ids = [auditId()];
  if (includeCatalog && project) data.catalog = v3Catalog(store, user.id, project.id);
  data.expires_at = isotime(expires);
  data.issued_at = isotime(now);
  const id = newId();
  store.tokens.set(id, { id, user_id: user.id, project_id: project?.id ?? null, roles, expires, data: { token: data } });
  return { status: 201, headers: { 'X-Subject-Token': id }, body: { token: data } };
}

/**
 * Auth.validate_token: the subject token's data (its catalog dropped on ?nocatalog) with X-Subject-Token,
 * 200 (render_token_data_response, created=False). A token the persistence no longer holds (unknown,
 * expired, or dropped when its user's password changed or the user was disabled: identity/core.py
 * update_user, emit_invalidate_user_token_persistence) is TokenNotFound: 404 "Could not find token: <id>".
 */
function validateToken(ctx: Ctx): Answer {
  protect(ctx, 'validate_token');
  const id = ctx.subjectTokenId ?? '';
  const t = ctx.store.tokens.get(id);
  if (!t || t.expires <= Date.now()) throw new KsError(404, 'Not Found', `Could not find token: ${id}`);
  const data = structuredClone(t.data) as { token: Obj };
  if ('nocatalog' in ctx.query) delete data.token.catalog;
  return { status: 200, headers: { 'X-Subject-Token': id }, body: data };
}

export const authRoutes: Route[] = [
  // auth/routers.py: GET /auth/tokens → validate_token(self, context)
  { methods: ['GET'], pattern: '/auth/tokens', fn: 'validate_token', protectedCall: true, handle: validateToken },
  // auth/routers.py: POST /auth/tokens → authenticate_for_token(self, context, auth=None)
  { methods: ['POST'], pattern: '/auth/tokens', fn: 'authenticate_for_token', kwargs: ['auth'], handle: authenticateForToken },
];
