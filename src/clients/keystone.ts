// Keystone v3 over the host's SSH connection: one admin token for the whole run, objects looked up by
// name with query filters, a password checked by asking for a token with it. No password or token ever
// appears in an error message (Keystone's own messages are scrubbed of them too).
import { ApiError } from './api-error.ts';
import type { Transport } from '../transport/ssh.ts';
import { Secret } from '../secret.ts';
import { HttpError, httpRequest, type HttpResponse } from './http.ts';
import type { AdminCredentials, KeystoneClient, KsEndpoint, KsProject, KsRole, KsService, KsUser } from './keystone-api.ts';

/** Keystone said no, or could not be reached: the request, Keystone's status and message, what to do. */
export class KeystoneError extends ApiError {}

export interface KeystoneOptions {
  /** Per request (longest silence); default 30 s. */
  timeoutMs?: number;
}

/** http://controller:5000/v3/ → http://controller:5000/v3; http://controller:5000 → …/v3. v2.0 is refused. */
export function v3Base(authUrl: string): string {
  const u = authUrl.replace(/\/+$/, '');
  if (/\/v2\.0$/.test(u)) {
    throw new KeystoneError(`the auth URL ${u} is Keystone v2.0, which this tool does not speak yet`, 'use the v3 URL (…:5000/v3) in OS_AUTH_URL', { method: '-', path: u });
  }
  return /\/v3$/.test(u) ? u : `${u}/v3`;
}

const ADMIN_HINT = 'the admin credentials (OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, OS_*_DOMAIN_NAME) come from ~/openstack/admin-openrc.sh on the controller or OS_* in your environment; fix them there';

/** A tiny request layer shared by the login, the password check and the client: counts, maps errors, scrubs secrets. */
class Caller {
  requests = 0;
  constructor(
    readonly t: Transport,
    readonly base: string,
    readonly timeoutMs: number,
  ) {}

  async send(method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.token) headers['x-auth-token'] = opts.token;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body, revealSecrets);
    }
    this.requests++;
    try {
      return await httpRequest(this.t, this.base + path, { method, headers, body, timeoutMs: this.timeoutMs });
    } catch (e) {
      if (e instanceof HttpError && e.kind === 'connect') {
        throw new KeystoneError(`Keystone does not answer at ${this.base}; is it running on the controller?`, `check keystone (uwsgi/apache) on the controller and that ${new URL(this.base).host} is where it listens`, { method, path }, e);
      }
      if (e instanceof HttpError && e.kind === 'timeout') {
        throw new KeystoneError(`Keystone at ${this.base} gave no answer to ${method} ${path} in ${this.timeoutMs} ms`, 'look at the keystone log on the controller (it may be overloaded or stuck), then run again', { method, path }, e);
      }
      throw e;
    }
  }

  /** The error for an answer we did not expect, with Keystone's message (scrubbed). */
  unexpected(method: string, path: string, res: HttpResponse, secrets: (string | undefined)[]): KeystoneError {
    return new KeystoneError(`Keystone: ${method} ${path} answered ${res.status}: ${keystoneMessage(res, secrets)}`, 'see the message; the keystone log on the controller has the detail', { method, path, status: res.status });
  }
}

/**
 * JSON.stringify replacer that puts a Secret's value on the wire. JSON calls `toJSON` (→ "[secret]") before
 * the replacer sees the value, so look at the holder's original property instead.
 */
function revealSecrets(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  return original instanceof Secret ? original.reveal() : value;
}

/** Keystone's `{"error": {"message": …}}`, else the start of the body; any known secret replaced by [secret]. */
function keystoneMessage(res: HttpResponse, secrets: (string | undefined)[]): string {
  let msg: string;
  try {
    const j = res.json<{ error?: { message?: string; title?: string } }>();
    msg = j.error?.message ?? j.error?.title ?? res.text();
  } catch {
    msg = res.text();
  }
  msg = msg.replace(/\s+/g, ' ').trim().slice(0, 300) || '(no message)';
  for (const s of secrets) if (s && s.length >= 4) msg = msg.split(s).join('[secret]');
  return msg;
}

function authBody(name: string, domain: { id: string } | { name: string }, password: Secret, scope?: unknown): unknown {
  return { auth: { identity: { methods: ['password'], password: { user: { name, domain, password } } }, ...(scope ? { scope } : {}) } };
}

/** Asks for an unscoped token with these credentials: 201 → true, 401 → false, anything else throws. */
async function passwordWorks(c: Caller, userName: string, domainId: string, password: Secret, extraSecrets: (string | undefined)[] = []): Promise<boolean> {
  const path = '/auth/tokens?nocatalog';
  const res = await c.send('POST', path, { body: authBody(userName, { id: domainId }, password) });
  if (res.status === 201) return true;
  if (res.status === 401) return false;
  throw c.unexpected('POST', path, res, [password.reveal(), ...extraSecrets]);
}

/**
 * Checks a password without any admin token, so it can run at the same time as the admin login
 * (both are a Keystone password hash: the slow part of a converged run).
 */
