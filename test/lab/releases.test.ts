// The other Debian release the lab builds, end to end: trixie (glance 30: enabled_backends, [fs],
// staging and tasks stores, head 2024_1_contract01) installs, verifies, and re-applies with nothing to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, labSsh, explain, useLab } from './helpers.ts';
import type { HostReport } from '../../src/engine/run.ts';

const LAB = 't-trixie';
const fixture = useLab(LAB, ['--release', 'trixie']);

const apply = async () => {
  const r = await runCli(['apply', '--lab', LAB, '--json'], { env: fixture.env, timeoutMs: 600_000 });
  assert.equal(r.code, 0, explain('apply on trixie', r));
  return (JSON.parse(r.stdout) as { hosts: HostReport[] }).hosts[0]!;
};
const pid = async () => (await labSsh(fixture.lab(), 'cat /run/glance/glance-api.pid')).stdout.trim();

test('trixie: a fresh apply installs and verifies Glance; a second apply changes nothing', async () => {
  const fresh = await apply();
  assert.equal(fresh.release, 'trixie');
  assert.equal(fresh.failed, 0);
  assert.equal(fresh.verify?.kind, 'upload');
  assert.ok(fresh.resources.some((r) => r.kind === 'db-schema' && r.status === 'changed' && r.changes.some((c) => c.to === '2024_1_contract01')));
  const conf = await labSsh(fixture.lab(), "grep -E '^(enabled_backends|default_backend) *=' /etc/glance/glance-api.conf");
  assert.match(conf.stdout, /^enabled_backends = fs:file/m);
  const before = await pid();
  const again = await apply();
  assert.equal(again.changed, 0, JSON.stringify(again.resources.filter((r) => r.status !== 'ok')));
  assert.deepEqual(again.handlers, []);
  assert.equal(await pid(), before);
});
