// The schema sync as a handler: it waits for a sync an earlier run left running (the lock on the
// controller), reads the schema again and syncs only when still needed; every sync holds the lock; the
// tables a cut-off sync left are found and dropped with the quoting MySQL wants.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FakeTransport, ok, fail, type RecordedCommand } from './fake-transport.ts';
import type { Host } from '../../src/engine/host.ts';
import type { Resource } from '../../src/engine/resource.ts';
import { EngineError } from '../../src/engine/errors.ts';
import type { MysqlSession } from '../../src/clients/mysql.ts';
import { schemaSyncHandler, syncLock, runSync, tablesAndRows, dropTables } from '../../src/resources/schema-sync.ts';

const SYNC = { command: 'glance-manage db_sync', user: 'glance' };
const LOCK = '/run/lock/install-glance.glance-manage.lock';
const isProbe = (c: RecordedCommand) => c.argv[0] === 'sh' && c.argv[3] === 'free';
const isWait = (c: RecordedCommand) => c.argv.join(' ') === `flock -w 900 ${LOCK} true`;

function fakeHost(answer: (c: RecordedCommand) => ReturnType<typeof ok>) {
  const t = new FakeTransport({ answer });
  const progress: string[] = [];
  const log: string[] = [];
  const host = {
    name: 'controller', t, os: { codename: 'bookworm', osName: 'Debian', init: 'sysvinit' },
    fact: () => Promise.reject(new Error('no fact here')),
    refreshFacts: async () => { log.push('refresh facts'); },
    use: () => Promise.reject(new Error('no session here')),
    progress: (l: string) => progress.push(l),
    note: () => {},
  } as unknown as Host;
  return { host, t, progress, log };
}

/** A schema whose state is a string: 'head' needs nothing. */
function schema(log: string[], state: () => string): Resource<string, string> {
  return {
    kind: 'db-schema', id: 'glance',
    read: async () => { log.push('read'); return state(); },
    diff: (s) => (s === 'head' ? { action: 'none', changes: [], why: 'at head', ops: [] } : { action: 'update', changes: [], why: 'behind', ops: ['sync'] }),
    apply: async (_h, ops) => { log.push(`apply ${ops.join(',')}`); },
  };
}

describe('the sync handler', () => {
  test('the lock is named after the command, under /run/lock', () => {
    assert.equal(syncLock(SYNC), LOCK);
    assert.equal(syncLock({ command: 'nova-manage db sync', user: 'nova' }), '/run/lock/install-glance.nova-manage.lock');
  });

  test('no sync running: no wait; the facts and the schema read again, the sync made', async () => {
    const { host, t, progress, log } = fakeHost(() => ok());
    await schemaSyncHandler('sync-glance-schema', schema(log, () => 'behind'), SYNC).run(host);
    assert.deepEqual(t.commands.map((c) => (isProbe(c) ? 'probe' : c.argv.join(' '))), ['probe']);
    assert.equal(t.commands[0]!.argv.at(-1), LOCK, 'the lock is an argument, not part of the script');
    assert.deepEqual(progress, []);
    assert.deepEqual(log, ['refresh facts', 'read', 'apply sync']);
  });

  test('a sync an earlier run left running is waited for, said; then read again, and not made twice when it got to head', async () => {
    let state = 'behind';
    const { host, t, progress, log } = fakeHost((c) => {
      if (isProbe(c)) return fail('', 1);
      if (isWait(c)) { state = 'head'; return ok(); }
      return fail(`unexpected ${c.argv.join(' ')}`);
    });
    await schemaSyncHandler('sync-glance-schema', schema(log, () => state), SYNC).run(host);
    assert.deepEqual(t.commands.map((c) => (isProbe(c) ? 'probe' : isWait(c) ? 'wait' : '?')), ['probe', 'wait']);
    assert.deepEqual(progress, ['waiting for a glance-manage db_sync an earlier run left running …']);
    assert.deepEqual(log, ['refresh facts', 'read'], 'at head once the earlier sync ended: no sync');
  });

  test('one still running after 15 minutes: the handler fails, naming it and what to do', async () => {
    const { host } = fakeHost((c) => (isProbe(c) || isWait(c) ? fail('', 1) : ok()));
    await assert.rejects(schemaSyncHandler('sync-glance-schema', schema([], () => 'behind'), SYNC).run(host), (e: unknown) => {
      assert.ok(e instanceof EngineError);
      assert.equal(e.step, 'handler sync-glance-schema');
      assert.equal(e.message, 'a glance-manage db_sync started earlier still runs after 15 min');
      assert.match(e.hint, /ps -ef \| grep 'glance-manage'/);
      return true;
    });
  });

  test('every sync holds the lock for as long as it runs, as its user', async () => {
    const { host, t } = fakeHost(() => ok());
    await runSync(host, SYNC, 'db-schema', 'see the log');
    assert.deepEqual(t.commands[0]!.argv, ['flock', '-w', '900', LOCK, 'su', '-s', '/bin/sh', '-c', 'glance-manage db_sync', 'glance']);
  });
});

describe('what a cut-off sync left', () => {
  function fakeDb(answers: Record<string, unknown[]>): { db: MysqlSession; sql: string[] } {
    const sql: string[] = [];
    const db = {
      query: async (q: string, params: unknown[] = []) => {
        sql.push(params.length ? `${q} ${JSON.stringify(params)}` : q);
        const key = Object.keys(answers).find((k) => q.includes(k));
        return key ? answers[key] : [];
      },
    } as unknown as MysqlSession;
    return { db, sql };
  }

  test('tables, and whether any but the version table holds a row: one query each, names quoted', async () => {
    const { db, sql } = fakeDb({ 'information_schema.TABLES': [{ t: 'alembic_version' }, { t: 'images' }, { t: 'odd`name' }], 'EXISTS(': [{ n: '0' }] });
    assert.deepEqual(await tablesAndRows(db, 'glance', 'alembic_version'), { tables: ['alembic_version', 'images', 'odd`name'], holdsRows: false });
    assert.equal(sql[1], 'SELECT EXISTS(SELECT 1 FROM `glance`.`images`) + EXISTS(SELECT 1 FROM `glance`.`odd``name`) AS n');
  });

  test('no table but the version table: no row query', async () => {
    const { db, sql } = fakeDb({ 'information_schema.TABLES': [{ t: 'alembic_version' }] });
    assert.deepEqual(await tablesAndRows(db, 'glance', 'alembic_version'), { tables: ['alembic_version'], holdsRows: false });
    assert.equal(sql.length, 1);
  });

  test('a row anywhere counts', async () => {
    const { db } = fakeDb({ 'information_schema.TABLES': [{ t: 'images' }, { t: 'tasks' }], 'EXISTS(': [{ n: 1 }] });
    assert.equal((await tablesAndRows(db, 'glance', 'alembic_version')).holdsRows, true);
  });

  test('dropped in one statement with foreign key checks off for it, and on again even when it fails', async () => {
    const { db, sql } = fakeDb({});
    await dropTables(db, 'glance', ['alembic_version', 'images']);
    assert.deepEqual(sql, ['SET SESSION foreign_key_checks = 0', 'DROP TABLE IF EXISTS `glance`.`alembic_version`, `glance`.`images`', 'SET SESSION foreign_key_checks = 1']);
    const failing = { query: async (q: string) => { sql.push(q); if (q.startsWith('DROP')) throw new Error('denied'); return []; } } as unknown as MysqlSession;
    sql.length = 0;
    await assert.rejects(dropTables(failing, 'glance', ['images']), /denied/);
    assert.equal(sql.at(-1), 'SET SESSION foreign_key_checks = 1');
  });
});
