// What MariaDB holds that the database resources read, taken in the facts' one round trip by the
// server's own client as the controller's root over its socket (Debian's unix_socket login: the admin
// session's way in, minus the driver and the tunnel). A run that changes nothing then opens no MariaDB
// session at all: no mysql2 to load (~100 ms of CPU), no tunnels, no logins. It answers only reads made
// before the run changes anything (snapshotOf); whatever it cannot answer (the client refused, an old
// server, a password kept by another plugin, a locked account) is read through the admin session as before.
import { defineFact, shq, type FactSpec } from '../engine/facts.ts';
import type { Host } from '../engine/host.ts';
import { SOCKET, sqlIdent } from '../clients/mysql.ts';
import type { Secret } from '../secret.ts';
import { nativePasswordHash, passwordBytes, type PasswordEncoding } from '../clients/mysql-password.ts';

export interface Account {
  readonly user: string;
  readonly host: string;
}

/** What a snapshot reads: databases by name, accounts, and the alembic_version rows of some databases. */
export interface SnapshotAsk {
  readonly databases: readonly string[];
  readonly accounts: readonly Account[];
  readonly alembic: readonly string[];
  readonly socket?: string;
}

export interface AccountSeen {
  readonly exists: boolean;
  /** SHOW GRANTS, one line each (empty for an account that does not exist). */
  readonly grants: readonly string[];
  /** SHOW CREATE USER (absent on a server without it): how its password is kept, locked or expired. */
  readonly createUser?: string;
}

export interface MysqlSnapshot {
  /** The client logged in and every statement's marker came back. */
  readonly ok: boolean;
  readonly version: string;
  database(name: string): boolean | undefined;
  account(a: Account): AccountSeen | undefined;
  /** The database's alembic_version rows: [] without the table; undefined when not asked or not read. */
  alembic(database: string): string[] | undefined;
}

/** A string literal for MariaDB whatever its sql_mode (the session turns NO_BACKSLASH_ESCAPES off first). */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\0/g, '\\0')}'`;
}

const accountSql = (a: Account) => `${sqlString(a.user)}@${sqlString(a.host)}`;
const END = '@end';

/** The statements, each answer after a marker line of its own (`-B -N` prints every row on one line). */
export function snapshotSql(ask: SnapshotAsk): string {
  const lines = [
    "SET SESSION sql_mode = REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', '');",
    "SELECT '@version', VERSION();",
  ];
  ask.databases.forEach((d, i) => lines.push(`SELECT '@db ${i}', COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${sqlString(d)};`));
  ask.accounts.forEach((a, i) => lines.push(
    `SELECT '@user ${i}', COUNT(*) FROM mysql.user WHERE User = ${sqlString(a.user)} AND Host = ${sqlString(a.host)};`,
    `SELECT '@grants ${i}';`, `SHOW GRANTS FOR ${accountSql(a)};`,
    `SELECT '@create ${i}';`, `SHOW CREATE USER ${accountSql(a)};`,
  ));
  ask.alembic.forEach((d, i) => lines.push(
    `SELECT '@alembic-table ${i}', COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${sqlString(d)} AND TABLE_NAME = 'alembic_version';`,
    `SELECT '@alembic ${i}';`, `SELECT version_num FROM ${sqlIdent(d)}.alembic_version;`,
  ));
  lines.push(`SELECT '${END}';`);
  return lines.join('\n');
}

/** `mysql --batch` escapes a tab, a newline, a backslash and NUL in a value. */
function unescapeBatch(s: string): string {
  return s.replace(/\\([tn0\\])/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === '0' ? '\0' : '\\'));
}

