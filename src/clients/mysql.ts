// MariaDB through the SSH connection, the only module that imports mysql2: the admin session as root
// over the server's unix socket (Debian's unix_socket auth sees its peer: sshd's root, or with --become
// a root-run relay), and logins as another user to prove a password works (the SSH user's own tunnel:
// the socket is world-connectable, a password login needs no root). Nothing listens on the network for us.
import type { Connection } from 'mysql2/promise';
import type { Transport } from '../transport/ssh.ts';
import { Secret } from '../secret.ts';
import { passwordBytes, passwordSha1, type PasswordEncoding } from './mysql-password.ts';

export const SOCKET = '/run/mysqld/mysqld.sock';

/**
 * A name (database, table) quoted for SQL text, as mysql2's `??` placeholder quotes it (a backquote
 * doubled): the one rule for every name we write into a statement ourselves, so a read names the same
 * database that `CREATE DATABASE ??` made.
 */
export const sqlIdent = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

/**
 * How accounts are made on this server: `CREATE USER IF NOT EXISTS` / `ALTER USER` where the server has
 * them (MariaDB 10.1.3+, MySQL 5.7.6+; MySQL 8 has no other way), else `GRANT … IDENTIFIED BY` (the
 * seed's MySQL 5.5 on Ubuntu 14.04).
 */
export function sqlDialect(serverVersion: string): 'create-user' | 'grant-identified' {
  const [major = 0, minor = 0, patch = 0] = (/^(\d+)\.(\d+)\.(\d+)/.exec(serverVersion) ?? []).slice(1).map(Number);
  const v = major * 10000 + minor * 100 + patch;
  const modern = /mariadb/i.test(serverVersion) ? v >= 100103 : v >= 50706;
  return modern ? 'create-user' : 'grant-identified';
}

export interface MysqlSession {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a statement that writes; kept apart so a test or a dry run can see every write. Secret parameters are revealed at the wire. */
  execute(sql: string, params?: unknown[]): Promise<void>;
  readonly serverVersion: string;
  /**
   * Set when the server's socket is out of reach (the admin came over TCP): where a login as user@localhost
   * goes instead, 127.0.0.1 on the controller, which the server names localhost when it resolves names.
   */
  readonly local?: { host: string; port: number };
  close(): Promise<void>;
}

export class MysqlError extends Error {
  constructor(message: string, readonly hint: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'MysqlError';
  }
}

/**
 * MariaDB took the connection and said nothing in time (stopped, wedged): whichever way in was used, the
 * same server is behind it, so another way is not worth another wait.
 */
export class MysqlStalled extends MysqlError {
  override readonly name = 'MysqlStalled';
}

// mysql2 is loaded on first use: a command that never talks to MariaDB (--help, lab, verify) does not pay for it.
const driver = async () => (await import('mysql2/promise')).default;

/**
 * Nothing waits on MariaDB for long. The server gives up a lock wait itself after LOCK_WAIT_SEC (a backup's
 * FLUSH TABLES WITH READ LOCK, another session's row lock) and the statement is never run later; the
 * client gives up any statement after QUERY_TIMEOUT_MS (a stopped or wedged server) and the handshake
 * after CONNECT_TIMEOUT_MS.
 */
export const LIMITS = { CONNECT_TIMEOUT_MS: 10_000, QUERY_TIMEOUT_MS: 20_000, LOCK_WAIT_SEC: 10 };

/** MariaDB's "Query execution was interrupted (max_statement_time exceeded)", which mysql2 has no name for. */
const ER_STATEMENT_TIMEOUT = 1969;

/** First words of a statement, for an error: never its parameters (a password is one). */
const stmt = (sql: string) => sql.split(/\s+/).slice(0, 3).join(' ');

/** A mysql2 error as one that names MariaDB, what waited, and what to look at. */
export function mysqlFailure(e: unknown, sql: string): Error {
  const x = e as { code?: string; errno?: number; message?: string };
  if (x?.code === 'PROTOCOL_SEQUENCE_TIMEOUT') {
    return new MysqlError(`MariaDB gave no answer to ${stmt(sql)} … in ${LIMITS.QUERY_TIMEOUT_MS / 1000} s`,
      'it may be stopped or wedged: check mariadbd on the controller (service mariadb status, SHOW PROCESSLIST, its log), then run again', e);
  }
  if (x?.code === 'ER_LOCK_WAIT_TIMEOUT' || x?.code === 'ER_LOCK_DEADLOCK' || x?.errno === ER_STATEMENT_TIMEOUT) {
    return new MysqlError(`MariaDB: ${stmt(sql)} … waited ${LIMITS.LOCK_WAIT_SEC} s, most likely for a lock another session holds (${x.message})`,
      'see who holds it (SHOW PROCESSLIST on the controller: a backup with FLUSH TABLES WITH READ LOCK, a long transaction); when it is done, run again', e);
  }
  return e instanceof Error ? e : new Error(String(e));
}

