// What the operator reads: the plan (Terraform's vocabulary and counts), the apply recap (Ansible's),
// detail lines, the error and what to do, the summary line, the recap over all hosts, colour; the --json
// document (with its exit statuses); and secrets never in either.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import pc from 'picocolors';
import { formatHost, summaryLine, jsonReport, planCounts, planSummary, plannedLines, recapLines, recapCounts, hostExitStatus, runExitStatus, type Paint } from '../../src/engine/report.ts';
import type { HostReport } from '../../src/engine/report-model.ts';
import { plan, apply, unreachable, res, head, stats } from './report-fixtures.ts';
import { Secret } from '../../src/secret.ts';

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
      '  Plan: 2 to add, 2 to change, 2 to destroy; 1 handler to run.',
      'controller: ok=1 to-change=5 failed=0 (0.8 s)',
    ].join('\n'));
  });

  test('the counts the Terraform way: a replace destroys and adds', () => {
    assert.deepEqual(planCounts(plan.resources), { add: 2, change: 2, destroy: 2 });
    assert.deepEqual(planCounts([{ action: 'replace' }]), { add: 1, change: 0, destroy: 1 });
    assert.equal(planSummary({ add: 0, change: 0, destroy: 0 }), 'No changes.');
    assert.equal(planSummary({ add: 0, change: 0, destroy: 0 }, 1), 'Plan: 0 to add, 0 to change, 0 to destroy; 1 handler to run.');
    assert.equal(planSummary({ add: 3, change: 1, destroy: 0 }), 'Plan: 3 to add, 1 to change, 0 to destroy.');
  });

  test('a converged plan says No changes.', () => {
    const converged: HostReport = { ...plan, changed: 0, ok: 1, resources: [plan.resources[0]!], handlers: [] };
    assert.deepEqual(formatHost(converged).split('\n').slice(-2), ['  No changes.', 'controller: ok=1 to-change=0 failed=0 (0.8 s)']);
  });

  test('an apply\'s plan, told before anything is touched: the counts, then each change and why', () => {
    const changes = plan.resources.filter((r) => r.action !== 'none');
    assert.deepEqual(plannedLines(changes.slice(0, 2), ['restart-glance-api']), [
      '  Plan: 1 to add, 1 to change, 0 to destroy. Pending from an earlier run: restart-glance-api.',
      "    +   create mysql-user glance@% (mysql user glance@'%' does not exist)",
      '    ~   update ini-file /etc/glance/glance-api.conf (content differ)',
    ]);
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
      '  changed  handler restart-glance-api — ini-file /etc/glance/glance-api.conf changed (3.1 s)',
      '  error at db-schema: glance-manage db_sync failed (exit 1):',
      "    sqlalchemy.exc.OperationalError: (1045, \"Access denied for user 'glance'@'localhost'\")",
      '  what to do: check [database] connection in /etc/glance/glance-api.conf and that MariaDB is up',
      'controller: ok=1 changed=1 failed=1 (46.4 s)',
    ].join('\n'));
    assert.ok(!lines.some((l) => l.includes('never shown')));
  });

  test('the closing check: its own summary line, after the handlers', () => {
    const upload = formatHost({ ...apply, error: undefined, verify: { kind: 'upload', ok: true, ms: 1612, summary: 'image 48fa037b: active, 1048576 bytes' } });
    assert.ok(upload.includes('handler restart-glance-api — ini-file /etc/glance/glance-api.conf changed (3.1 s)\n  verified image 48fa037b: active, 1048576 bytes\n'), upload);
    const list = formatHost({ ...apply, error: undefined, verify: { kind: 'list', ok: true, ms: 472, summary: 'the Glance API lists images (472 ms)' } });
    assert.ok(list.includes('\n  verified the Glance API lists images (472 ms)\n'), list);
    assert.ok(!list.includes('error at'));
  });

  test('summary line', () => {
    assert.equal(summaryLine(apply), 'controller: ok=1 changed=1 failed=1 (46.4 s)');
  });
});

