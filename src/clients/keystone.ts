// Keystone v3 over the host's SSH connection: one admin token for the whole run, objects looked up by
// name with query filters, a password checked by asking for a token with it. No password or token ever
// appears in an error message (Keystone's own messages are scrubbed of them too).
//
// One client for Juno and today's releases: keystone 2014.2 serves /v3 on both its ports
// (etc/keystone-paste.ini, [composite:main] and [composite:admin]), so the Juno guide's v2.0 openrc is
// used as v3 on the same host and port. The one thing its v3 cannot do as the guide does is write
// endpoints `keystone endpoint-list` shows: those go through v2.0 on the admin port (CatalogWrites).
import type { Transport } from '../transport/ssh.ts';
import { Secret } from '../secret.ts';
import type { HttpResponse, TlsTrust } from './http.ts';
import { ApiCaller } from './api-call.ts';
import { KeystoneError } from './keystone-error.ts';
import type { CachedToken } from './token-cache.ts';
import type { AdminCredentials, CatalogWrites, KeystoneClient, KsEndpoint, KsProject, KsRole, KsService, KsUser, TokenScope } from './keystone-api.ts';

export { KeystoneError } from './keystone-error.ts';
export { adminCredentialsFromOpenrc, adminCredentialsFromEnv } from './openrc.ts';

/**
 * Per request (the longest silence). Keystone answers in well under a second, a password check (a hash)
 * included; a Keystone that accepts the connection and then says nothing (stopped, wedged) fails the run
 * at this, naming Keystone, well inside half a minute.
 */
export const KEYSTONE_TIMEOUT_MS = 15_000;

export interface KeystoneOptions {
  /** Per request (longest silence); default KEYSTONE_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Default: 'v2.0' when the auth URL is a v2.0 one (the Juno guide's openrc), else 'v3'. */
  catalogWrites?: CatalogWrites;
  /**
   * Keystone's v2.0 admin API, where OS-KSADM and POST /v2.0/endpoints live (keystone 2014.2 mounts
   * admin_crud only in [pipeline:admin_api], port 35357). Default: the auth URL when it is on port
   * 35357, else the same host on 35357.
   */
  v2AdminUrl?: string;
  /** For https: what to trust (a login takes it from the credentials). */
  tls?: TlsTrust;
}

/** A token kept from an earlier run (token-cache.ts), and what to do when one is issued or refused. */
export interface TokenReuse {
  /** Used instead of a login; the first call that Keystone refuses (401) logs in for real. */
  cached?: string;
  onIssued?: (t: CachedToken) => void;
  onRefused?: () => void;
}

const V2_ADMIN_PORT = 35357; // keystone 2014.2 keystone/common/config.py: admin_port

