// The facts' read of MariaDB (src/resources/mysql-snapshot.ts): its output parsed back per question (the
// output below is what MariaDB 10.11's client printed on a bookworm lab, hashes replaced), the password
// checked against SHOW CREATE USER's hash only where the hash alone decides, and the snapshot given to
// reads only before the run changes anything.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mysqlSnapshotFact, parseSnapshot, passwordMatches, snapshotOf, sqlString, snapshotSql, type SnapshotAsk } from '../../src/resources/mysql-snapshot.ts';
import { nativePasswordHash, passwordBytes } from '../../src/clients/mysql-password.ts';
import { Secret } from '../../src/secret.ts';
import type { Host } from '../../src/engine/host.ts';
import type { FactSpec } from '../../src/engine/facts.ts';

const ask: SnapshotAsk = {
  databases: ['glance', 'nope'],
  accounts: [{ user: 'glance', host: 'localhost' }, { user: 'glance', host: '%' }, { user: "o'k\\x", host: '%' }],
  alembic: ['glance', 'nope'],
};
const hash = nativePasswordHash(Buffer.from('s3cret', 'utf8'));
const labOutput = [
  '@version\t10.11.19-MariaDB-0+deb12u1',
  '@db 0\t1', '@db 1\t0',
  '@user 0\t1', '@grants 0',
  `GRANT USAGE ON *.* TO \`glance\`@\`localhost\` IDENTIFIED BY PASSWORD '${hash}'`,
  'GRANT ALL PRIVILEGES ON `glance`.* TO `glance`@`localhost`',
  '@create 0', `CREATE USER \`glance\`@\`localhost\` IDENTIFIED BY PASSWORD '${hash}'`,
  '@user 1\t1', '@grants 1', `GRANT USAGE ON *.* TO \`glance\`@\`%\` IDENTIFIED BY PASSWORD '${hash}'`,
  '@create 1', `CREATE USER \`glance\`@\`%\` IDENTIFIED BY PASSWORD '${hash}'`,
  // SHOW GRANTS and SHOW CREATE USER of an account that does not exist print nothing (their errors go to stderr).
  '@user 2\t0', '@grants 2', '@create 2',
  '@alembic-table 0\t1', '@alembic 0', 'wallaby_contract01',
  '@alembic-table 1\t0', '@alembic 1',
  '@end', '',
].join('\n');

describe('parseSnapshot', () => {
  test('each question answered from the lines after its marker', () => {
    const s = parseSnapshot(labOutput, ask);
    assert.equal(s.ok, true);
    assert.equal(s.version, '10.11.19-MariaDB-0+deb12u1');
    assert.equal(s.database('glance'), true);
    assert.equal(s.database('nope'), false);
    const local = s.account({ user: 'glance', host: 'localhost' });
    assert.equal(local?.exists, true);
    assert.equal(local?.grants.length, 2);
    assert.match(local?.createUser ?? '', /^CREATE USER `glance`@`localhost` IDENTIFIED BY PASSWORD '\*[0-9A-F]{40}'$/);
    const any = s.account({ user: 'glance', host: '%' });
    assert.deepEqual(any?.grants, [`GRANT USAGE ON *.* TO \`glance\`@\`%\` IDENTIFIED BY PASSWORD '${hash}'`]);
    assert.deepEqual(s.account({ user: "o'k\\x", host: '%' }), { exists: false, grants: [] });
    assert.deepEqual(s.alembic('glance'), ['wallaby_contract01']);
    assert.deepEqual(s.alembic('nope'), [], 'no alembic_version table: no revision');
  });
  test('what was not asked, or not answered, is undefined: the admin session reads it', () => {
    const s = parseSnapshot(labOutput, ask);
    assert.equal(s.database('other'), undefined);
    assert.equal(s.account({ user: 'glance', host: '10.0.0.%' }), undefined);
    assert.equal(s.alembic('other'), undefined);
    // A statement that failed for another reason (a server without SHOW CREATE USER) leaves its marker alone.
    const old = parseSnapshot(labOutput.replace(/@create 0\n[^\n]*\n/, '@create 0\n'), ask);
    assert.equal(old.account({ user: 'glance', host: 'localhost' })?.createUser, undefined);
  });
  test('a client that did not get in (or stopped half-way) answers nothing', () => {
    for (const raw of ['', labOutput.slice(0, labOutput.indexOf('@alembic-table'))]) {
      const s = parseSnapshot(raw, ask);
      assert.equal(s.ok, false);
      assert.equal(s.database('glance'), undefined);
      assert.equal(s.account({ user: 'glance', host: 'localhost' }), undefined);
      assert.equal(s.alembic('glance'), undefined);
    }
  });
  test('values as --batch escapes them (tab, newline, backslash) come back as they are', () => {
    const s = parseSnapshot('@version\t10.6\\tx\\\\y\n@user 0\t1\n@grants 0\nGRANT A\\nB\n@create 0\n@end\n', { databases: [], accounts: [{ user: 'a', host: 'b' }], alembic: [] });
    assert.equal(s.version, '10.6\tx\\y');
    assert.deepEqual(s.account({ user: 'a', host: 'b' })?.grants, ['GRANT A\nB']);
  });
});

