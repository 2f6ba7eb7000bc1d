// The operator's secrets: environment > a team's --secrets file > the local per-host file, each value
// named by where it came from; the team file keyed by host or flat; new values kept in the local file
// (0600, other values untouched); what is wrong with a file said with what to write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { operatorSecrets } from '../../src/secrets/layers.ts';
import { parseTeamSecrets } from '../../src/secrets/team-file.ts';
import { Secret } from '../../src/secret.ts';
import type { SecretSpec } from '../../src/engine/playbook.ts';

const specs: SecretSpec[] = [{ name: 'GLANCE_DBPASS', describe: 'db' }, { name: 'GLANCE_PASS', describe: 'ks' }];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-secrets-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name: string, v: unknown): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, typeof v === 'string' ? v : JSON.stringify(v));
  return p;
}

const shown = async (src: ReturnType<typeof operatorSecrets>, host = 'ctl') =>
  Object.fromEntries(Object.entries(await src.load(host, specs)).map(([k, v]) => [k, `${v.value.reveal()} from ${v.from}${v.replaceable ? ' (replaceable)' : ''}`]));

test('first found first: environment, then the team file, then the local file', async () => {
  const dir = path.join(tmp, 'd1');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'ctl.json'), JSON.stringify({ GLANCE_DBPASS: 'local-db', GLANCE_PASS: 'local-ks' }));
  const team = write('team1.json', { ctl: { GLANCE_PASS: 'team-ks' } });
  assert.deepEqual(await shown(operatorSecrets({ env: {}, dir })), {
    GLANCE_DBPASS: `local-db from the local file ${dir}/ctl.json (replaceable)`, GLANCE_PASS: `local-ks from the local file ${dir}/ctl.json (replaceable)`,
  });
  assert.deepEqual(await shown(operatorSecrets({ env: {}, teamFile: team, dir })), {
    GLANCE_DBPASS: `local-db from the local file ${dir}/ctl.json (replaceable)`, GLANCE_PASS: `team-ks from ${team} (its "ctl" entry)`,
  });
  assert.deepEqual(await shown(operatorSecrets({ env: { GLANCE_PASS: 'env-ks', GLANCE_DBPASS: '' }, teamFile: team, dir })), {
    GLANCE_DBPASS: `local-db from the local file ${dir}/ctl.json (replaceable)`, GLANCE_PASS: 'env-ks from the environment (GLANCE_PASS)',
  });
});

test('a team file: a host\'s entry wins over the flat values; other hosts get the flat ones', async () => {
  const team = write('team2.json', { GLANCE_DBPASS: 'flat-db', GLANCE_PASS: 'flat-ks', ctl: { GLANCE_PASS: 'ctl-ks' } });
  const src = operatorSecrets({ env: {}, teamFile: team, dir: path.join(tmp, 'empty') });
  assert.deepEqual(await shown(src), { GLANCE_DBPASS: `flat-db from ${team}`, GLANCE_PASS: `ctl-ks from ${team} (its "ctl" entry)` });
  assert.deepEqual(await shown(src, 'other'), { GLANCE_DBPASS: `flat-db from ${team}`, GLANCE_PASS: `flat-ks from ${team}` });
});

test('a team file that is not the shape is refused with what to write', () => {
  assert.throws(() => parseTeamSecrets('[1]', 'f'), /f is not a JSON object/);
  assert.throws(() => parseTeamSecrets('{"ctl": {"GLANCE_PASS": 3}}', 'f'), /"ctl"\."GLANCE_PASS" is not text/);
  assert.throws(() => parseTeamSecrets('{"x": 1}', 'f'), (e: Error & { hint: string }) => /neither text nor an object/.test(e.message) && /GLANCE_DBPASS/.test(e.hint));
  assert.throws(() => parseTeamSecrets('{', 'f'), /f is not JSON/);
});

test('keep adds to the local file (0600, in a 0700 dir), the other values stay; forget removes it', async () => {
  const dir = path.join(tmp, 'd3');
  const src = operatorSecrets({ env: {}, dir });
  await src.keep('ctl', { GLANCE_DBPASS: new Secret('one') });
  await src.keep('ctl', { GLANCE_PASS: new Secret('two') });
  const file = path.join(dir, 'ctl.json');
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { GLANCE_DBPASS: 'one', GLANCE_PASS: 'two' });
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  assert.match(src.where('ctl', 'GLANCE_PASS'), /GLANCE_PASS in the environment, in a --secrets file, or in .*d3\/ctl\.json/);
  await src.forget('ctl');
  assert.ok(!fs.existsSync(file));
});
