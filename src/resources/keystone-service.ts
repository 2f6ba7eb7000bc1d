// A Keystone service found by name and type: made when missing, its description and enabled flag set,
// duplicates (a second registration) deleted with their endpoints, keeping the one in use. All of them
// deleted, with their endpoints, when the playbook wants it absent.
import type { Change, Diff, Ensure, Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import type { Provider } from '../engine/providers.ts';
import type { KsService, KeystoneClient } from '../clients/keystone-api.ts';
import type { KeystoneSession } from '../providers/keystone.ts';

export interface KeystoneServiceSpec {
  name: string;
  type: string;
  description: string;
  ensure?: Ensure;
  keystone: Provider<KeystoneSession>;
}

export interface KsServiceState {
  services: KsService[];
  /** Endpoint ids per service, listed when there is more than one service or they are to go. */
  endpoints: Record<string, string[]>;
}

export type KeystoneServiceOp =
  | { op: 'create-service'; name: string; type: string; description: string }
  | { op: 'update-service'; id: string; patch: { description?: string; enabled?: boolean } }
  | { op: 'delete-service'; id: string; endpoints: string[] };

/** The services of this type with this name: more than one is a duplicate to reconcile. */
export async function servicesNamed(ks: KeystoneClient, name: string, type: string): Promise<KsService[]> {
  return (await ks.listServices(type)).filter((x) => x.name === name);
}

/** The service to keep among duplicates: the one with the most endpoints, then the first listed. */
export function serviceToKeep(s: KsServiceState): KsService | undefined {
  const count = (id: string) => s.endpoints[id]?.length ?? 0;
  return [...s.services].sort((a, b) => count(b.id) - count(a.id))[0];
}

export function keystoneServiceDiff(s: KsServiceState, want: Pick<KeystoneServiceSpec, 'name' | 'type' | 'description' | 'ensure'>): Diff<KeystoneServiceOp> {
  const drop = (x: KsService): KeystoneServiceOp => ({ op: 'delete-service', id: x.id, endpoints: s.endpoints[x.id] ?? [] });
  if (want.ensure === 'absent') {
    if (!s.services.length) return noChange(`no ${want.type} service named ${want.name}`);
    return {
      action: 'delete', changes: s.services.map((x) => ({ field: 'service', from: `${x.id} (${s.endpoints[x.id]?.length ?? 0} endpoints)`, to: '(deleted with its endpoints)' })),
      why: `${s.services.length} ${want.type} service${s.services.length > 1 ? 's' : ''} named ${want.name}`, ops: s.services.map(drop),
    };
  }
  const keep = serviceToKeep(s);
  if (!keep) {
    return {
      action: 'create', changes: [{ field: 'service', to: `${want.name} (${want.type}) "${want.description}"` }], why: `no ${want.type} service named ${want.name}`,
      ops: [{ op: 'create-service', name: want.name, type: want.type, description: want.description }],
    };
  }
  const changes: Change[] = [];
  const patch: { description?: string; enabled?: boolean } = {};
  if (keep.description !== want.description) {
    changes.push({ field: 'description', from: keep.description ?? '', to: want.description });
    patch.description = want.description;
  }
  if (keep.enabled === false) {
    changes.push({ field: 'enabled', from: 'false', to: 'true' });
    patch.enabled = true;
  }
  const dups = s.services.filter((x) => x.id !== keep.id);
  for (const dup of dups) changes.push({ field: 'duplicate', from: dup.id, to: '(deleted with its endpoints)' });
  if (!changes.length) return noChange(`service ${want.name} (${want.type}) exists once`);
  return {
    action: 'update', changes,
    why: dups.length ? `${s.services.length} ${want.type} services named ${want.name}: keeping ${keep.id}` : 'its attributes differ',
    ops: [...(Object.keys(patch).length ? [{ op: 'update-service' as const, id: keep.id, patch }] : []), ...dups.map(drop)],
  };
}

export function keystoneService(spec: KeystoneServiceSpec): Resource<KsServiceState, KeystoneServiceOp> {
  return {
    kind: 'keystone-service',
    id: `${spec.name} (${spec.type})`,
    async read(host) {
      const ks = await (await host.use(spec.keystone)).reader();
      const services = await servicesNamed(ks, spec.name, spec.type);
      const endpoints: Record<string, string[]> = {};
      if (services.length > 1 || (spec.ensure === 'absent' && services.length)) {
        await Promise.all(services.map(async (x) => { endpoints[x.id] = (await ks.listEndpoints(x.id)).map((e) => e.id); }));
      }
      return { services, endpoints };
    },
    diff: (current) => keystoneServiceDiff(current, spec),
    async apply(host, ops) {
      const ks = await (await host.use(spec.keystone)).admin();
      for (const o of ops) {
        if (o.op === 'create-service') await ks.createService({ name: o.name, type: o.type, description: o.description, enabled: true });
        else if (o.op === 'update-service') await ks.updateService(o.id, o.patch);
        else {
          for (const e of o.endpoints) await ks.deleteEndpoint(e);
          await ks.deleteService(o.id);
        }
      }
    },
  };
}
