// The Keystone client's contract, fixed first so resources and the client can be written apart.
import type { Secret } from '../secret.ts';
import type { TlsTrust } from './tls-tunnel.ts';

export interface KsUser { id: string; name: string; domain_id: string; enabled?: boolean }
export interface KsProject { id: string; name: string; domain_id: string }
export interface KsRole { id: string; name: string }
export interface KsService { id: string; name: string; type: string; description?: string; enabled?: boolean }
export interface KsEndpoint { id: string; service_id: string; interface: 'public' | 'internal' | 'admin'; url: string; region_id: string | null; region?: string; enabled?: boolean }

export interface AdminCredentials {
  /**
   * e.g. http://controller:5000/v3 (the host is resolved on the controller's side). A v2.0 URL (the Juno
   * guide's http://controller:35357/v2.0) is used as /v3 on the same host and port.
   */
  authUrl: string;
  username: string;
  password: Secret;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
  /** When set (OS_USER_DOMAIN_ID without a name), the user's domain by id instead of userDomainName. */
  userDomainId?: string;
  /** When set (OS_PROJECT_DOMAIN_ID without a name), the project's domain by id instead of projectDomainName. */
  projectDomainId?: string;
  /** For an https auth URL: the CA to trust (OS_CACERT, --os-cacert, cacert in clouds.yaml), or none (--insecure). */
  tls?: TlsTrust;
  /** Where to fix these credentials when Keystone refuses them (their source, and its names for the fields). */
  fixHint?: string;
}

/**
 * How endpoints are written. 'v3': POST /v3/endpoints, one per interface. 'v2.0': as the Juno guide's
 * `keystone endpoint-create` does, one POST /v2.0/endpoints (admin port) for the three URLs, so
 * `keystone endpoint-list` shows them (it hides endpoints made through v3) and keystone 2014.2's v3 URL
 * check (no dotless host names like `controller`) is not in the way.
 */
export type CatalogWrites = 'v3' | 'v2.0';

/** Who a token is for and, when scoped to a project, the roles it carries there (as Keystone computed them). */
export interface TokenScope {
  userId: string;
  projectId?: string;
  roleIds: string[];
}

/** One admin token for the whole run; every call rides on the host's SSH connection. */
export interface KeystoneClient {
  findUser(name: string, domainId: string): Promise<KsUser[]>;
  createUser(u: { name: string; domain_id: string; password: Secret; enabled: boolean }): Promise<KsUser>;
  setUserPassword(id: string, password: Secret): Promise<void>;
  /** DELETE /v3/users/{id}; a user already gone is not an error. */
  deleteUser(id: string): Promise<void>;
  /** PATCH /v3/users/{id} {enabled: true} */
  enableUser(id: string): Promise<void>;
  /** True when Keystone issues a token for these credentials (unscoped), false on 401. */
  checkPassword(userName: string, domainId: string, password: Secret): Promise<boolean>;
  findProject(name: string, domainId: string): Promise<KsProject[]>;
  findRole(name: string): Promise<KsRole[]>;
  hasProjectRole(projectId: string, userId: string, roleId: string): Promise<boolean>;
  grantProjectRole(projectId: string, userId: string, roleId: string): Promise<void>;
  /** DELETE of the grant; a grant already gone is not an error. */
  revokeProjectRole(projectId: string, userId: string, roleId: string): Promise<void>;
  listServices(type: string): Promise<KsService[]>;
  createService(s: { name: string; type: string; description: string; enabled: boolean }): Promise<KsService>;
  updateService(id: string, patch: Partial<Pick<KsService, 'name' | 'description' | 'enabled'>>): Promise<void>;
  deleteService(id: string): Promise<void>;
  listEndpoints(serviceId: string): Promise<KsEndpoint[]>;
  /** One endpoint through v3 (with catalogWrites 'v2.0', its region is given as the legacy `region`, created when missing). */
  createEndpoint(e: { service_id: string; interface: string; url: string; region_id: string; enabled: boolean }): Promise<KsEndpoint>;
  /**
   * The endpoints of one service in one region, one per URL given, as one set: with catalogWrites 'v2.0'
   * and a public URL, the one POST /v2.0/endpoints of `keystone endpoint-create`; otherwise createEndpoint
   * for each.
   */
  createEndpointSet(e: { service_id: string; region: string; urls: { public?: string; internal?: string; admin?: string } }): Promise<void>;
  /** How this client writes endpoints (see CatalogWrites); a resource replaces a set rather than patch URLs under 'v2.0'. */
  readonly catalogWrites: CatalogWrites;
  updateEndpoint(id: string, patch: { url?: string; region_id?: string; enabled?: boolean }): Promise<void>;
  deleteEndpoint(id: string): Promise<void>;
  /** How many HTTP requests this client made (for the bench's round-trip count). */
  readonly requests: number;
  /** What Keystone says of a token it still accepts (another user's: asked with the admin's); undefined when it no longer does. */
  validateToken(subject: string): Promise<TokenScope | undefined>;
  /** What the login this client made says of its own token; undefined for a token kept from an earlier run. */
  scope(): TokenScope | undefined;
  /** Every endpoint in one request, or undefined when Keystone truncates the list (its list_limit). */
  listAllEndpoints(): Promise<KsEndpoint[] | undefined>;
  /** The admin token, for other clients (Glance) on the same run. Goes only into an X-Auth-Token header. */
  token(): string;
  /** The v3 base URL every call uses, e.g. http://controller:5000/v3 (normalised: no trailing slash). */
  readonly authUrl: string;
}
