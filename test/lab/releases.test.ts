// The other Debian releases the lab builds, end to end: trixie (glance 30: enabled_backends, [fs],
// staging and tasks stores, head 2024_1_contract01) and bullseye (glance 21 under uwsgi, MariaDB 10.5)
// install, verify, and re-apply with nothing to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
