// Juno-era [keystone_authtoken] keys on a current release (issue 12, item 3): every modern profile's
// template removes each key it names as retired (so the plan's line is never a lie), the plan line says
// so on a Juno-configured file (the golden one), a converged file is not blamed, and adoption reads the
// Juno file's admin_password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { profiles, JUNO_AUTHTOKEN } from '../../playbooks/glance/profiles.ts';
import { configuredSecrets } from '../../playbooks/glance/adopt.ts';
import { iniFileDiff } from '../../src/resources/ini-file.ts';
import { renderTemplate } from '../../src/resources/ini/template.ts';
import { mergeIni, mergedText } from '../../src/resources/ini/merge.ts';
import { Secret } from '../../src/secret.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (...p: string[]) => fs.readFileSync(path.join(root, ...p), 'utf8');
const golden = JSON.parse(read('test/fixtures/ini/golden-vars.json')) as Record<string, string>;
const vars = { ...golden, GLANCE_DBPASS: new Secret(golden.GLANCE_DBPASS!), GLANCE_PASS: new Secret(golden.GLANCE_PASS!) };
const modern = Object.values(profiles).filter((p) => p.id !== 'juno');
const FILE = '/etc/glance/glance-api.conf';

test('every modern profile names the Juno keys as retired in glance-api.conf, and its template removes each of them', () => {
  assert.ok(modern.length >= 3);
  for (const p of modern) {
    const conf = p.configs.find((c) => c.path === FILE)!;
    assert.deepEqual(conf.retired, [JUNO_AUTHTOKEN], p.id);
    const managed = renderTemplate(read('playbooks/glance/templates', conf.template), vars);
    const section = managed.sections.find((s) => s.name === JUNO_AUTHTOKEN.section);
    for (const k of JUNO_AUTHTOKEN.keys) assert.ok(section?.remove.includes(k), `${p.id}: the template removes ${k}`);
  }
  assert.equal(profiles.juno.configs.some((c) => c.retired?.length), false, 'Juno wants these keys');
});

for (const p of modern) {
  test(`${p.id}: on the Juno-configured glance-api.conf the plan line names the Juno keys, the diff masks their password; once merged, nothing is said`, () => {
    const managed = renderTemplate(read('playbooks/glance/templates', `${p.id}/glance-api.conf`), vars);
    const juno = read('test/fixtures/ini/juno-glance-api.conf.merged');
    const desired = { path: FILE, managed, owner: 'root:glance', mode: 0o640, madeBy: 'the package', retired: [JUNO_AUTHTOKEN] };
    const d = iniFileDiff({ file: { owner: 'root:glance', mode: 0o640, content: juno } }, desired);
    assert.equal(d.action, 'update');
    assert.equal(d.why, JUNO_AUTHTOKEN.why);
    assert.doesNotMatch(d.why, /\n/, 'one line');
    for (const k of JUNO_AUTHTOKEN.keys) assert.ok(d.detail?.some((l) => l.startsWith(`-${k} = `)), `${k} removed in the diff`);
    assert.ok(d.detail?.includes('-admin_password = ***'), d.detail?.join('\n'));
    assert.ok(!JSON.stringify(d).includes(golden.GLANCE_PASS!), 'no password in the diff');
    const merged = mergedText(mergeIni(juno, managed)).reveal();
    assert.deepEqual(iniFileDiff({ file: { owner: 'root:glance', mode: 0o640, content: merged } }, desired).action, 'none');
    // A mode change alone on a clean file says only that.
    assert.equal(iniFileDiff({ file: { owner: 'root:glance', mode: 0o644, content: merged } }, desired).why, 'mode differ');
  });
}

test('adoption reads the Juno file\'s admin_password when there is no password, and today\'s password first', () => {
  const juno = read('test/fixtures/ini/juno-glance-api.conf.merged');
  const settings = { dbUser: 'glance', keystoneUser: 'glance' };
  assert.deepEqual(configuredSecrets(juno, FILE, settings).GLANCE_PASS, { value: golden.GLANCE_PASS, where: `${FILE} [keystone_authtoken] admin_password` });
  const both = '[keystone_authtoken]\nadmin_user = glance\nadmin_password = old\nusername = glance\npassword = new\n';
  assert.deepEqual(configuredSecrets(both, FILE, settings).GLANCE_PASS, { value: 'new', where: `${FILE} [keystone_authtoken] password` });
  assert.deepEqual(configuredSecrets('[keystone_authtoken]\nadmin_user = nova\nadmin_password = x\n', FILE, settings), {}, 'another user\'s');
});
