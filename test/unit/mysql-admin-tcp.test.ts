// The database admin path of Ubuntu 14.04 (OpenSSH 6.6, MySQL 5.5): debian.cnf read as a my.cnf is, its
// password a Secret from the first moment; a password file; and what the session says when a way in is
// missing. A successful TCP login is proven against the trusty-shaped lab's MariaDB (test/lab/juno.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { parseMyCnf, debianCnfCredentials, tcpAdminFact, parseMysqldOptions, tcpAddress, passwordFromFile, openTcpAdminSession, DEBIAN_CNF } from '../../src/providers/mysql-admin-tcp.ts';
import { databaseAdmin, fallbackNote } from '../../src/providers/database-admin.ts';
import { HostSession } from '../../src/engine/host.ts';
import { TransportError } from '../../src/transport/errors.ts';
import { Secret } from '../../src/secret.ts';
import { FakeTransport, factSections, fail, ok, type RecordedCommand } from './fake-transport.ts';
import { PassThrough } from 'node:stream';
import { LIMITS, MysqlStalled } from '../../src/clients/mysql.ts';

// /etc/mysql/debian.cnf as mysql-server-5.5's postinst writes it on Ubuntu 14.04 (the lab's trusty layer
// has the same lines: src/lab/recipe/trusty/files/debian.cnf.in).
const TRUSTY_DEBIAN_CNF = `# Automatically generated for Debian scripts. DO NOT TOUCH!
[client]
host     = localhost
user     = debian-sys-maint
password = Zq7xKp2mWv9sLr4T
socket   = /var/run/mysqld/mysqld.sock
[mysql_upgrade]
host     = localhost
user     = debian-sys-maint
password = Zq7xKp2mWv9sLr4T
socket   = /var/run/mysqld/mysqld.sock
basedir  = /usr
`;

// Debian 12's (mariadb-server 10.11): root by unix_socket, no password.
const BOOKWORM_DEBIAN_CNF = `# THIS FILE IS OBSOLETE. STOP USING IT IF POSSIBLE.
# This file exists only for backwards compatibility for
# tools that run '--defaults-file=/etc/mysql/debian.cnf'
# and have root level access to the local filesystem.
# With those permissions one can run 'mariadb' directly
# anyway thanks to unix socket authentication and hence
# this file is useless. See package README for more info.
[client]
host     = localhost
user     = root
[mysql_upgrade]
host     = localhost
user     = root
# THIS FILE WILL BE REMOVED IN A FUTURE DEBIAN RELEASE.
`;

describe('parseMyCnf: the option-file syntax', () => {
  test('sections, spaced and unspaced values, bare keys, comments, - and _ alike, !include skipped', () => {
    const cnf = parseMyCnf('!includedir /etc/mysql/conf.d/\n[client]\nuser=root\n; a comment\n# another\nskip-ssl\nssl_ca = /x\n[MySQLd]\nbind-address = 0.0.0.0\n');
    assert.deepEqual(cnf, { client: { user: 'root', skip_ssl: '', ssl_ca: '/x' }, mysqld: { bind_address: '0.0.0.0' } });
  });
  test('quoted values lose their quotes and keep what is inside (#, spaces); an unquoted # ends the value', () => {
    const cnf = parseMyCnf(`[client]\npassword = "a b#c"\nuser = 'x y'\nhost = h # where\nport=3307#x\n`);
    assert.deepEqual(cnf.client, { password: 'a b#c', user: 'x y', host: 'h', port: '3307' });
  });
  test('escapes: \\s is a space, \\\\ a backslash, \\t a tab; an unknown one stays', () => {
    assert.equal(parseMyCnf('[client]\npassword = a\\sb\\\\c\\td\\q\n').client!.password, 'a b\\c\td\\q');
  });
  test('CRLF lines; options before any section are ignored', () => {
    assert.deepEqual(parseMyCnf('user = nobody\r\n[client]\r\nuser = root\r\n'), { client: { user: 'root' } });
  });
});

