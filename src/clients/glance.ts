// Glance v2 over the host's SSH connection: enough to see that the API answers after a restart and to
// upload a small image for `verify`. The token comes from the Keystone client of the same run.
import type { Readable } from 'node:stream';
import { ApiError } from './api-error.ts';
import type { Transport } from '../transport/ssh.ts';
import { HttpError, type HttpResponse, type TlsTrust } from './http.ts';
import { ApiCaller, type SendOptions } from './api-call.ts';

export interface GlanceImage {
  id: string;
  name: string | null;
  status: string; // queued, saving, active, killed, deleted, pending_delete, uploading, importing
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  size: number | null;
  /** Set by Glance's format inspection on upload (Glance 21 and later); null before, or when it could not tell. */
  virtual_size: number | null;
  disk_format: string | null;
  container_format: string | null;
  visibility: string;
}

export interface NewImage {
  name: string;
  disk_format: string;
  container_format: string;
  visibility: 'public' | 'private' | 'shared' | 'community';
  tags?: string[];
}

export interface GlanceClient {
  /** Normalised: no trailing slash, no /v2. */
  readonly endpointUrl: string;
  readonly requests: number;
  /** GET /v2/images, at most `limit`, only those with the tag when one is given. */
  listImages(limit?: number, tag?: string): Promise<GlanceImage[]>;
  createImage(img: NewImage): Promise<GlanceImage>;
  /**
   * PUT /v2/images/{id}/file as application/octet-stream, 64 KiB at a time; onProgress gets the bytes sent so
   * far. A stream is sent as it is read, never held whole: `size` is its length (the Content-Length).
   */
  uploadImage(id: string, data: Buffer | Readable, onProgress?: (bytesSent: number) => void, size?: number): Promise<void>;
  /** undefined when Glance does not know the image (404). */
  getImage(id: string): Promise<GlanceImage | undefined>;
  /** An image already gone is not an error. */
  deleteImage(id: string): Promise<void>;
  /**
   * Polls GET / (the versions document: 300, or 200) every 100 ms until glance-api answers; resolves with
   * the milliseconds it took, throws after timeoutMs with the last thing seen.
   */
  waitUntilAnswers(timeoutMs: number): Promise<number>;
}

/** Glance said no, or could not be reached. */
export class GlanceError extends ApiError {}

const LOG_HINT = 'look at glance-api on the controller (/var/log/glance/glance-api.log, its service status)';

export function glanceClient(t: Transport, endpointUrl: string, token: () => Promise<string>, opts: { timeoutMs?: number; tls?: TlsTrust } = {}): GlanceClient {
  const base = endpointUrl.replace(/\/+$/, '').replace(/\/v2(\.\d+)?$/, '');
  const c = new ApiCaller(t, {
    api: 'Glance',
    daemon: 'glance-api',
    base,
    timeoutMs: opts.timeoutMs,
    tls: opts.tls,
    makeError: (m, h, r, cause) => new GlanceError(m, h, r, cause),
    connectHint: () => LOG_HINT,
    timeoutHint: LOG_HINT,
  });
  const timeoutMs = c.timeoutMs;

  async function send(method: string, path: string, o: Omit<SendOptions, 'token'> & { auth?: boolean } = {}): Promise<{ res: HttpResponse; tok: string }> {
    const tok = o.auth === false ? '' : await token();
    return { res: await c.send(method, path, { ...o, token: tok }), tok };
  }

  async function call(method: string, path: string, expect: number[], o: Parameters<typeof send>[2] = {}): Promise<HttpResponse> {
    const { res, tok } = await send(method, path, o);
    if (expect.includes(res.status)) return res;
    throw c.unexpected(method, path, res, [tok], res.status === 401 ? 'the token was refused: check [keystone_authtoken] in glance-api.conf (password, region_name, www_authenticate_uri/auth_url)' : LOG_HINT);
  }

  const seg = encodeURIComponent;

  return {
    endpointUrl: base,
    get requests() {
      return c.requests;
    },
    async listImages(limit = 25, tag?: string) {
      const res = await call('GET', `/v2/images?limit=${limit}${tag ? `&tag=${seg(tag)}` : ''}`, [200]);
      return (res.json<{ images?: GlanceImage[] }>().images ?? []).map(pickImage);
    },
    async createImage(img) {
      const res = await call('POST', '/v2/images', [201], { json: img });
      return pickImage(res.json<GlanceImage>());
    },
    async uploadImage(id, data, onProgress, size) {
      const contentLength = Buffer.isBuffer(data) ? data.length : size;
      // Long silences are normal at the end of an upload (the store writes and hashes), so allow more.
      await call('PUT', `/v2/images/${seg(id)}/file`, [204], {
        body: data, contentType: 'application/octet-stream', onProgress, timeoutMs: Math.max(timeoutMs, 120_000), ...(contentLength === undefined ? {} : { contentLength }),
      });
    },
    async getImage(id) {
      const res = await call('GET', `/v2/images/${seg(id)}`, [200, 404]);
      return res.status === 404 ? undefined : pickImage(res.json<GlanceImage>());
    },
    async deleteImage(id) {
      await call('DELETE', `/v2/images/${seg(id)}`, [204, 404]);
    },
    async waitUntilAnswers(limitMs) {
      const start = Date.now();
      let last = 'nothing tried yet';
      for (;;) {
        const left = limitMs - (Date.now() - start);
        if (left <= 0) break;
        try {
          const { res } = await send('GET', '/', { auth: false, timeoutMs: Math.min(left, 2_000) });
          if (res.status === 300 || res.status === 200) return Date.now() - start;
          last = `it answered ${res.status}`;
        } catch (e) {
          last = e instanceof GlanceError && e.cause instanceof HttpError ? e.cause.message.split(';')[0] ?? e.message : (e as Error).message;
        }
        const pause = Math.min(100, limitMs - (Date.now() - start));
        if (pause > 0) await new Promise((r) => setTimeout(r, pause));
      }
      throw new GlanceError(`glance-api did not answer at ${base} within ${limitMs} ms (last: ${last})`, `${LOG_HINT}; a service that started is not always ready`, { method: 'GET', path: '/' });
    },
  };
}

function pickImage(i: GlanceImage): GlanceImage {
  return {
    id: i.id,
    name: i.name ?? null,
    status: i.status,
    checksum: i.checksum ?? null,
    os_hash_algo: i.os_hash_algo ?? null,
    os_hash_value: i.os_hash_value ?? null,
    size: i.size ?? null,
    virtual_size: i.virtual_size ?? null,
    disk_format: i.disk_format ?? null,
    container_format: i.container_format ?? null,
    visibility: i.visibility,
  };
}
