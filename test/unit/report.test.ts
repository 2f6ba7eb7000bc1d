// What the operator reads: the plan (Terraform's vocabulary), the apply recap (Ansible's), detail
// lines, the error and what to do, the summary line; the --json document; and secrets never in either.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatHost, summaryLine, jsonReport } from '../../src/engine/report.ts';
import type { HostReport, ResourceResult } from '../../src/engine/report-model.ts';
import { Secret } from '../../src/secret.ts';

const res = (r: Partial<ResourceResult> & Pick<ResourceResult, 'kind' | 'id' | 'action' | 'status' | 'why'>): ResourceResult => ({ changes: [], ms: 0, ...r });
const stats = { sshRoundTrips: 14, remoteCommands: 1, keystoneRequests: 8 };
const head = { host: 'controller', address: '10.213.1.2', playbook: 'glance', os: 'Debian GNU/Linux 12 (bookworm)', release: 'bookworm', notes: [] as string[] };

const plan: HostReport = {
  ...head, mode: 'plan', ok: 1, changed: 5, failed: 0, durationMs: 812, stats,
  resources: [
    res({ kind: 'mysql-database', id: 'glance', action: 'none', status: 'ok', why: 'database glance exists' }),
    res({ kind: 'mysql-user', id: 'glance@%', action: 'create', status: 'pending', why: "mysql user glance@'%' does not exist",
      changes: [{ field: 'account', to: "glance@'%'" }, { field: 'password', to: '***' }] }),
    res({ kind: 'ini-file', id: '/etc/glance/glance-api.conf', action: 'update', status: 'pending', why: 'content differ',
      changes: [{ field: 'content', from: 'old', to: 'new' }],
      detail: ['[database]', '+connection = mysql+pymysql://glance:***@controller/glance', '[keystone_authtoken]', '-region_name = regionOne', '+region_name = RegionOne'] }),
    res({ kind: 'db-schema', id: 'glance', action: 'update', status: 'pending', why: 'the database has no schema yet',
      changes: [{ field: 'schema', from: '', to: 'wallaby_contract01' }] }),
    res({ kind: 'keystone-endpoint', id: 'image public/internal/admin', action: 'replace', status: 'pending', why: 'endpoints differ',
      changes: [{ field: 'public', from: 'http://localhost:9292', to: 'http://controller:9292 (RegionOne)' }] }),
    res({ kind: 'keystone-service', id: 'glance (image)', action: 'delete', status: 'pending', why: 'a duplicate',
      changes: [{ field: 'duplicate', from: 's2', to: '(deleted with its endpoints)' }] }),
  ],
  handlers: [{ name: 'restart-glance-api', status: 'pending', reason: 'ini-file /etc/glance/glance-api.conf changed' }],
};

const apply: HostReport = {
  ...head, mode: 'apply', ok: 1, changed: 1, failed: 1, durationMs: 46_449, stats,
  resources: [
    res({ kind: 'mysql-database', id: 'glance', action: 'none', status: 'ok', why: 'database glance exists' }),
    res({ kind: 'ini-file', id: '/etc/glance/glance-api.conf', action: 'update', status: 'changed', why: 'content differ', ms: 40,
      changes: [{ field: 'content', from: 'old', to: 'new' }], detail: ['[database]', '+connection = mysql+pymysql://glance:***@controller/glance'] }),
    res({ kind: 'db-schema', id: 'glance', action: 'update', status: 'failed', why: 'the database has no schema yet',
      error: 'glance-manage db_sync failed (exit 1)', changes: [{ field: 'schema', from: '(empty)', to: 'wallaby_contract01' }] }),
    res({ kind: 'service', id: 'glance-api', action: 'update', status: 'skipped', why: 'glance-api is not running',
      changes: [{ field: 'running', from: 'no', to: 'yes' }], detail: ['never shown for a skipped resource'] }),
  ],
  handlers: [{ name: 'restart-glance-api', status: 'changed', reason: 'ini-file /etc/glance/glance-api.conf changed', ms: 3100 }],
  error: {
    step: 'db-schema',
    message: "glance-manage db_sync failed (exit 1):\nsqlalchemy.exc.OperationalError: (1045, \"Access denied for user 'glance'@'localhost'\")",
    hint: 'check [database] connection in /etc/glance/glance-api.conf and that MariaDB is up',
  },
};

describe('plan', () => {
  test('Terraform vocabulary (+ ~ -/+ -), changes under each resource, detail lines instead of changes, handlers pending', () => {
    assert.equal(formatHost(plan), [
      'controller (10.213.1.2, Debian GNU/Linux 12 (bookworm), profile bookworm) — plan',
      '  ok       mysql-database glance — database glance exists',
      "  +   create mysql-user glance@% — mysql user glance@'%' does not exist",
      "      account: glance@'%'",
      '      password: ***',
      '  ~   update ini-file /etc/glance/glance-api.conf — content differ',
      '      [database]',
      '      +connection = mysql+pymysql://glance:***@controller/glance',
      '      [keystone_authtoken]',
      '      -region_name = regionOne',
      '      +region_name = RegionOne',
      '  ~   update db-schema glance — the database has no schema yet',
      '      schema: wallaby_contract01',
      '  -/+ replace keystone-endpoint image public/internal/admin — endpoints differ',
      '      public: http://localhost:9292 → http://controller:9292 (RegionOne)',
      '  -   delete keystone-service glance (image) — a duplicate',
      '      duplicate: s2 → (deleted with its endpoints)',
      '  pending  handler restart-glance-api — ini-file /etc/glance/glance-api.conf changed',
      'controller: ok=1 to-change=5 failed=0 (0.8 s)',
    ].join('\n'));
  });

  test('summary line says to-change, not changed', () => {
    assert.equal(summaryLine(plan), 'controller: ok=1 to-change=5 failed=0 (0.8 s)');
  });

  test('a host with no os or release yet (facts failed) still has a header', () => {
    const bare: HostReport = { ...plan, os: undefined, release: undefined, resources: [], handlers: [] };
    assert.equal(formatHost(bare).split('\n')[0], 'controller (10.213.1.2) — plan');
  });
});

