// Running a service's own schema sync command (`glance-manage db_sync`) as its user, for the schema
// resources of either tool (alembic, sqlalchemy-migrate): once more after a first failure, then the
// error with what the command said, tracebacks trimmed to their last lines. The sync as a handler (so
// the journal keeps it owed until it finished), a lock it holds on the controller while it runs (it
// outlives a run cut off meanwhile), and the clean-up of what a sync killed half-way left.
import { EngineError } from '../engine/errors.ts';
import type { Host } from '../engine/host.ts';
import type { HandlerDef } from '../engine/playbook.ts';
import type { Resource } from '../engine/resource.ts';
import { sqlIdent, type MysqlSession } from '../clients/mysql.ts';
import { defineFact, shq, type FactSpec } from '../engine/facts.ts';

export interface SyncCommand {
  /** e.g. `glance-manage db_sync`, run by `su -s /bin/sh -c COMMAND USER`. */
  command: string;
  user: string;
}

/**
 * A lock on the controller every sync holds for as long as it runs (flock's, released when the sync ends):
 * a sync outlives the SSH connection of the run that started it, and the next run must not start another
 * one beside it, nor read its half-made schema as leftovers.
 */
export function syncLock(sync: SyncCommand): string {
  return `/run/lock/install-glance.${sync.command.split(' ')[0]!.replace(/[^A-Za-z0-9_.-]/g, '_')}.lock`;
}

/** Whether a sync holds the lock now (an earlier run's, cut off while it ran). */
export function syncRunningFact(sync: SyncCommand): FactSpec<boolean> {
  const lock = shq(syncLock(sync));
  return defineFact(`sync lock ${syncLock(sync)}`, `if [ ! -e ${lock} ] || flock -n ${lock} true; then echo free; else echo held; fi`, (raw) => raw.trim() === 'held');
}

/** Waits (up to 15 min, saying so) while a sync an earlier run started still runs. */
export async function waitForSync(host: Host, sync: SyncCommand, step: string): Promise<void> {
  const lock = syncLock(sync);
  if ((await host.t.exec(['sh', '-c', '[ ! -e "$1" ] || flock -n "$1" true', 'free', lock])).code === 0) return;
  host.progress(`waiting for a ${sync.command} an earlier run left running …`);
  const r = await host.t.exec(['flock', '-w', '900', lock, 'true']);
  if (r.code !== 0) {
    throw new EngineError(step, `a ${sync.command} started earlier still runs after 15 min`, `see what it does on the controller (ps -ef | grep '${sync.command.split(' ')[0]}'; its log), end it, then run again`);
  }
}

export async function runSync(host: Host, sync: SyncCommand, step: string, hint: string): Promise<void> {
  host.progress(`${sync.command} …`);
  // Under the lock, for as long as it runs, which may be longer than this run.
  const argv = ['flock', '-w', '900', syncLock(sync), 'su', '-s', '/bin/sh', '-c', sync.command, sync.user];
  let r = await host.t.exec(argv, { what: sync.command });
  // A first connection right after the database or its grants changed can fail once; a second try is cheap.
  if (r.code !== 0) r = await host.t.exec(argv, { what: sync.command });
  if (r.code !== 0) {
    const said = r.stderr.split('\n').filter((l) => l.trim() && !/Exception ignored|getcurrent|^\s+File |^Traceback/.test(l)).slice(-6).join('\n');
    throw new EngineError(step, `${sync.command} failed (exit ${r.code}):\n${said}`, hint);
  }
}

/** The database's tables, and whether any of them but `versionTable` holds a row (one query each). */
export async function tablesAndRows(db: MysqlSession, database: string, versionTable: string): Promise<{ tables: string[]; holdsRows: boolean }> {
  const tables = (await db.query<{ t: string }>("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", [database])).map((r) => r.t);
  const data = tables.filter((t) => t !== versionTable);
  if (!data.length) return { tables, holdsRows: false };
  const [row] = await db.query<{ n: number | string }>(`SELECT ${data.map((t) => `EXISTS(SELECT 1 FROM ${sqlIdent(database)}.${sqlIdent(t)})`).join(' + ')} AS n`);
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
    await db.query(`DROP TABLE IF EXISTS ${tables.map((t) => `${sqlIdent(database)}.${sqlIdent(t)}`).join(', ')}`);
  } finally {
    await db.query('SET SESSION foreign_key_checks = 1');
  }
}

/**
 * A handler that makes a schema resource's change: read again when it runs (after the packages and the
 * config, or in a later run when a dead one left it in the journal), and applied only if still needed.
 */
export function schemaSyncHandler<S, Op>(name: string, schema: Resource<S, Op>, sync: SyncCommand): HandlerDef {
  return {
    name,
    async run(host) {
      await waitForSync(host, sync, `handler ${name}`);
      // What the plan read may have moved since (the packages, or a sync an earlier run left running).
      await host.refreshFacts();
      const state = await schema.read(host);
      const diff = schema.diff(state);
      if (diff.action !== 'none') await schema.apply(host, diff.ops, state);
    },
  };
}
