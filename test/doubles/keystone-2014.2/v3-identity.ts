// Users, projects, roles and project role grants on /v3, as keystone 2014.2 answers them:
// identity/controllers.py UserV3, identity/core.py Manager (create_user, update_user, delete_user),
// identity/backends/sql.py Identity; assignment/controllers.py ProjectV3, RoleV3 (create_grant,
// check_grant, _check_grant_protection); assignment/backends/sql.py Assignment; keystone/clean.py;
// assignment/routers.py (the grant path takes GET and HEAD as check_grant, PUT as create_grant).
import type { Ctx, Route } from './app.ts';
import { filterRows, ok, protect, wrapCollection, wrapMember } from './app.ts';
import { conflict, notFound, validationMessage, type Answer } from './errors.ts';
import { COLUMNS, fromDict, hashPassword, newId, sqlEquals, toDict, type User } from './store.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** identity/core.py filter_user over User.to_dict (which drops a null default_project_id). */
function userDict(u: User, includeExtraDict = false): Obj {
  const d = toDict(u as unknown as { extra: Obj } & Obj, COLUMNS.user);
  delete d.password;
  if (d.default_project_id === null) delete d.default_project_id;
  for (const k of ['tenants', 'groups', 'domains']) delete d[k];
  if (includeExtraDict) {
    const extra = { ...u.extra };
    delete extra.password;
    delete extra.tenants;
    d.extra = extra;
  }
  return d;
}

/** keystone/clean.py check_name('User', …, max_length=255): a string, stripped, 1–255 characters. */
function cleanUserName(name: unknown): string {
  if (typeof name !== 'string') throw validationMessage('User name is not a str or unicode');
  const n = name.trim();
  if (n.length < 1) throw validationMessage('User name cannot be empty.');
  if (n.length > 255) throw validationMessage('User name should not be greater than 255 characters.');
  return n;
}

/** clean.py check_enabled: int or bool (Python's bool is an int). */
function cleanEnabled(v: unknown): boolean {
  if (typeof v !== 'boolean' && typeof v !== 'number') throw validationMessage('User enabled is not a boolean');
  return Boolean(v);
}

function getUser(ctx: Ctx, id: string): User {
  const u = ctx.store.byId(ctx.store.users, id);
  if (!u) throw notFound('user', id);
  return u;
}

/** token persistence: a password change or a disable ends the user's tokens (identity/core.py update_user). */
function dropTokensOf(ctx: Ctx, userId: string): void {
  for (const [id, t] of ctx.store.tokens) if (t.user_id === userId) ctx.store.tokens.delete(id);
}

function uniqueName(ctx: Ctx, name: string, domainId: string, exceptId?: string): void {
  // User __table_args__: UniqueConstraint('domain_id', 'name'), compared under the collation;
  // @sql.handle_conflicts(conflict_type='user') turns DBDuplicateEntry into this 409
  if (ctx.store.users.some((x) => x.id !== exceptId && sqlEquals(x.domain_id, domainId) && sqlEquals(x.name, name))) throw conflict('user', 'Duplicate Entry');
}

/** UserV3.create_user (protected) → Manager.create_user → Identity.create_user. 201. */
function createUser(ctx: Ctx, args: Obj): Answer {
  protect(ctx, 'create_user');
  const user = isObj(args.user) ? { ...args.user } : {};
  // _require_attribute(user, 'name')
  if (user.name === undefined || user.name === null || user.name === '') throw validationMessage('name field is required and cannot be empty');
  // _normalize_domain_id: a project-scoped token gives CONF.identity.default_domain_id
  if (!('domain_id' in user)) user.domain_id = 'default';
  user.name = cleanUserName(user.name);
  user.enabled = cleanEnabled(user.enabled ?? true);
  if (!ctx.store.byId(ctx.store.domains, String(user.domain_id))) throw notFound('domain', String(user.domain_id));
  uniqueName(ctx, user.name as string, String(user.domain_id));
  user.id = newId();
  if (typeof user.password === 'string') user.password = hashPassword(user.password);
  const row = fromDict(user, COLUMNS.user) as unknown as User;
  ctx.store.users.push(row);
  return ok(wrapMember(ctx, 'users', 'user', userDict(row)), 201);
}

/** UserV3.list_users: filterprotected('domain_id', 'enabled', 'name'). */
function listUsers(ctx: Ctx): Answer {
  protect(ctx, 'list_users');
  const rows = filterRows(ctx.store.users.map((u) => userDict(u)), ctx.query, ['domain_id', 'enabled', 'name'], COLUMNS.user);
  return ok(wrapCollection(ctx, 'users', 'user', rows));
}

/** UserV3.update_user → _update_user → Manager.update_user → Identity.update_user (to_dict(include_extra_dict=True)). 200. */
function updateUser(ctx: Ctx, args: Obj): Answer {
  const id = ctx.vars.user_id!;
  let u: User | undefined;
  protect(ctx, 'update_user', () => (u = getUser(ctx, id)));
  const patch = isObj(args.user) ? { ...args.user } : {};
  if ('id' in patch && patch.id !== id) throw validationMessage('Cannot change ID');
  // CONF.domain_id_immutable (default True)
  if ('domain_id' in patch && patch.domain_id !== u!.domain_id) throw validationMessage('Cannot change Domain ID');
  if ('name' in patch) patch.name = cleanUserName(patch.name);
  if ('enabled' in patch) patch.enabled = cleanEnabled(patch.enabled);
  delete patch.id;
  if ('name' in patch) uniqueName(ctx, patch.name as string, u!.domain_id, u!.id);
  const newPassword = typeof patch.password === 'string';
  if (newPassword) patch.password = hashPassword(patch.password as string);
  const merged = fromDict({ ...toDict(u as unknown as { extra: Obj } & Obj, COLUMNS.user), ...patch }, COLUMNS.user) as unknown as User;
  Object.assign(u!, merged);
  if (newPassword || patch.enabled === false) dropTokensOf(ctx, u!.id);
  return ok(wrapMember(ctx, 'users', 'user', userDict(u!, true)));
}

