// What a service that did not come back is shown saying: the lines that explain it, not its warnings.
// The samples are glance-api's own output, captured on a bookworm lab (test/fixtures/service-logs/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { linesThatMatter } from '../../src/resources/service-diagnosis.ts';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/service-logs');
const sample = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');

test('glance-api with a bad [glance_store] default_store: the one ERROR line, not the deprecation warnings before it', () => {
  const lines = linesThatMatter(sample('glance25-bad-default-store.stderr'));
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, /^ERROR: Value for option default_store from .* is not valid: Valid values are \[file, .*\], but found 'nosuch'$/);
});

test('a request that failed with a traceback: its first line and the exception, not the frames', () => {
  const lines = linesThatMatter(sample('glance25-db-access-denied.log'));
  assert.deepEqual(lines.map((l) => l.replace(/^\S+ \S+ \d+ /, '')), [
    `ERROR glance.common.wsgi [None req-4d602353-bdbc-4835-a769-66236247348c 80fb1388175f4ca084b4c711ce0a24a5 667e009e3d4e48b49c9f2a4e7be01412 - - default default] Caught error: (pymysql.err.OperationalError) (1045, "Access denied for user 'glance'@'sa-x' (using password: YES)")`,
    `  sqlalchemy.exc.OperationalError: (pymysql.err.OperationalError) (1045, "Access denied for user 'glance'@'sa-x' (using password: YES)")`,
  ]);
});

test('warnings, deprecations and INFO say nothing', () => {
  const text = [
    '2026-11-26 14:58:56.923 2281 INFO glance.async_ [-] Threadpool model set to \'EventletThreadPoolModel\'\x1b[00m',
    '2026-11-26 14:58:58.797 2281 WARNING oslo_config.cfg [-] Deprecated: Option "stores" from group "glance_store" is deprecated for removal (',
    'This option is deprecated against new config option',
    ').  Its value may be silently ignored in the future.\x1b[00m',
    '2026-11-26 14:58:59.001 2281 ERROR oslo_config.cfg [-] Option "x" is deprecated for removal',
  ].join('\n');
  assert.deepEqual(linesThatMatter(text), []);
});

test('a CRITICAL record is kept, colour codes gone; the same complaint from each worker is said once', () => {
  const crit = (pid: number, t: string) => `2026-11-26 15:00:0${t} ${pid} CRITICAL glance [-] Unhandled error: oslo_config.cfg.ConfigFileValueError: Value for option workers is not valid: invalid literal for int() with base 10: 'x'\x1b[00m`;
  const lines = linesThatMatter([crit(10, '1.000'), crit(11, '1.500'), crit(12, '2.000')].join('\n'));
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, /^2026-11-26 15:00:02.000 12 CRITICAL glance \[-\] Unhandled error: .*ConfigFileValueError: Value for option workers is not valid: .*'x'$/);
});

test('at most the last N complaints, each line cut at 400 characters', () => {
  const text = Array.from({ length: 10 }, (_, i) => `ERROR: complaint ${i} ${'x'.repeat(500)}`).join('\n');
  const lines = linesThatMatter(text, 3);
  assert.deepEqual(lines.map((l) => l.slice(0, 17)), ['ERROR: complaint ', 'ERROR: complaint ', 'ERROR: complaint ']);
  assert.match(lines[0]!, /^ERROR: complaint 7 x+…$/);
  assert.equal(lines[0]!.length, 401);
});