/** The handshake that did not come, or a login refused, as one clear error. */
function connectFailure(e: unknown, who: string, socket: string, refusedHint = 'check the account and its password on the controller'): MysqlError {
  const code = (e as { code?: string }).code;
  if (code === 'ETIMEDOUT' || code === 'PROTOCOL_CONNECTION_LOST') {
    return new (code === 'ETIMEDOUT' ? MysqlStalled : MysqlError)(`MariaDB accepted a connection on ${socket} but did not answer in ${LIMITS.CONNECT_TIMEOUT_MS / 1000} s`,
      'it may be stopped (SIGSTOP), overloaded or wedged: check mariadbd on the controller (service mariadb status, its log), then run again', e);
  }
  return new MysqlError(`cannot log in to MariaDB as ${who} over ${socket}: ${(e as Error).message}`, refusedHint, e);
}

/** What the set-up needs of a connection: a query whose first element is its rows (mysql2's shape). */
export interface SetUpConnection { query(sql: string): Promise<readonly unknown[]> }

/**
 * The server's version, read in the session's first query; and the session made to read a backslash in a
 * string as an escape. mysql2 writes every `?` value as a quoted literal with backslash escapes (`'it\'s'`):
 * a server whose sql_mode has NO_BACKSLASH_ESCAPES would read that backslash as a character and the quote
 * after it as the literal's end, so a password holding `\'` could end the literal early. The mode is
 * switched off for this session only, and only where it is on (no extra query otherwise).
 */
export async function sessionSetUp(conn: SetUpConnection): Promise<string> {
  const [rows] = await conn.query('SELECT VERSION() AS v, @@SESSION.sql_mode AS m');
  const row = (rows as { v: string; m: string | null }[])[0];
  const modes = String(row?.m ?? '').split(',');
  if (modes.includes('NO_BACKSLASH_ESCAPES')) {
    // The new mode is a list of names (letters and _): no quote or backslash to read either way.
    await conn.query(`SET SESSION sql_mode = '${modes.filter((m) => m !== 'NO_BACKSLASH_ESCAPES').join(',')}'`);
  }
  return String(row?.v ?? '');
}

/**
 * How mysql2 logs in with `password` sent as its account's client sends it: UTF-8 is mysql2's own; other
 * bytes go as their SHA1 (`passwordSha1`, which mysql2 uses byte by byte: a Buffer at run time, though
 * its typings say string).
 */
export function loginPassword(password: Secret, encoding: PasswordEncoding = 'utf8'): { password: string } | { passwordSha1: string } {
  if (encoding === 'utf8') return { password: password.reveal() };
  return { passwordSha1: passwordSha1(passwordBytes(password.reveal(), encoding)) as unknown as string };
}

export async function openAdminSession(t: Transport, opts: { user?: string; password?: Secret; socket?: string } = {}): Promise<MysqlSession> {
  const socket = opts.socket ?? SOCKET;
  const mysql = await driver();
  let stream;
  try {
    // Privileged: unix_socket authentication logs in whoever connects; through sudo that is root.
    stream = await t.openUnixSocket(socket, { privileged: true });
  } catch (e) {
    // sudo's own refusal says what to do better than a guess about MariaDB.
    if ((e as { step?: string }).step === 'become') throw e;
    throw new MysqlError(`MariaDB does not answer on ${socket}: ${(e as Error).message}`, 'start it on the controller (service mariadb start) and run again', e);
  }
  let conn: Connection;
  try {
    conn = await mysql.createConnection({
      // mysql2 types want a net.Socket; a tunnel channel is a Duplex, which is all mysql2 uses.
      stream: stream as never,
      user: opts.user ?? 'root',
      password: opts.password?.reveal(),
      multipleStatements: false,
      connectTimeout: LIMITS.CONNECT_TIMEOUT_MS,
    });
  } catch (e) {
    stream.destroy();
    throw connectFailure(e, opts.user ?? 'root', socket, t.user === 'root'
      ? 'check that MariaDB\'s root logs in by unix_socket (Debian\'s default): sudo mysql -e "SELECT 1" on the controller'
      : `MariaDB's root logs in by unix_socket, which sees the SSH user ${t.user}: run with --become (sudo) or connect as root`);
  }
  return boundedSession(conn);
}

/**
 * A logged-in connection as a session where nothing waits long: every statement has the client's
 * timeout, and the server is told to give up lock waits itself.
 */
