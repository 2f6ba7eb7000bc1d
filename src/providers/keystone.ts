// Keystone sessions for resources: the admin client, for reads and writes, and a service user's own
// login when the playbook names one (asking for its token IS that user's password check). The admin
// logs in on the first read, in a plan too, so wrong admin credentials fail every run, a converged one
// included; the service user's login is asked for at the same moment (both are a Keystone password
// hash: side by side they cost about one). Both reuse a token from an earlier run when Keystone still
// accepts it (token-cache.ts): no password hash at all on a converged re-run.
import type { Provider } from '../engine/providers.ts';
import type { Secret } from '../secret.ts';
import { keystoneLogin, checkKeystonePassword, probeCatalogWrites, isV2AuthUrl, KeystoneError } from '../clients/keystone.ts';
import type { AdminCredentials, CatalogWrites, KeystoneClient, KsUser, TokenScope } from '../clients/keystone-api.ts';
import { defaultTokenCache, type TokenCache, type TokenKey } from '../clients/token-cache.ts';

export interface ServiceUser {
  username: string;
  domainId: string;
  password: Secret;
  projectName: string;
}

export interface KeystoneSession {
  /** The client reads go through: the admin's (its login is the admin credentials' check, in every mode). */
  reader(): Promise<KeystoneClient>;
  /** The client writes go through: the same admin login. */
  admin(): Promise<KeystoneClient>;
  /** Whether Keystone issues a token for this user with this password. */
  passwordWorks(user: string, domainId: string, password: Secret): Promise<boolean>;
  /**
   * True when the service user's own token (just proven) carries this role on this project, which is
   * what a role check would ask Keystone; undefined when that token says nothing of it, or its check is
   * still a login under way (a HEAD is then quicker).
   */
  knownGrant(projectId: string, userId: string, roleId: string): Promise<true | undefined>;
  /**
   * The user as the service user's own proven token names it, when that is this user: a token Keystone
   * issued, or still validates, says the user exists, is enabled and has this password, which is all a
   * lookup would tell. Awaits that check (starting it); undefined when it failed, names another user,
   * or anything was written through this session since (then only a fresh read can tell).
   */
  knownUser(name: string, domainId: string): Promise<KsUser | undefined>;
  /** The ids of this grant when the service user's proven token carries it (by names, as knownUser). */
  knownGrantByName(user: string, domainId: string, project: string, role: string): Promise<{ userId: string; projectId: string; roleId: string } | undefined>;
  readonly authUrl: string;
  /**
   * How the admin client writes endpoints: 'v2.0' when the auth URL is a v2.0 one (the Juno guide's openrc)
   * and the admin port answers GET /v2.0 (keystone 2014.2 does; today's Keystone, v3 only, does not).
   * Asked once per session.
   */
  catalogWrites(): Promise<CatalogWrites>;
  /** HTTP requests made so far by this session's clients. */
  requests(): number;
  /**
   * Resolves once Keystone has answered this session (the admin's login; with the admin's token kept from
   * an earlier run, the service user's check already under way, else a validation of that token); rejects
   * with what the request met when Keystone did not answer. A kept token is no sign that Keystone is up.
   */
  answered(): Promise<void>;
}

/** A cache that never fails a run: a token that cannot be kept or read is only a login more. */
function forgiving(cache: TokenCache | undefined): TokenCache | undefined {
  if (!cache) return undefined;
  const safe = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch {
      return undefined;
    }
  };
  return { get: (k, m) => safe(() => cache.get(k, m)), put: (k, t) => safe(() => cache.put(k, t)), drop: (k) => safe(() => cache.drop(k)) };
}