describe('debian.cnf as credentials', () => {
  test("trusty's: the maintenance account, its password a Secret, port 3306", () => {
    const c = debianCnfCredentials(TRUSTY_DEBIAN_CNF)!;
    assert.equal(c.user, 'debian-sys-maint');
    assert.ok(c.password instanceof Secret);
    assert.ok(c.password.matches('Zq7xKp2mWv9sLr4T'));
    assert.equal(c.port, 3306);
    assert.equal(c.source, DEBIAN_CNF);
  });
  test('the password never prints: not in JSON, not in inspect, not in a template string', () => {
    const c = debianCnfCredentials(TRUSTY_DEBIAN_CNF)!;
    for (const shown of [JSON.stringify(c), inspect(c, { depth: 5 }), `${c.password}`]) assert.ok(!shown.includes('Zq7xKp2mWv9sLr4T'), shown);
  });
  test("bookworm's: root without a password (a socket login); a port given is kept", () => {
    const c = debianCnfCredentials(BOOKWORM_DEBIAN_CNF)!;
    assert.equal(c.user, 'root');
    assert.equal(c.password, undefined);
    assert.equal(debianCnfCredentials('[client]\nuser = u\nport = 3307\n')!.port, 3307);
    assert.equal(debianCnfCredentials('[client]\nuser = u\nport = 99999\n')!.port, 3306);
  });
  test('no [client] user: undefined', () => {
    assert.equal(debianCnfCredentials(''), undefined);
    assert.equal(debianCnfCredentials('[mysql_upgrade]\nuser = x\n'), undefined);
  });
});

describe('where the server listens', () => {
  test('my_print_defaults mysqld: the last bind-address and port win; other options and bad ports are ignored', () => {
    assert.deepEqual(parseMysqldOptions('--user=mysql\n--bind-address=127.0.0.1\n--port=3306\n--bind_address=10.0.0.11\n--port=99999\n'), { bindAddress: '10.0.0.11', port: 3306 });
    assert.deepEqual(parseMysqldOptions(''), {});
  });
  test('tcpAddress: 127.0.0.1 for every address, loopback or nothing said; else the one address (the Juno guide\'s 10.0.0.11)', () => {
    for (const b of [undefined, '', '0.0.0.0', '::', '*', '127.0.0.1', 'localhost', '10.0.0.11,127.0.0.1']) assert.equal(tcpAddress(b), '127.0.0.1', String(b));
    assert.equal(tcpAddress('10.0.0.11'), '10.0.0.11');
    assert.equal(tcpAddress('controller'), 'controller');
  });
  test('the fact: one round trip for both; debian.cnf missing or unreadable leaves the server options', () => {
    const both = tcpAdminFact.parse(`--bind-address=10.0.0.11\n==== ${DEBIAN_CNF}\n${TRUSTY_DEBIAN_CNF}`);
    assert.deepEqual(both.server, { bindAddress: '10.0.0.11' });
    assert.equal(both.credentials?.user, 'debian-sys-maint');
    assert.deepEqual(tcpAdminFact.parse(`==== ${DEBIAN_CNF}\n`), { server: {}, service: 'mysql' });
    assert.equal(tcpAdminFact.parse(`==== service mariadb\n--port=3307\n==== ${DEBIAN_CNF}\n`).service, 'mariadb');
    assert.equal(both.service, 'mysql', 'trusty: no mariadb init script, the service is mysql');
    assert.match(tcpAdminFact.script, /for s in mariadb mysql; .*my_print_defaults mysqld \| grep -E .*; echo '==== \/etc\/mysql\/debian\.cnf'; cat \/etc\/mysql\/debian\.cnf$/);
  });
});

