// Services and endpoints on /v3, as keystone 2014.2 answers them: catalog/controllers.py ServiceV3,
// EndpointV3 (filter_endpoint, _validate_endpoint_region); catalog/core.py Manager (create_region,
// create_service, create_endpoint); catalog/backends/sql.py Catalog (create_endpoint, update_endpoint,
// delete_service); catalog/schema.py; catalog/routers.py (Router('services'), Router('endpoints')).
import type { Ctx, Route } from './app.ts';
import { filterRows, ok, protect, wrapCollection, wrapMember } from './app.ts';
import { notFound, validationError, validationMessage, type Answer } from './errors.ts';
import { endpointCreate, endpointUpdate, serviceCreate, serviceUpdate, validate } from './schema.ts';
import { COLUMNS, fromDict, newId, toDict, type Endpoint, type Service, type Store } from './store.ts';

type Obj = Record<string, unknown>;
const asRow = (r: Service | Endpoint) => r as unknown as { extra: Obj } & Obj;

export function getService(store: Store, id: string): Service {
  const s = store.byId(store.services, id);
  if (!s) throw notFound('service', id);
  return s;
}

/**
 * catalog/core.py Manager.create_region as the endpoint paths call it, with {'id': region}: a region
 * looked up first (the primary key compares under the collation, so `RegionOne` finds `regionOne` and
 * nothing is created), description '' as the NOT NULL column wants.
 */
export function ensureRegion(store: Store, region: string): void {
  if (store.byId(store.regions, region)) return;
  store.regions.push({ id: region, description: '', parent_region_id: null, url: null, extra: {} });
}

/** EndpointV3.filter_endpoint: legacy_endpoint_id dropped, region = region_id. */
function endpointDict(e: Endpoint): Obj {
  const d = toDict(asRow(e), COLUMNS.endpoint);
  delete d.legacy_endpoint_id;
  d.region = d.region_id;
  return d;
}

/** EndpointV3._validate_endpoint_region: only `region` without `region_id` is the legacy form, created when missing. */
function validateEndpointRegion(store: Store, ref: Obj): Obj {
  if ((ref.region_id === undefined || ref.region_id === null) && ref.region !== undefined && ref.region !== null) {
    ref.region_id = ref.region;
    delete ref.region;
    ensureRegion(store, String(ref.region_id));
  }
  return ref;
}

function createService(ctx: Ctx, args: Obj): Answer {
  protect(ctx, 'create_service');
  validate(serviceCreate(), args.service);
  // _assign_unique_id(_normalize_dict(service)); Manager.create_service: enabled defaults to True
  const ref: Obj = { ...(args.service as Obj), id: newId() };
  if (!('enabled' in ref)) ref.enabled = true;
  const row = fromDict(ref, COLUMNS.service) as unknown as Service;
  ctx.store.services.push(row);
  return ok(wrapMember(ctx, 'services', 'service', toDict(asRow(row), COLUMNS.service)), 201);
}

/** filterprotected('type', 'name'): type is a column (SQL, collation), name lives in extra (Python, exact). */
function listServices(ctx: Ctx): Answer {
  protect(ctx, 'list_services');
  const rows = ctx.store.services.map((s) => toDict(asRow(s), COLUMNS.service));
  return ok(wrapCollection(ctx, 'services', 'service', filterRows(rows, ctx.query, ['type', 'name'], COLUMNS.service)));
}

function updateService(ctx: Ctx, args: Obj): Answer {
  const id = ctx.vars.service_id!;
  let s: Service | undefined;
  protect(ctx, 'update_service', () => (s = getService(ctx.store, id)));
  validate(serviceUpdate(), args.service);
  const patch = args.service as Obj;
  if ('id' in patch && patch.id !== id) throw validationMessage('Cannot change ID');
  // Catalog.update_service: old dict updated with the patch, columns and extra rewritten
  Object.assign(s!, fromDict({ ...toDict(asRow(s!), COLUMNS.service), ...patch, id: s!.id }, COLUMNS.service));
  return ok(wrapMember(ctx, 'services', 'service', toDict(asRow(s!), COLUMNS.service)));
}

/** Catalog.delete_service: the service's endpoints are deleted with it. 204. */
function deleteService(ctx: Ctx): Answer {
  const id = ctx.vars.service_id!;
  let s: Service | undefined;
  protect(ctx, 'delete_service', () => (s = getService(ctx.store, id)));
  ctx.store.endpoints = ctx.store.endpoints.filter((e) => e.service_id !== s!.id);
  ctx.store.services = ctx.store.services.filter((x) => x !== s);
  return ok(undefined);
}

