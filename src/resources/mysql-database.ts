// A MariaDB/MySQL database, created when absent (dropped when the playbook wants it absent). Its
// character set is left as the server makes it: MariaDB 10.6+ reports utf8 as utf8mb3, and comparing
// the two names would report drift on every run.
import type { Diff, Ensure, Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import type { Provider } from '../engine/providers.ts';
import type { MysqlSession } from '../clients/mysql.ts';
import type { FactSpec } from '../engine/facts.ts';
import { snapshotOf, type MysqlSnapshot } from './mysql-snapshot.ts';

export interface MysqlDatabaseSpec {
  name: string;
  ensure?: Ensure;
  admin: Provider<MysqlSession>;
  /** MariaDB as the facts saw it (mysql-snapshot.ts): read instead of the admin session while it holds. */
  snapshot?: FactSpec<MysqlSnapshot>;
}

export interface DatabaseState {
  exists: boolean;
}

export type DatabaseOp = { op: 'create-database'; name: string } | { op: 'drop-database'; name: string };

export function mysqlDatabaseDiff(current: DatabaseState, desired: { name: string; ensure?: Ensure }): Diff<DatabaseOp> {
  const { name } = desired;
  if (desired.ensure === 'absent') {
    if (!current.exists) return noChange(`database ${name} does not exist`);
    return { action: 'delete', changes: [{ field: 'database', from: name, to: '(dropped with its tables)' }], why: `database ${name} exists`, ops: [{ op: 'drop-database', name }] };
  }
  if (current.exists) return noChange(`database ${name} exists`);
  return { action: 'create', changes: [{ field: 'database', to: name }], why: `database ${name} does not exist`, ops: [{ op: 'create-database', name }] };
}

export function mysqlDatabase(spec: MysqlDatabaseSpec): Resource<DatabaseState, DatabaseOp> {
  return {
    kind: 'mysql-database',
    id: spec.name,
    async read(host) {
      const seen = (await snapshotOf(host, spec.snapshot))?.database(spec.name);
      if (seen !== undefined) return { exists: seen };
      const db = await host.use(spec.admin);
      const rows = await db.query('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [spec.name]);
      return { exists: rows.length > 0 };
    },
    diff: (current) => mysqlDatabaseDiff(current, spec),
    async apply(host, ops) {
      const db = await host.use(spec.admin);
      for (const o of ops) {
        if (o.op === 'create-database') await db.execute('CREATE DATABASE IF NOT EXISTS ??', [o.name]);
        else await db.execute('DROP DATABASE IF EXISTS ??', [o.name]);
      }
    },
  };
}