describe('--db-admin-password-file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-dbpass-'));
  test('the first line, without its line break (LF or CRLF)', () => {
    for (const [text, want] of [['s3cret\n', 's3cret'], ['s3cret', 's3cret'], ['s3 cret\r\nmore\n', 's3 cret']] as const) {
      const f = path.join(dir, 'p');
      fs.writeFileSync(f, text);
      assert.ok(passwordFromFile(f).matches(want), JSON.stringify(text));
    }
  });
  test('a missing or empty file: one message saying which file and what to do', () => {
    assert.throws(() => passwordFromFile(path.join(dir, 'nope')), (e: Error & { hint?: string }) => /cannot read the database admin password file .*nope/.test(e.message) && /--db-admin-password-file/.test(e.hint ?? ''));
    fs.writeFileSync(path.join(dir, 'empty'), '\n');
    assert.throws(() => passwordFromFile(path.join(dir, 'empty')), /is empty/);
  });
});

/** A host whose facts script answers each section from `facts` (key → raw text), and tunnels as given. */
function fakeHost(facts: Record<string, string>, tunnels: { tcp?: (h: string, p: number) => Promise<import('node:stream').Duplex>; socket?: (p: string) => Promise<import('node:stream').Duplex> }, user = 'root') {
  const seen: RecordedCommand[] = [];
  const t = new FakeTransport({
    user,
    answer(cmd) {
      seen.push(cmd);
      if (cmd.kind !== 'script') return fail('unexpected', 127);
      const out = factSections(cmd.source!).map((s) => `==> ${s.key}\n${facts[s.key] ?? ''}`).join('\n');
      return ok(`${out}\n==> end\n`);
    },
    openTcp: tunnels.tcp,
    openUnixSocket: tunnels.socket,
  });
  const lines: string[] = [];
  return { host: new HostSession('controller', t, (l) => lines.push(l)), lines, seen };
}

const refused = (what: string, message = 'open failed') => () => Promise.reject(new TransportError('controller', 'tunnel', `cannot open a tunnel to ${what}: (SSH) Channel open failure: ${message}`, `check that ${what} is up on the controller`));

const cnfFact = (options = '') => ({ [tcpAdminFact.key]: `${options}==== ${DEBIAN_CNF}\n${TRUSTY_DEBIAN_CNF}` });

