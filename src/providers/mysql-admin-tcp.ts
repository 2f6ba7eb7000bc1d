// The database admin session over TCP, for a controller where MariaDB's socket is out of reach or its root
// has no socket login: Ubuntu 14.04 (OpenSSH 6.6 has no stream-local forwarding, MySQL/MariaDB 5.5 no
// unix_socket login). The SSH connection forwards to 127.0.0.1:3306 on the controller (or to the one
// address the server is bound to), and the admin logs in with a password: the maintenance account of
// /etc/mysql/debian.cnf (every privilege; the package writes it, root reads it), or root with a password
// the operator keeps in a local file.
import fs from 'node:fs';
import type { Provider } from '../engine/providers.ts';
import type { Host } from '../engine/host.ts';
import { defineFact } from '../engine/facts.ts';
import { Secret } from '../secret.ts';
import { LIMITS, MysqlError, MysqlStalled, openSessionOver, type MysqlSession } from '../clients/mysql.ts';

export const DEBIAN_CNF = '/etc/mysql/debian.cnf';
export const TCP_HOST = '127.0.0.1';
const DEFAULT_PORT = 3306;

/** MySQL option-file escapes (`\n`, `\t`, `\s` for a space, `\\`, …), as mysys my_default.c reads them. */
function unescape(v: string): string {
  const map: Record<string, string> = { b: '\b', t: '\t', n: '\n', r: '\r', s: ' ', '\\': '\\' };
  return v.replace(/\\(.)/g, (_, c: string) => map[c] ?? `\\${c}`);
}

/**
 * A MySQL option file (my.cnf's syntax) as sections of options: `key = value`, `key=value` or a bare
 * `key`; `#` and `;` comment lines, and a `#` outside quotes ends a value (mysys remove_end_comment); a
 * value in matching single or double quotes loses them; `-` and `_` in names are the same; `!include`
 * lines are not followed.
 */
export function parseMyCnf(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';') || line.startsWith('!')) continue;
    const head = /^\[([^\]]+)\]$/.exec(line);
    if (head) {
      section = out[head[1]!.trim().toLowerCase()] ??= {};
      continue;
    }
    if (!section) continue;
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim().replace(/-/g, '_').toLowerCase();
    let value = eq < 0 ? '' : line.slice(eq + 1).trim();
    const q = /^(['"])(.*)\1$/.exec(value);
    if (q) value = q[2]!;
    else value = value.replace(/#.*$/, '').trimEnd();
    section[key] = unescape(value);
  }
  return out;
}

export interface TcpAdminCredentials {
  user: string;
  /** Undefined: the file names none (Debian's own debian.cnf, for a root that logs in by socket). */
  password?: Secret;
  port: number;
  /** Where they came from, for messages: never the password. */
  source: string;
}

/** The [client] section of debian.cnf as credentials, the password a Secret at once; undefined without a user. */
export function debianCnfCredentials(text: string): TcpAdminCredentials | undefined {
  const client = parseMyCnf(text).client;
  if (!client?.user) return undefined;
  const port = Number(client.port);
  return {
    user: client.user,
    ...(client.password ? { password: new Secret(client.password) } : {}),
    port: Number.isInteger(port) && port > 0 && port < 65536 ? port : DEFAULT_PORT,
    source: DEBIAN_CNF,
  };
}

/** The server's own [mysqld] options that say where it listens (`my_print_defaults mysqld`): the last of each wins. */
export function parseMysqldOptions(text: string): { bindAddress?: string; port?: number } {
  const out: { bindAddress?: string; port?: number } = {};
  for (const line of text.split('\n')) {
    const m = /^--(bind[-_]address|port)=(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === 'port') {
      const port = Number(m[2]);
      if (Number.isInteger(port) && port > 0 && port < 65536) out.port = port;
    } else if (m[2]) out.bindAddress = m[2].trim();
  }
  return out;
}

const EVERYWHERE = new Set(['0.0.0.0', '::', '*', '127.0.0.1', 'localhost']);

/**
 * Where a TCP forward reaches the server: 127.0.0.1 when it listens on every address or on loopback
 * (MariaDB 10.3+ takes a comma-separated list), else the one address it is bound to (the Juno guide's
 * `bind-address = 10.0.0.11`), where a login is no longer from localhost.
 */
export function tcpAddress(bindAddress?: string): string {
  if (!bindAddress) return TCP_HOST;
  const list = bindAddress.split(',').map((a) => a.trim()).filter(Boolean);
  return !list.length || list.some((a) => EVERYWHERE.has(a)) ? TCP_HOST : list[0]!;
}

export interface TcpAdminFacts {
  /** From debian.cnf; undefined when it is missing or unreadable. */
  credentials?: TcpAdminCredentials;
  /** Where the server listens, by its own options; empty when my_print_defaults is missing. */
  server: { bindAddress?: string; port?: number };
  /** The server's service name on this controller (mariadb on Debian today, mysql on trusty), for hints. */
  service: string;
}

const CNF_MARK = `==== ${DEBIAN_CNF}`;
const SERVICE_MARK = '==== service ';

/**
 * Where the server listens and the controller's debian.cnf, read as root (mode 0600), in one round trip.
 * The file's text holds a password: the parser keeps nothing of it but the user, the port and the password
 * as a Secret. Not gathered with the other facts: only a host whose admin goes over TCP reads it.
 */
export const tcpAdminFact = defineFact(
  'mysql admin over tcp',
  `for s in mariadb mysql; do [ -e /etc/init.d/$s ] && { echo "${SERVICE_MARK}$s"; break; }; done; `
  + `my_print_defaults mysqld | grep -E '^--(bind[-_]address|port)='; echo '${CNF_MARK}'; cat ${DEBIAN_CNF}`,
  (raw): TcpAdminFacts => {
    const at = raw.indexOf(CNF_MARK);
    const options = at < 0 ? raw : raw.slice(0, at);
    const cnf = at < 0 ? '' : raw.slice(at + CNF_MARK.length);
    const credentials = debianCnfCredentials(cnf);
    const service = /^==== service (\S+)$/m.exec(options)?.[1] ?? 'mysql';
    return { server: parseMysqldOptions(options), service, ...(credentials ? { credentials } : {}) };
  },
);

/** A local file holding a password: its first line (a trailing line break is not part of it). */
export function passwordFromFile(file: string): Secret {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new MysqlError(`cannot read the database admin password file ${file}: ${(e as Error).message}`, 'pass a readable file with --db-admin-password-file', e);
  }
  const first = text.split(/\r?\n/)[0] ?? '';
  if (!first) throw new MysqlError(`the database admin password file ${file} is empty`, "write MariaDB root's password on its first line");
  return new Secret(first);
}