/** True for http://controller:35357/v2.0 and the like: the v2.0-style openrc of the Juno guide. */
export function isV2AuthUrl(authUrl: string): boolean {
  return /\/v2\.0\/*$/.test(authUrl);
}

/** http://controller:5000/v3/ → …:5000/v3; http://controller:5000 → …/v3; http://controller:35357/v2.0 → …:35357/v3. */
export function v3Base(authUrl: string): string {
  const u = authUrl.replace(/\/+$/, '');
  if (/\/v2\.0$/.test(u)) return u.replace(/\/v2\.0$/, '/v3');
  return /\/v3$/.test(u) ? u : `${u}/v3`;
}

/** The v2.0 admin base for an auth URL: itself when on the admin port, else the same host on it. */
export function v2AdminBase(authUrl: string): string {
  let u: URL;
  try {
    u = new URL(authUrl);
  } catch {
    return authUrl;
  }
  u.port = String(V2_ADMIN_PORT);
  return `${u.protocol}//${u.host}/v2.0`;
}

/** Where v2.0 admin calls go: the auth URL when it is a v2.0 one on the admin port, else the same host on that port. */
export function v2AdminFor(authUrl: string, override?: string): string {
  return (override ?? (isV2AuthUrl(authUrl) && hostOf(authUrl).endsWith(`:${V2_ADMIN_PORT}`) ? authUrl : v2AdminBase(authUrl))).replace(/\/+$/, '');
}

/**
 * How endpoints are written, from the answer to `GET /v2.0` on the admin port: keystone 2014.2 answers
 * 200 with its v2.0 version document (keystone/controllers.py Version.get_version_v2, routed by
 * routers.VersionV2 in admin_app_factory); a Keystone without v2.0 (Queens and later) answers 404, or
 * nothing listens there. Only a v2.0 auth URL (the Juno guide's openrc) asks at all.
 */
export function catalogWritesFrom(answer: { status: number; body?: unknown } | 'no answer'): CatalogWrites {
  if (answer === 'no answer' || answer.status !== 200) return 'v3';
  const id = (answer.body as { version?: { id?: unknown } } | undefined)?.version?.id;
  return id === 'v2.0' ? 'v2.0' : 'v3';
}

/** Asks the admin port once whether it serves v2.0 (see catalogWritesFrom); a v3 auth URL asks nothing. */
export async function probeCatalogWrites(t: Transport, authUrl: string, opts: KeystoneOptions & { tls?: TlsTrust } = {}): Promise<CatalogWrites> {
  if (!isV2AuthUrl(authUrl)) return 'v3';
  const base = v2AdminFor(authUrl, opts.v2AdminUrl);
  const c = keystoneCaller(t, base, opts.timeoutMs, opts.tls);
  let res: HttpResponse;
  try {
    res = await c.send('GET', '');
  } catch (e) {
    if (e instanceof KeystoneError) return catalogWritesFrom('no answer');
    throw e;
  }
  let body: unknown;
  try {
    body = res.json();
  } catch {
    body = undefined;
  }
  return catalogWritesFrom({ status: res.status, body });
}

const ADMIN_HINT = 'the admin credentials (OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME or OS_TENANT_NAME, OS_*_DOMAIN_NAME) come from ~/openstack/admin-openrc.sh on the controller or OS_* in your environment; fix them there';

function keystoneCaller(t: Transport, base: string, timeoutMs?: number, tls?: TlsTrust): ApiCaller {
  return new ApiCaller(t, {
    api: 'Keystone',
    daemon: 'Keystone',
    base,
    timeoutMs: timeoutMs ?? KEYSTONE_TIMEOUT_MS,
    tls,
    makeError: (m, h, r, cause) => new KeystoneError(m, h, r, cause),
    connectHint: (b) => `check keystone (uwsgi/apache, or keystone-all on Juno) on the controller and that ${hostOf(b)} is where it listens`,
    timeoutHint: 'look at the keystone log on the controller (it may be overloaded or stuck), then run again',
  });
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

type DomainRef = { id: string } | { name: string };

/** The user, project and roles of a token body (POST or GET /v3/auth/tokens: {token: {user, project, roles}}). */
export function tokenScopeOf(body: unknown): TokenScope | undefined {
  type Named = { id?: unknown; name?: unknown; domain?: { id?: unknown } };
  const t = (body as { token?: { user?: Named; project?: Named; roles?: { id?: unknown; name?: unknown }[] } } | undefined)?.token;
  if (typeof t?.user?.id !== 'string') return undefined;
  const named = (o: Named | undefined) => (typeof o?.name === 'string' && typeof o.domain?.id === 'string' ? { name: o.name, domainId: o.domain.id } : undefined);
  const user = named(t.user);
  const project = named(t.project);
  const roles = (t.roles ?? []).filter((r): r is { id: string; name: string } => typeof r.id === 'string' && typeof r.name === 'string').map((r) => ({ id: r.id, name: r.name }));
  return {
    userId: t.user.id,
    ...(typeof t.project?.id === 'string' ? { projectId: t.project.id } : {}),
    roleIds: (t.roles ?? []).map((r) => r.id).filter((id): id is string => typeof id === 'string'),
    ...(user ? { user } : {}),
    ...(project ? { project } : {}),
    ...(roles.length ? { roles } : {}),
  };
}

function authBody(name: string, domain: DomainRef, password: Secret, scope?: unknown): unknown {
  return { auth: { identity: { methods: ['password'], password: { user: { name, domain, password } } }, ...(scope ? { scope } : {}) } };
}

/** Asks for an unscoped token with these credentials: 201 → true, 401 → false, anything else throws. */
async function passwordWorks(c: ApiCaller, userName: string, domainId: string, password: Secret, extraSecrets: (string | undefined)[] = []): Promise<boolean> {
  // ?nocatalog: keystone 2014.2 auth/controllers.py Auth.authenticate_for_token (include_catalog =
  // 'nocatalog' not in query_string); Keystones without it ignore an unknown query parameter.
  const path = '/auth/tokens?nocatalog';
  const res = await c.send('POST', path, { json: authBody(userName, { id: domainId }, password), readOnly: true });
  if (res.status === 201) return true;
  if (res.status === 401) return false;
  throw c.unexpected('POST', path, res, [password.reveal(), ...extraSecrets]);
}

/**
 * Checks a password without any admin token, so it can run at the same time as the admin login
 * (both are a Keystone password hash: the slow part of a converged run).
 */
export function checkKeystonePassword(t: Transport, authUrl: string, userName: string, domainId: string, password: Secret, opts: KeystoneOptions = {}): Promise<boolean> {
  return passwordWorks(keystoneCaller(t, v3Base(authUrl), opts.timeoutMs, opts.tls), userName, domainId, password);
}

interface ListAnswer {
  truncated?: boolean;
}

/** The words keystone 2014.2's v3 URL check answers with (common/validation: parameter_types.url before 2014.2.1). */
const JUNO_URL_CHECK = /Invalid input for field 'url'/;

export async function keystoneLogin(t: Transport, creds: AdminCredentials, opts: KeystoneOptions & { reuse?: TokenReuse } = {}): Promise<KeystoneClient> {
  const c = keystoneCaller(t, v3Base(creds.authUrl), opts.timeoutMs, opts.tls ?? creds.tls);
  const catalogWrites: CatalogWrites = opts.catalogWrites ?? (isV2AuthUrl(creds.authUrl) ? 'v2.0' : 'v3');
  const v2Admin = v2AdminFor(creds.authUrl, opts.v2AdminUrl);
  const adminPassword = creds.password;
  let token = '';
  let scope: TokenScope | undefined;

  async function login(): Promise<void> {
    const path = '/auth/tokens?nocatalog';
    const userDomain: DomainRef = creds.userDomainId ? { id: creds.userDomainId } : { name: creds.userDomainName };
    const projectDomain: DomainRef = creds.projectDomainId ? { id: creds.projectDomainId } : { name: creds.projectDomainName };
    const body = authBody(creds.username, userDomain, adminPassword, { project: { name: creds.projectName, domain: projectDomain } });
    const res = await c.send('POST', path, { json: body, readOnly: true });
    if (res.status === 401) {
      const ud = creds.userDomainId ? `domain id ${creds.userDomainId}` : creds.userDomainName;
      const pd = creds.projectDomainId ? `domain id ${creds.projectDomainId}` : creds.projectDomainName;
      const err = new KeystoneError(
        `Keystone at ${c.base} refused the admin credentials (user ${creds.username}@${ud}, project ${creds.projectName}@${pd}): wrong password, user, project or domain`,
        creds.fixHint ?? ADMIN_HINT,
        { method: 'POST', path, status: 401 },
      );
      err.step = 'keystone admin login';
      throw err;
    }
    const subject = res.header('x-subject-token');
    if (res.status !== 201 || !subject) {
      if (res.status === 201) throw new KeystoneError(`Keystone at ${c.base} issued a token without an X-Subject-Token header`, 'check what answers at this URL: a proxy may strip the header', { method: 'POST', path, status: 201 });
      throw c.unexpected('POST', path, res, [adminPassword.reveal()]);
    }
    token = subject;
    let answer: { token?: { expires_at?: unknown } } | undefined;
    try {
      answer = res.json<{ token?: { expires_at?: unknown } }>();
    } catch { /* no body to read: nothing to keep */ }
    scope = tokenScopeOf(answer);
    const expiresAt = answer?.token?.expires_at;
    if (typeof expiresAt === 'string') opts.reuse?.onIssued?.({ token, expiresAt });
  }

  let writes = 0;
  let renewing: Promise<void> | undefined;
  /** One login again for every call the same token failed (calls run side by side); none if one already did. */
  async function renew(stale: string): Promise<void> {
    if (token !== stale) return;
    renewing ??= (async () => {
      opts.reuse?.onRefused?.();
      await login();
    })().finally(() => (renewing = undefined));
    await renewing;
  }

  /** An authenticated call; a 401 (token expired or revoked mid-run) logs in again once. */
  async function call(method: string, path: string, expect: number[], body?: unknown, secrets: Secret[] = [], base?: string, subjectToken?: string): Promise<HttpResponse> {
    if (method !== 'GET' && method !== 'HEAD') {
      reads.clear();
      writes++;
    }
    for (let attempt = 0; ; attempt++) {
      const used = token;
      const res = await c.send(method, path, { token: used, json: body, base, subjectToken });
      if (expect.includes(res.status)) return res;
      if (res.status === 401 && attempt === 0) {
        await renew(used);
        continue;
      }
      // A Keystone worker that just started can answer 403 to its first concurrent requests while
      // oslo.policy is still loading its rules (seen on the lab under load: list_users refused to the
      // admin while list_projects passed, same token, same second). A read is safe to ask again once.
      if (res.status === 403 && attempt === 0 && (method === 'GET' || method === 'HEAD')) {
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      const shown = base ? `${new URL(base).pathname}${path}` : path;
      throw c.unexpected(method, shown, res, [token, adminPassword.reveal(), ...secrets.map((s) => s.reveal())], hintFor(method, path, res, base));
    }
  }

  function hintFor(method: string, path: string, res: HttpResponse, base?: string): string | undefined {
    if (base && res.status === 404 && method === 'POST') {
      return `the v2.0 endpoint API (OS-KSADM) is served on Keystone's admin port only (${V2_ADMIN_PORT}); ${base} is not it: point OS_AUTH_URL at http://<controller>:${V2_ADMIN_PORT}/v2.0 as the guide's admin-openrc does`;
    }
    if (path.startsWith('/endpoints') && res.status === 400 && JUNO_URL_CHECK.test(res.text())) {
      return "keystone 2014.2's v3 API takes only URLs whose host has a dot, is localhost or an IPv4 address (fixed in 2014.2.1); update keystone, or give the endpoint a dotted host name or an address";
    }
    return undefined;
  }

  // Resources read in parallel and some ask the same thing (the user, the services): one request each.
  // Any write empties the cache, so a read after a change sees the change.
  const reads = new Map<string, Promise<HttpResponse>>();
  async function get(path: string, expect: number[], method: 'GET' | 'HEAD' = 'GET'): Promise<HttpResponse> {
    const key = `${method} ${path}`;
    let p = reads.get(key);
    if (!p) {
      p = call(method, path, expect);
      reads.set(key, p);
      p.catch(() => reads.delete(key));
    }
    return p;
  }

  async function list<T>(path: string, key: string): Promise<T[]> {
    const j = (await get(path, [200])).json<ListAnswer & Record<string, T[] | undefined>>();
    if (j.truncated) {
      throw new KeystoneError(`Keystone truncated the answer to GET ${path} (its [DEFAULT] list_limit)`, 'raise list_limit in keystone.conf, or remove duplicates by hand', { method: 'GET', path, status: 200 });
    }
    return j[key] ?? [];
  }

  const q = (params: Record<string, string>) => '?' + new URLSearchParams(params).toString();
  const seg = encodeURIComponent;
  /**
   * The region of a v3 endpoint write. keystone 2014.2 catalog/controllers.py
   * EndpointV3._validate_endpoint_region: `region_id` must name a region that exists (400 on create, 404
   * on update), the legacy `region` is created when missing, as v2.0 endpoint-create does.
   */
  const regionField = (region: string) => (catalogWrites === 'v2.0' ? { region } : { region_id: region });

  async function createEndpoint(e: { service_id: string; interface: string; url: string; region_id: string; enabled: boolean }): Promise<KsEndpoint> {
    const res = await call('POST', '/endpoints', [201], { endpoint: { service_id: e.service_id, interface: e.interface, url: e.url, ...regionField(e.region_id), enabled: e.enabled } });
    return pickEndpoint(res.json<{ endpoint: KsEndpoint }>().endpoint);
  }

  const listEndpointsAt = async (path: string) => (await list<KsEndpoint>(path, 'endpoints')).map(pickEndpoint);

  if (opts.reuse?.cached) token = opts.reuse.cached;
  else await login();

  return {
    authUrl: c.base,
    catalogWrites,
    get requests() {
      return c.requests;
    },
    get writes() {
      return writes;
    },
    token: () => token,

    findUser: async (name, domainId) => (await list<KsUser>(`/users${q({ name, domain_id: domainId })}`, 'users')).map(pickUser),
    async createUser(u) {
      const res = await call('POST', '/users', [201], { user: { name: u.name, domain_id: u.domain_id, password: u.password, enabled: u.enabled } }, [u.password]);
      return pickUser(res.json<{ user: KsUser }>().user);
    },
    async setUserPassword(id, password) {
      await call('PATCH', `/users/${seg(id)}`, [200], { user: { password } }, [password]);
    },
    async deleteUser(id) {
      await call('DELETE', `/users/${seg(id)}`, [204, 404]);
    },
    async enableUser(id) {
      await call('PATCH', `/users/${seg(id)}`, [200], { user: { enabled: true } });
    },
    checkPassword: (userName, domainId, password) => passwordWorks(c, userName, domainId, password, [token, adminPassword.reveal()]),
    async validateToken(subject) {
      // Keystone answers 404 (TokenNotFound) for a token it no longer accepts: revoked, expired, its user
      // disabled, its password changed, a role of its scope revoked (keystone 2014.2 auth/controllers.py
      // Auth.validate_token; identity/core.py update_user and assignment/core.py delete_grant invalidate).
      const res = await call('GET', '/auth/tokens?nocatalog', [200, 404], undefined, [new Secret(subject)], undefined, subject);
      if (res.status !== 200) return undefined;
      let body: unknown;
      try {
        body = res.json();
      } catch {
        body = undefined;
      }
      return tokenScopeOf(body) ?? { userId: '', roleIds: [] };
    },
    scope: () => scope,
    async listAllEndpoints() {
      try {
        return await listEndpointsAt('/endpoints');
      } catch (e) {
        if (e instanceof KeystoneError && /truncated/.test(e.message)) return undefined;
        throw e;
      }
    },

    findProject: async (name, domainId) => (await list<KsProject>(`/projects${q({ name, domain_id: domainId })}`, 'projects')).map((p) => ({ id: p.id, name: p.name, domain_id: p.domain_id })),
    findRole: async (name) => (await list<KsRole>(`/roles${q({ name })}`, 'roles')).map((r) => ({ id: r.id, name: r.name })),
    async hasProjectRole(projectId, userId, roleId) {
      const res = await call('HEAD', `/projects/${seg(projectId)}/users/${seg(userId)}/roles/${seg(roleId)}`, [200, 204, 404]);
      return res.status !== 404;
    },
    async grantProjectRole(projectId, userId, roleId) {
      await call('PUT', `/projects/${seg(projectId)}/users/${seg(userId)}/roles/${seg(roleId)}`, [204]);
    },
    async revokeProjectRole(projectId, userId, roleId) {
      await call('DELETE', `/projects/${seg(projectId)}/users/${seg(userId)}/roles/${seg(roleId)}`, [204, 404]);
    },

    listServices: async (type) => (await list<KsService>(`/services${q({ type })}`, 'services')).map(pickService),
    async createService(s) {
      const res = await call('POST', '/services', [201], { service: s });
      return pickService(res.json<{ service: KsService }>().service);
    },
    async updateService(id, patch) {
      await call('PATCH', `/services/${seg(id)}`, [200], { service: pick(patch, ['name', 'description', 'enabled']) });
    },
    async deleteService(id) {
      // 404: someone removed it already, which is what we wanted.
      await call('DELETE', `/services/${seg(id)}`, [204, 404]);
    },

    listEndpoints: (serviceId) => listEndpointsAt(`/endpoints${q({ service_id: serviceId })}`),
    createEndpoint,
    async createEndpointSet(e) {
      if (catalogWrites === 'v2.0' && e.urls.public) {
        // Exactly the body of python-keystoneclient 0.11 v2_0/endpoints.py EndpointManager.create, which
        // the guide's `keystone endpoint-create` sends; keystone 2014.2 catalog/controllers.py
        // Endpoint.create_endpoint answers 200 and writes one v3 row per URL under one legacy id.
        const body = { endpoint: { region: e.region, service_id: e.service_id, publicurl: e.urls.public, adminurl: e.urls.admin ?? null, internalurl: e.urls.internal ?? null } };
        await call('POST', '/endpoints', [200], body, [], v2Admin);
        return;
      }
      for (const iface of ['public', 'internal', 'admin'] as const) {
        const url = e.urls[iface];
        if (url) await createEndpoint({ service_id: e.service_id, interface: iface, url, region_id: e.region, enabled: true });
      }
    },
    async updateEndpoint(id, patch) {
      const { region_id, ...rest } = patch;
      await call('PATCH', `/endpoints/${seg(id)}`, [200], { endpoint: { ...pick(rest, ['url', 'enabled']), ...(region_id === undefined ? {} : regionField(region_id)) } });
    },
    async deleteEndpoint(id) {
      await call('DELETE', `/endpoints/${seg(id)}`, [204, 404]);
    },
  };
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function pickUser(u: KsUser): KsUser {
  return { id: u.id, name: u.name, domain_id: u.domain_id, enabled: u.enabled };
}

function pickService(s: KsService): KsService {
  return { id: s.id, name: s.name, type: s.type, description: s.description, enabled: s.enabled };
}

function pickEndpoint(e: KsEndpoint): KsEndpoint {
  return { id: e.id, service_id: e.service_id, interface: e.interface, url: e.url, region_id: e.region_id ?? null, region: e.region, enabled: e.enabled };
}