describe('the recap over all hosts (Ansible\'s PLAY RECAP)', () => {
  test('one aligned line per host: ok, changed, unreachable, failed, skipped', () => {
    const converged: HostReport = { ...apply, host: 'controller-2', ok: 11, changed: 0, failed: 0, error: undefined, resources: [] };
    assert.deepEqual(recapLines([apply, converged, unreachable]), [
      'RECAP',
      'controller   : ok=1   changed=1   unreachable=0   failed=1   skipped=1',
      'controller-2 : ok=11  changed=0   unreachable=0   failed=0   skipped=0',
      'net-b        : ok=0   changed=0   unreachable=1   failed=0   skipped=0',
    ]);
  });

  test('an unreachable host counts as unreachable, not failed', () => {
    assert.deepEqual(recapCounts(unreachable), { ok: 0, changed: 0, unreachable: 1, failed: 0, skipped: 0 });
  });
});

describe('exit statuses', () => {
  test('per host: 1 failed or unreachable, 2 a plan with changes, 0 otherwise; the run: the worst', () => {
    assert.equal(hostExitStatus(plan), 2);
    assert.equal(hostExitStatus(apply), 1);
    assert.equal(hostExitStatus(unreachable), 1);
    assert.equal(hostExitStatus({ ...apply, failed: 0, error: undefined }), 0, 'an apply that changed things is a success');
    assert.equal(hostExitStatus({ ...plan, changed: 0, handlers: [] }), 0);
    assert.equal(hostExitStatus({ ...plan, changed: 0 }), 2, 'a handler owed is a change pending');
    assert.equal(runExitStatus([plan, { ...plan, changed: 0, handlers: [] }]), 2);
    assert.equal(runExitStatus([plan, apply]), 1);
    assert.equal(runExitStatus([]), 0);
  });
});

describe('colour', () => {
  const colour: Paint = pc.createColors(true);
  const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

  test('the same text, with status words, plan symbols and diff lines coloured', () => {
    for (const h of [plan, apply]) assert.equal(strip(formatHost(h, colour)), formatHost(h));
    const out = formatHost(apply, colour);
    assert.ok(out.includes(pc.yellow('changed ')), 'changed in yellow');
    assert.ok(out.includes(pc.red('failed  ')), 'failed in red');
    assert.ok(out.includes(pc.green('+connection = mysql+pymysql://glance:***@controller/glance')), 'an added line in green');
    assert.ok(formatHost(plan, colour).includes(pc.magenta('-/+ replace')), 'a replace in magenta');
    assert.equal(strip(recapLines([apply, unreachable], colour).join('\n')), recapLines([apply, unreachable]).join('\n'));
  });

  test('plain by default: no escape sequence at all', () => {
    assert.ok(!/\x1b/.test(formatHost(apply) + recapLines([apply]).join('')));
  });
});

describe('--json', () => {
  const info = { tool: { name: 'install-glance', version: '0.1.0', commit: 'abc123def456' }, startedAt: '2025-01-02T03:04:05.678Z', mode: 'apply' as const };

  test('one document, version 1, the hosts as they are plus their exit status', () => {
    const doc = JSON.parse(jsonReport([plan, apply], info)) as { version: number; exitStatus: number; tool: unknown; startedAt: string; hosts: (HostReport & { exitStatus: number })[] };
    assert.equal(doc.version, 1);
    assert.deepEqual(doc.tool, info.tool);
    assert.equal(doc.startedAt, info.startedAt);
    assert.equal(doc.exitStatus, 1);
    assert.deepEqual(doc.hosts.map((h) => [h.exitStatus, h.unreachable]), [[2, false], [1, false]]);
    assert.deepEqual(doc.hosts.map(({ exitStatus: _e, unreachable: _u, ...h }) => h), JSON.parse(JSON.stringify([plan, apply])));
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