export function parseSnapshot(raw: string, ask: SnapshotAsk): MysqlSnapshot {
  // Each marker's lines: what follows it up to the next marker (a statement that failed prints nothing).
  const after = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of raw.split('\n')) {
    const m = /^(@[a-z-]+(?: \d+)?)(?:\t(.*))?$/.exec(line);
    if (m) {
      current = m[2] === undefined ? [] : [m[2]];
      after.set(m[1]!, current);
    } else if (current && line !== '') current.push(line);
  }
  const ok = after.has(END) && after.has('@version');
  const count = (key: string): number | undefined => {
    const v = after.get(key)?.[0];
    return v === undefined || !/^\d+$/.test(v) ? undefined : Number(v);
  };
  return {
    ok,
    version: unescapeBatch(after.get('@version')?.[0] ?? ''),
    database(name) {
      const i = ask.databases.indexOf(name);
      const n = ok && i >= 0 ? count(`@db ${i}`) : undefined;
      return n === undefined ? undefined : n > 0;
    },
    account(a) {
      const i = ask.accounts.findIndex((x) => x.user === a.user && x.host === a.host);
      const n = ok && i >= 0 ? count(`@user ${i}`) : undefined;
      if (n === undefined) return undefined;
      const create = after.get(`@create ${i}`)?.map(unescapeBatch);
      return { exists: n > 0, grants: (after.get(`@grants ${i}`) ?? []).map(unescapeBatch), ...(create?.length ? { createUser: create.join('\n') } : {}) };
    },
    alembic(database) {
      const i = ask.alembic.indexOf(database);
      const n = ok && i >= 0 ? count(`@alembic-table ${i}`) : undefined;
      if (n === undefined) return undefined;
      return n > 0 ? (after.get(`@alembic ${i}`) ?? []).map(unescapeBatch) : [];
    },
  };
}

/**
 * The fact: MariaDB's own client (`mariadb`, or `mysql` on older servers) as root over the socket, no
 * option files (a root's ~/.my.cnf must not send it elsewhere), with a short connect timeout and a bound
 * on the whole (a wedged server: the admin session then names it). Nothing secret goes in or comes out
 * but password hashes, which stay in this process.
 */
export function mysqlSnapshotFact(ask: SnapshotAsk): FactSpec<MysqlSnapshot> {
  const socket = ask.socket ?? SOCKET;
  const script = [
    'c=$(command -v mariadb || command -v mysql) || exit 0',
    't=; command -v timeout >/dev/null && t="timeout 4"',
    `$t "$c" --no-defaults --user=root --socket=${shq(socket)} --batch --skip-column-names --force --connect-timeout=3 <<'INSTALL_GLANCE_SQL'`,
    snapshotSql(ask),
    'INSTALL_GLANCE_SQL',
  ].join('\n');
  const key = `mysql snapshot ${socket} ${JSON.stringify([ask.databases, ask.accounts.map((a) => [a.user, a.host]), ask.alembic])}`;
  return defineFact(key, script, (raw) => parseSnapshot(raw, ask));
}

const afterChange = new WeakMap<Host, { changed: boolean }>();

/**
 * The snapshot, while it still holds: before the run changes anything on the host (a read after a change,
 * or the proof after the apply, goes to the admin session), and only when the client got in.
 */
export async function snapshotOf(host: Host, fact: FactSpec<MysqlSnapshot> | undefined): Promise<MysqlSnapshot | undefined> {
  if (!fact) return undefined;
  let state = afterChange.get(host);
  if (!state) {
    const s = { changed: false };
    afterChange.set(host, (state = s));
    host.onChange(() => (s.changed = true));
  }
  if (state.changed) return undefined;
  const snap = await host.fact(fact);
  return snap.ok && !state.changed ? snap : undefined;
}

/**
 * Whether `password` is the account's, by the hash SHOW CREATE USER shows: defined only for a password
 * kept by mysql_native_password alone, on an account neither locked nor expired (anything else is the
 * admin session's login to decide). The hash is compared here; the password is never sent anywhere.
 */
export function passwordMatches(createUser: string | undefined, password: Secret, encoding: PasswordEncoding = 'utf8'): boolean | undefined {
  if (!createUser) return undefined;
  if (/\bACCOUNT LOCK\b/i.test(createUser) || /\bPASSWORD EXPIRE\b(?!\s+(?:NEVER|DEFAULT)\b)/i.test(createUser)) return undefined;
  const m = /\bIDENTIFIED BY PASSWORD '(\*[0-9A-Fa-f]{40})'/.exec(createUser);
  // "IDENTIFIED VIA a OR b": another way may let the account in whatever this hash says.
  if (!m || /\bIDENTIFIED VIA\b|\bIDENTIFIED WITH\b/i.test(createUser)) return undefined;
  const hash = m[1]!.toUpperCase();
  return password.satisfies((p) => nativePasswordHash(passwordBytes(p, encoding)) === hash);
}
