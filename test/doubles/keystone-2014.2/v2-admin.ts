// The v2.0 catalog calls of the Juno guide's `keystone` CLI, as keystone 2014.2 answers them on its admin
// port only: contrib/admin_crud/core.py CrudExtension (mounted by etc/keystone-paste.ini in
// [pipeline:admin_api] alone) routes GET/POST /endpoints, DELETE /endpoints/{endpoint_id},
// GET/POST /OS-KSADM/services, GET/DELETE /OS-KSADM/services/{service_id} to catalog/controllers.py
// Service and Endpoint (V2Controller: a POST answers 200, not 201; wsgi.py _get_response_code).
import type { Ctx, Route } from './app.ts';
import { assertAdmin, ok } from './app.ts';
import { notFound, unexpectedError, validationMessage, type Answer } from './errors.ts';
import { getService, ensureRegion } from './v3-catalog.ts';
import { COLUMNS, fromDict, newId, toDict, type Endpoint, type Service, type Store } from './store.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const INTERFACES = ['public', 'internal', 'admin'] as const;

/** V2Controller._require_attribute: None or '' is missing. */
function require(ref: Obj, attribute: string): void {
  if (ref[attribute] === undefined || ref[attribute] === null || ref[attribute] === '') throw validationMessage(`${attribute} field is required and cannot be empty`);
}

/** Endpoint.get_endpoints: the v3 rows that carry a legacy_endpoint_id, merged back per legacy id; v3-made ones are hidden. */
function getEndpoints(ctx: Ctx): Answer {
  assertAdmin(ctx);
  const legacy = new Map<string, Obj>();
  for (const e of ctx.store.endpoints) {
    if (!e.legacy_endpoint_id) continue;
    let ep = legacy.get(e.legacy_endpoint_id);
    if (!ep) {
      ep = toDict(e as unknown as { extra: Obj } & Obj, COLUMNS.endpoint);
      ep.id = ep.legacy_endpoint_id;
      delete ep.legacy_endpoint_id;
      delete ep.interface;
      delete ep.url;
      ep.region = ep.region_id;
      delete ep.region_id;
      legacy.set(e.legacy_endpoint_id, ep);
    }
    ep[`${e.interface}url`] = e.url;
  }
  return ok({ endpoints: [...legacy.values()] });
}

/**
 * Endpoint.create_endpoint: "Create three v3 endpoint refs based on a legacy ref." publicurl and
 * service_id required; a region that does not exist is created first (even if the service then turns
 * out not to exist); one v3 row per non-empty URL, all under one new legacy id; the answer is the request
 * with the id and without null or empty URLs.
 */
function createEndpoint(ctx: Ctx, args: Obj): Answer {
  assertAdmin(ctx);
  return ok({ endpoint: createLegacyEndpoint(ctx.store, isObj(args.endpoint) ? args.endpoint : {}) });
}

/** The body of Endpoint.create_endpoint, shared with the seed (the guide's identity endpoint is made this way). */
export function createLegacyEndpoint(store: Store, body: Obj): Obj {
  const endpoint: Obj = { ...body };
  require(endpoint, 'publicurl');
  require(endpoint, 'service_id');
  if (endpoint.region !== undefined && endpoint.region !== null) ensureRegion(store, String(endpoint.region));
  const legacyRef: Obj = { ...endpoint };
  const urls: [string, unknown][] = [];
  for (const i of INTERFACES) {
    const key = `${i}url`;
    if (endpoint[key]) {
      urls.push([i, endpoint[key]]);
      delete endpoint[key];
    } else if (key in endpoint) {
      delete endpoint[key];
      delete legacyRef[key];
    }
  }
  const legacyId = newId();
  const rows: Endpoint[] = [];
  for (const [iface, url] of urls) {
    const ref: Obj = { ...endpoint, id: newId(), legacy_endpoint_id: legacyId, interface: iface, url };
    // endpoint_ref['region_id'] = endpoint_ref.pop('region'): a body without "region" is a KeyError, a 500
    if (!('region' in ref)) throw unexpectedError();
    ref.region_id = ref.region ?? null;
    delete ref.region;
    // Manager.create_endpoint → Catalog.create_endpoint: get_service first (ServiceNotFound, 404)
    getService(store, String(ref.service_id));
    const row = fromDict(ref, COLUMNS.endpoint) as unknown as Endpoint;
    if (row.enabled === null) row.enabled = true;
    rows.push(row);
  }
  store.endpoints.push(...rows);
  legacyRef.id = legacyId;
  return legacyRef;
}

/** Endpoint.delete_endpoint: every v3 row of the legacy id; none is EndpointNotFound. 204. */
function deleteEndpoint(ctx: Ctx): Answer {
  assertAdmin(ctx);
  const id = ctx.vars.endpoint_id!;
  const before = ctx.store.endpoints.length;
  ctx.store.endpoints = ctx.store.endpoints.filter((e) => e.legacy_endpoint_id !== id);
  if (ctx.store.endpoints.length === before) throw notFound('endpoint', id);
  return ok(undefined);
}

const serviceDict = (s: Service) => toDict(s as unknown as { extra: Obj } & Obj, COLUMNS.service);

/** Service.get_services: {"OS-KSADM:services": [...]}. */
function getServices(ctx: Ctx): Answer {
  assertAdmin(ctx);
  return ok({ 'OS-KSADM:services': ctx.store.services.map(serviceDict) });
}

/** Service.create_service: the request's members plus a new id; Manager.create_service adds enabled. 200. */
function createService(ctx: Ctx, args: Obj): Answer {
  assertAdmin(ctx);
  const ref: Obj = { ...(isObj(args.OS_KSADM_service) ? args.OS_KSADM_service : {}), id: newId() };
  if (!('enabled' in ref)) ref.enabled = true;
  const row = fromDict(ref, COLUMNS.service) as unknown as Service;
  ctx.store.services.push(row);
  return ok({ 'OS-KSADM:service': serviceDict(row) });
}

function getOneService(ctx: Ctx): Answer {
  assertAdmin(ctx);
  return ok({ 'OS-KSADM:service': serviceDict(getService(ctx.store, ctx.vars.service_id!)) });
}

function deleteService(ctx: Ctx): Answer {
  assertAdmin(ctx);
  const s = getService(ctx.store, ctx.vars.service_id!);
  ctx.store.endpoints = ctx.store.endpoints.filter((e) => e.service_id !== s.id);
  ctx.store.services = ctx.store.services.filter((x) => x !== s);
  return ok(undefined);
}

/** Only on the admin port: keystone-paste.ini puts crud_extension in [pipeline:admin_api] alone. */
export const v2AdminRoutes: Route[] = [
  { methods: ['GET'], pattern: '/endpoints', fn: 'get_endpoints', handle: getEndpoints },
  { methods: ['POST'], pattern: '/endpoints', fn: 'create_endpoint', kwargs: ['endpoint'], required: ['endpoint'], handle: createEndpoint },
  { methods: ['DELETE'], pattern: '/endpoints/{endpoint_id}', fn: 'delete_endpoint', handle: deleteEndpoint },
  { methods: ['GET'], pattern: '/OS-KSADM/services', fn: 'get_services', handle: getServices },
  { methods: ['POST'], pattern: '/OS-KSADM/services', fn: 'create_service', kwargs: ['OS_KSADM_service'], required: ['OS_KSADM_service'], handle: createService },
  { methods: ['GET'], pattern: '/OS-KSADM/services/{service_id}', fn: 'get_service', handle: getOneService },
  { methods: ['DELETE'], pattern: '/OS-KSADM/services/{service_id}', fn: 'delete_service', handle: deleteService },
];
