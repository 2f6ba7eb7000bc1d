// A database schema managed by sqlalchemy-migrate (the schema tool of OpenStack before alembic: Glance up
// to Mitaka), synced by the service's own command (as its user) only when the database is behind the
// version the installed package ships. Both sides are read cheaply: the package's version is the highest
// number among its versions directory's scripts (a fact, as migrate's own Collection reads it), the
// database's the row of its migrate_version table (the admin session). A converged run never starts the
// service's Python tooling.
import type { Diff, Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import { defineFact, shq } from '../engine/facts.ts';
import type { Provider } from '../engine/providers.ts';
import { sqlIdent, type MysqlSession } from '../clients/mysql.ts';
import { runSync, type SyncCommand } from './schema-sync.ts';

/**
 * The version of a migrate repository from its versions directory's file names: sqlalchemy-migrate
 * (migrate/versioning/version.py, Collection) takes every file whose name starts with three or more
 * digits (001_add_images_table.py, 003_sqlite_upgrade.sql, …) and its latest version is the highest.
 * 0 when there are none (the package is not installed).
 */
export function latestVersion(fileNames: readonly string[]): number {
  let latest = 0;
  for (const f of fileNames) {
    const m = /^(\d{3,})_?/.exec(f.trim());
    if (m) latest = Math.max(latest, Number(m[1]));
  }
  return latest;
}

/** The names in a versions directory, one a line (nothing before the package is installed). */
export function migrateVersionsFact(versionsDir: string) {
  return defineFact(`migrate ${versionsDir}`, `ls -1 ${shq(versionsDir)}`, (raw) => latestVersion(raw.split('\n')));
}

export interface MigrateSchemaSpec {
  id: string;
  database: string;
  versionsDir: string;
  /** sqlalchemy-migrate's table (its migrate.cfg version_table) and the repository_id the service writes there. */
  table?: string;
  repositoryId?: string;
  sync: SyncCommand;
  /** Where to look when the sync fails. */
  hint: string;
  admin: Provider<MysqlSession>;
  notifies?: readonly string[];
  /** The handler that runs the sync (see Resource.doneBy), when the playbook hands it over. */
  doneBy?: string;
}

export interface MigrateState {
  /** The highest version among the package's scripts; 0 before the package is installed. */
  latest: number;
  /** The database's version; undefined when it is not under version control (no table, or no row). */
  current?: number;
}

export type MigrateOp = { op: 'sync' } & SyncCommand;

export function migrateDiff(s: MigrateState, sync: SyncCommand): Diff<MigrateOp> {
  const ops: MigrateOp[] = [{ op: 'sync', ...sync }];
  if (!s.latest) return { action: 'update', changes: [{ field: 'schema', to: 'latest' }], why: 'the package is not installed yet: the sync follows the install', ops };
  if (s.current === undefined) {
    return { action: 'update', changes: [{ field: 'schema', from: '(empty)', to: `version ${s.latest}` }], why: 'the database has no schema yet', ops };
  }
  if (s.current === s.latest) return noChange(`schema at version ${s.latest}`);
  // Newer than the package (a downgraded package, or another controller's newer Glance): db_sync would
  // not go down, and nothing here should.
  if (s.current > s.latest) return noChange(`schema at version ${s.current}, newer than the package's ${s.latest}: left as it is`);
  return {
    action: 'update',
    changes: [{ field: 'schema', from: `version ${s.current}`, to: `version ${s.latest}` }],
    why: 'the schema is behind the installed package',
    ops,
  };
}

export function migrateSchema(spec: MigrateSchemaSpec): Resource<MigrateState, MigrateOp> {
  const fact = migrateVersionsFact(spec.versionsDir);
  const table = spec.table ?? 'migrate_version';
  return {
    kind: 'migrate-schema',
    id: spec.id,
    notifies: spec.notifies,
    ...(spec.doneBy ? { doneBy: spec.doneBy } : {}),
    async read(host) {
      const latest = await host.fact(fact);
      const db = await host.use(spec.admin);
      const exists = await db.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [spec.database, table]);
      if (!exists.length) return { latest };
      // One row per repository; a database of one service has one, named by its migrate.cfg.
      const rows = await db.query<{ repository_id: string; version: number }>(`SELECT repository_id, version FROM ${sqlIdent(spec.database)}.${sqlIdent(table)}`);
      const row = rows.find((r) => r.repository_id === spec.repositoryId) ?? (rows.length === 1 ? rows[0] : undefined);
      return row ? { latest, current: Number(row.version) } : { latest };
    },
    diff: (current) => migrateDiff(current, spec.sync),
    async apply(host, ops) {
      for (const o of ops) await runSync(host, o, 'migrate-schema', spec.hint);
    },
  };
}
