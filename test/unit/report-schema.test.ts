// schema/report.schema.json describes the --json document: the unit fixtures conform, so do documents
// the engine itself made (a plan, an apply with a failure, an unreachable host, an ini-file's structured
// changes), and a document that strays from it (a field renamed, a status misspelt, a negative time, a
// field added) is caught. Real documents from a lab run are checked in test/lab/cli.test.ts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { jsonReport, type RunInfo } from '../../src/engine/report.ts';
import type { HostReport } from '../../src/engine/report-model.ts';
import { plan as planWork, apply as applyWork } from '../../src/engine/apply.ts';
import { runHost } from '../../src/engine/run-host.ts';
import { iniFileDiff } from '../../src/resources/ini-file.ts';
import { renderTemplate } from '../../src/resources/ini/template.ts';
import { TransportError } from '../../src/transport/errors.ts';
import { Secret } from '../../src/secret.ts';
import { reportErrors } from '../report-schema.ts';
import { plan, apply, unreachable } from './report-fixtures.ts';
import { Bench, JOURNAL_PATH } from './engine-helpers.ts';

const info: RunInfo = { tool: { name: 'install-glance', version: '0.1.0', commit: 'unknown (run from source)' }, startedAt: new Date().toISOString(), mode: 'apply' };
const doc = (hosts: HostReport[]) => JSON.parse(jsonReport(hosts, info)) as Record<string, unknown> & { hosts: Record<string, unknown>[] };

describe('documents that conform', () => {
  test('the unit fixtures: a plan, a failed apply, an unreachable host', () => {
    assert.deepEqual(reportErrors(jsonReport([plan, apply, unreachable], info)), []);
  });

  test('an empty run (no host)', () => {
    assert.deepEqual(reportErrors(jsonReport([], { ...info, mode: 'plan' })), []);
  });

  test('what the engine made: a plan and an apply with a handler, a failed apply with skipped resources', async () => {
    const b = new Bench({ a: 'x', b: 'old' });
    const w1 = await b.work('plan', [b.resource({ id: 'a', want: 'x' }), b.resource({ id: 'b', want: 'new', notifies: ['restart'] })], [b.handler('restart')]);
    await planWork(w1);
    const w2 = await b.work('apply', [b.resource({ id: 'a', want: 'x' }), b.resource({ id: 'b', want: 'new', notifies: ['restart'] })], [b.handler('restart')]);
    await applyWork(w2);
    const c = new Bench({});
    const w3 = await c.work('apply', [c.resource({ id: 'a', want: 'x', failApply: new Error('no room') }), c.resource({ id: 'b', want: 'y' })], []);
    await assert.rejects(applyWork(w3));
    w3.report.error = { step: 'fake a', message: 'no room', hint: 'free some' };
    assert.deepEqual(reportErrors(jsonReport([w1.report, w2.report, w3.report], info)), []);
    assert.ok(w2.report.resources.some((r) => r.planned && r.after), 'an apply has planned and after');
  });

  test('an unreachable host as runHost reports it', async () => {
    const report = await runHost({ name: 'gone', host: '192.0.2.1' }, {
      mode: 'plan', settings: {}, secrets: { load: async () => ({}), keep: async () => {}, where: () => '', forget: async () => {} }, journalPath: JOURNAL_PATH, progress: () => {},
      playbook: { id: 'fake', describe: '', profiles: {}, profileFor: () => undefined, options: [], settings: () => ({}), secrets: [], facts: [], resources: () => [], handlers: () => [] },
      connect: () => Promise.reject(new TransportError('192.0.2.1', 'connect', 'cannot reach 192.0.2.1 (EHOSTUNREACH)', 'check the address')),
    });
    const d = doc([report]);
    assert.deepEqual(reportErrors(d), []);
    assert.equal(d.hosts[0]!.unreachable, true);
    assert.equal(d.exitStatus, 1);
  });

  test('an ini-file change as data: section, key, from/to masked', () => {
    const managed = renderTemplate('[database]\nconnection = mysql+pymysql://glance:{{P|url}}@controller/glance\n[keystone_authtoken]\npassword = {{K}}\n', { P: new Secret('db-pw-1'), K: new Secret('ks-pw-1') });
    const diff = iniFileDiff({ file: { owner: 'root:glance', mode: 0o640, content: '[keystone_authtoken]\npassword = old-pw-1\n' } }, { path: '/etc/glance/glance-api.conf', managed, owner: 'root:glance', mode: 0o640 });
    const host: HostReport = { ...plan, resources: [{ kind: 'ini-file', id: '/etc/glance/glance-api.conf', action: diff.action, status: 'pending', why: diff.why, changes: diff.changes, detail: diff.detail, ms: 3 }] };
    const text = jsonReport([host], info);
    assert.deepEqual(reportErrors(text), []);
    for (const s of ['db-pw-1', 'ks-pw-1', 'old-pw-1']) assert.ok(!text.includes(s), `${s} in the report`);
    assert.deepEqual(diff.changes.filter((c) => c.section), [
      { field: '[keystone_authtoken] password', section: 'keystone_authtoken', key: 'password', from: '***', to: '***' },
      { field: '[database] connection', section: 'database', key: 'connection', to: 'mysql+pymysql://glance:***@controller/glance' },
    ]);
  });
});

