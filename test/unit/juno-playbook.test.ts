// The juno profile as the Glance playbook builds it (no host needed beyond a fake): the resources in the
// guide's order, sqlalchemy-migrate for the schema, both config files each restarting its own service,
// the registry restarted before the API, the guide's regionOne, the public Identity URL on 5000 though
// the guide's openrc names the admin port, the SQLite file the guide removes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { glancePlaybook, publicKeystoneUrl } from '../../playbooks/glance/index.ts';
import { profiles, profileFor } from '../../playbooks/glance/profiles.ts';
import { glanceSettings, regionFor } from '../../playbooks/glance/settings.ts';
import { glanceFacts } from '../../playbooks/glance/facts.ts';
import { migrateVersionsFact } from '../../src/resources/migrate-schema.ts';
import { HostSession } from '../../src/engine/host.ts';
import { parseOsRelease } from '../../src/engine/facts.ts';
import { Secret } from '../../src/secret.ts';
import { FakeTransport, fail } from './fake-transport.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const JUNO_ENV = { OS_AUTH_URL: 'http://controller:35357/v2.0', OS_USERNAME: 'admin', OS_PASSWORD: 'ADMIN_PASS', OS_TENANT_NAME: 'admin' };
const TRUSTY = 'NAME="Ubuntu"\nVERSION="14.04.5 LTS, Trusty Tahr"\nID=ubuntu\nPRETTY_NAME="Ubuntu 14.04.5 LTS"\nVERSION_ID="14.04"\n';

async function junoCtx(values: Record<string, unknown> = {}) {
  const host = new HostSession('controller', new FakeTransport({ answer: () => fail('no commands in this test', 127) }), () => {});
  const secrets = { GLANCE_DBPASS: new Secret('db-S3cret'), GLANCE_PASS: new Secret('ks-S3cret') };
  const ctx = { host, profile: profiles.juno, settings: glanceSettings(values, JUNO_ENV), secrets };
  return { ctx, resources: await glancePlaybook.resources(ctx) };
}

describe('the juno profile in the Glance playbook', () => {
  test('trusty is detected as juno', () => {
    assert.equal(profileFor({ ...parseOsRelease(TRUSTY), init: 'upstart' })?.id, 'juno');
  });

  test('the resources, in the guide\'s order: database, identity, packages, both files, migrate, the SQLite file, registry then api', async () => {
    const { resources } = await junoCtx();
    assert.deepEqual(resources.map((r) => `${r.lane ?? '-'} ${r.kind} ${r.id}`), [
      'database mysql-database glance',
      'database mysql-user glance@localhost',
      'database mysql-user glance@%',
      'identity keystone-user glance',
      'identity keystone-role-assignment glance/service/admin',
      'identity keystone-service glance (image)',
      'identity keystone-endpoint image public/internal/admin',
      'packages dpkg-health dpkg',
      'packages apt-package glance',
      '- ini-file /etc/glance/glance-api.conf',
      '- ini-file /etc/glance/glance-registry.conf',
      '- migrate-schema glance',
      '- path /var/lib/glance/glance.sqlite',
      '- service glance-registry',
      '- service glance-api',
    ]);
    const byId = new Map(resources.map((r) => [r.id, r]));
    assert.deepEqual(byId.get('/etc/glance/glance-api.conf')!.notifies, ['restart-glance-api']);
    assert.deepEqual(byId.get('/etc/glance/glance-registry.conf')!.notifies, ['restart-glance-registry']);
    // The schema hands its sync to a handler (journalled like a restart), which both restarts follow.
    const migrate = resources.find((r) => r.kind === 'migrate-schema')!;
    assert.deepEqual(migrate.notifies, ['sync-glance-schema', 'restart-glance-registry', 'restart-glance-api']);
    assert.equal(migrate.doneBy, 'sync-glance-schema');
  });

  test('handlers: the schema sync first, then the registry is restarted (and answers) before the API', async () => {
    const { ctx } = await junoCtx();
    assert.deepEqual(glancePlaybook.handlers(ctx).map((h) => h.name), ['sync-glance-schema', 'restart-glance-registry', 'restart-glance-api']);
  });

  test('the region is the guide\'s regionOne unless --region says otherwise; Debian releases keep RegionOne', async () => {
    const { resources } = await junoCtx();
    const endpoints = resources.find((r) => r.kind === 'keystone-endpoint')!;
    assert.match(JSON.stringify(endpoints.diff({ serviceId: 's', endpoints: [] } as never).changes), /http:\/\/controller:9292 \(regionOne\)/);
    const given = (await junoCtx({ region: 'RegionTwo' })).resources.find((r) => r.kind === 'keystone-endpoint')!;
    assert.match(JSON.stringify(given.diff({ serviceId: 's', endpoints: [] } as never).changes), /\(RegionTwo\)/);
    assert.equal(regionFor(glanceSettings({}, {}), profiles.bookworm), 'RegionOne');
    assert.equal(glancePlaybook.options.find((o) => o.name === 'region')?.default, undefined, 'no option default hides the profile\'s');
  });

  test('glance-api.conf merged into glance 2014.2\'s own file: auth_uri on 5000 though the openrc is on 35357, passwords masked', async () => {
    const { resources } = await junoCtx();
    const api = resources.find((r) => r.id === '/etc/glance/glance-api.conf')!;
    const packaged = fs.readFileSync(path.join(root, 'test/fixtures/ini/juno-glance-api.conf.packaged'), 'utf8');
    const diff = api.diff({ file: { owner: 'root:glance', mode: 0o640, content: packaged } } as never);
    const lines = diff.detail ?? [];
    for (const want of ['+auth_uri = http://controller:5000/v2.0', '+identity_uri = http://controller:35357', '+connection = mysql://glance:***@controller/glance', '+admin_password = ***', '+flavor = keystone']) {
      assert.ok(lines.includes(want), `${want} in\n${lines.join('\n')}`);
    }
    assert.ok(!JSON.stringify(diff).includes('S3cret'), 'no secret in the diff');
  });

  test('publicKeystoneUrl: the admin port becomes 5000, anything else stays', () => {
    assert.equal(publicKeystoneUrl('http://controller:35357/v2.0'), 'http://controller:5000');
    assert.equal(publicKeystoneUrl('http://controller:5000/v3'), 'http://controller:5000');
    assert.equal(publicKeystoneUrl('https://keystone.example.com/identity/v3'), 'https://keystone.example.com');
  });

  test('the facts gathered include juno\'s migrate versions and the SQLite file, once each', () => {
    const keys = glanceFacts().map((f) => f.key);
    assert.ok(keys.includes(migrateVersionsFact(profiles.juno.schema.versionsDir).key));
    assert.ok(keys.includes('exists /var/lib/glance/glance.sqlite'));
    assert.equal(new Set(keys).size, keys.length);
  });
});
