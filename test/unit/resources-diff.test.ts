// Every resource kind's pure diff, driven by data: test/fixtures/resources/<kind>/<case>.json, each
// { description, current, desired, expected } where expected is the whole Diff, operations included
// (a Secret in an operation prints as "[secret]"). A new case is a new file. Plus grantsAll on SHOW
// GRANTS lines in every quoting style MariaDB and MySQL print.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diff } from '../../src/engine/resource.ts';
import { Secret } from '../../src/secret.ts';
import { sqlDialect } from '../../src/clients/mysql.ts';
import { mysqlUserDiff, grantsAll } from '../../src/resources/mysql-user.ts';
import { passwordMatches } from '../../src/resources/mysql-snapshot.ts';
import { mysqlDatabaseDiff } from '../../src/resources/mysql-database.ts';
import { keystoneUserDiff, type KsUserState } from '../../src/resources/keystone-user.ts';
import { roleAssignmentDiff, type KsRoleState } from '../../src/resources/keystone-role-assignment.ts';
import { keystoneServiceDiff, serviceToKeep, type KsServiceState } from '../../src/resources/keystone-service.ts';
import { keystoneEndpointsDiff, type KsEndpointsState, type Iface } from '../../src/resources/keystone-endpoints.ts';
import { schemaDiff, schemaHeads, parseRevisions } from '../../src/resources/alembic-schema.ts';
import { migrateDiff, latestVersion } from '../../src/resources/migrate-schema.ts';
import { aptPackagesDiff, type PackagesState, type DpkgEntry } from '../../src/resources/apt-packages.ts';
import { dpkgHealthDiff, brokenPackages } from '../../src/resources/dpkg-health.ts';
import type { LockHolder } from '../../src/resources/dpkg-lock.ts';
import { iniFileDiff, type IniFileState, type RetiredKeys } from '../../src/resources/ini-file.ts';
import { renderTemplate } from '../../src/resources/ini/template.ts';
import { serviceDiff, type ServiceState } from '../../src/resources/service.ts';
import { pathAbsentDiff } from '../../src/resources/path-absent.ts';
import { fileDiff, type FileState } from '../../src/resources/file.ts';
import { SecretText } from '../../src/secret.ts';
import type { Ensure } from '../../src/engine/resource.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.join(root, 'test/fixtures/resources');
/** The password every fixture's desired state carries; it must never show but as "[secret]". */
const PASSWORD = new Secret('fixture-password-Zq7');

interface Case<C, D, E> { description: string; current: C; desired: D; expected: E }

/** As JSON has it: Secrets become "[secret]", undefined fields go. */
const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

/** One test per fixture file of a kind; the folder must not be empty (a typo in a name is a failure, not a pass). */
function eachCase<C, D, E>(kind: string, run: (c: Case<C, D, E>) => void): void {
  describe(kind, () => {
    const dir = path.join(fixtures, kind);
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
    test('has cases', () => assert.ok(files.length > 0, `no cases in ${dir}`));
    for (const f of files) {
      const c = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Case<C, D, E>;
      test(`${f.replace(/\.json$/, '')}: ${c.description}`, () => run(c));
    }
  });
}

/** The diff is the expected one, and its shape holds: ops empty exactly when nothing changes, no secret shows. */
function assertDiff(got: Diff, expected: unknown): void {
  assert.deepEqual(plain(got), expected);
  assert.equal(got.ops.length === 0, got.action === 'none', 'operations exactly when something changes');
  assert.ok(!JSON.stringify(got).includes(PASSWORD.reveal()), 'no secret in the diff or its operations');
}

eachCase<{ exists: boolean; grants: string[]; passwordWorks?: boolean; createUser?: string; serverVersion: string }, { user: string; host: string; database: string; ensure?: Ensure },
  { hasGrant: boolean; diff: unknown }>('mysql-user', ({ current, desired, expected }) => {
  // As read() does: SHOW GRANTS lines → hasGrant, the server's version → the statements it has; from the
  // facts' snapshot, SHOW CREATE USER's hash → whether the password is the account's.
  const hasGrant = grantsAll(current.grants, desired.database);
  assert.equal(hasGrant, expected.hasGrant, 'grantsAll');
  const byHash = current.createUser === undefined ? undefined : passwordMatches(current.createUser, PASSWORD);
  const password = byHash === undefined ? { passwordWorks: current.passwordWorks } : { passwordWorks: byHash, passwordBy: 'hash' as const };
  const state = { exists: current.exists, hasGrant, ...password, dialect: sqlDialect(current.serverVersion) };
  assertDiff(mysqlUserDiff(state, { ...desired, password: PASSWORD }), expected.diff);
});

