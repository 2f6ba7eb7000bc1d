// The seed's verify on a real bookworm controller (Glance 25): a fresh apply's closing check uploads what
// the guide uploads (a qcow2, bare, public) and Glance's own format inspection reads its virtual size; a
// converged re-apply only lists images (no upload, no write); `verify --image FILE` sends an operator's
// image streamed from disk, with its format read from its header, and removes it, or with --keep leaves it
// in Glance (active, its bytes in the store) and says its id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, labSsh, explain, useLab, type CliResult, GLANCE_DEPS } from './helpers.ts';
import type { HostReport } from '../../src/engine/report-model.ts';
import { makeQcow2 } from '../../src/images/qcow2.ts';
import { reportErrors } from '../report-schema.ts';

const LAB = 'vi-verify';
const fixture = useLab(LAB, GLANCE_DEPS);

async function cli(args: string[], timeoutMs = 600_000): Promise<CliResult & { report?: HostReport; doc?: unknown }> {
  const r = await runCli([...args, '--lab', LAB, '--json'], { env: fixture.env, timeoutMs });
  try {
    const doc = JSON.parse(r.stdout) as { hosts: HostReport[] };
    return { ...r, report: doc.hosts[0], doc };
  } catch {
    return r;
  }
}

async function sh(command: string): Promise<string> {
  const r = await labSsh(fixture.lab(), command);
  assert.equal(r.code, 0, explain(command, r));
  return r.stdout;
}

/** glance-api's own account of its uploads and requests, from the lines added since `since` lines. */
const apiLog = async () => sh('cat /var/log/glance/glance-api.log');
const admin = (cmd: string) => sh(`. /root/openstack/admin-openrc.sh && ${cmd}`);

test('a fresh apply ends with the guide\'s upload: qcow2, bare, public, its virtual size read by Glance, then removed', async () => {
  const r = await cli(['apply']);
  assert.equal(r.code, 0, explain('apply', r));
  assert.deepEqual(reportErrors(r.doc), []);
  const v = r.report!.verify!;
  assert.equal(v.kind, 'upload');
  assert.equal(v.source, 'generated');
  assert.equal(v.diskFormat, 'qcow2');
  assert.equal(v.containerFormat, 'bare');
  assert.equal(v.visibility, 'public');
  assert.equal(v.size, 21 * 65536);
  assert.equal(v.virtualSize, 1 << 20);
  assert.equal(v.osHashAlgo, 'sha512');
  assert.match(String(v.osHashValue), /^[0-9a-f]{128}$/);
  assert.equal(v.kept, false);
  assert.match(v.summary, /active, qcow2 \(virtual size 1048576 bytes, read by Glance\), 1376256 bytes, md5 [0-9a-f]{32}, sha512 matches, public, .*then deleted/);
  // Glance 25's in-flight inspection (glance/location.py) said so itself.
  assert.match(await apiLog(), /Image format matched and virtual size computed: 1048576/);
  assert.equal((await sh(`test -e ${String(v.storeFile)} && echo present || echo gone`)).trim(), 'gone');
  assert.equal((await admin('openstack image list -f value -c ID')).trim(), '', 'no image left behind');
});

test('a converged re-apply lists images and uploads nothing', async () => {
  const before = (await apiLog()).split('\n').length;
  const r = await cli(['apply']);
  assert.equal(r.code, 0, explain('apply', r));
  assert.equal(r.report!.changed, 0);
  assert.equal(r.report!.verify!.kind, 'list');
  const added = (await apiLog()).split('\n').slice(before - 1).join('\n');
  // The list asks for what an earlier check cut off may have left (by the checks' tag).
  assert.match(added, /"GET \/v2\/images\?limit=20&tag=install-glance-verify HTTP\/1\.1" 200/);
  assert.doesNotMatch(added, /POST \/v2\/images|PUT \/v2\/images/);
});

test('verify --image FILE: an operator\'s qcow2 of 8 MiB, streamed, checked, then removed', async () => {
  const file = path.join(fixture.tmp, 'guest.qcow2');
  const guest = Buffer.alloc(16 << 20);
  crypto.randomBytes(8 << 20).copy(guest, 4 << 20);
  fs.writeFileSync(file, makeQcow2(guest));
  const size = fs.statSync(file).size;
  const r = await cli(['verify', '--image', file]);
  assert.equal(r.code, 0, explain('verify --image', r));
  assert.deepEqual(reportErrors(r.doc), []);
  const v = r.report!.verify!;
  assert.equal(v.source, file);
  assert.equal(v.name, 'guest.qcow2');
  assert.equal(v.diskFormat, 'qcow2');
  assert.equal(v.size, size);
  assert.equal(v.virtualSize, 16 << 20);
  assert.equal(v.checksum, crypto.createHash('md5').update(fs.readFileSync(file)).digest('hex'));
  assert.equal(v.kept, false);
  assert.ok(r.report!.notes.some((n) => n === `image ${file}: qcow2 version 3, uploaded as disk_format qcow2 (--disk-format to choose another)`), r.report!.notes.join('\n'));
  assert.match(r.stderr, /verify upload \[#{30}\] 100% of \d+ bytes/);
  assert.equal((await admin('openstack image list -f value -c ID')).trim(), '');
});

test('verify --image FILE --keep: the image stays, active with the file\'s bytes, and its id is said', async () => {
  const file = path.join(fixture.tmp, 'disk.raw');
  const data = crypto.randomBytes(3 << 20);
  fs.writeFileSync(file, data);
  const r = await cli(['verify', '--image', file, '--keep']);
  assert.equal(r.code, 0, explain('verify --image --keep', r));
  const v = r.report!.verify!;
  const id = String(v.imageId);
  assert.equal(v.kept, true);
  assert.equal(v.diskFormat, 'raw');
  assert.equal(v.virtualSize, data.length, 'a raw image\'s virtual size is its bytes');
  assert.match(v.summary, new RegExp(`kept: remove it with openstack image delete ${id}`));
  const shown = JSON.parse(await admin(`openstack image show ${id} -f json`)) as Record<string, unknown>;
  assert.equal(shown.status, 'active');
  assert.equal(shown.disk_format, 'raw');
  assert.equal(shown.container_format, 'bare');
  assert.equal(shown.visibility, 'public');
  assert.equal(shown.name, 'disk.raw');
  assert.equal(shown.checksum, crypto.createHash('md5').update(data).digest('hex'));
  assert.equal((await sh(`md5sum /var/lib/glance/images/${id}`)).split(' ')[0], shown.checksum);
  await admin(`openstack image delete ${id}`);
  assert.equal((await sh(`test -e /var/lib/glance/images/${id} && echo present || echo gone`)).trim(), 'gone');
});
