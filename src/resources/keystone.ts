// Keystone objects, found by name and reconciled, never created blindly: the service user (password
// checked by asking for a token with it), its role on the service project, the service and its
// endpoints (duplicates reported and reduced to exactly one per interface).
import type { Resource, Change, Diff } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import type { HostContext } from '../engine/context.ts';
import type { KeystoneClient, KsEndpoint, KsService, KsUser } from '../clients/keystone-api.ts';

export interface KsUserState {
  user?: KsUser;
  duplicates: number;
  passwordWorks?: boolean;
}

export function keystoneUserDiff(name: string, s: KsUserState): Diff {
  if (!s.user) return { action: 'create', changes: [{ field: 'user', to: name }, { field: 'password', to: '***' }], why: `keystone user ${name} does not exist` };
  const changes: Change[] = [];
  if (s.passwordWorks === false) changes.push({ field: 'password', from: '(no token with it)', to: '***' });
  if (s.user.enabled === false) changes.push({ field: 'enabled', from: 'false', to: 'true' });
  if (!changes.length) return noChange(`keystone user ${name} exists and gets a token with its password`);
  return { action: 'update', changes, why: s.passwordWorks === false ? 'its password gets no token' : 'it is disabled' };
}

export function keystoneUser(): Resource<KsUserState> {
  const name = (ctx: HostContext) => ctx.settings.keystoneUser;
  return {
    kind: 'keystone-user',
    id: 'glance',
    async read(ctx) {
      // Both are a Keystone password hash (the slow part of a converged run): ask at the same time.
      const [users, works] = await Promise.all([
        ctx.keystone().then((ks) => ks.findUser(name(ctx), ctx.settings.domainId)),
        ctx.keystonePasswordWorks(name(ctx), ctx.settings.domainId, ctx.secrets.glancePass),
      ]);
      const user = users[0];
      if (!user) return { duplicates: 0 };
      return { user, duplicates: users.length - 1, passwordWorks: works };
    },
    diff: (s, ctx) => keystoneUserDiff(name(ctx), s),
    async apply(ctx, s) {
      const ks = await ctx.keystoneAdmin();
      if (!s.user) {
        await ks.createUser({ name: name(ctx), domain_id: ctx.settings.domainId, password: ctx.secrets.glancePass, enabled: true });
        return;
      }
      if (s.passwordWorks === false) await ks.setUserPassword(s.user.id, ctx.secrets.glancePass);
      if (s.user.enabled === false) await ks.enableUser(s.user.id);
    },
  };
}

export interface KsRoleState {
  userId?: string;
  projectId?: string;
  roleId?: string;
  granted: boolean;
}

export function keystoneRoleAssignment(): Resource<KsRoleState> {
  const label = (ctx: HostContext) => `${ctx.settings.role} for ${ctx.settings.keystoneUser} on project ${ctx.settings.serviceProject}`;
  return {
    kind: 'keystone-role-assignment',
    id: 'glance/service/admin',
    async read(ctx) {
      const ks = await ctx.keystone();
      const [users, projects, roles] = await Promise.all([
        ks.findUser(ctx.settings.keystoneUser, ctx.settings.domainId),
        ks.findProject(ctx.settings.serviceProject, ctx.settings.domainId),
        ks.findRole(ctx.settings.role),
      ]);
      const userId = users[0]?.id;
      const projectId = projects[0]?.id;
      const roleId = roles[0]?.id;
      const granted = !!(userId && projectId && roleId) && (await ks.hasProjectRole(projectId, userId, roleId));
      return { userId, projectId, roleId, granted };
    },
    diff(s, ctx) {
      if (s.granted) return noChange(`${label(ctx)} is granted`);
      return { action: 'create', changes: [{ field: 'role', to: label(ctx) }], why: s.userId ? `${label(ctx)} is not granted` : 'the user is made first' };
    },
    async apply(ctx, s) {
      const ks = await ctx.keystoneAdmin();
      if (!s.projectId) throw new KeystonePrecondition(`project ${ctx.settings.serviceProject} does not exist in Keystone`, `create it (openstack project create --domain default ${ctx.settings.serviceProject}), as the install guide's identity part does`);
      if (!s.roleId) throw new KeystonePrecondition(`role ${ctx.settings.role} does not exist in Keystone`, 'bootstrap Keystone first (keystone-manage bootstrap makes the admin role)');
      if (!s.userId) throw new KeystonePrecondition(`user ${ctx.settings.keystoneUser} does not exist in Keystone`, 'run again: the user resource comes first');
      await ks.grantProjectRole(s.projectId, s.userId, s.roleId);
    },
  };
}

