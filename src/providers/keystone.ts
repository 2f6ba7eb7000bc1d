// Keystone sessions for resources: the admin client, for reads and writes, and a service user's own
// login when the playbook names one (asking for its token IS that user's password check). The admin
// logs in on the first read, in a plan too, so wrong admin credentials fail every run, a converged one
// included; the service user's login is asked for at the same moment (both are a Keystone password
// hash: side by side they cost about one).
import type { Provider } from '../engine/providers.ts';
import type { Secret } from '../secret.ts';
import { keystoneLogin, checkKeystonePassword, probeCatalogWrites, isV2AuthUrl, KeystoneError } from '../clients/keystone.ts';
import type { AdminCredentials, CatalogWrites, KeystoneClient } from '../clients/keystone-api.ts';

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
  readonly authUrl: string;
  /**
   * How the admin client writes endpoints: 'v2.0' when the auth URL is a v2.0 one (the Juno guide's openrc)
   * and the admin port answers GET /v2.0 (keystone 2014.2 does; today's Keystone, v3 only, does not).
   * Asked once per session.
   */
  catalogWrites(): Promise<CatalogWrites>;
  /** HTTP requests made so far by this session's clients. */
  requests(): number;
}

export function keystoneSession(opts: { credentials: Provider<AdminCredentials>; serviceUser?: ServiceUser }): Provider<KeystoneSession> {
  return {
    key: `keystone${opts.serviceUser ? ` as ${opts.serviceUser.username}` : ''}`,
    async open(host) {
      const creds = await host.use(opts.credentials);
      let admin: Promise<KeystoneClient> | undefined;
      let adminClient: KeystoneClient | undefined;
      let service: Promise<KeystoneClient | undefined> | undefined;
      let serviceClient: KeystoneClient | undefined;
      let writes: Promise<CatalogWrites> | undefined;
      let probes = 0;
      const catalogWrites = () => (writes ??= (probes++, probeCatalogWrites(host.t, creds.authUrl, { tls: creds.tls })));
      const openAdmin = () => (admin ??= catalogWrites().then((w) => keystoneLogin(host.t, creds, { catalogWrites: w })).then((c) => (adminClient = c)));
      const loginAsService = () => (service ??= (async () => {
        const u = opts.serviceUser;
        if (!u) return undefined;
        try {
          const login = { authUrl: creds.authUrl, username: u.username, password: u.password, projectName: u.projectName, userDomainName: 'Default', projectDomainName: 'Default', tls: creds.tls };
          // It writes nothing; it is told how the admin writes so that it never asks on its own.
          serviceClient = await keystoneLogin(host.t, login, { catalogWrites: 'v3' });
          return serviceClient;
        } catch (e) {
          if (e instanceof KeystoneError && e.request.status === 401) return undefined;
          throw e;
        }
      })());
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
          if (u && user === u.username && domainId === u.domainId && password.equals(u.password) && (await loginAsService())) return true;
          return checkKeystonePassword(host.t, creds.authUrl, user, domainId, password, { tls: creds.tls });
        },
        requests: () => (adminClient?.requests ?? 0) + (serviceClient?.requests ?? 0) + (isV2AuthUrl(creds.authUrl) ? probes : 0),
      };
    },
    stats: (s) => ({ keystoneRequests: s.requests() }),
  };
}
