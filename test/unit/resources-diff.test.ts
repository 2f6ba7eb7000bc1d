// The resources' pure diffs, driven by data: test/fixtures/resources/<kind>/<case>.json, each
// { description, input, expected }. A new case is a new file. Plus grantsAll on SHOW GRANTS lines
// in every quoting style MariaDB and MySQL print.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mysqlUserDiff, grantsAll, type MysqlUserSpec } from '../../src/resources/mysql-user.ts';
import {
  keystoneUserDiff, keystoneServiceDiff, serviceToKeep, planEndpoints, keystoneEndpoints,
  type KsUserState, type KsServiceState, type Iface,
} from '../../src/resources/keystone.ts';
import { schemaDiff } from '../../src/resources/glance-schema.ts';
import { parseRevisions, schemaHeads } from '../../src/engine/facts.ts';
import type { Diff } from '../../src/engine/resource.ts';
import type { HostContext } from '../../src/engine/context.ts';
import type { KsEndpoint } from '../../src/clients/keystone-api.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.join(root, 'test/fixtures/resources');

interface Case<I, E> { description: string; input: I; expected: E }

/** One test per fixture file of a kind; the folder must not be empty (a typo in a name is a failure, not a pass). */
function eachCase<I, E>(kind: string, run: (input: I, expected: E) => void): void {
  describe(kind, () => {
    const dir = path.join(fixtures, kind);
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    test('has cases', () => assert.ok(files.length > 0, `no cases in ${dir}`));
    for (const f of files) {
      const c = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Case<I, E>;
      test(`${f.replace(/\.json$/, '')}: ${c.description}`, () => run(c.input, c.expected));
    }
  });
}

eachCase<{ spec: Pick<MysqlUserSpec, 'user' | 'host' | 'database'>; state: { exists: boolean; grants: string[]; passwordWorks?: boolean } },
  { hasGrant: boolean; diff: Diff }>('mysql-user', (input, expected) => {
  // As read() does: SHOW GRANTS lines → hasGrant, then the diff.
  const hasGrant = grantsAll(input.state.grants, input.spec.database);
  assert.equal(hasGrant, expected.hasGrant, 'grantsAll');
  assert.deepEqual(mysqlUserDiff(input.spec, { exists: input.state.exists, hasGrant, passwordWorks: input.state.passwordWorks }), expected.diff);
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

eachCase<{ name: string; state: KsUserState }, Diff>('keystone-user', (input, expected) => {
  assert.deepEqual(keystoneUserDiff(input.name, input.state), expected);
});

eachCase<{ want: { name: string; type: string; description: string } } & KsServiceState, { keep: string | null; diff: Diff }>(
  'keystone-service', (input, expected) => {
    const state: KsServiceState = { services: input.services, endpointCount: input.endpointCount };
    assert.equal(serviceToKeep(state)?.id ?? null, expected.keep, 'serviceToKeep');
    assert.deepEqual(keystoneServiceDiff(input.want, state), expected.diff);
  });

interface EndpointWant { urls: Record<Iface, string>; region: string }
eachCase<{ want: EndpointWant; endpoints: KsEndpoint[] },
  { create: Iface[]; update: ReturnType<typeof planEndpoints>['update']; remove: string[]; action: Diff['action']; why: string }>(
  'keystone-endpoint', (input, expected) => {
    const work = planEndpoints(input.want, input.endpoints);
    assert.deepEqual(work.create, expected.create, 'create');
    assert.deepEqual(work.update, expected.update, 'update');
    assert.deepEqual(work.remove.map((e) => e.id).sort(), [...expected.remove].sort(), 'remove (in any order)');
    // Exactly one endpoint per interface stays: every interface is either created or kept once.
    const kept = input.endpoints.filter((e) => !work.remove.includes(e));
    for (const i of ['public', 'internal', 'admin'] as const) {
      assert.equal(kept.filter((e) => e.interface === i).length + (work.create.includes(i) ? 1 : 0), 1, `one ${i} endpoint after the change`);
    }
    // The resource's diff (what the plan shows) agrees with the work.
    const ctx = { settings: { endpoints: input.want.urls, region: input.want.region } } as unknown as HostContext;
    const diff = keystoneEndpoints().diff({ serviceId: 's1', endpoints: input.endpoints }, ctx);
    assert.equal(diff.action, expected.action, 'action');
    assert.equal(diff.why, expected.why, 'why');
    assert.equal(diff.changes.length, work.create.length + work.update.length + work.remove.length, 'one change line per piece of work');
  });

eachCase<{ heads?: string[]; revisions?: string; current: string[] }, Diff>('db-schema', (input, expected) => {
  const heads = input.revisions
    ? schemaHeads(parseRevisions(fs.readFileSync(path.join(root, 'test/fixtures/facts', input.revisions), 'utf8')))
    : input.heads ?? [];
  assert.deepEqual(schemaDiff({ heads, current: input.current }), expected);
});