describe('the TCP admin session: what it says when it cannot get in', () => {
  test('nothing on 127.0.0.1:3306: names the address, the host, and bind-address', async () => {
    const { host } = fakeHost(cnfFact(), { tcp: refused('127.0.0.1:3306', 'Connection refused') });
    await assert.rejects(openTcpAdminSession(host), (e: Error & { hint?: string }) => {
      assert.match(e.message, /^MariaDB does not answer on 127\.0\.0\.1:3306 on controller: .*Connection refused/);
      assert.match(e.hint ?? '', /bind-address/);
      assert.ok(!e.message.includes('Zq7xKp2mWv9sLr4T'));
      return true;
    });
  });
  test('a server bound to one address (the Juno guide\'s bind-address) is reached there, on its own port', async () => {
    const asked: string[] = [];
    const { host } = fakeHost(cnfFact('--bind-address=10.0.0.11\n--port=3307\n'), { tcp: (h, p) => (asked.push(`${h}:${p}`), refused(`${h}:${p}`, 'Connection refused')()) });
    await assert.rejects(openTcpAdminSession(host), /: MariaDB does not answer on 10\.0\.0\.11:3307 on controller/);
    assert.deepEqual(asked, ['10.0.0.11:3307']);
  });
  test('no debian.cnf readable: as root, give the password file; as another user, the file is root\'s', async () => {
    const root = fakeHost({}, {});
    await assert.rejects(openTcpAdminSession(root.host), (e: Error & { hint?: string }) => /no database admin credentials: \/etc\/mysql\/debian.cnf is missing or unreadable/.test(e.message) && /--db-admin-password-file/.test(e.hint ?? ''));
    const other = fakeHost({}, {}, 'ubuntu');
    await assert.rejects(openTcpAdminSession(other.host), (e: Error & { hint?: string }) => /root's only: connect as root/.test(e.hint ?? ''));
  });
});

describe('databaseAdmin: the profile\'s way first, the other way second', () => {
  test('both refused: one error with both causes; the socket refused by sshd leaves the TCP hint', async () => {
    const { host, seen } = fakeHost(cnfFact(), { socket: refused('/run/mysqld/mysqld.sock'), tcp: refused('127.0.0.1:3306', 'Connection refused') });
    await assert.rejects(databaseAdmin({ prefer: 'socket' }).open(host), (e: Error & { hint?: string }) => {
      assert.match(e.message, /^no way in to MariaDB as its admin on controller: over its socket, MariaDB does not answer on \/run\/mysqld\/mysqld\.sock.*; over TCP, MariaDB does not answer on 127\.0\.0\.1:3306/);
      assert.match(e.hint ?? '', /bind-address/);
      return true;
    });
    assert.equal(seen.filter((c) => c.kind === 'script').length, 1, 'the server\'s options and debian.cnf read once, for the TCP attempt');
  });
  test('TCP first when the profile says so, or when root\'s password is given: the socket is then the second try', async () => {
    const order: string[] = [];
    const { host } = fakeHost(cnfFact(), {
      socket: (p) => (order.push(`socket ${p}`), refused(p)()),
      tcp: (h, p) => (order.push(`tcp ${h}:${p}`), refused(`${h}:${p}`, 'Connection refused')()),
    });
    await assert.rejects(databaseAdmin({ prefer: 'tcp' }).open(host));
    assert.deepEqual(order, ['tcp 127.0.0.1:3306', 'socket /run/mysqld/mysqld.sock']);
  });
  // A server that takes the connection and never says a word (mariadbd SIGSTOPped): the handshake never comes.
  const silent = () => Promise.resolve(new PassThrough());
  for (const prefer of ['socket', 'tcp'] as const) {
    test(`a server that accepts and says nothing (${prefer} first): named at once, the other way not tried (it reaches the same server)`, async () => {
      const saved = LIMITS.CONNECT_TIMEOUT_MS;
      LIMITS.CONNECT_TIMEOUT_MS = 200;
      try {
        const order: string[] = [];
        const { host } = fakeHost(cnfFact(), {
          socket: () => (order.push('socket'), silent()),
          tcp: () => (order.push('tcp'), silent()),
        });
        await assert.rejects(databaseAdmin({ prefer }).open(host), (e: Error & { hint?: string }) => {
          assert.ok(e instanceof MysqlStalled, `${e.name}: ${e.message}`);
          assert.match(e.message, prefer === 'socket' ? /^MariaDB accepted a connection on \/run\/mysqld\/mysqld\.sock but did not answer in 0\.2 s$/
            : /^MariaDB accepted a connection on 127\.0\.0\.1:3306 on controller but did not answer in 0\.2 s$/);
          assert.match(e.hint ?? '', /stopped \(SIGSTOP\), overloaded or wedged/);
          return true;
        });
        assert.deepEqual(order, [prefer]);
      } finally {
        LIMITS.CONNECT_TIMEOUT_MS = saved;
      }
    });
  }
  test('the key names no way: the warm-up (socket first) and the profile\'s session (TCP first) are one session', () => {
    assert.equal(databaseAdmin({ prefer: 'socket' }).key, databaseAdmin({ prefer: 'tcp' }).key);
    assert.notEqual(databaseAdmin({ prefer: 'tcp' }).key, databaseAdmin({ prefer: 'tcp', passwordFile: '/p' }).key);
  });
  test('the note when the socket was refused by sshd names the SSH server and what is used instead', () => {
    const { host } = fakeHost({}, {});
    const err = new Error('MariaDB does not answer on /run/mysqld/mysqld.sock', { cause: new TransportError('controller', 'tunnel', 'cannot open a tunnel', 'x') });
    assert.match(fallbackNote(host, 'socket', err, '10.0.0.11'), /using TCP 10\.0\.0\.11 through/);
    assert.match(fallbackNote(host, 'socket', err), /^database admin: sshd on controller opens no channel to MariaDB's socket \/run\/mysqld\/mysqld\.sock \(stream-local forwarding came with OpenSSH 6\.7.*\): using TCP 127\.0\.0\.1 through the SSH connection instead$/);
    assert.match(fallbackNote(host, 'socket', new Error('cannot log in to MariaDB as root over its socket: Access denied')), /the socket login failed \(cannot log in/);
  });
});