async function boundedSession(conn: Connection, local?: { host: string; port: number }): Promise<MysqlSession> {
  // A Secret among the parameters is revealed here, into the MySQL protocol (escaped by the driver), and nowhere else.
  const run = async (sql: string, params: unknown[]) => {
    try {
      const [r] = await conn.query({ sql, timeout: LIMITS.QUERY_TIMEOUT_MS }, params.map((p) => (p instanceof Secret ? p.reveal() : p)));
      return r;
    } catch (e) {
      throw mysqlFailure(e, sql);
    }
  };
  // The version (and backslashes read as escapes), under the same timeout as every other statement.
  const serverVersion = await sessionSetUp({ query: async (sql: string) => [await run(sql, [])] });
  // A lock another session holds (a backup's FLUSH TABLES WITH READ LOCK) fails our statement in seconds,
  // on the server, instead of leaving it queued to run after we gave up. lock_wait_timeout covers DDL;
  // account statements (ALTER USER) wait for that lock outside it, so MariaDB's max_statement_time too
  // (MariaDB 10.1+; MySQL 5.5 has neither it nor lock_wait_timeout's account coverage).
  const limits = [
    ...(/^5\.[0-4]\./.test(serverVersion) ? [] : ['lock_wait_timeout = ?']), 'innodb_lock_wait_timeout = ?',
    ...(/mariadb/i.test(serverVersion) && sqlDialect(serverVersion) === 'create-user' ? ['max_statement_time = ?'] : []),
  ];
  await run(`SET SESSION ${limits.join(', ')}`, limits.map(() => LIMITS.LOCK_WAIT_SEC));
  return {
    serverVersion,
    ...(local ? { local } : {}),
    async query<T>(sql: string, params: unknown[] = []) {
      // A read may compare a Secret (a password's hash, when a login cannot tell).
      return (await run(sql, params)) as T[];
    },
    async execute(sql: string, params: unknown[] = []) {
      await run(sql, params);
    },
    close: () => endWithin(conn),
  };
}

/** A polite COM_QUIT (the server logs no aborted connection), but never a wait on a stopped server. */
async function endWithin(conn: Connection, ms = 2_000): Promise<void> {
  const ended = conn.end().then(() => true, () => false);
  const done = await Promise.race([ended, new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
  if (!done) conn.destroy();
}

/**
 * True when `user` can log in with `password`: over the socket for user@localhost, over TCP to the
 * controller's own address for user@'%' (the server then sees a non-local client).
 */
export async function canLogin(t: Transport, user: string, password: Secret, via: { socket: true } | { host: string; port: number }, encoding: PasswordEncoding = 'utf8'): Promise<boolean> {
  const mysql = await driver();
  const stream = 'socket' in via ? await t.openUnixSocket(SOCKET) : await t.openTcp(via.host, via.port);
  try {
    const conn = await mysql.createConnection({ stream: stream as never, user, ...loginPassword(password, encoding), connectTimeout: LIMITS.CONNECT_TIMEOUT_MS });
    await endWithin(conn);
    return true;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR' || code === 'ER_HOST_NOT_PRIVILEGED') return false;
    throw 'socket' in via ? connectFailure(e, user, SOCKET) : connectFailure(e, user, `${via.host}:${via.port}`);
  } finally {
    stream.destroy();
  }
}

/** The account a login matched, as CURRENT_USER() gives it (`glance@localhost`), is this user@host? */
export function isAccount(currentUser: string, user: string, host: string): boolean {
  const at = currentUser.lastIndexOf('@');
  return at >= 0 && currentUser.slice(0, at) === user && currentUser.slice(at + 1).toLowerCase() === host.toLowerCase();
}

/**
 * A login over a TCP forward to `via` as `user` with `password`: 'yes' when it logs in as user@host,
 * 'no' when the server refuses it, 'other' when it logs in but as another account (a server that does
 * not resolve 127.0.0.1 to localhost matches user@'%' instead; then the password of user@host cannot be
 * told by logging in).
 */
export async function tcpLoginAs(t: Transport, account: { user: string; host: string }, password: Secret, via: { host: string; port: number }, encoding: PasswordEncoding = 'utf8'): Promise<'yes' | 'no' | 'other'> {
  const mysql = await driver();
  const stream = await t.openTcp(via.host, via.port);
  let conn: Connection | undefined;
  try {
    conn = await mysql.createConnection({ stream: stream as never, user: account.user, ...loginPassword(password, encoding), connectTimeout: LIMITS.CONNECT_TIMEOUT_MS });
    const [rows] = await conn.query({ sql: 'SELECT CURRENT_USER() AS u', timeout: LIMITS.QUERY_TIMEOUT_MS });
    return isAccount(String((rows as { u: string }[])[0]?.u ?? ''), account.user, account.host) ? 'yes' : 'other';
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR' || code === 'ER_HOST_NOT_PRIVILEGED') return 'no';
    throw e;
  } finally {
    if (conn) await endWithin(conn);
    stream.destroy();
  }
}

/**
 * A session over a stream already open to the server (a TCP forward), logged in with a password. The
 * driver's own errors go through (the caller knows where the stream goes and whose password it is).
 */
export async function openSessionOver(stream: import('node:stream').Duplex, opts: { user: string; password?: Secret; local?: { host: string; port: number } }): Promise<MysqlSession> {
  const mysql = await driver();
  const conn = await mysql.createConnection({ stream: stream as never, user: opts.user, password: opts.password?.reveal(), multipleStatements: false, connectTimeout: LIMITS.CONNECT_TIMEOUT_MS });
  return boundedSession(conn, opts.local);
}
