// Glance's database schema, synced with `glance-manage db_sync` as the glance user only when the
// database is not at the head the installed package ships. Both sides are read cheaply: the heads
// from the migration files (facts), the database's from alembic_version (the MySQL session), so a
// converged run never starts glance-manage (~1.5 s of Python start-up).
import type { Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import { schemaHeads } from '../engine/facts.ts';
import { EngineError } from '../engine/errors.ts';

export interface SchemaState {
  heads: string[];
  current: string[];
}

export function schemaDiff(s: SchemaState): ReturnType<Resource['diff']> {
  if (!s.heads.length) return { action: 'update', changes: [{ field: 'schema', to: 'head' }], why: 'glance is not installed yet: db_sync follows the install' };
  const missing = s.heads.filter((h) => !s.current.includes(h));
  if (!missing.length) return noChange(`schema at head (${s.heads.join(', ')})`);
  return {
    action: 'update',
    changes: [{ field: 'schema', from: s.current.join(', ') || '(empty)', to: s.heads.join(', ') }],
    why: s.current.length ? 'the schema is behind the installed glance' : 'the database has no schema yet',
  };
}

export function glanceSchema(): Resource<SchemaState> {
  return {
    kind: 'db-schema',
    id: 'glance',
    notifies: ['restart-glance-api'],
    async read(ctx) {
      const heads = schemaHeads(ctx.facts.schemaFiles);
      const db = await ctx.mysql();
      const table = await db.query("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'alembic_version'", [ctx.settings.database]);
      const current = table.length
        ? (await db.query<{ version_num: string }>(`SELECT version_num FROM ${'`'}${ctx.settings.database.replace(/`/g, '')}${'`'}.alembic_version`)).map((r) => r.version_num)
        : [];
      return { heads, current };
    },
    diff: (s) => schemaDiff(s),
    async apply(ctx) {
      ctx.progress('glance-manage db_sync …');
      const argv = ['su', '-s', '/bin/sh', '-c', 'glance-manage db_sync', 'glance'];
      let r = await ctx.t.exec(argv);
      // A first connection right after MariaDB or the grants changed can fail once; a second try is cheap.
      if (r.code !== 0) r = await ctx.t.exec(argv);
      if (r.code !== 0) {
        const said = r.stderr.split('\n').filter((l) => l.trim() && !/Exception ignored|getcurrent|^\s+File |^Traceback/.test(l)).slice(-6).join('\n');
        throw new EngineError('db-schema', `glance-manage db_sync failed (exit ${r.code}):\n${said}`, 'check [database] connection in /etc/glance/glance-api.conf and that MariaDB is up; the log is /var/log/glance/glance-manage.log');
      }
    },
  };
}
