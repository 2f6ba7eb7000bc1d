// Keystone sessions for resources: an admin client for writes (logged in on first use only), and a
// reader. The reader is a service user's own token when the playbook names one (asking for it IS that
// user's password check, so a converged run hashes one password), the admin client once that is open
// (it sees every write of the run), or the admin client when the service user cannot log in yet.
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
  reader(): Promise<KeystoneClient>;
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

export function keystoneSession(opts: { credentials: Provider<AdminCredentials>; readAs?: ServiceUser }): Provider<KeystoneSession> {
  return {
    key: `keystone${opts.readAs ? ` as ${opts.readAs.username}` : ''}`,
    async open(host) {
      const creds = await host.use(opts.credentials);
      let admin: Promise<KeystoneClient> | undefined;
      let adminClient: KeystoneClient | undefined;
      let service: Promise<KeystoneClient | undefined> | undefined;
      let serviceClient: KeystoneClient | undefined;
      let writes: Promise<CatalogWrites> | undefined;
      let probes = 0;
      const catalogWrites = () => (writes ??= (probes++, probeCatalogWrites(host.t, creds.authUrl)));
      const openAdmin = () => (admin ??= catalogWrites().then((w) => keystoneLogin(host.t, creds, { catalogWrites: w })).then((c) => (adminClient = c)));
      const loginAsService = () => (service ??= (async () => {
        const u = opts.readAs;
        if (!u) return undefined;
        try {
          const login = { authUrl: creds.authUrl, username: u.username, password: u.password, projectName: u.projectName, userDomainName: 'Default', projectDomainName: 'Default' };
          // A reader writes nothing; it is told how the admin writes so that it never asks on its own.
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
        async reader() {
          if (adminClient) return adminClient;
          return (await loginAsService()) ?? openAdmin();
        },
        async passwordWorks(user, domainId, password) {
          const u = opts.readAs;
          if (u && user === u.username && domainId === u.domainId && password.equals(u.password) && (await loginAsService())) return true;
          return checkKeystonePassword(host.t, creds.authUrl, user, domainId, password);
        },
        requests: () => (adminClient?.requests ?? 0) + (serviceClient?.requests ?? 0) + (isV2AuthUrl(creds.authUrl) ? probes : 0),
      };
    },
    stats: (s) => ({ keystoneRequests: s.requests() }),
  };
}
