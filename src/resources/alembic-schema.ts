// A database schema managed by alembic, synced by the service's own command (as its user) only when the
// database is not at the head the installed package ships. Both sides are read cheaply: the heads from
// the migration files (a fact), the database's from alembic_version (the admin session), so a
// converged run never starts the service's Python tooling (~1.5 s of start-up).
import type { Diff, Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import { defineFact, shq } from '../engine/facts.ts';
import type { Provider } from '../engine/providers.ts';
import { sqlIdent, type MysqlSession } from '../clients/mysql.ts';
import type { FactSpec } from '../engine/facts.ts';
import { snapshotOf, type MysqlSnapshot } from './mysql-snapshot.ts';
import { runSync, dropTables, tablesAndRows, syncRunningFact, type SyncCommand } from './schema-sync.ts';

export interface Revision {
  revision: string;
  /** What it builds on: down_revision and depends_on. */
  down: string[];
}

/** `revision = 'x'` then `down_revision` / `depends_on` (a name, a tuple or None) lines, per file in order. */
export function parseRevisions(text: string): Revision[] {
  const out: Revision[] = [];
  for (const line of text.split('\n')) {
    const m = /^(revision|down_revision|depends_on) *= *(.*)$/.exec(line.trim());
    if (!m) continue;
    const ids = [...m[2]!.matchAll(/['"]([^'"]+)['"]/g)].map((x) => x[1]!);
    if (m[1] === 'revision') out.push({ revision: ids[0] ?? '', down: [] });
    else if (out.length) out[out.length - 1]!.down.push(...ids);
  }
  return out.filter((r) => r.revision);
}

/** Schema heads: revisions nothing else builds on or depends on (alembic keeps only those in its table). */
export function schemaHeads(files: Revision[]): string[] {
  const downs = new Set(files.flatMap((f) => f.down));
  return files.map((f) => f.revision).filter((r) => !downs.has(r)).sort();
}

/** The revision lines of every migration file in a versions directory (empty before the package is installed). */
export function revisionsFact(versionsDir: string) {
  return defineFact(`alembic ${versionsDir}`, `grep -hE '^(revision|down_revision|depends_on) *=' ${shq(versionsDir)}/*.py`, parseRevisions);
}

export interface AlembicSchemaSpec {
  id: string;
  database: string;
  versionsDir: string;
  /** The sync command and the user it runs as (`glance-manage db_sync` as glance). */
  sync: SyncCommand;
  /** Where to look when the sync fails. */
  hint: string;
  admin: Provider<MysqlSession>;
  /** MariaDB as the facts saw it (mysql-snapshot.ts): a schema at its heads there needs no admin session. */
  snapshot?: FactSpec<MysqlSnapshot>;
  notifies?: readonly string[];
  /** The handler that runs the sync (see Resource.doneBy), when the playbook hands it over. */
  doneBy?: string;
}

export interface SchemaState {
  heads: string[];
  current: string[];
  /**
   * Read only when the schema is behind: the database's tables (alembic_version included), and whether any
   * table but alembic_version holds a row.
   */
  tables?: string[];
  holdsRows?: boolean;
  /** A sync holds the lock: an earlier run's, still running after that run was cut off. */
  syncRunning?: boolean;
}

export type SchemaOp = { op: 'sync'; command: string; user: string } | { op: 'drop-tables'; tables: string[] };

export function schemaDiff(s: SchemaState, sync: AlembicSchemaSpec['sync']): Diff<SchemaOp> {
  const ops: SchemaOp[] = [{ op: 'sync', ...sync }];
  if (!s.heads.length) return { action: 'update', changes: [{ field: 'schema', to: 'head' }], why: 'the package is not installed yet: the sync follows the install', ops };
  const missing = s.heads.filter((h) => !s.current.includes(h));
  if (!missing.length) return noChange(`schema at head (${s.heads.join(', ')})`);
  const schema = { field: 'schema', from: s.current.join(', ') || '(empty)', to: s.heads.join(', ') };
  if (s.syncRunning) {
    return { action: 'update', changes: [schema], why: 'a sync an earlier run started is still running: it is waited for, then the sync runs if still needed', ops };
  }
  // MySQL's DDL is not transactional: a sync cut off half-way leaves tables its next run fails to create
  // again ("Table 'images' already exists"), for good. When no table holds a row, nothing is lost by
  // starting over: the tables go, and the sync builds the schema from scratch.
  const leftovers = (s.tables ?? []).length > (s.tables?.includes('alembic_version') ? 1 : 0);
  if (leftovers && s.holdsRows === false) {
    return {
      action: 'update',
      changes: [schema, { field: 'tables', from: `${s.tables!.length} tables, no rows`, to: '(dropped, then built again by the sync)' }],
      why: `the schema is ${s.current.length ? 'behind' : 'unversioned'} and its tables hold no rows, as a sync cut off half-way leaves them: they are dropped and the sync starts over`,
      ops: [{ op: 'drop-tables', tables: [...s.tables!] }, ...ops],
    };
  }
  return {
    action: 'update',
    changes: [schema],
    why: s.current.length ? 'the schema is behind the installed package' : 'the database has no schema yet',
    ops,
  };
}

export function alembicSchema(spec: AlembicSchemaSpec): Resource<SchemaState, SchemaOp> {
  const fact = revisionsFact(spec.versionsDir);
  return {
    kind: 'db-schema',
    id: spec.id,
    notifies: spec.notifies,
    ...(spec.doneBy ? { doneBy: spec.doneBy } : {}),
    async read(host) {
      const heads = schemaHeads(await host.fact(fact));
      const seen = (await snapshotOf(host, spec.snapshot))?.alembic(spec.database);
      if (seen && heads.length && heads.every((h) => seen.includes(h))) return { heads, current: seen };
      const db = await host.use(spec.admin);
      const table = await db.query("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'alembic_version'", [spec.database]);
      const current = table.length
        ? (await db.query<{ version_num: string }>(`SELECT version_num FROM ${sqlIdent(spec.database)}.alembic_version`)).map((r) => r.version_num)
        : [];
      // A converged run stops here; what else the database holds matters only to a sync.
      if (!heads.length || heads.every((h) => current.includes(h))) return { heads, current };
      if (await host.fact(syncRunningFact(spec.sync))) return { heads, current, syncRunning: true };
      return { heads, current, ...await tablesAndRows(db, spec.database, 'alembic_version') };
    },
    diff: (current) => schemaDiff(current, spec.sync),
    async apply(host, ops) {
      for (const o of ops) {
        if (o.op === 'drop-tables') await dropTables(await host.use(spec.admin), spec.database, o.tables);
        else await runSync(host, o, 'db-schema', spec.hint);
      }
    },
  };
}
