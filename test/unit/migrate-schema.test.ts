// The sqlalchemy-migrate schema kind (Juno's Glance): the package's version from its versions directory
// as migrate's Collection counts it, the database's from migrate_version through the admin session, and
// what read() asks for (the diffs themselves are fixture cases: test/fixtures/resources/migrate-schema/).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { latestVersion, migrateVersionsFact, migrateSchema } from '../../src/resources/migrate-schema.ts';
import { HostSession } from '../../src/engine/host.ts';
import type { MysqlSession } from '../../src/clients/mysql.ts';
import { FakeTransport, factSections, ok } from './fake-transport.ts';
import { profiles } from '../../playbooks/glance/profiles.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const juno = fs.readFileSync(path.join(root, 'test/fixtures/facts/glance-2014.2-migrate-versions.txt'), 'utf8');

describe('latestVersion', () => {
  test('glance 2014.2: 036_rename_metadef_schema_columns.py is the latest', () => assert.equal(latestVersion(juno.split('\n')), 36));
  test('.sql scripts and the .pyc python2.7 compiles beside them count by their number; __init__ and others do not', () => {
    assert.equal(latestVersion(['__init__.py', '__init__.pyc', '003_sqlite_upgrade.sql', '034_add_virtual_size.pyc', 'README']), 34);
  });
  test('three digits or more, as migrate wants; none: 0', () => {
    assert.equal(latestVersion(['01_x.py', '1000_y.py']), 1000);
    assert.equal(latestVersion([]), 0);
    assert.equal(latestVersion(['']), 0);
  });
  test('the fact lists the directory of the juno profile; an ls of nothing is 0', () => {
    const f = migrateVersionsFact(profiles.juno.schema.versionsDir);
    assert.equal(f.script, "ls -1 '/usr/lib/python2.7/dist-packages/glance/db/sqlalchemy/migrate_repo/versions'");
    assert.equal(f.parse(juno), 36);
    assert.equal(f.parse(''), 0);
  });
});

/** An admin session that answers the two reads migrate-schema makes, and records them. */
function fakeDb(table: { repository_id: string; version: number }[] | undefined, asked: string[]): MysqlSession {
  return {
    serverVersion: '5.5.62-0ubuntu0.14.04.1',
    async query<T>(sql: string, params: unknown[] = []) {
      asked.push(`${sql} ${JSON.stringify(params)}`);
      if (sql.includes('information_schema.TABLES')) return (table ? [{ 1: 1 }] : []) as T[];
      if (sql.includes('migrate_version')) return (table ?? []) as T[];
      throw new Error(`unexpected ${sql}`);
    },
    execute: () => Promise.reject(new Error('a read writes nothing')),
    close: async () => {},
  };
}

function hostWith(versions: string) {
  const t = new FakeTransport({
    answer: (cmd) => ok(`${factSections(cmd.source!).map((s) => `==> ${s.key}\n${s.key.startsWith('migrate ') ? versions : ''}`).join('\n')}\n==> end\n`),
  });
  return new HostSession('controller', t, () => {});
}

describe('migrateSchema.read', () => {
  const spec = (table: Parameters<typeof fakeDb>[0], asked: string[]) => migrateSchema({
    id: 'glance', database: 'glance', versionsDir: profiles.juno.schema.versionsDir, repositoryId: 'Glance Migrations',
    sync: { command: 'glance-manage db_sync', user: 'glance' }, hint: 'h', admin: { key: 'fake-db', open: async () => fakeDb(table, asked) },
  });
  test('no migrate_version table: not under version control', async () => {
    const asked: string[] = [];
    const r = spec(undefined, asked);
    assert.deepEqual(await r.read(hostWith(juno)), { latest: 36 });
    assert.deepEqual(asked, ["SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? [\"glance\",\"migrate_version\"]"]);
    assert.equal(r.kind, 'migrate-schema');
  });
  test('the row of Glance\'s repository is the database\'s version', async () => {
    const asked: string[] = [];
    const state = await spec([{ repository_id: 'Glance Migrations', version: 34 }], asked).read(hostWith(juno));
    assert.deepEqual(state, { latest: 36, current: 34 });
    assert.match(asked[1]!, /^SELECT repository_id, version FROM `glance`\.`migrate_version`/);
  });
  test('an empty table is no version; another repository\'s only row is taken (one service per database)', async () => {
    assert.deepEqual(await spec([], []).read(hostWith(juno)), { latest: 36 });
    assert.deepEqual(await spec([{ repository_id: 'glance', version: 36 }], []).read(hostWith(juno)), { latest: 36, current: 36 });
  });
});
