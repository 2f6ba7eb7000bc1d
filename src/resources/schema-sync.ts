// Running a service's own schema sync command (`glance-manage db_sync`) as its user, for the schema
// resources of either tool (alembic, sqlalchemy-migrate): once more after a first failure, then the
// error with what the command said, tracebacks trimmed to their last lines. The sync as a handler (so
// the journal keeps it owed until it finished), and the clean-up of what a cut-off sync left.
import { EngineError } from '../engine/errors.ts';
import type { Host } from '../engine/host.ts';
import type { HandlerDef } from '../engine/playbook.ts';
import type { Resource } from '../engine/resource.ts';
import type { MysqlSession } from '../clients/mysql.ts';

export interface SyncCommand {
  /** e.g. `glance-manage db_sync`, run by `su -s /bin/sh -c COMMAND USER`. */
  command: string;
  user: string;
}

export async function runSync(host: Host, sync: SyncCommand, step: string, hint: string): Promise<void> {
  host.progress(`${sync.command} …`);
  const argv = ['su', '-s', '/bin/sh', '-c', sync.command, sync.user];
  let r = await host.t.exec(argv);
  // A first connection right after the database or its grants changed can fail once; a second try is cheap.
  if (r.code !== 0) r = await host.t.exec(argv);
  if (r.code !== 0) {
    const said = r.stderr.split('\n').filter((l) => l.trim() && !/Exception ignored|getcurrent|^\s+File |^Traceback/.test(l)).slice(-6).join('\n');
    throw new EngineError(step, `${sync.command} failed (exit ${r.code}):\n${said}`, hint);
  }
}

const ident = (name: string) => `\`${name.replace(/`/g, '``')}\``;

/** The database's tables, and whether any of them but `versionTable` holds a row (one query each). */
export async function tablesAndRows(db: MysqlSession, database: string, versionTable: string): Promise<{ tables: string[]; holdsRows: boolean }> {
  const tables = (await db.query<{ t: string }>("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", [database])).map((r) => r.t);
  const data = tables.filter((t) => t !== versionTable);
  if (!data.length) return { tables, holdsRows: false };
  const [row] = await db.query<{ n: number | string }>(`SELECT ${data.map((t) => `EXISTS(SELECT 1 FROM ${ident(database)}.${ident(t)})`).join(' + ')} AS n`);
  return { tables, holdsRows: Number(row?.n ?? 0) > 0 };
}

/**
 * Drops tables a cut-off sync left (empty ones: the diff checked), in one statement with foreign key
 * checks off for it, since they reference each other.
 */
export async function dropTables(db: MysqlSession, database: string, tables: readonly string[]): Promise<void> {
  if (!tables.length) return;
  await db.query('SET SESSION foreign_key_checks = 0');
  try {
    await db.query(`DROP TABLE IF EXISTS ${tables.map((t) => `${ident(database)}.${ident(t)}`).join(', ')}`);
  } finally {
    await db.query('SET SESSION foreign_key_checks = 1');
  }
}

/**
 * A handler that makes a schema resource's change: read again when it runs (after the packages and the
 * config, or in a later run when a dead one left it in the journal), and applied only if still needed.
 */
export function schemaSyncHandler<S, Op>(name: string, schema: Resource<S, Op>): HandlerDef {
  return {
    name,
    async run(host) {
      const state = await schema.read(host);
      const diff = schema.diff(state);
      if (diff.action !== 'none') await schema.apply(host, diff.ops, state);
    },
  };
}