// As read() gathers it: the dpkg fact (status letters per package), the updates journal, the lock holders.
eachCase<{ dpkg: Record<string, DpkgEntry>; updates: number; holders: LockHolder[] }, Record<string, never>, unknown>('dpkg-health', ({ current, expected }) => {
  assertDiff(dpkgHealthDiff({ broken: brokenPackages(current.dpkg), updates: current.updates, holders: current.holders }), expected);
});

eachCase<FileState, { path: string; content: string; secretContent?: boolean; owner: string; mode: string; ensure?: Ensure; describe?: string }, unknown>('file', ({ current, desired, expected }) => {
  // A secret content is the fixture's text with the fixture password in place of {{SECRET}}.
  const content = desired.secretContent ? new SecretText(desired.content.split('{{SECRET}}').flatMap((p, i) => (i ? [PASSWORD, p] : [p]))) : desired.content;
  assertDiff(fileDiff(current, { ...desired, content, mode: parseInt(desired.mode, 8) }), expected);
});

eachCase<{ exists: boolean }, { name: string; ensure?: Ensure }, unknown>('mysql-database', ({ current, desired, expected }) => {
  assertDiff(mysqlDatabaseDiff(current, desired), expected);
});

describe('grantsAll: what counts as ALL on the database', () => {
  const account = ' TO `glance`@`localhost`';
  const cases: [string, string, boolean][] = [
    ['GRANT ALL PRIVILEGES ON `glance`.*' + account, 'glance', true],
    ["GRANT ALL PRIVILEGES ON 'glance'.* TO 'glance'@'%'", 'glance', true],
    ['GRANT ALL PRIVILEGES ON "glance".* TO "glance"@"%"', 'glance', true],
    ['grant all privileges on glance.* to glance@localhost', 'glance', true],
    // A database name with "_" is shown escaped when the GRANT escaped it (an unescaped _ is a wildcard there).
    ['GRANT ALL PRIVILEGES ON `glance\\_db`.*' + account, 'glance_db', true],
    ['GRANT ALL PRIVILEGES ON `glance_db`.*' + account, 'glance_db', true],
    ['GRANT ALL PRIVILEGES ON `glanceXdb`.*' + account, 'glance_db', false],
    ['GRANT ALL PRIVILEGES ON `glance`.*' + account, 'glance_db', false],
    ['GRANT ALL PRIVILEGES ON `glance_db`.*' + account, 'glance', false],
    ['GRANT ALL PRIVILEGES ON `glance`.`images`' + account, 'glance', false],
    ['GRANT USAGE ON *.*' + account, 'glance', false],
    ['GRANT SELECT ON `glance`.*' + account, 'glance', false],
    ['REVOKE ALL PRIVILEGES ON `glance`.* FROM `glance`@`localhost`', 'glance', false],
  ];
  for (const [line, db, want] of cases) {
    test(`${want ? 'yes' : 'no '} ${db}: ${line}`, () => assert.equal(grantsAll([line], db), want));
  }
  test('no lines: no grant', () => assert.equal(grantsAll([], 'glance'), false));
});

eachCase<KsUserState, { name: string; domainId: string; ensure?: Ensure }, unknown>('keystone-user', ({ current, desired, expected }) => {
  assertDiff(keystoneUserDiff(current, { ...desired, password: PASSWORD }), expected);
});

eachCase<KsRoleState, { user: string; project: string; role: string; ensure?: Ensure }, unknown>('keystone-role-assignment', ({ current, desired, expected }) => {
  assertDiff(roleAssignmentDiff(current, desired), expected);
});

eachCase<KsServiceState, { name: string; type: string; description: string; ensure?: Ensure }, { keep: string | null; diff: unknown }>(
  'keystone-service', ({ current, desired, expected }) => {
    assert.equal(serviceToKeep(current)?.id ?? null, expected.keep, 'serviceToKeep');
    assertDiff(keystoneServiceDiff(current, desired), expected.diff);
  });