async function credentialsFor(host: Host, facts: TcpAdminFacts, passwordFile: string | undefined): Promise<TcpAdminCredentials> {
  if (passwordFile) return { user: 'root', password: passwordFromFile(passwordFile), port: DEFAULT_PORT, source: `root's password in ${passwordFile}` };
  if (!facts.credentials) {
    throw new MysqlError(`${host.name}: no database admin credentials: ${DEBIAN_CNF} is missing or unreadable`,
      host.t.user === 'root' ? "give MariaDB root's password with --db-admin-password-file FILE (a local file, its first line)"
        : `${DEBIAN_CNF} is root's only: connect as root, or give MariaDB root's password with --db-admin-password-file FILE`);
  }
  return facts.credentials;
}

/**
 * The admin session over a TCP forward on the controller, logged in with a password: to 127.0.0.1, or to
 * the one address the server is bound to (then the login comes from that address, not from localhost).
 */
export async function openTcpAdminSession(host: Host, opts: { passwordFile?: string } = {}): Promise<MysqlSession> {
  const facts = await host.fact(tcpAdminFact);
  const creds = await credentialsFor(host, facts, opts.passwordFile);
  const address = tcpAddress(facts.server.bindAddress);
  const port = facts.server.port ?? creds.port;
  const where = `${address}:${port}`;
  const boundElsewhere = address !== TCP_HOST;
  let stream;
  try {
    stream = await host.t.openTcp(address, port);
  } catch (e) {
    throw new MysqlError(`MariaDB does not answer on ${where} on ${host.name}: ${(e as Error).message}`,
      boundElsewhere ? `start it (service ${facts.service} start)` : `start it (service ${facts.service} start), and check that my.cnf's bind-address lets it listen on ${TCP_HOST}`, e);
  }
  try {
    return await openSessionOver(stream, { user: creds.user, password: creds.password, local: { host: address, port } });
  } catch (e) {
    stream.destroy();
    if ((e as { code?: string }).code === 'ETIMEDOUT') {
      throw new MysqlStalled(`MariaDB accepted a connection on ${where} on ${host.name} but did not answer in ${LIMITS.CONNECT_TIMEOUT_MS / 1000} s`,
        `it may be stopped (SIGSTOP), overloaded or wedged: check it on the controller (service ${facts.service} status, its log), then run again`, e);
    }
    const denied = (e as { code?: string }).code === 'ER_ACCESS_DENIED_ERROR';
    const bound = boundElsewhere ? ` (it listens on ${address} only: bind-address in its my.cnf, as the Juno guide sets it, so the login comes from ${address}, not from localhost)` : '';
    const hint = !denied ? 'check that MariaDB runs on the controller and answers on that address'
      : boundElsewhere ? `set bind-address = 0.0.0.0 in MariaDB's my.cnf and restart it (other nodes still reach it on ${address}), or give with --db-admin-password-file the password of a root account allowed to log in from ${address}`
        : `check the password in ${creds.source === DEBIAN_CNF ? DEBIAN_CNF : 'the file'}, or give MariaDB root's password with --db-admin-password-file FILE`;
    throw new MysqlError(`MariaDB on ${host.name} refused ${creds.user} (${creds.source}) over TCP ${where}${bound}: ${(e as Error).message}`, hint, e);
  }
}

export function mysqlAdminTcp(opts: { passwordFile?: string } = {}): Provider<MysqlSession> {
  return {
    key: `mysql-admin tcp ${opts.passwordFile ?? DEBIAN_CNF}`,
    open: (host) => openTcpAdminSession(host, opts),
    close: (s) => s.close(),
  };
}