/** An upload check as playbooks/glance/verify.ts reports it. */
const upload = {
  kind: 'upload', ok: true, ms: 612, imageId: '8ffb04af-74e9-44f1-9a16-cf27ec1efc88', name: 'install-glance-verify-1795715009247', source: 'generated',
  size: 1376256, checksum: 'e4d2d4ecd8c16fbc87e8385deb1592c8', osHashAlgo: 'sha512', osHashValue: 'ab'.repeat(64), virtualSize: 1048576,
  diskFormat: 'qcow2', containerFormat: 'bare', visibility: 'public', storeFile: '/var/lib/glance/images/8ffb04af-74e9-44f1-9a16-cf27ec1efc88', kept: false,
  summary: 'image 8ffb04af-…: active, qcow2 (virtual size 1048576 bytes, read by Glance), …',
};

describe('the closing check', () => {
  const withCheck = (verify: Record<string, unknown>) => doc([{ ...apply, error: undefined, verify: verify as HostReport['verify'] }]);
  test('an upload (generated, or --image with --keep) and a list conform', () => {
    assert.deepEqual(reportErrors(withCheck(upload)), []);
    assert.deepEqual(reportErrors(withCheck({ ...upload, source: '/srv/cirros.img', kept: true, diskFormat: 'raw' })), []);
    assert.deepEqual(reportErrors(withCheck({ kind: 'list', ok: true, ms: 425, summary: 'the Glance API lists images (425 ms)' })), []);
  });
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['an upload without its checksum', { ...upload, checksum: undefined }, /checksum/],
    ['a disk_format Glance has not', { ...upload, diskFormat: 'qcow3' }, /allowed values/],
    ['kept as text', { ...upload, kept: 'yes' }, /boolean/],
    ['a negative virtual size', { ...upload, virtualSize: -1 }, />= 0/],
  ];
  for (const [what, verify, why] of cases) {
    test(`caught: ${what}`, () => {
      const errors = reportErrors(withCheck(JSON.parse(JSON.stringify(verify)) as Record<string, unknown>));
      assert.ok(errors.some((e) => why.test(e)), errors.join('\n') || 'no error');
    });
  }
});

describe('documents that stray are caught', () => {
  const cases: [string, (d: ReturnType<typeof doc>) => void, RegExp][] = [
    ['no exit status', (d) => { delete d.exitStatus; }, /exitStatus/],
    ['a status misspelt', (d) => { (d.hosts[1]!.resources as { status: string }[])[0]!.status = 'skiped'; }, /allowed values/],
    ['a negative time', (d) => { (d.hosts[0]!.resources as { ms: number }[])[0]!.ms = -1; }, />= 0/],
    ['a change with a section but no key', (d) => { delete ((d.hosts[0]!.resources as { changes: { key?: string }[] }[])[2]!.changes[0]!).key; }, /key/],
    ['a field nobody described', (d) => { d.hosts[0]!.colour = 'red'; }, /additional properties/],
    ['a start time that is not one', (d) => { d.startedAt = 'yesterday'; }, /date-time/],
    ['a change value that is not text (a Secret object would be)', (d) => { ((d.hosts[0]!.resources as { changes: { to?: unknown }[] }[])[1]!.changes[1]!).to = { value: 'x' }; }, /string/],
  ];
  for (const [what, spoil, why] of cases) {
    test(what, () => {
      const d = doc([plan, apply]);
      assert.deepEqual(reportErrors(d), [], 'valid before');
      spoil(d);
      const errors = reportErrors(d);
      assert.ok(errors.some((e) => why.test(e)), errors.join('\n') || 'no error');
    });
  }
});