function createEndpoint(ctx: Ctx, args: Obj): Answer {
  protect(ctx, 'create_endpoint');
  validate(endpointCreate(ctx.config), args.endpoint);
  let ref: Obj = { ...(args.endpoint as Obj), id: newId() };
  getService(ctx.store, String(ref.service_id));
  ref = validateEndpointRegion(ctx.store, ref);
  // Catalog.create_endpoint checks the region (sqlite has no FK); Manager.create_endpoint turns its
  // RegionNotFound into ValidationError(attribute='endpoint region_id', target='region table'): 400
  if (ref.region_id !== undefined && ref.region_id !== null && !ctx.store.byId(ctx.store.regions, String(ref.region_id))) {
    throw validationError('endpoint region_id', 'region table');
  }
  const row = fromDict(ref, COLUMNS.endpoint) as unknown as Endpoint;
  if (row.enabled === null) row.enabled = true; // column default
  ctx.store.endpoints.push(row);
  return ok(wrapMember(ctx, 'endpoints', 'endpoint', endpointDict(row)), 201);
}

/** filterprotected('interface', 'service_id'): both columns. */
function listEndpoints(ctx: Ctx): Answer {
  protect(ctx, 'list_endpoints');
  const rows = ctx.store.endpoints.map((e) => ({ ...toDict(asRow(e), COLUMNS.endpoint), __row: e }));
  const picked = filterRows(rows, ctx.query, ['interface', 'service_id'], COLUMNS.endpoint).map((r) => endpointDict(r.__row as Endpoint));
  return ok(wrapCollection(ctx, 'endpoints', 'endpoint', picked));
}

function updateEndpoint(ctx: Ctx, args: Obj): Answer {
  const id = ctx.vars.endpoint_id!;
  let e: Endpoint | undefined;
  protect(ctx, 'update_endpoint', () => {
    e = ctx.store.byId(ctx.store.endpoints, id);
    if (!e) throw notFound('endpoint', id);
  });
  validate(endpointUpdate(ctx.config), args.endpoint);
  const patch = validateEndpointRegion(ctx.store, { ...(args.endpoint as Obj) });
  if ('id' in patch && patch.id !== id) throw validationMessage('Cannot change ID');
  if ('service_id' in patch) getService(ctx.store, String(patch.service_id));
  // Catalog.update_endpoint: get_region → RegionNotFound, which Manager.update_endpoint does not convert: 404
  if (patch.region_id !== undefined && patch.region_id !== null && !ctx.store.byId(ctx.store.regions, String(patch.region_id))) {
    throw notFound('region', String(patch.region_id));
  }
  Object.assign(e!, fromDict({ ...toDict(asRow(e!), COLUMNS.endpoint), ...patch, id: e!.id }, COLUMNS.endpoint));
  return ok(wrapMember(ctx, 'endpoints', 'endpoint', endpointDict(e!)));
}

function deleteEndpoint(ctx: Ctx): Answer {
  const id = ctx.vars.endpoint_id!;
  let e: Endpoint | undefined;
  protect(ctx, 'delete_endpoint', () => {
    e = ctx.store.byId(ctx.store.endpoints, id);
    if (!e) throw notFound('endpoint', id);
  });
  ctx.store.endpoints = ctx.store.endpoints.filter((x) => x !== e);
  return ok(undefined);
}

const P = { protectedCall: true };
export const catalogRoutes: Route[] = [
  { methods: ['POST'], pattern: '/services', fn: 'create_service', kwargs: ['service'], required: ['service'], ...P, handle: createService },
  { methods: ['GET'], pattern: '/services', fn: 'list_services', ...P, handle: listServices },
  { methods: ['PATCH'], pattern: '/services/{service_id}', fn: 'update_service', kwargs: ['service'], required: ['service'], ...P, handle: updateService },
  { methods: ['DELETE'], pattern: '/services/{service_id}', fn: 'delete_service', ...P, handle: deleteService },
  { methods: ['POST'], pattern: '/endpoints', fn: 'create_endpoint', kwargs: ['endpoint'], required: ['endpoint'], ...P, handle: createEndpoint },
  { methods: ['GET'], pattern: '/endpoints', fn: 'list_endpoints', ...P, handle: listEndpoints },
  { methods: ['PATCH'], pattern: '/endpoints/{endpoint_id}', fn: 'update_endpoint', kwargs: ['endpoint'], required: ['endpoint'], ...P, handle: updateEndpoint },
  { methods: ['DELETE'], pattern: '/endpoints/{endpoint_id}', fn: 'delete_endpoint', ...P, handle: deleteEndpoint },
];
