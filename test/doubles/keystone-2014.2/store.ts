// The in-memory store of the double: the rows keystone 2014.2's SQL backends keep, with the same columns
// (the `attributes` of each model) and the JSON `extra` blob for everything else (common/sql/core.py
// DictBase.from_dict/to_dict), and MySQL's comparison rules where SQL compares.
//
// Models at tag 2014.2: identity/backends/sql.py User; assignment/backends/sql.py Domain, Project, Role,
// RoleAssignment; catalog/backends/sql.py Region, Service, Endpoint.
import crypto from 'node:crypto';

/**
 * `a = b` in MySQL under utf8_general_ci, the collation the Juno guide configures
 * (`collation-server = utf8_general_ci`, `character-set-server = utf8` in my.cnf) and keystone's tables
 * inherit (migrations create them with mysql_charset='utf8'): case and accents do not count, nor do
 * trailing spaces (PAD SPACE). Every SQL `filter_by`, primary-key `get` and unique key compares this way.
 */
export function sqlEquals(a: string, b: string): boolean {
  return a.replace(/ +$/, '').localeCompare(b.replace(/ +$/, ''), 'en', { sensitivity: 'base' }) === 0;
}

export type Extra = Record<string, unknown>;

export interface Domain { id: string; name: string; enabled: boolean; extra: Extra }
export interface Project { id: string; name: string; domain_id: string; description: string | null; enabled: boolean; extra: Extra }
export interface User { id: string; name: string; domain_id: string; password: string | null; enabled: boolean; default_project_id: string | null; extra: Extra }
export interface Role { id: string; name: string; extra: Extra }
export interface Assignment { type: 'UserProject'; actor_id: string; target_id: string; role_id: string; inherited: boolean }
export interface Region { id: string; description: string; parent_region_id: string | null; url: string | null; extra: Extra }
export interface Service { id: string; type: string; enabled: boolean; extra: Extra }
export interface Endpoint { id: string; legacy_endpoint_id: string | null; interface: string; region_id: string | null; service_id: string; url: string; enabled: boolean; extra: Extra }
export interface Token { id: string; user_id: string; project_id: string | null; roles: { id: string; name: string }[]; expires: number; data: unknown }

/** The model's columns, in keystone's `attributes` order; everything else of a dict goes to `extra`. */
export const COLUMNS = {
  user: ['id', 'name', 'domain_id', 'password', 'enabled', 'default_project_id'],
  project: ['id', 'name', 'domain_id', 'description', 'enabled'],
  role: ['id', 'name'],
  domain: ['id', 'name', 'enabled'],
  region: ['id', 'description', 'parent_region_id', 'url'],
  service: ['id', 'type', 'enabled'],
  endpoint: ['id', 'interface', 'region_id', 'service_id', 'url', 'legacy_endpoint_id', 'enabled'],
} as const;

type Row = { extra: Extra } & Record<string, unknown>;

/** common/sql/core.py DictBase.to_dict: extra first, then the columns over it. */
export function toDict(row: Row, columns: readonly string[]): Record<string, unknown> {
  const d: Record<string, unknown> = { ...row.extra };
  for (const c of columns) d[c] = row[c] ?? null;
  return d;
}

/** common/sql/core.py DictBase.from_dict: columns by name, the rest into extra. */
export function fromDict(d: Record<string, unknown>, columns: readonly string[]): Row {
  const row: Row = { extra: {} };
  for (const [k, v] of Object.entries(d)) {
    if (k === 'extra') continue;
    if (columns.includes(k)) row[k] = v;
    else row.extra[k] = v;
  }
  for (const c of columns) if (!(c in row)) row[c] = null;
  return row;
}

/** uuid.uuid4().hex, as keystone makes every id. */
export const newId = (): string => crypto.randomUUID().replace(/-/g, '');

/** A salted hash, so the store never holds a password (keystone: passlib sha512_crypt). */
export function hashPassword(pw: string): string {
  const salt = crypto.randomBytes(8).toString('hex');
  return `${salt}$${crypto.createHash('sha512').update(salt + pw).digest('hex')}`;
}

export function checkPassword(pw: unknown, hashed: string | null): boolean {
  if (typeof pw !== 'string' || !hashed) return false;
  const [salt, h] = hashed.split('$');
  return crypto.createHash('sha512').update((salt ?? '') + pw).digest('hex') === h;
}

export class Store {
  domains: Domain[] = [];
  projects: Project[] = [];
  users: User[] = [];
  roles: Role[] = [];
  assignments: Assignment[] = [];
  regions: Region[] = [];
  services: Service[] = [];
  endpoints: Endpoint[] = [];
  tokens = new Map<string, Token>();

  /** query(Model).get(id): the primary key compares under the collation too. */
  byId<T extends { id: string }>(rows: T[], id: string): T | undefined {
    return rows.find((r) => sqlEquals(r.id, id));
  }

  rolesOf(userId: string, projectId: string): Role[] {
    const ids = this.assignments.filter((a) => a.actor_id === userId && a.target_id === projectId && !a.inherited).map((a) => a.role_id);
    return this.roles.filter((r) => ids.includes(r.id));
  }
}
