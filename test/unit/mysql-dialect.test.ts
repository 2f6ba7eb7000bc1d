// Which account statements a server takes, from the version string it reports; how a name is quoted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sqlDialect, sqlIdent } from '../../src/clients/mysql.ts';

test('CREATE USER IF NOT EXISTS where the server has it, GRANT … IDENTIFIED BY before that', () => {
  const cases: [string, ReturnType<typeof sqlDialect>][] = [
    ['10.11.19-MariaDB-0+deb12u1', 'create-user'],
    ['10.5.29-MariaDB-0+deb11u1', 'create-user'],
    ['11.8.3-MariaDB-1 from Debian', 'create-user'],
    ['10.1.3-MariaDB', 'create-user'],
    ['10.1.2-MariaDB', 'grant-identified'],
    ['10.0.38-MariaDB-0ubuntu0.16.04.1', 'grant-identified'],
    ['5.5.62-0ubuntu0.14.04.1', 'grant-identified'],
    ['5.7.6', 'create-user'],
    ['5.7.5-m15', 'grant-identified'],
    ['8.0.36-0ubuntu0.22.04.1', 'create-user'],
  ];
  for (const [version, want] of cases) assert.equal(sqlDialect(version), want, version);
});

test('a name we write into SQL ourselves is quoted as the driver quotes the one CREATE DATABASE made', async () => {
  const { default: mysql } = await import('mysql2');
  for (const name of ['glance', 'glance-2', 'a`b', '``', 'x.y']) assert.equal(sqlIdent(name), mysql.escapeId(name, true), name);
  assert.equal(sqlIdent('a`b'), '`a``b`');
});