export class KeystonePrecondition extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'KeystonePrecondition';
  }
}

/** The services of our type with our name: more than one is a duplicate to reconcile. */
async function ourServices(ctx: HostContext, ks: KeystoneClient): Promise<KsService[]> {
  return (await ks.listServices(ctx.settings.service.type)).filter((x) => x.name === ctx.settings.service.name);
}

export interface KsServiceState {
  services: KsService[];
  /** Endpoint count per service, to keep the one in use when there are duplicates. */
  endpointCount: Record<string, number>;
}

/** The service to keep among duplicates: the one with the most endpoints, then the oldest listed. */
export function serviceToKeep(s: KsServiceState): KsService | undefined {
  return [...s.services].sort((a, b) => (s.endpointCount[b.id] ?? 0) - (s.endpointCount[a.id] ?? 0))[0];
}

export function keystoneServiceDiff(want: { name: string; type: string; description: string }, s: KsServiceState): Diff {
  const keep = serviceToKeep(s);
  if (!keep) return { action: 'create', changes: [{ field: 'service', to: `${want.name} (${want.type}) "${want.description}"` }], why: `no ${want.type} service named ${want.name}` };
  const changes: Change[] = [];
  if (keep.description !== want.description) changes.push({ field: 'description', from: keep.description ?? '', to: want.description });
  if (keep.enabled === false) changes.push({ field: 'enabled', from: 'false', to: 'true' });
  for (const dup of s.services.filter((x) => x.id !== keep.id)) changes.push({ field: 'duplicate', from: dup.id, to: '(deleted with its endpoints)' });
  if (!changes.length) return noChange(`service ${want.name} (${want.type}) exists once`);
  return { action: 'update', changes, why: changes.some((c) => c.field === 'duplicate') ? `${s.services.length} ${want.type} services named ${want.name}: keeping ${keep.id}` : 'its attributes differ' };
}

export function keystoneService(): Resource<KsServiceState> {
  return {
    kind: 'keystone-service',
    id: 'glance (image)',
    async read(ctx) {
      const ks = await ctx.keystone();
      const services = await ourServices(ctx, ks);
      const endpointCount: Record<string, number> = {};
      if (services.length > 1) {
        await Promise.all(services.map(async (x) => { endpointCount[x.id] = (await ks.listEndpoints(x.id)).length; }));
      }
      return { services, endpointCount };
    },
    diff: (s, ctx) => keystoneServiceDiff(ctx.settings.service, s),
    async apply(ctx, s) {
      const ks = await ctx.keystoneAdmin();
      const want = ctx.settings.service;
      const keep = serviceToKeep(s);
      if (!keep) {
        await ks.createService({ ...want, enabled: true });
        return;
      }
      const patch: Parameters<typeof ks.updateService>[1] = {};
      if (keep.description !== want.description) patch.description = want.description;
      if (keep.enabled === false) patch.enabled = true;
      if (Object.keys(patch).length) await ks.updateService(keep.id, patch);
      for (const dup of s.services.filter((x) => x.id !== keep.id)) {
        for (const e of await ks.listEndpoints(dup.id)) await ks.deleteEndpoint(e.id);
        await ks.deleteService(dup.id);
      }
    },
  };
}

export type Iface = 'public' | 'internal' | 'admin';
const IFACES: Iface[] = ['public', 'internal', 'admin'];

export interface KsEndpointsState {
  serviceId?: string;
  endpoints: KsEndpoint[];
}

