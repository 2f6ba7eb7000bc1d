// A MariaDB database, created when absent. Its character set is left as the server makes it: MariaDB
// 10.6+ reports utf8 as utf8mb3, and comparing the two names would report drift on every run.
import type { Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';

export interface DatabaseState {
  exists: boolean;
}

export function mysqlDatabase(name: string): Resource<DatabaseState> {
  return {
    kind: 'mysql-database',
    id: name,
    async read(ctx) {
      const db = await ctx.mysql();
      const rows = await db.query('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]);
      return { exists: rows.length > 0 };
    },
    diff(current) {
      if (current.exists) return noChange(`database ${name} exists`);
      return { action: 'create', changes: [{ field: 'database', to: name }], why: `database ${name} does not exist` };
    },
    async apply(ctx) {
      const db = await ctx.mysql();
      await db.execute('CREATE DATABASE IF NOT EXISTS ??', [name]);
    },
  };
}
