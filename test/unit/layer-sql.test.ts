// The SQL layer: a hostile value reaches MariaDB only as a literal the driver quotes (mysql2's `?`), and
// the literal, read by MySQL's own rules for string literals, is the value again; identifiers (`??`) the
// same in backticks. A session whose server reads backslashes literally (NO_BACKSLASH_ESCAPES) is put
// back to escapes first. A password PyMySQL sends as other bytes than UTF-8 is set from the hash of those
// bytes, as MariaDB computes it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2';
import { differsFromUtf8, nativePasswordHash, passwordBytes, passwordEncodingProblem } from '../../src/clients/mysql-password.ts';
import { loginPassword, sessionSetUp } from '../../src/clients/mysql.ts';
import { Secret } from '../../src/secret.ts';
import { hostile } from './hostile-values.ts';

/**
 * A MySQL string literal read as the server reads it with backslash escapes on (the manual's "String
 * Literals": \0 \' \" \b \n \r \t \Z \\, and \% \_ kept as two characters; any other \x is x; '' is ').
 * Returns the value and where the literal ends.
 */
function readLiteral(sql: string, at: number): { value: string; end: number } {
  assert.equal(sql[at], "'", `a literal starts at ${at} of ${sql}`);
  const map: Record<string, string> = { '0': '\0', "'": "'", '"': '"', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\x1a', '\\': '\\', '%': '\\%', _: '\\_' };
  let out = '';
  for (let i = at + 1; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === '\\') {
      const n = sql[++i]!;
      out += map[n] ?? n;
    } else if (c === "'") {
      if (sql[i + 1] === "'") { out += "'"; i++; } else return { value: out, end: i + 1 };
    } else out += c;
  }
  throw new Error(`unterminated literal in ${sql}`);
}

/** Every literal of a statement, in order, with what is left between them (which must be the statement's own text). */
function literals(sql: string): { values: string[]; skeleton: string } {
  const values: string[] = [];
  let skeleton = '';
  for (let i = 0; i < sql.length;) {
    if (sql[i] === "'") {
      const { value, end } = readLiteral(sql, i);
      values.push(value);
      skeleton += '?';
      i = end;
    } else skeleton += sql[i++];
  }
  return { values, skeleton };
}

const nasty = [...hostile, "\\'; DROP DATABASE glance; -- ", "'' OR ''='", 'a\0b', 'a\nb\rc\x1a', '\\%\\_', '日本 😀'];

describe('values: the statements mysql-user runs, as the driver writes them', () => {
  for (const v of nasty) {
    test(JSON.stringify(v), () => {
      for (const stmt of ['CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', 'ALTER USER ?@? IDENTIFIED BY ?', 'SELECT 1 FROM mysql.user WHERE User = ? AND Host = ? AND Password = PASSWORD(?)']) {
        const sql = mysql.format(stmt, ['glance', '%', v]);
        const { values, skeleton } = literals(sql);
        assert.deepEqual(values, ['glance', '%', v], sql);
        assert.equal(skeleton, stmt, 'nothing of the value is read as SQL');
      }
    });
  }
});

describe('identifiers: database names in backticks', () => {
  for (const name of ['glance', 'gl`ance', 'a b', "it's"]) {
    test(JSON.stringify(name), () => {
      const sql = mysql.format('CREATE DATABASE IF NOT EXISTS ??', [name]);
      const m = /^CREATE DATABASE IF NOT EXISTS `((?:[^`]|``)*)`$/.exec(sql);
      assert.ok(m, sql);
      assert.equal(m[1]!.replace(/``/g, '`'), name);
    });
  }
});

describe("PyMySQL's bytes", () => {
  test('the hash is MariaDB\'s PASSWORD() (known values)', () => {
    // SELECT PASSWORD('password') on MariaDB/MySQL 5.x.
    assert.equal(nativePasswordHash(Buffer.from('password')), '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19');
    // SELECT PASSWORD(_latin1 x'E9') vs PASSWORD('é') over utf8: one byte against two.
    assert.notEqual(nativePasswordHash(passwordBytes('é', 'latin1')), nativePasswordHash(passwordBytes('é', 'utf8')));
    assert.deepEqual(passwordBytes('é', 'latin1'), Buffer.from([0xe9]));
  });
  test('only a password whose latin-1 bytes differ from UTF-8 is set from its hash', () => {
    assert.equal(differsFromUtf8('plain ASCII $`\'"\\', 'latin1'), false);
    assert.equal(differsFromUtf8('café', 'latin1'), true);
    assert.equal(differsFromUtf8('café', 'utf8'), false);
  });
  test('mysql2 logs in with the same bytes: the SHA1 of the latin-1 bytes, or the password itself for UTF-8', () => {
    const l = loginPassword(new Secret('café'), 'latin1') as { passwordSha1: unknown };
    assert.ok(Buffer.isBuffer(l.passwordSha1));
    assert.deepEqual(loginPassword(new Secret('café')), { password: 'café' });
  });
  test('what latin-1 cannot carry is refused', () => {
    assert.match(passwordEncodingProblem('5€', 'latin1') ?? '', /character 2 is outside latin-1/);
    assert.equal(passwordEncodingProblem('5€', 'utf8'), undefined);
  });
});

describe('a server that reads backslashes literally', () => {
  /** A connection that answers the set-up's first query with this sql_mode, and records what it is asked. */
  const fake = (mode: string) => {
    const asked: string[] = [];
    const conn = { query: async (sql: string) => { asked.push(sql); return [[{ v: '10.11.6-MariaDB', m: mode }], []]; } };
    return { conn: conn as never, asked };
  };
  test('NO_BACKSLASH_ESCAPES is switched off for the session, the other modes kept', async () => {
    const { conn, asked } = fake('STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES,NO_ENGINE_SUBSTITUTION');
    assert.equal(await sessionSetUp(conn), '10.11.6-MariaDB');
    assert.deepEqual(asked.slice(1), ["SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'"]);
  });
  test('otherwise the version comes with the mode in one query, nothing more', async () => {
    const { conn, asked } = fake('STRICT_TRANS_TABLES');
    await sessionSetUp(conn);
    assert.equal(asked.length, 1);
  });
});