interface EndpointWork {
  create: Iface[];
  update: { id: string; iface: Iface; url?: string; region?: string; enable?: boolean }[];
  remove: KsEndpoint[];
}

const regionOf = (e: KsEndpoint) => e.region_id ?? e.region ?? '';

/** One table drives both the diff and the update: per interface, keep the best match, fix it, drop the rest. */
export function planEndpoints(want: { urls: Record<Iface, string>; region: string }, endpoints: KsEndpoint[]): EndpointWork {
  const work: EndpointWork = { create: [], update: [], remove: [] };
  for (const iface of IFACES) {
    const mine = endpoints.filter((e) => e.interface === iface);
    // URL, then region, then enabled: among equals an enabled one stays (else apply deletes the working endpoint first).
    const score = (e: KsEndpoint) => (e.url === want.urls[iface] ? 4 : 0) + (regionOf(e) === want.region ? 2 : 0) + (e.enabled === false ? 0 : 1);
    const [keep, ...extra] = [...mine].sort((a, b) => score(b) - score(a));
    if (!keep) {
      work.create.push(iface);
      continue;
    }
    const u: EndpointWork['update'][number] = { id: keep.id, iface };
    if (keep.url !== want.urls[iface]) u.url = want.urls[iface];
    if (regionOf(keep) !== want.region) u.region = want.region;
    if (keep.enabled === false) u.enable = true;
    if (u.url || u.region || u.enable) work.update.push(u);
    work.remove.push(...extra);
  }
  return work;
}

export function keystoneEndpoints(): Resource<KsEndpointsState> {
  const want = (ctx: HostContext) => ({ urls: ctx.settings.endpoints, region: ctx.settings.region });
  return {
    kind: 'keystone-endpoint',
    id: 'image public/internal/admin',
    async read(ctx) {
      const ks = await ctx.keystone();
      const services = await ourServices(ctx, ks);
      if (!services.length) return { endpoints: [] };
      // With duplicate services, the service resource (applied first) decides which stays; read again then.
      const lists = await Promise.all(services.map((s) => ks.listEndpoints(s.id)));
      const best = lists.reduce((bi, l, i) => (l.length > (lists[bi]?.length ?? -1) ? i : bi), 0);
      return { serviceId: services[best]!.id, endpoints: lists[best] ?? [] };
    },
    diff(s, ctx) {
      const w = want(ctx);
      const work = planEndpoints(w, s.endpoints);
      const changes: Change[] = [
        ...work.create.map((i) => ({ field: i, to: `${w.urls[i]} (${w.region})` })),
        ...work.update.map((u) => ({ field: u.iface, from: s.endpoints.find((e) => e.id === u.id)?.url, to: `${u.url ?? w.urls[u.iface]} (${u.region ?? w.region})` })),
        ...work.remove.map((e) => ({ field: `${e.interface} duplicate`, from: `${e.url} (${regionOf(e)})`, to: '(deleted)' })),
      ];
      if (!changes.length) return noChange(`endpoints public, internal, admin at ${w.urls.public} in ${w.region}, one each`);
      const action = work.create.length === 3 ? 'create' : 'update';
      return { action, changes, why: work.remove.length ? 'duplicate endpoints are reduced to one per interface' : work.create.length ? 'endpoints are missing' : 'endpoints differ' };
    },
    async apply(ctx, s) {
      const ks = await ctx.keystoneAdmin();
      const w = want(ctx);
      let serviceId = s.serviceId;
      if (!serviceId) {
        const services = await ourServices(ctx, ks);
        serviceId = services[0]?.id;
      }
      if (!serviceId) throw new KeystonePrecondition(`no ${ctx.settings.service.type} service to attach endpoints to`, 'run again: the service resource comes first');
      const work = planEndpoints(w, s.endpoints);
      for (const e of work.remove) await ks.deleteEndpoint(e.id);
      for (const u of work.update) await ks.updateEndpoint(u.id, { url: u.url, region_id: u.region, enabled: u.enable });
      for (const i of work.create) await ks.createEndpoint({ service_id: serviceId, interface: i, url: w.urls[i], region_id: w.region, enabled: true });
    },
  };
}