eachCase<KsEndpointsState, { urls: Record<Iface, string>; region: string; ensure?: Ensure }, unknown>('keystone-endpoint', ({ current, desired, expected }) => {
  const diff = keystoneEndpointsDiff(current, desired);
  assertDiff(diff, expected);
  if (desired.ensure === 'absent') return;
  // Exactly one endpoint per interface after the operations: every interface is created or kept once.
  const deleted = new Set(diff.ops.flatMap((o) => (o.op === 'delete-endpoint' ? [o.id] : [])));
  const kept = current.endpoints.filter((e) => !deleted.has(e.id));
  for (const i of ['public', 'internal', 'admin'] as const) {
    const created = diff.ops.filter((o) => (o.op === 'create-endpoint' && o.interface === i) || (o.op === 'create-endpoint-set' && o.urls[i])).length;
    assert.equal(kept.filter((e) => e.interface === i).length + created, 1, `one ${i} endpoint after the change`);
  }
  const set = diff.ops.some((o) => o.op === 'create-endpoint-set');
  // A set replaced through v2.0 shows one line per interface (and per duplicate); otherwise one per operation.
  const duplicates = current.endpoints.length - new Set(current.endpoints.map((e) => e.interface)).size;
  if (set) assert.equal(diff.changes.length, 3 + duplicates, 'a line per interface and per duplicate');
  else assert.equal(diff.changes.length, diff.ops.length, 'one change line per operation');
  if (current.writes !== 'v2.0') assert.ok(!set, 'v3 writes never make a v2.0 set');
});

eachCase<{ heads?: string[]; revisions?: string; current: string[]; tables?: string[]; holdsRows?: boolean; syncRunning?: boolean }, { command: string; user: string }, unknown>('db-schema', ({ current, desired, expected }) => {
  const heads = current.revisions
    ? schemaHeads(parseRevisions(fs.readFileSync(path.join(root, 'test/fixtures/facts', current.revisions), 'utf8')))
    : current.heads ?? [];
  const tables = current.tables ? { tables: current.tables, holdsRows: current.holdsRows } : {};
  const running = current.syncRunning ? { syncRunning: true } : {};
  assertDiff(schemaDiff({ heads, current: current.current, ...tables, ...running }, desired), expected);
});

eachCase<{ versions?: string; latest?: number; current?: number }, { command: string; user: string }, unknown>('migrate-schema', ({ current, desired, expected }) => {
  // As read() does: the versions directory's names (the fact) → the latest version.
  const latest = current.versions
    ? latestVersion(fs.readFileSync(path.join(root, 'test/fixtures/facts', current.versions), 'utf8').split('\n'))
    : current.latest ?? 0;
  assertDiff(migrateDiff({ latest, current: current.current }, desired), expected);
});

eachCase<PackagesState, { preseed?: string[]; ensure?: Ensure }, unknown>('apt-package', ({ current, desired, expected }) => {
  assertDiff(aptPackagesDiff(current, desired), expected);
});

eachCase<IniFileState, { path: string; template: string; vars: Record<string, string>; secretVars?: string[]; owner: string; mode: string; madeBy?: string; ensure?: Ensure; retired?: RetiredKeys[] }, unknown>(
  'ini-file', ({ current, desired, expected }) => {
    const vars = Object.fromEntries(Object.entries(desired.vars).map(([k, v]) => [k, desired.secretVars?.includes(k) ? new Secret(v) : v]));
    const got = iniFileDiff(current, { ...desired, mode: parseInt(desired.mode, 8), managed: renderTemplate(desired.template, vars) });
    assert.deepEqual(plain(got), expected);
    assert.equal(got.ops.length === 0, got.action === 'none');
    for (const k of desired.secretVars ?? []) assert.ok(!JSON.stringify(got).includes(desired.vars[k]!), `${k} never shows`);
  });

eachCase<ServiceState, { name: string; state: 'running' | 'stopped' }, unknown>('service', ({ current, desired, expected }) => {
  assertDiff(serviceDiff(current, desired), expected);
});

eachCase<{ exists: boolean }, { path: string }, unknown>('path', ({ current, desired, expected }) => {
  assertDiff(pathAbsentDiff(current.exists, desired.path), expected);
});
