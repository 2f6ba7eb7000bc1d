// A service's public, internal and admin endpoints: exactly one per interface, at the wanted URL, in the
// wanted region, enabled. One table drives both the diff and the work: per interface, keep the best
// match, fix it, drop the rest. All of them deleted when the playbook wants them absent.
import type { Change, Diff, Ensure, Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import type { Provider } from '../engine/providers.ts';
import type { CatalogWrites, KsEndpoint } from '../clients/keystone-api.ts';
import type { KeystoneSession } from '../providers/keystone.ts';
import { KeystonePrecondition } from './keystone-precondition.ts';
import { servicesNamed } from './keystone-service.ts';

export type Iface = 'public' | 'internal' | 'admin';
const IFACES: Iface[] = ['public', 'internal', 'admin'];

export interface KeystoneEndpointsSpec {
  service: { name: string; type: string };
  urls: Record<Iface, string>;
  region: string;
  ensure?: Ensure;
  keystone: Provider<KeystoneSession>;
}

export interface KsEndpointsState {
  /** The service the endpoints hang on (with duplicate services, the one with the most endpoints). */
  serviceId?: string;
  endpoints: KsEndpoint[];
  /**
   * How the admin writes endpoints (the session's probe). Under 'v2.0' (keystone 2014.2, the Juno guide's) a
   * missing endpoint or a changed URL replaces the whole set through POST /v2.0/endpoints: 2014.2's v3 refuses
   * URLs like http://controller:9292 and hides v3-made endpoints from `keystone endpoint-list`. Default v3.
   */
  writes?: CatalogWrites;
}

export type EndpointOp =
  | { op: 'delete-endpoint'; id: string }
  | { op: 'update-endpoint'; id: string; patch: { url?: string; region_id?: string; enabled?: boolean } }
  | { op: 'create-endpoint'; serviceId?: string; interface: Iface; url: string; region: string }
  | { op: 'create-endpoint-set'; serviceId?: string; urls: Record<Iface, string>; region: string };

const regionOf = (e: KsEndpoint) => e.region_id ?? e.region ?? '';

interface EndpointWork {
  create: Iface[];
  update: { id: string; iface: Iface; url?: string; region?: string; enable?: boolean }[];
  remove: KsEndpoint[];
}

/** Per interface: keep the best match (URL, then region, then enabled), fix it, drop the rest. */
export function planEndpoints(want: { urls: Record<Iface, string>; region: string }, endpoints: KsEndpoint[]): EndpointWork {
  const work: EndpointWork = { create: [], update: [], remove: [] };
  for (const iface of IFACES) {
    const mine = endpoints.filter((e) => e.interface === iface);
    // Among equals an enabled one stays (else apply deletes the working endpoint first).
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

export function keystoneEndpointsDiff(s: KsEndpointsState, want: Pick<KeystoneEndpointsSpec, 'urls' | 'region' | 'ensure'>): Diff<EndpointOp> {
  if (want.ensure === 'absent') {
    if (!s.endpoints.length) return noChange('no endpoints');
    return {
      action: 'delete', changes: s.endpoints.map((e) => ({ field: e.interface, from: `${e.url} (${regionOf(e)})`, to: '(deleted)' })),
      why: `${s.endpoints.length} endpoint${s.endpoints.length > 1 ? 's' : ''} exist`, ops: s.endpoints.map((e) => ({ op: 'delete-endpoint', id: e.id })),
    };
  }
  const work = planEndpoints(want, s.endpoints);
  if (s.writes === 'v2.0' && (work.create.length || work.update.some((u) => u.url))) return replaceSet(s, want, work);
  const changes: Change[] = [
    ...work.create.map((i) => ({ field: i, to: `${want.urls[i]} (${want.region})` })),
    ...work.update.map((u) => ({ field: u.iface, from: s.endpoints.find((e) => e.id === u.id)?.url, to: `${u.url ?? want.urls[u.iface]} (${u.region ?? want.region})` })),
    ...work.remove.map((e) => ({ field: `${e.interface} duplicate`, from: `${e.url} (${regionOf(e)})`, to: '(deleted)' })),
  ];
  if (!changes.length) return noChange(`endpoints public, internal, admin at ${want.urls.public} in ${want.region}, one each`);
  // Duplicates go first, so the kept endpoint never shares its interface with a stale one mid-way.
  const ops: EndpointOp[] = [
    ...work.remove.map((e) => ({ op: 'delete-endpoint' as const, id: e.id })),
    ...work.update.map((u) => ({
      op: 'update-endpoint' as const, id: u.id,
      patch: { ...(u.url ? { url: u.url } : {}), ...(u.region ? { region_id: u.region } : {}), ...(u.enable ? { enabled: true } : {}) },
    })),
    ...work.create.map((i) => ({ op: 'create-endpoint' as const, serviceId: s.serviceId, interface: i, url: want.urls[i], region: want.region })),
  ];
  const action = work.create.length === 3 ? 'create' : 'update';
  return { action, changes, why: work.remove.length ? 'duplicate endpoints are reduced to one per interface' : work.create.length ? 'endpoints are missing' : 'endpoints differ', ops };
}

/** The v2.0 way: every endpoint of the service goes, then one POST /v2.0/endpoints makes the three. */
function replaceSet(s: KsEndpointsState, want: Pick<KeystoneEndpointsSpec, 'urls' | 'region'>, work: EndpointWork): Diff<EndpointOp> {
  const kept = new Map(s.endpoints.filter((e) => !work.remove.includes(e)).map((e) => [e.interface, e]));
  const changes: Change[] = [
    ...IFACES.map((i) => {
      const e = kept.get(i);
      return { field: i, ...(e ? { from: `${e.url} (${regionOf(e)})` } : {}), to: `${want.urls[i]} (${want.region})` };
    }),
    ...work.remove.map((e) => ({ field: `${e.interface} duplicate`, from: `${e.url} (${regionOf(e)})`, to: '(deleted)' })),
  ];
  const why = work.create.length === 3 ? 'endpoints are missing' : work.create.length ? 'an endpoint is missing' : 'an endpoint URL differs';
  return {
    action: s.endpoints.length ? 'replace' : 'create',
    changes,
    why: `${why}: the set is written through Keystone's v2.0 API, as the guide's keystone endpoint-create does`,
    ops: [
      ...s.endpoints.map((e) => ({ op: 'delete-endpoint' as const, id: e.id })),
      { op: 'create-endpoint-set', serviceId: s.serviceId, urls: { ...want.urls }, region: want.region },
    ],
  };
}

export function keystoneEndpoints(spec: KeystoneEndpointsSpec): Resource<KsEndpointsState, EndpointOp> {
  return {
    kind: 'keystone-endpoint',
    id: `${spec.service.type} public/internal/admin`,
    async read(host) {
      const session = await host.use(spec.keystone);
      const [ks, writes] = await Promise.all([session.reader(), spec.ensure === 'absent' ? undefined : session.catalogWrites()]);
      // Every endpoint asked beside the services (one request, no wait for a service id); a list Keystone
      // truncates is asked per service instead.
      const [services, all] = await Promise.all([servicesNamed(ks, spec.service.name, spec.service.type), ks.listAllEndpoints()]);
      if (!services.length) return { endpoints: [], ...(writes === 'v2.0' ? { writes } : {}) };
      const lists = await Promise.all(services.map((s) => (all ? all.filter((e) => e.service_id === s.id) : ks.listEndpoints(s.id))));
      if (spec.ensure === 'absent') return { endpoints: lists.flat() };
      // With duplicate services, the service resource (applied first) decides which stays; read again then.
      const best = lists.reduce((bi, l, i) => (l.length > (lists[bi]?.length ?? -1) ? i : bi), 0);
      return { serviceId: services[best]!.id, endpoints: lists[best] ?? [], ...(writes === 'v2.0' ? { writes } : {}) };
    },
    diff: (current) => keystoneEndpointsDiff(current, spec),
    async apply(host, ops) {
      const ks = await (await host.use(spec.keystone)).admin();
      for (const o of ops) {
        if (o.op === 'delete-endpoint') await ks.deleteEndpoint(o.id);
        else if (o.op === 'update-endpoint') await ks.updateEndpoint(o.id, o.patch);
        else {
          const serviceId = o.serviceId ?? (await servicesNamed(ks, spec.service.name, spec.service.type))[0]?.id;
          if (!serviceId) throw new KeystonePrecondition(`no ${spec.service.type} service named ${spec.service.name} to attach endpoints to`, 'run again: the service resource comes first');
          if (o.op === 'create-endpoint-set') await ks.createEndpointSet({ service_id: serviceId, region: o.region, urls: o.urls });
          else await ks.createEndpoint({ service_id: serviceId, interface: o.interface, url: o.url, region_id: o.region, enabled: true });
        }
      }
    },
  };
}
