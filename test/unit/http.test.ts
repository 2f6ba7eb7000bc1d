// httpRequest (and the Glance client on top of it) against a real local HTTP server: the fake Transport's
// openTcp hands back a real TCP socket to 127.0.0.1, so what is tested is real HTTP on a "tunnel".
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import crypto from 'node:crypto';
import { Readable, type Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { Transport } from '../../src/transport/ssh.ts';
import { httpRequest, HttpError } from '../../src/clients/http.ts';
import { glanceClient, GlanceError } from '../../src/clients/glance.ts';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

/** A local server whose handler the test sets; it records every request it saw. */
class Server {
  readonly seen: Seen[] = [];
  handler: Handler = (_req, res) => res.end();
  readonly srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      this.handler(req, res, body);
    });
  });
  port = 0;
  async start(): Promise<void> {
    await new Promise<void>((r) => this.srv.listen(0, '127.0.0.1', r));
    this.port = (this.srv.address() as AddressInfo).port;
  }
  stop(): Promise<void> {
    this.srv.closeAllConnections();
    return new Promise((r) => this.srv.close(() => r()));
  }
}

/** A Transport whose tunnels are TCP sockets to the local server; it records where each tunnel was asked to go. */
function fakeTransport(port: () => number, opts: { refuse?: () => boolean } = {}): Transport & { tunnels: string[] } {
  const tunnels: string[] = [];
  const no = () => Promise.reject(new Error('not in this fake'));
  return {
    host: 'fake',
    user: 'root',
    stats: { roundTrips: 0, commands: 0 },
    tunnels,
    exec: no,
    script: no,
    writeFileAtomic: no,
    openUnixSocket: no,
    execStream: no,
    openTcp(host: string, p: number): Promise<Duplex> {
      tunnels.push(`${host}:${p}`);
      if (opts.refuse?.()) return Promise.reject(new Error(`cannot open a tunnel to ${host}:${p}: (SSH) Channel open failure: Connection refused`));
      return new Promise((resolve, reject) => {
        const s = net.connect(port(), '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
    },
    close() {},
  };
}

const server = new Server();
const t = fakeTransport(() => server.port);

before(() => server.start());
after(() => server.stop());

describe('httpRequest', () => {
  test('GET: the tunnel goes to the URL host:port, headers and path arrive, JSON comes back', async () => {
    server.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-subject-token': 'tok-1' });
      res.end(JSON.stringify({ version: { id: 'v3.14' } }));
    };
    const r = await httpRequest(t, 'http://controller:5000/v3?x=1&y=a%20b', { method: 'GET', headers: { 'X-Auth-Token': 'abc', accept: 'application/json' } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { version: { id: 'v3.14' } });
    assert.equal(r.header('X-Subject-Token'), 'tok-1');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(t.tunnels.at(-1), 'controller:5000');
    const s = server.seen.at(-1)!;
    assert.equal(s.method, 'GET');
    assert.equal(s.url, '/v3?x=1&y=a%20b');
    assert.equal(s.headers['x-auth-token'], 'abc');
    assert.equal(s.headers.host, 'controller:5000');
    assert.equal(s.body.length, 0);
  });

  test('no port in the URL means 80', async () => {
    server.handler = (_req, res) => res.end('ok');
    await httpRequest(t, 'http://controller/', { method: 'GET' });
    assert.equal(t.tunnels.at(-1), 'controller:80');
  });

  test('POST a string body: content-length set, body intact, 201 and 401 are answers, not errors', async () => {
    server.handler = (req, res) => {
      res.writeHead(req.headers['x-want'] === '401' ? 401 : 201, { 'content-type': 'application/json' });
      res.end('{"error":{"code":401,"message":"no"}}');
    };
    const body = JSON.stringify({ auth: { name: 'glance', note: 'é' } });
    const ok = await httpRequest(t, 'http://controller:5000/v3/auth/tokens', { method: 'post', headers: { 'content-type': 'application/json' }, body });
    assert.equal(ok.status, 201);
    const s = server.seen.at(-1)!;
    assert.equal(s.method, 'POST');
    assert.equal(s.headers['content-length'], String(Buffer.byteLength(body)));
    assert.equal(s.body.toString(), body);
    const no = await httpRequest(t, 'http://controller:5000/v3/auth/tokens', { method: 'POST', headers: { 'x-want': '401' }, body });
    assert.equal(no.status, 401);
    assert.equal(no.json<{ error: { message: string } }>().error.message, 'no');
  });

  test('HEAD 204 and 404 resolve with their status', async () => {
    server.handler = (req, res) => {
      res.writeHead(req.url?.endsWith('/yes') ? 204 : 404);
      res.end();
    };
    assert.equal((await httpRequest(t, 'http://controller:5000/v3/projects/p/users/u/roles/yes', { method: 'HEAD' })).status, 204);
    assert.equal((await httpRequest(t, 'http://controller:5000/v3/projects/p/users/u/roles/no', { method: 'HEAD' })).status, 404);
  });

  test('json() on a body that is not JSON says which URL and status', async () => {
    server.handler = (_req, res) => {
      res.writeHead(502);
      res.end('<html>Bad Gateway</html>');
    };
    const r = await httpRequest(t, 'http://controller:9292/v2/images', { method: 'GET' });
    assert.equal(r.status, 502);
    assert.equal(r.text(), '<html>Bad Gateway</html>');
    assert.throws(() => r.json(), (e: unknown) => e instanceof HttpError && /GET http:\/\/controller:9292\/v2\/images answered 502 with a body that is not JSON/.test(e.message));
  });

  test('a Buffer body is sent whole, and progress counts up to its size', async () => {
    server.handler = (_req, res, body) => {
      res.writeHead(204, { 'x-sha256': crypto.createHash('sha256').update(body).digest('hex') });
      res.end();
    };
    const data = crypto.randomBytes(1024 * 1024 + 123);
    const progress: number[] = [];
    const r = await httpRequest(t, 'http://controller:9292/v2/images/x/file', {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: data,
      onProgress: (n) => progress.push(n),
    });
    assert.equal(r.status, 204);
    assert.equal(r.header('x-sha256'), crypto.createHash('sha256').update(data).digest('hex'));
    assert.equal(server.seen.at(-1)!.headers['content-length'], String(data.length));
    assert.equal(server.seen.at(-1)!.headers['content-type'], 'application/octet-stream');
    assert.ok(progress.length >= 16, `progress in 64 KiB steps, got ${progress.length} calls`);
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b), 'progress only grows');
    assert.equal(progress.at(-1), data.length);
  });

  test('a Readable body is streamed (chunked) and progress reaches the total', async () => {
    server.handler = (_req, res, body) => res.end(String(body.length));
    const parts = Array.from({ length: 10 }, (_, i) => Buffer.alloc(50_000, i));
    const progress: number[] = [];
    const r = await httpRequest(t, 'http://controller:9292/up', { method: 'PUT', body: Readable.from(parts), onProgress: (n) => progress.push(n) });
    assert.equal(r.text(), '500000');
    assert.equal(server.seen.at(-1)!.headers['transfer-encoding'], 'chunked');
    assert.equal(progress.at(-1), 500_000);
  });

  test('a tunnel that cannot open is an HttpError "connect" naming the URL', async () => {
    const refusing = fakeTransport(() => server.port, { refuse: () => true });
    await assert.rejects(httpRequest(refusing, 'http://controller:5000/v3', { method: 'GET' }), (e: unknown) => {
      assert.ok(e instanceof HttpError);
      assert.equal(e.kind, 'connect');
      assert.match(e.message, /cannot reach controller:5000 for GET http:\/\/controller:5000\/v3: .*Connection refused; check that the service listens on controller:5000/);
      return true;
    });
  });

  test('no answer in timeoutMs is an HttpError "timeout" naming the URL and what to do', async () => {
    server.handler = () => {}; // never answers
    const t0 = Date.now();
    await assert.rejects(httpRequest(t, 'http://controller:9292/', { method: 'GET', timeoutMs: 200 }), (e: unknown) => {
      assert.ok(e instanceof HttpError);
      assert.equal(e.kind, 'timeout');
      assert.match(e.message, /GET http:\/\/controller:9292\/ got no answer in 200 ms; check that the service behind controller:9292 runs/);
      return true;
    });
    assert.ok(Date.now() - t0 < 2000);
  });

  test('a connection dropped before any answer is an HttpError "broken"', async () => {
    server.handler = (req) => req.socket.destroy();
    await assert.rejects(httpRequest(t, 'http://controller:5000/v3', { method: 'GET' }), (e: unknown) => e instanceof HttpError && e.kind === 'broken' && /GET http:\/\/controller:5000\/v3 failed/.test(e.message));
  });

  test('other schemes and nonsense URLs are refused before any tunnel opens', async () => {
    const n = t.tunnels.length;
    await assert.rejects(httpRequest(t, 'ftp://controller:5000/v3', { method: 'GET' }), (e: unknown) => e instanceof HttpError && e.kind === 'unsupported');
    await assert.rejects(httpRequest(t, 'controller:5000', { method: 'GET' }), (e: unknown) => e instanceof HttpError && e.kind === 'unsupported');
    assert.equal(t.tunnels.length, n);
  });
});

describe('glance client on httpRequest', () => {
  const token = () => Promise.resolve('admin-token-xyz');

  test('waitUntilAnswers keeps polling through refused tunnels and 503 until the versions document (300)', async () => {
    let refusals = 3;
    let unavailable = 2;
    const flaky = fakeTransport(() => server.port, { refuse: () => refusals-- > 0 });
    server.handler = (_req, res) => {
      res.writeHead(unavailable-- > 0 ? 503 : 300, { 'content-type': 'application/json' });
      res.end('{"versions": []}');
    };
    const g = glanceClient(flaky, 'http://controller:9292/', token);
    const ms = await g.waitUntilAnswers(5000);
    assert.ok(ms >= 400, `5 failed polls 100 ms apart take >= 400 ms, took ${ms}`);
    assert.equal(flaky.tunnels.length, 6);
    assert.equal(server.seen.at(-1)!.headers['x-auth-token'], undefined, 'GET / needs no token');
  });

  test('waitUntilAnswers gives up after its limit and says what it saw last', async () => {
    const refusing = fakeTransport(() => server.port, { refuse: () => true });
    const g = glanceClient(refusing, 'http://controller:9292', token);
    await assert.rejects(g.waitUntilAnswers(350), (e: unknown) => {
      assert.ok(e instanceof GlanceError);
      assert.match(e.message, /glance-api did not answer at http:\/\/controller:9292 within 350 ms \(last: cannot reach controller:9292/);
      return true;
    });
  });

  test('create, upload with progress, get, delete: paths, token and content types', async () => {
    const images = new Map<string, { status: string; size: number | null; checksum: string | null }>();
    server.handler = (req, res, body) => {
      const m = /^\/v2\/images(?:\/([^/]+))?(\/file)?$/.exec(req.url ?? '');
      const json = (code: number, o: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(o));
      };
      if (req.method === 'POST' && m && !m[1]) {
        images.set('img-1', { status: 'queued', size: null, checksum: null });
        return json(201, { id: 'img-1', name: JSON.parse(body.toString()).name, status: 'queued', visibility: 'private', extra: 'dropped' });
      }
      if (req.method === 'PUT' && m?.[2]) {
        images.set(m[1]!, { status: 'active', size: body.length, checksum: crypto.createHash('md5').update(body).digest('hex') });
        res.writeHead(204);
        return res.end();
      }
      if (req.method === 'GET' && m?.[1]) {
        const i = images.get(m[1]);
        return i ? json(200, { id: m[1], visibility: 'private', ...i }) : json(404, { message: 'not found' });
      }
      if (req.method === 'DELETE' && m?.[1]) {
        images.delete(m[1]);
        res.writeHead(204);
        return res.end();
      }
      json(400, {});
    };
    const g = glanceClient(t, 'http://controller:9292/v2', token);
    assert.equal(g.endpointUrl, 'http://controller:9292');
    const img = await g.createImage({ name: 'cirros-check', disk_format: 'raw', container_format: 'bare', visibility: 'private' });
    assert.deepEqual(img, { id: 'img-1', name: 'cirros-check', status: 'queued', checksum: null, os_hash_algo: null, os_hash_value: null, size: null, virtual_size: null, disk_format: null, container_format: null, visibility: 'private' });
    assert.equal(server.seen.at(-1)!.headers['content-type'], 'application/json');
    assert.equal(server.seen.at(-1)!.headers['x-auth-token'], 'admin-token-xyz');

    const data = crypto.randomBytes(200_000);
    const progress: number[] = [];
    await g.uploadImage(img.id, data, (n) => progress.push(n));
    assert.equal(server.seen.at(-1)!.url, '/v2/images/img-1/file');
    assert.equal(server.seen.at(-1)!.headers['content-type'], 'application/octet-stream');
    assert.equal(progress.at(-1), data.length);

    const got = await g.getImage(img.id);
    assert.equal(got?.status, 'active');
    assert.equal(got?.size, data.length);
    assert.equal(got?.checksum, crypto.createHash('md5').update(data).digest('hex'));
    await g.deleteImage(img.id);
    assert.equal(await g.getImage(img.id), undefined);
    assert.equal(g.requests, 5);

    // A stream (verify --image): sent as read, with the Content-Length given, not chunked.
    const big = crypto.randomBytes(300_000);
    const streamed: number[] = [];
    const chunks = function* () {
      for (let i = 0; i < big.length; i += 50_000) yield big.subarray(i, i + 50_000);
    };
    await g.uploadImage('img-2', Readable.from(chunks()), (n) => streamed.push(n), big.length);
    const put = server.seen.at(-1)!;
    assert.equal(put.headers['content-length'], String(big.length));
    assert.equal(put.headers['transfer-encoding'], undefined);
    assert.ok(put.body.equals(big));
    assert.equal(streamed.at(-1), big.length);
    assert.ok(streamed.length >= 6, 'progress as each chunk goes');
    assert.equal((await g.getImage('img-2'))?.checksum, crypto.createHash('md5').update(big).digest('hex'));
  });

  test('images with a tag: the tag is a query parameter, encoded', async () => {
    server.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ images: [{ id: 'left-1', name: 'install-glance-verify-1', status: 'queued', visibility: 'private' }] }));
    };
    const g = glanceClient(t, 'http://controller:9292', token);
    const left = await g.listImages(20, 'install glance/verify');
    assert.equal(server.seen.at(-1)!.url, '/v2/images?limit=20&tag=install%20glance%2Fverify');
    assert.deepEqual(left.map((i) => [i.id, i.status]), [['left-1', 'queued']]);
  });

  test('an unexpected status names the request and Glance\'s words, never the token', async () => {
    server.handler = (_req, res) => {
      res.writeHead(401, { 'content-type': 'text/html' });
      res.end('<html><body><h1>401 Unauthorized</h1>token admin-token-xyz is invalid</body></html>');
    };
    const g = glanceClient(t, 'http://controller:9292', token);
    await assert.rejects(g.listImages(5), (e: unknown) => {
      assert.ok(e instanceof GlanceError);
      assert.match(e.message, /^Glance: GET \/v2\/images\?limit=5 answered 401: 401 Unauthorized token \[secret\] is invalid$/);
      assert.doesNotMatch(e.message + e.hint, /admin-token-xyz/);
      return true;
    });
  });
});
