// A MariaDB account with ALL on one database. Its password is checked by logging in with it (over the
// socket for user@localhost, over TCP to the controller's own address for user@'%'), and set only
// when that login fails: a re-run never rewrites a password that works.
import type { Resource, Change } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import type { HostContext } from '../engine/context.ts';
import type { Secret } from '../secret.ts';
import { canLogin, sqlDialect } from '../clients/mysql.ts';

export interface MysqlUserState {
  exists: boolean;
  hasGrant: boolean;
  /** undefined when it could not be tried (the account does not exist). */
  passwordWorks?: boolean;
}

export interface MysqlUserSpec {
  user: string;
  host: string;
  database: string;
  password: (ctx: HostContext) => Secret;
}

/** `GRANT ALL PRIVILEGES ON `db`.* TO …` in SHOW GRANTS output, whatever the quoting style. */
export function grantsAll(grants: string[], database: string): boolean {
  const db = database.replace(/_/g, '\\\\?_');
  const re = new RegExp(`^GRANT ALL PRIVILEGES ON [\`'"]?${db}[\`'"]?\\.\\* TO `, 'i');
  return grants.some((g) => re.test(g));
}

export function mysqlUserDiff(spec: Pick<MysqlUserSpec, 'user' | 'host' | 'database'>, s: MysqlUserState): ReturnType<Resource['diff']> {
  const account = `${spec.user}@${spec.host === '%' ? "'%'" : spec.host}`;
  if (!s.exists) {
    return {
      action: 'create',
      changes: [{ field: 'account', to: account }, { field: 'password', to: '***' }, { field: 'grant', to: `ALL ON ${spec.database}.*` }],
      why: `mysql user ${account} does not exist`,
    };
  }
  const changes: Change[] = [];
  if (s.passwordWorks === false) changes.push({ field: 'password', from: '(does not log in)', to: '***' });
  if (!s.hasGrant) changes.push({ field: 'grant', from: '(missing)', to: `ALL ON ${spec.database}.*` });
  if (!changes.length) return noChange(`mysql user ${account} exists, logs in with its password, has ALL on ${spec.database}.*`);
  return { action: 'update', changes, why: changes.map((c) => (c.field === 'password' ? 'its password does not log in' : `it lacks ALL on ${spec.database}.*`)).join('; ') };
}

export function mysqlUser(spec: MysqlUserSpec): Resource<MysqlUserState> {
  return {
    kind: 'mysql-user',
    id: `${spec.user}@${spec.host}`,
    async read(ctx) {
      const db = await ctx.mysql();
      const found = await db.query('SELECT User FROM mysql.user WHERE User = ? AND Host = ?', [spec.user, spec.host]);
      if (!found.length) return { exists: false, hasGrant: false };
      const grants = (await db.query<Record<string, string>>('SHOW GRANTS FOR ?@?', [spec.user, spec.host])).map((r) => String(Object.values(r)[0]));
      const via = spec.host === '%' ? { host: ctx.t.host, port: 3306 } : ({ socket: true } as const);
      const passwordWorks = await canLogin(ctx.t, spec.user, spec.password(ctx), via);
      return { exists: true, hasGrant: grantsAll(grants, spec.database), passwordWorks };
    },
    diff: (current) => mysqlUserDiff(spec, current),
    async apply(ctx, current) {
      const db = await ctx.mysql();
      const pw = spec.password(ctx).reveal();
      if (sqlDialect(db.serverVersion) === 'grant-identified') {
        // MySQL 5.5 (Juno's Ubuntu 14.04) has no CREATE USER IF NOT EXISTS; GRANT … IDENTIFIED BY does all three.
        await db.execute('GRANT ALL PRIVILEGES ON ??.* TO ?@? IDENTIFIED BY ?', [spec.database, spec.user, spec.host, pw]);
        return;
      }
      if (!current.exists) await db.execute('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [spec.user, spec.host, pw]);
      else if (current.passwordWorks === false) await db.execute('ALTER USER ?@? IDENTIFIED BY ?', [spec.user, spec.host, pw]);
      if (!current.hasGrant) await db.execute('GRANT ALL PRIVILEGES ON ??.* TO ?@?', [spec.database, spec.user, spec.host]);
    },
  };
}
