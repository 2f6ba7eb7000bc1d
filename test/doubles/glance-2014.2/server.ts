// A conformance double of glance-api 2014.2 (Juno), v2 image API, for the calls `verify` makes: create,
// upload, show, delete, list. No Juno Glance can run here; each answer follows the 2014.2 source
// (openstack/glance tag 2014.2, commit 742c898956d6):
// - glance/api/v2/images.py ResponseSerializer._format_image: the image view has name, disk_format,
//   container_format, visibility, size, virtual_size, status, checksum, protected, min_ram, min_disk, owner,
//   id, created_at, updated_at, tags, self, file, schema, and then glance/schema.py Schema.filter drops every
//   key whose value is None: a new image has no size and no checksum, and virtual_size is never set on
//   upload (glance/location.py ImageProxy.set_data sets locations, size, checksum, status only), so it never
//   shows. No os_hash_algo / os_hash_value: multihash came in Rocky.
// - create answers 201 with the view (ResponseSerializer.create); visibility public is enforced by policy
//   publicize_image, "role:admin" in etc/policy.json (glance/api/policy.py ImageFactoryProxy.new_image):
//   403 otherwise.
// - upload (glance/api/v2/image_data.py): Content-Type must be application/octet-stream (415 otherwise);
//   the body is stored as it came; status saving then active; checksum is the md5 of the bytes
//   (glance_store's filesystem store, add()); answers 204.
// - show 200 / 404; delete 204 / 404 (images.py ImagesController.delete); list 200 {images, first, schema}.
// - every request needs X-Auth-Token (keystonemiddleware's auth_token before the app): 401 without.
// Errors are webob's plain text pages of that time ("403 Forbidden\n\n<explanation>\n\n").
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredImage {
  view: Record<string, unknown>;
  bytes?: Buffer;
}

export interface GlanceDouble {
  port: number;
  /** By id: what the store holds (the test's stand-in for /var/lib/glance/images/ID). */
  images: Map<string, StoredImage>;
  /** Every request: method, path, Content-Type, Content-Length, Transfer-Encoding. */
  seen: { method: string; path: string; contentType?: string; contentLength?: string; transferEncoding?: string; status: number }[];
  close(): Promise<void>;
}

export interface GlanceDoubleConfig {
  /** Tokens that carry the admin role (the glance user has admin on service in the guide). */
  adminTokens: string[];
  /** Tokens of users without it. */
  memberTokens?: string[];
}

const OWNER = 'f7ac731cc11f40efbc03a9f9e1d1d21f';

export async function startGlanceDouble(cfg: GlanceDoubleConfig): Promise<GlanceDouble> {
  const images = new Map<string, StoredImage>();
  const seen: GlanceDouble['seen'] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://glance');
      const send = (status: number, json?: unknown, text?: string) => {
        seen.push({ method: req.method ?? '', path: url.pathname, contentType: req.headers['content-type'], contentLength: req.headers['content-length'], transferEncoding: req.headers['transfer-encoding'], status });
        if (json !== undefined) {
          res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
          res.end(JSON.stringify(json));
        } else if (text !== undefined) {
          res.writeHead(status, { 'content-type': 'text/plain; charset=UTF-8' });
          res.end(`${status} ${http.STATUS_CODES[status]}\n\n${text}\n\n   `);
        } else {
          res.writeHead(status);
          res.end();
        }
      };
      const token = req.headers['x-auth-token'];
      const admin = typeof token === 'string' && cfg.adminTokens.includes(token);
      if (!admin && !(typeof token === 'string' && cfg.memberTokens?.includes(token))) return send(401, undefined, 'This server could not verify that you are authorized to access the document you requested.');
      const m = /^\/v2\/images(?:\/([^/]+)(\/file)?)?$/.exec(url.pathname);
      if (!m) return send(404, undefined, 'The resource could not be found.');
      const [, id, file] = m;
      const image = id ? images.get(id) : undefined;

      if (req.method === 'GET' && !id) {
        const limit = Number(url.searchParams.get('limit') ?? 25);
        // glance/api/v2/images.py RequestDeserializer.index: every `tag` parameter is a filter (images.py
        // 553-573); glance/db/sqlalchemy/api.py 437-439 keeps the images that have each of them.
        const tags = url.searchParams.getAll('tag').map((t) => t.trim());
        const listed = [...images.values()].filter((i) => tags.every((t) => (i.view.tags as string[]).includes(t)));
        return send(200, { images: listed.slice(0, limit).map((i) => filtered(i.view)), first: `/v2/images?limit=${limit}`, schema: '/v2/schemas/images' });
      }
      if (req.method === 'POST' && !id) {
        const want = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
        if (want.visibility === 'public' && !admin) return send(403, undefined, 'You are not authorized to complete this action.');
        const newId = crypto.randomUUID();
        const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        const view: Record<string, unknown> = {
          name: want.name ?? null, disk_format: want.disk_format ?? null, container_format: want.container_format ?? null,
          visibility: want.visibility ?? 'private', size: null, virtual_size: null, status: 'queued', checksum: null, protected: false,
          // images.py RequestDeserializer.create: `tags` from the body (images.py 322), kept with the image.
          min_ram: 0, min_disk: 0, owner: OWNER, id: newId, created_at: now, updated_at: now, tags: Array.isArray(want.tags) ? want.tags : [],
          self: `/v2/images/${newId}`, file: `/v2/images/${newId}/file`, schema: '/v2/schemas/image',
        };
        images.set(newId, { view });
        return send(201, filtered(view));
      }
      if (!image) return send(404, undefined, id ? `No image found with ID ${id}` : 'The resource could not be found.');
      if (req.method === 'PUT' && file) {
        if (req.headers['content-type'] !== 'application/octet-stream') return send(415, undefined, `Unsupported Content-Type`);
        image.bytes = body;
        Object.assign(image.view, { status: 'active', size: body.length, checksum: crypto.createHash('md5').update(body).digest('hex') });
        return send(204);
      }
      if (req.method === 'GET' && !file) return send(200, filtered(image.view));
      if (req.method === 'DELETE' && !file) {
        images.delete(id!);
        return send(204);
      }
      return send(405, undefined, 'The method is not allowed for this resource.');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    images,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** glance/schema.py Schema.filter: keys of the schema whose value is not None. */
function filtered(view: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(view).filter(([, v]) => v !== null && v !== undefined));
}