describe('apply', () => {
  const text = formatHost(apply);
  const lines = text.split('\n');

  test('Ansible vocabulary: ok / changed / failed / skipped; a failed resource shows its error, a skipped one no detail', () => {
    assert.equal(text, [
      'controller (10.213.1.2, Debian GNU/Linux 12 (bookworm), profile bookworm) — apply',
      '  ok       mysql-database glance — database glance exists',
      '  changed  ini-file /etc/glance/glance-api.conf — content differ',
      '      [database]',
      '      +connection = mysql+pymysql://glance:***@controller/glance',
      '  failed   db-schema glance — glance-manage db_sync failed (exit 1)',
      '      schema: (empty) → wallaby_contract01',
      '  skipped  service glance-api — glance-api is not running',
      '  changed  handler restart-glance-api — ini-file /etc/glance/glance-api.conf changed',
      '  error at db-schema: glance-manage db_sync failed (exit 1):',
      "    sqlalchemy.exc.OperationalError: (1045, \"Access denied for user 'glance'@'localhost'\")",
      '  what to do: check [database] connection in /etc/glance/glance-api.conf and that MariaDB is up',
      'controller: ok=1 changed=1 failed=1 (46.4 s)',
    ].join('\n'));
    assert.ok(!lines.some((l) => l.includes('never shown')));
  });

  test('the closing check: its own summary line, after the handlers', () => {
    const upload = formatHost({ ...apply, error: undefined, verify: { kind: 'upload', ok: true, ms: 1612, summary: 'image 48fa037b: active, 1048576 bytes' } });
    assert.ok(upload.includes('handler restart-glance-api — ini-file /etc/glance/glance-api.conf changed\n  verified image 48fa037b: active, 1048576 bytes\n'), upload);
    const list = formatHost({ ...apply, error: undefined, verify: { kind: 'list', ok: true, ms: 472, summary: 'the Glance API lists images (472 ms)' } });
    assert.ok(list.includes('\n  verified the Glance API lists images (472 ms)\n'), list);
    assert.ok(!list.includes('error at'));
  });

  test('summary line', () => {
    assert.equal(summaryLine(apply), 'controller: ok=1 changed=1 failed=1 (46.4 s)');
  });
});

describe('--json', () => {
  test('one document, version 1, the hosts as they are', () => {
    const doc = JSON.parse(jsonReport([plan, apply])) as { version: number; hosts: HostReport[] };
    assert.equal(doc.version, 1);
    assert.deepEqual(doc.hosts, JSON.parse(JSON.stringify([plan, apply])));
    assert.equal(doc.hosts[1]!.error?.step, 'db-schema');
    assert.equal(doc.hosts[0]!.error, undefined, 'no error key when the host did not fail');
  });
});

describe('a Secret anywhere in a report never shows its value', () => {
  const VALUE = 'GLANCE-PASS-9f8e7d';
  const s = new Secret(VALUE);
  const str = s as unknown as string; // a Secret where a string is expected: what a careless caller would do
  const leaky: HostReport = {
    ...head, os: str, mode: 'apply', ok: 0, changed: 1, failed: 1, durationMs: 1000, stats,
    resources: [
      res({ kind: 'keystone-user', id: 'glance', action: 'update', status: 'changed', why: `password ${s} set`,
        changes: [{ field: 'password', from: str, to: str }] }),
      res({ kind: 'ini-file', id: '/etc/glance/glance-api.conf', action: 'update', status: 'changed', why: str,
        changes: [], detail: [`+password = ${s}`, str] }),
      res({ kind: 'mysql-user', id: 'glance@%', action: 'create', status: 'failed', why: 'x', error: str, changes: [{ field: 'password', to: str }] }),
    ],
    handlers: [{ name: 'restart-glance-api', status: 'changed', reason: str }],
    verify: { kind: 'upload', ok: true, imageId: str, size: 1, checksum: str, storeFile: str, ms: 1, summary: `image ${s}` },
    error: { step: 'mysql-user', message: `login with ${s} failed\nsecond line ${s}`, hint: str },
  };

  test('human lines', () => {
    const out = formatHost(leaky);
    assert.ok(!out.includes(VALUE), out);
    assert.ok((out.match(/\[secret\]/g) ?? []).length >= 12, 'each place rendered the mask');
  });

  test('--json', () => {
    const out = jsonReport([leaky]);
    assert.ok(!out.includes(VALUE), out);
    const doc = JSON.parse(out) as { hosts: HostReport[] };
    assert.equal(doc.hosts[0]!.resources[0]!.changes[0]!.to, '[secret]');
    assert.equal(doc.hosts[0]!.verify!.checksum, '[secret]');
  });
});

test('what the release does not have is one note line under the host', () => {
  const out = formatHost({ ...plan, notes: ['not on this release: /etc/glance/glance-registry.conf (glance-registry was removed upstream in Ussuri)'] });
  const lines = out.split('\n');
  assert.equal(lines[1], '  note     not on this release: /etc/glance/glance-registry.conf (glance-registry was removed upstream in Ussuri)');
  assert.equal(lines.filter((l) => l.includes('glance-registry')).length, 1);
});
