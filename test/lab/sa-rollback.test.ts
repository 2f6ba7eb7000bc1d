// A restart that fails after a change of ours. The operator has put a bad value in a key install-glance
// does not manage ([glance_store] filesystem_store_file_perm) and changed keys it does manage (stores,
// default_store: an HTTP-only store, which never reads the bad key, so glance-api runs). Repairing the
// managed keys brings the file store back, which reads the bad key: glance-api dies at start. Apply must
// say why (glance-api's own ERROR line, not its deprecation warnings), put the previous file back and
// restart glance-api on it (serving again), keep the restart owed, and exit 1; --no-rollback keeps the
// new file for debugging. Fixing the bad value, the next apply converges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, labSsh, explain, useLab, GLANCE_DEPS } from './helpers.ts';
import { glanceListStatus, hostOf, waitFor, seconds, errorSaid } from './sa-helpers.ts';

const LAB = 'sa-rb';
const fixture = useLab(LAB, GLANCE_DEPS);
const { env } = fixture;
const CONF = '/etc/glance/glance-api.conf';
const BACKUP = `/var/lib/install-glance/backup${CONF}`;

async function sh(command: string): Promise<string> {
  const r = await labSsh(fixture.lab(), command);
  assert.equal(r.code, 0, explain(command, r));
  return r.stdout.trim();
}

const fileState = (path: string) => sh(`stat -c '%U:%G %a' ${path}; sha256sum ${path} | cut -d' ' -f1`);

test('fresh apply, then the operator\'s edits: glance-api runs on them (HTTP store only)', async () => {
  const fresh = await runCli(['apply', '--lab', LAB], { env, timeoutMs: 900_000 });
  assert.equal(fresh.code, 0, explain('fresh apply', fresh));
  await sh([
    `sed -i 's/^stores = file,http$/stores = http/; s/^default_store = file$/default_store = http\\nfilesystem_store_file_perm = abc/' ${CONF}`,
    `grep -qx 'filesystem_store_file_perm = abc' ${CONF}`,
    'service glance-api restart >/dev/null 2>&1 </dev/null',
  ].join(' && '));
  await waitFor('glance-api answers on the operator\'s file', async () => (await glanceListStatus(fixture.lab())) === 200, 120_000, 500);
});

test('apply repairs the managed keys, glance-api dies on the bad value: the cause from glance-api itself, the file rolled back, glance-api serving again, exit 1', async (t) => {
  const before = await fileState(CONF);
  const t0 = Date.now();
  const r = await runCli(['apply', '--lab', LAB, '--json'], { env, timeoutMs: 600_000 });
  t.diagnostic(`failed restart with rollback: apply took ${seconds(Date.now() - t0)}`);
  assert.equal(r.code, 1, explain('apply', r));
  const h = hostOf(r);
  assert.equal(h.error?.step, 'service glance-api', explain('the step', r));
  // The cause as glance-api says it (its stderr, lost by the init script, heard by running it by hand), and nothing about deprecations.
  assert.match(h.error!.message, /^glance-api stopped [\d.]+ s after it was started\n/);
  assert.match(h.error!.message, /ERROR: Value for option filesystem_store_file_perm from .*glance-api\.conf.* is not valid: invalid literal for int\(\) with base 10: 'abc'/);
  assert.doesNotMatch(h.error!.message, /deprecat/i);
  assert.match(h.error!.message, /\nrolled back: \/etc\/glance\/glance-api\.conf restored from the copy kept before this run's write .*; restart-glance-api ran again on that and succeeded$/);
  // Which happened, in the report: the handler and the resource's own line.
  const handler = h.handlers.find((x) => x.name === 'restart-glance-api');
  assert.deepEqual(handler?.rollback, { status: 'done', resources: [`ini-file ${CONF}`] });
  assert.equal(handler?.status, 'failed');
  const file = h.resources.find((x) => x.kind === 'ini-file');
  assert.equal(file?.status, 'rolled-back');
  assert.match(r.stderr, /rolled-back ini-file \/etc\/glance\/glance-api\.conf — rolled back after restart-glance-api failed/);
  t.diagnostic(`saw: ${errorSaid(r.stderr)}`);
  // The host: the previous file, byte for byte, owner and mode; glance-api serving; the restart still owed.
  assert.equal(await fileState(CONF), before);
  assert.equal(await glanceListStatus(fixture.lab()), 200, 'glance-api serves again');
  assert.equal(await sh('cat /var/lib/install-glance/pending'), 'restart-glance-api');
  // The backup: the file as it was (secrets in it: root:glance 0640, in a directory only root enters).
  assert.equal(await fileState(BACKUP), before);
  assert.equal(await sh('stat -c %a /var/lib/install-glance/backup'), '700');
});

test('--no-rollback keeps the new file for debugging, and says so', async (t) => {
  const t0 = Date.now();
  const r = await runCli(['apply', '--lab', LAB, '--json', '--no-rollback'], { env, timeoutMs: 600_000 });
  t.diagnostic(`--no-rollback: apply took ${seconds(Date.now() - t0)}; saw: ${errorSaid(r.stderr)}`);
  assert.equal(r.code, 1, explain('apply --no-rollback', r));
  const h = hostOf(r);
  assert.match(h.error!.message, /ERROR: Value for option filesystem_store_file_perm/);
  assert.match(h.error!.message, /\nnot rolled back \(--no-rollback\): ini-file \/etc\/glance\/glance-api\.conf stays as this run left it$/);
  assert.deepEqual(h.handlers.find((x) => x.name === 'restart-glance-api')?.rollback, { status: 'off', resources: [`ini-file ${CONF}`] });
  assert.equal(h.resources.find((x) => x.kind === 'ini-file')?.status, 'changed');
  assert.equal(await sh(`grep -E '^(stores|default_store|filesystem_store_file_perm) =' ${CONF}`), 'stores = file,http\ndefault_store = file\nfilesystem_store_file_perm = abc');
  assert.equal(await glanceListStatus(fixture.lab()), 0, 'glance-api is down on the new file');
  assert.equal(await sh('cat /var/lib/install-glance/pending'), 'restart-glance-api');
});

test('the bad value fixed, apply restarts glance-api (owed) and converges', async (t) => {
  await sh(`sed -i '/^filesystem_store_file_perm = abc$/d' ${CONF}`);
  const t0 = Date.now();
  const r = await runCli(['apply', '--lab', LAB, '--json'], { env, timeoutMs: 600_000 });
  t.diagnostic(`fixed: apply took ${seconds(Date.now() - t0)}`);
  assert.equal(r.code, 0, explain('apply', r));
  assert.deepEqual(hostOf(r).handlers.map((x) => `${x.name} ${x.status}`), ['restart-glance-api changed']);
  assert.equal(await sh('cat /var/lib/install-glance/pending'), '');
  const plan = await runCli(['plan', '--lab', LAB], { env });
  assert.equal(plan.code, 0, explain('plan after', plan));
});