describe('the statements', () => {
  test('names are string literals MariaDB reads back exactly (backslash escapes switched on first)', () => {
    assert.equal(sqlString("o'k\\x"), "'o\\'k\\\\x'");
    assert.equal(sqlString('a\nb\r\0'), "'a\\nb\\r\\0'");
    const sql = snapshotSql(ask);
    assert.match(sql.split('\n')[0]!, /^SET SESSION sql_mode = REPLACE\(@@SESSION\.sql_mode, 'NO_BACKSLASH_ESCAPES', ''\);$/);
    assert.ok(sql.includes("SHOW GRANTS FOR 'o\\'k\\\\x'@'%';"), sql);
    assert.ok(!/\n(?!SELECT|SHOW|SET)/.test(sql), 'every line is one statement');
  });
  test('the fact: no option files, root over the socket, bounded; no password anywhere in it', () => {
    const f = mysqlSnapshotFact(ask);
    assert.match(f.script, /"\$c" --no-defaults --user=root --socket='\/run\/mysqld\/mysqld\.sock' --batch --skip-column-names --force --connect-timeout=3 <<'INSTALL_GLANCE_SQL'\n/);
    assert.match(f.script, /timeout 4/);
    assert.ok(!/password/i.test(f.script.replace(/PASSWORD EXPIRE|IDENTIFIED BY PASSWORD/g, '')), f.script);
    assert.equal(mysqlSnapshotFact(ask).key, f.key, 'the same questions are the same fact');
    assert.notEqual(mysqlSnapshotFact({ ...ask, databases: ['other'] }).key, f.key);
  });
});

describe('passwordMatches', () => {
  const pw = new Secret('s3cret');
  const create = (tail: string, h = hash) => `CREATE USER \`glance\`@\`%\` IDENTIFIED BY PASSWORD '${h}'${tail}`;
  test('the hash decides: the same password, another one', () => {
    assert.equal(passwordMatches(create(''), pw), true);
    assert.equal(passwordMatches(create(''), new Secret('other')), false);
    assert.equal(passwordMatches(create('', hash.toLowerCase().replace('*', '*')), pw), true, 'hex case does not matter');
  });
  test('as the bytes the account\'s client sends: latin-1 for PyMySQL', () => {
    const cafe = new Secret('café');
    const latin1 = nativePasswordHash(passwordBytes('café', 'latin1'));
    assert.equal(passwordMatches(create('', latin1), cafe, 'latin1'), true);
    assert.equal(passwordMatches(create('', latin1), cafe, 'utf8'), false);
  });
  test('undecided (a login decides) when the hash is not the whole story', () => {
    for (const text of [
      undefined,
      create(' ACCOUNT LOCK'),
      create(' PASSWORD EXPIRE'),
      create(' PASSWORD EXPIRE INTERVAL 90 DAY'),
      `CREATE USER \`glance\`@\`%\` IDENTIFIED VIA mysql_native_password USING '${hash}' OR unix_socket`,
      'CREATE USER `glance`@`%` IDENTIFIED VIA ed25519 USING \'abc\'',
      'CREATE USER `glance`@`%`',
    ]) assert.equal(passwordMatches(text, pw), undefined, String(text));
    assert.equal(passwordMatches(create(' PASSWORD EXPIRE NEVER'), pw), true, 'a policy is not an expired password');
  });
});

describe('snapshotOf', () => {
  function fakeHost(raw: string): Host & { change(): void; asked: number } {
    const listeners: (() => void)[] = [];
    const h = {
      asked: 0,
      onChange: (fn: () => void) => listeners.push(fn),
      change: () => listeners.splice(0).forEach((fn) => fn()),
      async fact<T>(spec: FactSpec<T>): Promise<T> {
        h.asked++;
        return spec.parse(raw);
      },
    };
    return h as unknown as Host & { change(): void; asked: number };
  }
  const fact = mysqlSnapshotFact(ask);
  test('given while the run has changed nothing; never after its first change', async () => {
    const host = fakeHost(labOutput);
    assert.equal((await snapshotOf(host, fact))?.database('glance'), true);
    host.change();
    assert.equal(await snapshotOf(host, fact), undefined);
    assert.equal(host.asked, 1, 'not even asked for once stale');
  });
  test('none when the client did not get in, or when the playbook gave no fact', async () => {
    assert.equal(await snapshotOf(fakeHost(''), fact), undefined);
    assert.equal(await snapshotOf(fakeHost(labOutput), undefined), undefined);
  });
});
