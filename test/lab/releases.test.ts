// The other Debian releases the lab builds, end to end: trixie (glance 30: enabled_backends, [fs],
// staging and tasks stores, head 2024_1_contract01) and bullseye (glance 21 under uwsgi, MariaDB 10.5)
// install, verify (the guide's qcow2 through each release's format inspection), and re-apply with nothing
// to do; trixie refuses an image whose bytes are not its disk_format, and the run says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, labSsh, explain, useLab } from './helpers.ts';
import type { HostReport } from '../../src/engine/report-model.ts';

const cases = [
  { release: 'trixie', head: '2024_1_contract01', store: /^enabled_backends = fs:file/m },
  { release: 'bullseye', head: 'ussuri_contract01', store: /^default_store = file/m },
].map((c) => ({ ...c, lab: `t-${c.release}`, fixture: useLab(`t-${c.release}`, ['--release', c.release]) }));

for (const c of cases) {
  const apply = async () => {
    const r = await runCli(['apply', '--lab', c.lab, '--json'], { env: c.fixture.env, timeoutMs: 600_000 });
    assert.equal(r.code, 0, explain(`apply on ${c.release}`, r));
    return (JSON.parse(r.stdout) as { hosts: HostReport[] }).hosts[0]!;
  };
  const pid = async () => (await labSsh(c.fixture.lab(), 'cat /run/glance/glance-api.pid')).stdout.trim();

  test(`${c.release}: a fresh apply installs and verifies Glance; a second apply changes nothing`, async () => {
    const fresh = await apply();
    assert.equal(fresh.release, c.release);
    assert.equal(fresh.failed, 0);
    assert.equal(fresh.verify?.kind, 'upload');
    // The guide's image (qcow2, bare, public) passed this release's format inspection: Glance read its virtual size.
    assert.equal(fresh.verify?.diskFormat, 'qcow2');
    assert.equal(fresh.verify?.visibility, 'public');
    assert.equal(fresh.verify?.virtualSize, 1 << 20);
    assert.equal(fresh.verify?.osHashAlgo, 'sha512');
    assert.ok(fresh.resources.some((r) => r.kind === 'db-schema' && r.status === 'changed' && r.changes.some((x) => x.to === c.head)), `schema synced to ${c.head}`);
    const conf = await labSsh(c.fixture.lab(), "grep -E '^(enabled_backends|default_store) *=' /etc/glance/glance-api.conf");
    assert.match(conf.stdout, c.store);
    const before = await pid();
    const again = await apply();
    assert.equal(again.changed, 0, JSON.stringify(again.resources.filter((r) => r.status !== 'ok')));
    assert.deepEqual(again.handlers, []);
    assert.equal(await pid(), before);
  });
}

test('trixie: Glance 30 refuses bytes that are not their disk_format (415), the run says why from its log, nothing is left', async () => {
  const c = cases.find((x) => x.release === 'trixie')!;
  const file = path.join(c.fixture.tmp, 'plain.raw');
  fs.writeFileSync(file, Buffer.alloc(1 << 20, 7));
  const r = await runCli(['verify', '--lab', c.lab, '--image', file, '--disk-format', 'qcow2', '--json'], { env: c.fixture.env, timeoutMs: 300_000 });
  assert.equal(r.code, 1, explain('verify --disk-format qcow2 on raw bytes', r));
  const host = (JSON.parse(r.stdout) as { hosts: HostReport[] }).hosts[0]!;
  assert.match(host.error!.message, /Glance refused the bytes of .*plain\.raw as disk_format qcow2 \(PUT …\/file answered 415\): Image disk_format qcow2 does not match stream data raw/);
  assert.match(host.error!.hint, /check --disk-format \(the file's header says no known header \(raw\)\)/);
  assert.ok(host.notes.some((n) => /^warning: image .*plain\.raw: disk_format qcow2 as given, but its header says no known header \(raw\); this Glance refuses/.test(n)), host.notes.join('\n'));
  const left = await labSsh(c.fixture.lab(), '. /root/openstack/admin-openrc.sh && openstack image list -f value -c ID');
  assert.equal(left.stdout.trim(), '', 'the refused image was removed');
});