export function checkKeystonePassword(t: Transport, authUrl: string, userName: string, domainId: string, password: Secret, opts: KeystoneOptions = {}): Promise<boolean> {
  return passwordWorks(new Caller(t, v3Base(authUrl), opts.timeoutMs ?? 30_000), userName, domainId, password);
}

interface ListAnswer {
  truncated?: boolean;
}

export async function keystoneLogin(t: Transport, creds: AdminCredentials, opts: KeystoneOptions = {}): Promise<KeystoneClient> {
  const c = new Caller(t, v3Base(creds.authUrl), opts.timeoutMs ?? 30_000);
  const adminPassword = creds.password;
  let token = '';

  async function login(): Promise<void> {
    const path = '/auth/tokens?nocatalog';
    const body = authBody(creds.username, { name: creds.userDomainName }, adminPassword, { project: { name: creds.projectName, domain: { name: creds.projectDomainName } } });
    const res = await c.send('POST', path, { body });
    if (res.status === 401) {
      throw new KeystoneError(
        `Keystone at ${c.base} refused the admin credentials (user ${creds.username}@${creds.userDomainName}, project ${creds.projectName}@${creds.projectDomainName}): wrong password, user, project or domain`,
        ADMIN_HINT,
        { method: 'POST', path, status: 401 },
      );
    }
    const subject = res.header('x-subject-token');
    if (res.status !== 201 || !subject) {
      if (res.status === 201) throw new KeystoneError(`Keystone at ${c.base} issued a token without an X-Subject-Token header`, 'check what answers at this URL: a proxy may strip the header', { method: 'POST', path, status: 201 });
      throw c.unexpected('POST', path, res, [adminPassword.reveal()]);
    }
    token = subject;
  }

  /** An authenticated call; a 401 (token expired or revoked mid-run) logs in again once. */
  async function call(method: string, path: string, expect: number[], body?: unknown, secrets: Secret[] = []): Promise<HttpResponse> {
    if (method !== 'GET' && method !== 'HEAD') reads.clear();
    for (let attempt = 0; ; attempt++) {
      const res = await c.send(method, path, { token, body });
      if (expect.includes(res.status)) return res;
      if (res.status === 401 && attempt === 0) {
        await login();
        continue;
      }
      // A Keystone worker that just started can answer 403 to its first concurrent requests while
      // oslo.policy is still loading its rules (seen on the lab under load: list_users refused to the
      // admin while list_projects passed, same token, same second). A read is safe to ask again once.
      if (res.status === 403 && attempt === 0 && (method === 'GET' || method === 'HEAD')) {
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      throw c.unexpected(method, path, res, [token, adminPassword.reveal(), ...secrets.map((s) => s.reveal())]);
    }
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

  await login();

  return {
    authUrl: c.base,
    get requests() {
      return c.requests;
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

    listEndpoints: async (serviceId) => (await list<KsEndpoint>(`/endpoints${q({ service_id: serviceId })}`, 'endpoints')).map(pickEndpoint),
    async createEndpoint(e) {
      const res = await call('POST', '/endpoints', [201], { endpoint: pick(e, ['service_id', 'interface', 'url', 'region_id', 'enabled']) });
      return pickEndpoint(res.json<{ endpoint: KsEndpoint }>().endpoint);
    },
    async updateEndpoint(id, patch) {
      await call('PATCH', `/endpoints/${seg(id)}`, [200], { endpoint: pick(patch, ['url', 'region_id', 'enabled']) });
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

/**
 * Admin credentials from an openrc file's `export OS_…=…` lines (quoted '…', "…" or bare). The variables
 * this tool needs must all be there; the password is wrapped at once.
 */
export function adminCredentialsFromOpenrc(text: string, source = 'admin-openrc.sh'): AdminCredentials {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?(OS_[A-Z_]+)=(.*?)\s*$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    vars[m[1]] = unquote(m[2]);
  }
  return adminCredentialsFromEnv(vars, source);
}

/** Admin credentials from OS_* variables (the local environment, or a parsed openrc). */
export function adminCredentialsFromEnv(env: Record<string, string | undefined>, source = 'the OS_* environment'): AdminCredentials {
  const missing = ['OS_AUTH_URL', 'OS_USERNAME', 'OS_PASSWORD', 'OS_PROJECT_NAME'].filter((k) => !env[k]);
  if (missing.length) {
    throw new KeystoneError(`${source} lacks ${missing.join(', ')}`, 'source a complete admin-openrc (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, domains)', { method: '-', path: '-' });
  }
  return {
    authUrl: env.OS_AUTH_URL as string,
    username: env.OS_USERNAME as string,
    password: new Secret(env.OS_PASSWORD as string),
    projectName: env.OS_PROJECT_NAME as string,
    userDomainName: env.OS_USER_DOMAIN_NAME ?? 'Default',
    projectDomainName: env.OS_PROJECT_DOMAIN_NAME ?? 'Default',
  };
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1);
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
  return v;
}