/** UserV3.delete_user: 204; the user's role assignments and tokens go with it (Manager.delete_user). */
function deleteUser(ctx: Ctx): Answer {
  const id = ctx.vars.user_id!;
  let u: User | undefined;
  protect(ctx, 'delete_user', () => (u = getUser(ctx, id)));
  ctx.store.users = ctx.store.users.filter((x) => x !== u);
  ctx.store.assignments = ctx.store.assignments.filter((a) => a.actor_id !== u!.id);
  dropTokensOf(ctx, u!.id);
  return ok(undefined);
}

/** ProjectV3.list_projects: filterprotected('domain_id', 'enabled', 'name'). */
function listProjects(ctx: Ctx): Answer {
  protect(ctx, 'list_projects');
  const rows = ctx.store.projects.map((p) => toDict(p as unknown as { extra: Obj } & Obj, COLUMNS.project));
  return ok(wrapCollection(ctx, 'projects', 'project', filterRows(rows, ctx.query, ['domain_id', 'enabled', 'name'], COLUMNS.project)));
}

/** RoleV3.list_roles: filterprotected('name'). */
function listRoles(ctx: Ctx): Answer {
  protect(ctx, 'list_roles');
  const rows = ctx.store.roles.map((r) => toDict(r as unknown as { extra: Obj } & Obj, COLUMNS.role));
  return ok(wrapCollection(ctx, 'roles', 'role', filterRows(rows, ctx.query, ['name'], COLUMNS.role)));
}

/**
 * RoleV3._check_grant_protection: the role, the user and the project are fetched before the token is
 * even looked at (their 404s come first), then check_protection (401, 403).
 */
function grantProtection(ctx: Ctx, action: string): { roleId: string; userId: string; projectId: string } {
  const roleId = ctx.vars.role_id ?? '';
  const userId = ctx.vars.user_id ?? '';
  const projectId = ctx.vars.project_id ?? '';
  const role = ctx.store.byId(ctx.store.roles, roleId);
  if (!role) throw notFound('role', roleId);
  const user = ctx.store.byId(ctx.store.users, userId);
  if (!user) throw notFound('user', userId);
  const project = ctx.store.byId(ctx.store.projects, projectId);
  if (!project) throw notFound('project', projectId);
  protect(ctx, action);
  return { roleId: role.id, userId: user.id, projectId: project.id };
}

/** RoleV3.check_grant → Assignment.get_grant: 204 when granted (None), else RoleNotFound (404). GET and HEAD alike. */
function checkGrant(ctx: Ctx): Answer {
  const g = grantProtection(ctx, 'check_grant');
  const found = ctx.store.assignments.some((a) => a.actor_id === g.userId && a.target_id === g.projectId && a.role_id === g.roleId && !a.inherited);
  if (!found) throw notFound('role', ctx.vars.role_id!);
  return ok(undefined);
}

/** RoleV3.create_grant → Assignment.create_grant: 204; an existing grant is silently kept ("The v3 grant APIs are silent"). */
function createGrant(ctx: Ctx): Answer {
  const g = grantProtection(ctx, 'create_grant');
  const exists = ctx.store.assignments.some((a) => a.actor_id === g.userId && a.target_id === g.projectId && a.role_id === g.roleId && !a.inherited);
  if (!exists) ctx.store.assignments.push({ type: 'UserProject', actor_id: g.userId, target_id: g.projectId, role_id: g.roleId, inherited: false });
  return ok(undefined);
}

const P = { protectedCall: true };
export const identityRoutes: Route[] = [
  // common/router.py Router('users', 'user'): POST/GET collection, PATCH/DELETE entity
  { methods: ['POST'], pattern: '/users', fn: 'create_user', kwargs: ['user'], required: ['user'], ...P, handle: createUser },
  { methods: ['GET'], pattern: '/users', fn: 'list_users', ...P, handle: listUsers },
  { methods: ['PATCH'], pattern: '/users/{user_id}', fn: 'update_user', kwargs: ['user'], required: ['user'], ...P, handle: updateUser },
  { methods: ['DELETE'], pattern: '/users/{user_id}', fn: 'delete_user', ...P, handle: deleteUser },
  { methods: ['GET'], pattern: '/projects', fn: 'list_projects', ...P, handle: listProjects },
  { methods: ['GET'], pattern: '/roles', fn: 'list_roles', ...P, handle: listRoles },
  { methods: ['GET', 'HEAD'], pattern: '/projects/{project_id}/users/{user_id}/roles/{role_id}', fn: 'check_grant', ...P, handle: checkGrant },
  { methods: ['PUT'], pattern: '/projects/{project_id}/users/{user_id}/roles/{role_id}', fn: 'create_grant', ...P, handle: createGrant },
];
