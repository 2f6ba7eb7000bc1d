// The Keystone client's contract, fixed first so resources and the client can be written apart.
import type { Secret } from '../secret.ts';

export interface KsUser { id: string; name: string; domain_id: string; enabled?: boolean }
export interface KsProject { id: string; name: string; domain_id: string }
export interface KsRole { id: string; name: string }
export interface KsService { id: string; name: string; type: string; description?: string; enabled?: boolean }
export interface KsEndpoint { id: string; service_id: string; interface: 'public' | 'internal' | 'admin'; url: string; region_id: string | null; region?: string; enabled?: boolean }

export interface AdminCredentials {
  authUrl: string; // e.g. http://controller:5000/v3 (the host is resolved on the controller's side)
  username: string;
  password: Secret;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
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
  createEndpoint(e: { service_id: string; interface: string; url: string; region_id: string; enabled: boolean }): Promise<KsEndpoint>;
  updateEndpoint(id: string, patch: { url?: string; region_id?: string; enabled?: boolean }): Promise<void>;
  deleteEndpoint(id: string): Promise<void>;
  /** How many HTTP requests this client made (for the bench's round-trip count). */
  readonly requests: number;
  /** The admin token, for other clients (Glance) on the same run. Goes only into an X-Auth-Token header. */
  token(): string;
  /** The v3 base URL every call uses, e.g. http://controller:5000/v3 (normalised: no trailing slash). */
  readonly authUrl: string;
}