export function keystoneSession(opts: { credentials: Provider<AdminCredentials>; serviceUser?: ServiceUser; tokens?: TokenCache | null }): Provider<KeystoneSession> {
  return {
    key: `keystone${opts.serviceUser ? ` as ${opts.serviceUser.username}` : ''}`,
    async open(host) {
      const creds = await host.use(opts.credentials);
      const cache = forgiving(opts.tokens === null ? undefined : (opts.tokens ?? defaultTokenCache()));
      let admin: Promise<KeystoneClient> | undefined;
      let adminClient: KeystoneClient | undefined;
      let service: Promise<{ works: boolean; scope?: TokenScope }> | undefined;
      let serviceSettled = false;
      let serviceFromKept = false;
      let serviceClient: KeystoneClient | undefined;
      let writes: Promise<CatalogWrites> | undefined;
      let probes = 0;
      const catalogWrites = () => (writes ??= (probes++, probeCatalogWrites(host.t, creds.authUrl, { tls: creds.tls })));
      const adminKey: TokenKey = {
        target: host.name, authUrl: creds.authUrl, user: creds.username, userDomain: creds.userDomainId ?? creds.userDomainName,
        project: creds.projectName, projectDomain: creds.projectDomainId ?? creds.projectDomainName, password: creds.password,
      };
      const reuse = (key: TokenKey) => ({ onIssued: (t: Parameters<TokenCache['put']>[1]) => cache?.put(key, t), onRefused: () => cache?.drop(key) });
      let adminKept = false;
      const openAdmin = () => (admin ??= catalogWrites()
        .then((w) => {
          const cached = cache?.get(adminKey);
          adminKept = !!cached;
          return keystoneLogin(host.t, creds, { catalogWrites: w, reuse: { ...reuse(adminKey), cached } });
        })
        .then((c) => (adminClient = c)));
      let serviceAt = 0;
      let serviceFailed = false;
      const loginAsService = () => {
        // Refused before a write (the user made, its password set, its role granted): ask again once
        // after it, so that the token this run proves with is kept for the next run.
        if (service && serviceSettled && serviceFailed && serviceAt !== (adminClient?.writes ?? 0)) {
          service = undefined;
          serviceSettled = false;
        }
        if (!service) serviceAt = adminClient?.writes ?? 0;
        return (service ??= checkService().then((r) => ((serviceFailed = !r.works), r)).finally(() => (serviceSettled = true)));
      };
      const checkService = async (): Promise<{ works: boolean; scope?: TokenScope }> => {
        const u = opts.serviceUser;
        if (!u) return { works: false };
        const key: TokenKey = { target: host.name, authUrl: creds.authUrl, user: u.username, userDomain: 'Default', project: u.projectName, projectDomain: 'Default', password: u.password };
        const kept = cache?.get(key);
        // A token issued for this very password that Keystone still accepts: the password still works
        // (a password change or a disabled user makes Keystone drop the user's tokens).
        if (kept) {
          serviceFromKept = true;
          const scope = await (await openAdmin()).validateToken(kept);
          if (scope) return { works: true, scope };
          serviceFromKept = false;
          cache?.drop(key);
        }
        try {
          const login = { authUrl: creds.authUrl, username: u.username, password: u.password, projectName: u.projectName, userDomainName: 'Default', projectDomainName: 'Default', tls: creds.tls };
          // It writes nothing; it is told how the admin writes so that it never asks on its own.
          serviceClient = await keystoneLogin(host.t, login, { catalogWrites: 'v3', reuse: reuse(key) });
          return { works: true, scope: serviceClient.scope() };
        } catch (e) {
          if (e instanceof KeystoneError && e.request.status === 401) return { works: false };
          throw e;
        }
      };
      const written = () => (adminClient?.writes ?? 0) > 0;
      /** The service user's token scope once proven, while nothing has been written since the session opened. */
      const proven = async (): Promise<TokenScope | undefined> => {
        if (!opts.serviceUser || written()) return undefined;
        const r = await loginAsService().catch(() => undefined);
        return r?.works && !written() ? r.scope : undefined;
      };
      const isUser = (s: TokenScope, name: string, domainId: string) => s.user?.name === name && s.user.domainId === domainId;
      return {
        authUrl: creds.authUrl,
        admin: openAdmin,
        catalogWrites,
        reader() {
          // The service user's check starts beside the admin login; whoever asks for it awaits it.
          loginAsService().catch(() => {});
          return openAdmin();
        },
        async passwordWorks(user, domainId, password) {
          const u = opts.serviceUser;
          if (u && user === u.username && domainId === u.domainId && password.equals(u.password) && (await loginAsService()).works) return true;
          return checkKeystonePassword(host.t, creds.authUrl, user, domainId, password, { tls: creds.tls });
        },
        async knownUser(name, domainId) {
          const s = await proven();
          return s && isUser(s, name, domainId) ? { id: s.userId, name, domain_id: domainId, enabled: true } : undefined;
        },
        async knownGrantByName(user, domainId, project, role) {
          const s = await proven();
          if (!s || !isUser(s, user, domainId) || !s.projectId || s.project?.name !== project || s.project.domainId !== domainId) return undefined;
          const r = s.roles?.find((x) => x.name === role);
          return r ? { userId: s.userId, projectId: s.projectId, roleId: r.id } : undefined;
        },
        async knownGrant(projectId, userId, roleId) {
          if (!service || !(serviceSettled || serviceFromKept) || written()) return undefined;
          // A token's roles on its project are Keystone's own answer, and revoking one of them makes Keystone
          // drop the token (keystone 2014.2 assignment/core.py delete_grant; today's Keystone: checked on a lab).
          const s = (await service.catch(() => undefined))?.scope;
          return s && s.userId === userId && s.projectId === projectId && s.roleIds.includes(roleId) ? true : undefined;
        },
        requests: () => (adminClient?.requests ?? 0) + (serviceClient?.requests ?? 0) + (isV2AuthUrl(creds.authUrl) ? probes : 0),
        async answered() {
          const a = await openAdmin();
          // A login is Keystone's answer; a kept token was taken without asking it anything.
          if (!adminKept) return;
          // The service user's check (a validation, or a login) is asked beside the reads anyway.
          if (opts.serviceUser) {
            await loginAsService();
            return;
          }
          await a.validateToken(a.token());
        },
      };
    },
    stats: (s) => ({ keystoneRequests: s.requests() }),
  };
}
