// The closing check on the juno profile, against the glance-api 2014.2 double (no Juno Glance runs here):
// the generated qcow2 goes up through the v2 API as the guide's image does (qcow2, bare, public), Juno's
// answers (no virtual_size, no os_hash_*) pass, the store file is looked at and gone after the delete;
// `verify --image FILE` streams the file with a Content-Length, keeps it with --keep; what Juno refuses
// (a non-admin making a public image) and a store that returns other bytes fail, named.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { HostSession } from '../../src/engine/host.ts';
import type { Provider } from '../../src/engine/providers.ts';
import type { KeystoneSession } from '../../src/providers/keystone.ts';
import { EngineError } from '../../src/engine/errors.ts';
import { checkGlance, type VerifyTarget } from '../../playbooks/glance/verify.ts';
import { profiles } from '../../playbooks/glance/profiles.ts';
import { readQcow2Header } from '../../src/images/qcow2.ts';
import { FakeTransport, ok, fail } from './fake-transport.ts';
import { startGlanceDouble, type GlanceDouble } from '../doubles/glance-2014.2/server.ts';

let d: GlanceDouble;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-verify-juno-'));
before(async () => {
  d = await startGlanceDouble({ adminTokens: ['ADMIN-TOKEN'], memberTokens: ['MEMBER-TOKEN'] });
});
after(async () => {
  await d.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

const STORE = '/var/lib/glance/images/';

/** The controller: tunnels to controller:9292 reach the double; stat/test on the store answer from what it holds. */
function controller(): FakeTransport {
  return new FakeTransport({
    answer: (cmd) => {
      const [prog, ...args] = cmd.argv;
      const file = args[args.length - 1] ?? '';
      const id = file.startsWith(STORE) ? file.slice(STORE.length) : '';
      const held = d.images.get(id)?.bytes;
      if (prog === 'stat') return held ? ok(`glance ${held.length}\n`) : fail(`stat: cannot statx '${file}': No such file or directory`);
      if (prog === 'test') return held ? fail('') : ok();
      if (prog === 'tail') return ok('2014-10-16 10:00:00.000 1234 INFO glance.wsgi.server [-] (1234) accepted\n');
      return fail(`not on this fake: ${cmd.argv.join(' ')}`);
    },
    openTcp: (host: string, port: number) => {
      if (host !== 'controller' || port !== 9292) return Promise.reject(new Error(`cannot open a tunnel to ${host}:${port}: (SSH) Channel open failure: Connection refused`));
      return new Promise<Duplex>((resolve, reject) => {
        const s = net.connect(d.port, '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
    },
  });
}

const keystone = (token: string): Provider<KeystoneSession> => ({
  key: `keystone-${token}`,
  open: async () => ({ reader: async () => ({ token: async () => token }) }) as unknown as KeystoneSession,
});

function target(extra: Partial<VerifyTarget> = {}): VerifyTarget {
  return { endpoint: 'http://controller:9292', keystone: keystone('ADMIN-TOKEN'), log: '/var/log/glance/api.log', uploads: profiles.juno.uploads, ...extra };
}

function host() {
  const progress: string[] = [];
  const h = new HostSession('controller', controller(), (l) => progress.push(l));
  return { h, progress };
}

test('the juno profile: Glance 2014.2 neither inspects uploads nor computes os_hash', () => {
  assert.deepEqual(profiles.juno.uploads, { inspection: 'none', multihash: false });
  assert.deepEqual(profiles.bookworm.uploads, { inspection: 'virtual-size', multihash: true });
  assert.deepEqual(profiles.trixie.uploads, { inspection: 'enforced', multihash: true });
});

test('the generated qcow2 goes up as the guide\'s image does, passes on Juno\'s answers, and is deleted with its file', async () => {
  d.seen.length = 0;
  const { h, progress } = host();
  const r = await checkGlance(h, target(), { full: true });
  assert.equal(r.kind, 'upload');
  assert.equal(r.ok, true);
  assert.equal(r.diskFormat, 'qcow2');
  assert.equal(r.containerFormat, 'bare');
  assert.equal(r.visibility, 'public');
  assert.equal(r.size, 21 * 65536);
  assert.equal(r.virtualSize, undefined, 'Juno reports none');
  assert.equal(r.osHashValue, undefined, 'Juno has no multihash');
  assert.equal(r.kept, false);
  assert.match(r.summary, /^image [0-9a-f-]{36}: active, qcow2, 1376256 bytes, md5 [0-9a-f]{32}, public, file in the store owned by glance, then deleted/);
  assert.equal(d.images.size, 0, 'deleted');
  // First the images an earlier check left (by their tag), then the check's own.
  assert.deepEqual(d.seen.map((s) => `${s.method} ${s.path.replace(/[0-9a-f-]{36}/, 'ID')} ${s.status}`), ['GET /v2/images 200', 'POST /v2/images 201', 'PUT /v2/images/ID/file 204', 'GET /v2/images/ID 200', 'DELETE /v2/images/ID 204']);
  const put = d.seen.find((s) => s.method === 'PUT')!;
  assert.equal(put.contentType, 'application/octet-stream');
  assert.equal(put.contentLength, String(21 * 65536));
  assert.equal(put.transferEncoding, undefined);
  assert.match(progress.at(-1)!, /^verify upload \[#{30}\] 100% of 1376256 bytes$/);
});

test('verify --image FILE --keep: the file streamed with its length, its format from its header, kept with its id said', async () => {
  const file = path.join(scratch, 'cirros-like.img');
  // A raw disk with an MBR: the header detection says raw.
  const data = crypto.randomBytes(300 * 1024);
  data[510] = 0x55;
  data[511] = 0xaa;
  fs.writeFileSync(file, data);
  d.seen.length = 0;
  const { h } = host();
  const r = await checkGlance(h, target({ image: { path: file }, keep: true }), { full: true });
  assert.equal(r.diskFormat, 'raw');
  assert.equal(r.source, file);
  assert.equal(r.name, 'cirros-like.img');
  assert.equal(r.kept, true);
  assert.equal(r.checksum, crypto.createHash('md5').update(data).digest('hex'));
  assert.match(r.summary, new RegExp(`kept: remove it with openstack image delete ${String(r.imageId)}`));
  assert.ok(h.notes.some((n) => /cirros-like\.img: an MBR-partitioned disk, uploaded as disk_format raw \(--disk-format to choose another\)/.test(n)), h.notes.join('\n'));
  const stored = d.images.get(String(r.imageId));
  assert.ok(stored?.bytes?.equals(data), 'the double holds the bytes of the file');
  assert.equal(d.seen.find((s) => s.method === 'PUT')!.contentLength, String(data.length));
  assert.equal(d.seen.some((s) => s.method === 'DELETE'), false);
  // A kept image is the operator's: no tag, so no later check takes it for one a dead check left.
  assert.deepEqual(stored?.view.tags, []);
  const again = await checkGlance(host().h, target(), { full: true });
  assert.equal(again.removedLeftovers, undefined);
  assert.ok(d.images.has(String(r.imageId)), 'still there after the next check');
  d.images.clear();
});

test('an image a check cut off left behind (tagged): noted by a converged run\'s list, removed by the next upload check', async () => {
  // What a run killed during its upload leaves: the check's image, queued, with the check's tag.
  const left = await fetch(`http://127.0.0.1:${d.port}/v2/images`, {
    method: 'POST', headers: { 'x-auth-token': 'ADMIN-TOKEN', 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'install-glance-verify-1', disk_format: 'qcow2', container_format: 'bare', visibility: 'public', tags: ['install-glance-verify'] }),
  }).then((r) => r.json() as Promise<{ id: string }>);
  const other = await fetch(`http://127.0.0.1:${d.port}/v2/images`, {
    method: 'POST', headers: { 'x-auth-token': 'ADMIN-TOKEN', 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'cirros', disk_format: 'qcow2', container_format: 'bare', visibility: 'public' }),
  }).then((r) => r.json() as Promise<{ id: string }>);
  const quick = host();
  const list = await checkGlance(quick.h, target(), { full: false });
  assert.equal(list.kind, 'list');
  assert.ok(quick.h.notes.includes(`1 image an earlier check left behind (${left.id}): the next upload check (verify) removes it`), quick.h.notes.join('\n'));
  assert.ok(d.images.has(left.id), 'a converged run writes nothing');
  const full = await checkGlance(host().h, target(), { full: true });
  assert.deepEqual(full.removedLeftovers, [left.id]);
  assert.match(full.summary, /; removed 1 image an earlier check left behind$/);
  assert.deepEqual([...d.images.keys()], [other.id], 'only the tagged image went');
  d.images.clear();
});

test('--disk-format against the header: said as a warning, uploaded as given', async () => {
  const file = path.join(scratch, 'disk.qcow2');
  fs.writeFileSync(file, (await import('../../src/images/qcow2.ts')).makeQcow2(crypto.randomBytes(65536)));
  assert.equal(readQcow2Header(fs.readFileSync(file)).version, 3);
  const { h } = host();
  const r = await checkGlance(h, target({ image: { path: file, diskFormat: 'raw' } }), { full: true });
  assert.equal(r.diskFormat, 'raw');
  assert.ok(h.notes.some((n) => /^warning: image .*disk\.qcow2: disk_format raw as given, but its header says qcow2 version 3$/.test(n)), h.notes.join('\n'));
});

test('a user without admin cannot make a public image on Juno: the check fails at create, naming Glance\'s answer', async () => {
  const { h } = host();
  await assert.rejects(checkGlance(h, target({ keystone: keystone('MEMBER-TOKEN') }), { full: true }), (e: unknown) =>
    e instanceof EngineError && e.step === 'verify' && /POST \/v2\/images answered 403: 403 Forbidden You are not authorized to complete this action/.test(e.message));
  assert.equal(d.images.size, 0);
});

test('a store that hands back other bytes fails the check, and the image is removed even with --keep', async () => {
  const { h } = host();
  // The store's file is one byte short of what was sent.
  const real = h.t.exec.bind(h.t);
  h.t.exec = async (argv, o) => {
    const r = await real(argv, o);
    return argv[0] === 'stat' && r.code === 0 ? { ...r, stdout: r.stdout.replace(/(\d+)\n$/, (_, n: string) => `${Number(n) - 1}\n`) } : r;
  };
  await assert.rejects(checkGlance(h, target({ keep: true }), { full: true }), /the image file \/var\/lib\/glance\/images\/[0-9a-f-]+ is owned by glance, 1376255 bytes \(1376256 were sent\)/);
  assert.equal(d.images.size, 0, 'removed after the failure, --keep or not');
});

test('a token glance-api refuses (401): verify names [keystone_authtoken]; after an apply, the quick check says to apply again', async () => {
  await assert.rejects(checkGlance(host().h, target({ keystone: keystone('UNKNOWN-TOKEN') }), { full: true }), (e: unknown) =>
    e instanceof EngineError && /answered 401/.test(e.message) && /\[keystone_authtoken\]/.test(e.hint));
  await assert.rejects(checkGlance(host().h, target({ keystone: keystone('UNKNOWN-TOKEN') }), { full: false }), (e: unknown) =>
    e instanceof EngineError && /answered 401/.test(e.message) && /^run "install-glance apply" to repair/.test(e.hint));
});

test('a converged re-run only lists images: no upload', async () => {
  d.seen.length = 0;
  const { h } = host();
  const r = await checkGlance(h, target(), { full: false });
  assert.equal(r.kind, 'list');
  assert.deepEqual(d.seen.map((s) => `${s.method} ${s.path}`), ['GET /v2/images']);
});
