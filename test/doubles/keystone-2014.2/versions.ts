// GET /v2.0 on either port: the v2.0 version document. keystone/service.py public_app_factory and
// admin_app_factory both mount routers.VersionV2 (keystone/routers.py: mapper.connect('/',
// action='get_version_v2'), with no method condition), whose keystone/controllers.py
// Version.get_version_v2 renders {"version": _get_versions_list()['v2.0']} with status 200. The self link
// is base_url(): [DEFAULT] public_endpoint / admin_endpoint, unset in the guide's keystone.conf, so the
// host the request came to, plus '/v2.0/'.
import type { Ctx, Route } from './app.ts';
import { ok } from './app.ts';
import type { Answer } from './errors.ts';

/** keystone/controllers.py MEDIA_TYPE_JSON / MEDIA_TYPE_XML and the v2.0 entry of Version._get_versions_list. */
export function v2VersionDocument(hostUrl: string): Record<string, unknown> {
  return {
    id: 'v2.0',
    status: 'stable',
    updated: '2014-04-17T00:00:00Z',
    links: [
      { rel: 'self', href: `${hostUrl.replace(/\/+$/, '')}/v2.0/` },
      { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' },
    ],
    'media-types': [
      { base: 'application/json', type: 'application/vnd.openstack.identity-v2.0+json' },
      { base: 'application/xml', type: 'application/vnd.openstack.identity-v2.0+xml' },
    ],
  };
}

function getVersionV2(ctx: Ctx): Answer {
  return ok({ version: v2VersionDocument(ctx.hostUrl) });
}

export const v2VersionRoutes: Route[] = [
  { methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], pattern: '/', fn: 'get_version_v2', handle: getVersionV2 },
];
