// A MariaDB/MySQL account with ALL on one database. Its password is checked by logging in with it (over
// the socket for user@localhost, over TCP to the controller's own address for user@'%'), and set only
// when that login fails: a re-run never rewrites a password that works. The statements follow the
// server's version (MySQL 5.5 has no CREATE USER IF NOT EXISTS / ALTER USER).
import type { Change, Diff, Ensure, Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import type { Provider } from '../engine/providers.ts';
import type { Secret } from '../secret.ts';
import type { Transport } from '../transport/ssh.ts';
import { canLogin, sqlDialect, tcpLoginAs, type MysqlSession } from '../clients/mysql.ts';
import { differsFromUtf8, nativePasswordHash, passwordBytes, type PasswordEncoding } from '../clients/mysql-password.ts';
import type { FactSpec } from '../engine/facts.ts';
import { passwordMatches, snapshotOf, type MysqlSnapshot } from './mysql-snapshot.ts';

export interface MysqlUserSpec {
  user: string;
  host: string;
  database: string;
  /** Required unless the account is to go. */
  password?: Secret;
  ensure?: Ensure;
  admin: Provider<MysqlSession>;
  /** The statements to use, when the playbook knows the server's era better than its version string. */
  dialect?: MysqlUserState['dialect'];
  /**
   * How the account's own client encodes the password (default UTF-8, as mysql2 and the mysql CLI do):
   * 'latin1' for PyMySQL. The password is then checked and set as those bytes (mysql-password.ts).
   */
  passwordEncoding?: PasswordEncoding;
  /**
   * MariaDB as the facts saw it (mysql-snapshot.ts): read instead of the admin session while it holds;
   * the password is then checked against the server's hash of it instead of by a login.
   */
  snapshot?: FactSpec<MysqlSnapshot>;
}

export interface MysqlUserState {
  exists: boolean;
  hasGrant: boolean;
  /** undefined when it could not be tried (the account does not exist, or it is to go). */
  passwordWorks?: boolean;
  /** How passwordWorks was found: a login with it (the default), or the server's hash of it. */
  passwordBy?: 'login' | 'hash';
  dialect: 'create-user' | 'grant-identified';
}

type Account = { user: string; host: string };
export type MysqlUserOp =
  | ({ op: 'grant-identified'; database: string; password: Secret } & Account)
  | ({ op: 'create-user'; password: Secret } & Account)
  | ({ op: 'set-password'; password: Secret } & Account)
  | ({ op: 'grant-all'; database: string } & Account)
  | ({ op: 'drop-user' } & Account);

/** `GRANT ALL PRIVILEGES ON `db`.* TO …` in SHOW GRANTS output, whatever the quoting style. */
export function grantsAll(grants: readonly string[], database: string): boolean {
  const db = database.replace(/_/g, '\\\\?_');
  const re = new RegExp(`^GRANT ALL PRIVILEGES ON [\`'"]?${db}[\`'"]?\\.\\* TO `, 'i');
  return grants.some((g) => re.test(g));
}

export function mysqlUserDiff(s: MysqlUserState, desired: Pick<MysqlUserSpec, 'user' | 'host' | 'database' | 'password' | 'ensure'>): Diff<MysqlUserOp> {
  const { user, host, database } = desired;
  const account = `${user}@${host === '%' ? "'%'" : host}`;
  if (desired.ensure === 'absent') {
    if (!s.exists) return noChange(`mysql user ${account} does not exist`);
    return { action: 'delete', changes: [{ field: 'account', from: account, to: '(dropped)' }], why: `mysql user ${account} exists`, ops: [{ op: 'drop-user', user, host }] };
  }
  const password = needPassword(desired);
  if (!s.exists) {
    return {
      action: 'create',
      changes: [{ field: 'account', to: account }, { field: 'password', to: '***' }, { field: 'grant', to: `ALL ON ${database}.*` }],
      why: `mysql user ${account} does not exist`,
      ops: s.dialect === 'grant-identified'
        ? [{ op: 'grant-identified', user, host, database, password }]
        : [{ op: 'create-user', user, host, password }, { op: 'grant-all', user, host, database }],
    };
  }
  const changes: Change[] = [];
  const ops: MysqlUserOp[] = [];
  if (s.dialect === 'grant-identified' && (s.passwordWorks === false || !s.hasGrant)) {
    // MySQL 5.5: GRANT … IDENTIFIED BY sets the password and the grant at once.
    ops.push({ op: 'grant-identified', user, host, database, password });
  } else {
    if (s.passwordWorks === false) ops.push({ op: 'set-password', user, host, password });
    if (!s.hasGrant) ops.push({ op: 'grant-all', user, host, database });
  }
  const byHash = s.passwordBy === 'hash';
  if (s.passwordWorks === false) changes.push({ field: 'password', from: byHash ? "(not the server's hash)" : '(does not log in)', to: '***' });
  if (!s.hasGrant) changes.push({ field: 'grant', from: '(missing)', to: `ALL ON ${database}.*` });
  if (!changes.length) return noChange(`mysql user ${account} exists, ${byHash ? "its password matches the server's hash" : 'logs in with its password'}, has ALL on ${database}.*`);
  const passwordWhy = byHash ? "its password does not match the server's hash" : 'its password does not log in';
  return { action: 'update', changes, why: changes.map((c) => (c.field === 'password' ? passwordWhy : `it lacks ALL on ${database}.*`)).join('; '), ops };
}

function needPassword(spec: Pick<MysqlUserSpec, 'user' | 'host' | 'password'>): Secret {
  if (!spec.password) throw new Error(`mysql-user ${spec.user}@${spec.host}: a password is needed unless the account is to go`);
  return spec.password;
}

export function mysqlUser(spec: MysqlUserSpec): Resource<MysqlUserState, MysqlUserOp> {
  if (spec.ensure !== 'absent') needPassword(spec);
  return {
    kind: 'mysql-user',
    id: `${spec.user}@${spec.host}`,
    async read(host) {
      const snap = await snapshotOf(host, spec.snapshot);
      const seen = snap?.account({ user: spec.user, host: spec.host });
      if (snap && seen) {
        const dialect = spec.dialect ?? sqlDialect(snap.version);
        if (!seen.exists) return { exists: false, hasGrant: false, dialect };
        const hasGrant = grantsAll(seen.grants, spec.database);
        if (spec.ensure === 'absent') return { exists: true, hasGrant, dialect };
        const works = passwordMatches(seen.createUser, needPassword(spec), spec.passwordEncoding);
        // A password the hash cannot settle: the admin session reads the account and logs in.
        if (works !== undefined) return { exists: true, hasGrant, passwordWorks: works, passwordBy: 'hash', dialect };
      }
      const db = await host.use(spec.admin);
      const dialect = spec.dialect ?? sqlDialect(db.serverVersion);
      const found = await db.query('SELECT User FROM mysql.user WHERE User = ? AND Host = ?', [spec.user, spec.host]);
      if (!found.length) return { exists: false, hasGrant: false, dialect };
      const grants = (await db.query<Record<string, string>>('SHOW GRANTS FOR ?@?', [spec.user, spec.host])).map((r) => String(Object.values(r)[0]));
      if (spec.ensure === 'absent') return { exists: true, hasGrant: grantsAll(grants, spec.database), dialect };
      return { exists: true, hasGrant: grantsAll(grants, spec.database), passwordWorks: await passwordWorks(host.t, db, spec), dialect };
    },
    diff: (current) => mysqlUserDiff(current, spec),
    async apply(host, ops) {
      const db = await host.use(spec.admin);
      for (const o of ops) {
        // Placeholders: the password travels in the MySQL protocol, escaped by the driver, never in a log.
        // When its client sends other bytes than UTF-8 for it, the account gets the hash of those bytes.
        const by = 'password' in o ? identifiedBy(o.password, spec.passwordEncoding) : undefined;
        if (o.op === 'grant-identified') await db.execute(`GRANT ALL PRIVILEGES ON ??.* TO ?@? ${by!.sql}`, [o.database, o.user, o.host, by!.value]);
        else if (o.op === 'create-user') await db.execute(`CREATE USER IF NOT EXISTS ?@? ${by!.sql}`, [o.user, o.host, by!.value]);
        else if (o.op === 'set-password') await db.execute(`ALTER USER ?@? ${by!.sql}`, [o.user, o.host, by!.value]);
        else if (o.op === 'grant-all') await db.execute('GRANT ALL PRIVILEGES ON ??.* TO ?@?', [o.database, o.user, o.host]);
        else await db.execute('DROP USER ?@?', [o.user, o.host]);
      }
    },
  };
}

/**
 * Whether the account's password logs in: user@'%' over TCP to the controller's own address (the server
 * sees a non-local client), user@localhost over the socket, or, when the admin session says the socket is
 * out of reach, over TCP to where it reached the server (127.0.0.1, or the one address the server is bound
 * to). Over TCP a login proves the password only when it lands on this very account: a server that does
 * not see that client as localhost (bound elsewhere, skip-name-resolve) picks user@'%' for it, whose
 * password says nothing of this one, and whose refusal neither. Then the server compares the hash.
 */
async function passwordWorks(t: Transport, db: MysqlSession, spec: MysqlUserSpec): Promise<boolean> {
  const password = needPassword(spec);
  const enc = spec.passwordEncoding;
  if (spec.host === '%') return canLogin(t, spec.user, password, { host: t.host, port: 3306 }, enc);
  if (!db.local) return canLogin(t, spec.user, password, { socket: true }, enc);
  if ((await tcpLoginAs(t, { user: spec.user, host: spec.host }, password, db.local, enc)) === 'yes') return true;
  // PASSWORD() is MySQL 5.5's and MariaDB's (the Password column too, a view of it since MariaDB 10.4).
  // The Secret is revealed by the TCP session, into the MySQL protocol (openSessionOver).
  const by = identifiedBy(password, enc);
  const same = await db.query(`SELECT 1 FROM mysql.user WHERE User = ? AND Host = ? AND Password = ${by.hashed ? '?' : 'PASSWORD(?)'}`, [spec.user, spec.host, by.value]);
  return same.length > 0;
}

/**
 * `IDENTIFIED BY ?` with the password, or, when the account's client sends other bytes than UTF-8 for it
 * (PyMySQL and é), `IDENTIFIED BY PASSWORD ?` with the hash of those bytes (MySQL 5.5 and every MariaDB
 * take it); either way a Secret, revealed only into the MySQL protocol.
 */
function identifiedBy(password: Secret, encoding: PasswordEncoding = 'utf8'): { sql: string; value: Secret; hashed: boolean } {
  if (!password.satisfies((p) => differsFromUtf8(p, encoding))) return { sql: 'IDENTIFIED BY ?', value: password, hashed: false };
  return { sql: 'IDENTIFIED BY PASSWORD ?', value: password.map((p) => nativePasswordHash(passwordBytes(p, encoding))), hashed: true };
}
