// The Juno config files, merged into glance 2014.2's own etc/ files (test/fixtures/ini/juno-*.merged,
// made by golden.json in ini-merge.test.ts), against the Juno install guide: they carry exactly the
// guide's keys and values (test/fixtures/ini/juno-guide/), and every active key is one Juno's Glance
// reads: named by the 2014.2 sample in that section, or an option of keystonemiddleware 1.0.0 /
// glance_store 0.1.4 (test/fixtures/ini/juno-guide/known-options.json).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderTemplate } from '../../src/resources/ini/template.ts';
import { getIniValue } from '../../src/resources/ini/lines.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.join(root, 'test/fixtures/ini');
const read = (...p: string[]) => fs.readFileSync(path.join(...p), 'utf8');
const vars = JSON.parse(read(fixtures, 'golden-vars.json')) as Record<string, string>;
const known = JSON.parse(read(fixtures, 'juno-guide/known-options.json')) as Record<string, { options: string[]; only?: string }>;

/** Active `key = value` lines per section, in order (comments and continuation lines skipped). */
function activeKeys(text: string): [section: string, key: string, value: string][] {
  const out: [string, string, string][] = [];
  let section = 'DEFAULT';
  for (const line of text.split('\n')) {
    const h = /^\[([^\]]+)\]\s*$/.exec(line);
    if (h?.[1]) {
      section = h[1];
      continue;
    }
    if (/^\s*([#;]|$)/.test(line) || /^\s/.test(line)) continue;
    const m = /^([^=:\s]+)\s*[=:]\s?(.*)$/.exec(line);
    if (m?.[1]) out.push([section, m[1], m[2] ?? '']);
  }
  return out;
}

/** The option names a glance 2014.2 sample file names in each section, active or commented (`#key =`, `# key =`). */
function sampleNames(text: string): Map<string, Set<string>> {
  const names = new Map<string, Set<string>>();
  let section = 'DEFAULT';
  for (const line of text.split('\n')) {
    const h = /^\[([^\]]+)\]\s*$/.exec(line);
    if (h?.[1]) {
      section = h[1];
      continue;
    }
    const m = /^#?\s?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
    if (m?.[1]) {
      if (!names.has(section)) names.set(section, new Set());
      names.get(section)!.add(m[1]);
    }
  }
  return names;
}

/** The guide's values with its placeholders filled as the golden files were (GLANCE_DBPASS, GLANCE_PASS). */
const guide = (file: string) =>
  activeKeys(read(fixtures, 'juno-guide', file)).map(([s, k, v]) => [s, k, v.replace('GLANCE_DBPASS', vars.GLANCE_DBPASS!).replace('GLANCE_PASS', vars.GLANCE_PASS!)] as const);

for (const file of ['glance-api.conf', 'glance-registry.conf']) {
  describe(`juno ${file}: the guide's keys, nothing Juno does not read`, () => {
    const merged = read(fixtures, `juno-${file}.merged`);
    const packaged = read(fixtures, `juno-${file}.packaged`);
    const template = renderTemplate(read(root, 'playbooks/glance/templates/juno', file), vars);

    test('every key the guide sets reads back with the guide\'s value', () => {
      for (const [s, k, v] of guide(file)) assert.equal(getIniValue(merged, s, k), v, `[${s}] ${k}`);
    });

    test('the template sets exactly the guide\'s keys, and removes only what the guide comments out', () => {
      const ours = template.sections.flatMap((s) => s.set.map(([k]) => `${s.name}/${k}`)).sort();
      assert.deepEqual(ours, guide(file).map(([s, k]) => `${s}/${k}`).sort());
      const removed = template.sections.flatMap((s) => s.remove.map((k) => `${s.name}/${k}`)).sort();
      assert.deepEqual(removed, ['keystone_authtoken/auth_host', 'keystone_authtoken/auth_port', 'keystone_authtoken/auth_protocol']);
      for (const r of removed) assert.equal(getIniValue(merged, r.split('/')[0]!, r.split('/')[1]!), undefined, r);
    });

    test('every active key is one Juno\'s Glance reads in that section, each once', () => {
      const names = sampleNames(packaged);
      const seen = new Set<string>();
      for (const [s, k] of activeKeys(merged)) {
        const extra = known[s];
        const ok = names.get(s)?.has(k) || (extra && (!extra.only || extra.only === file) && extra.options.includes(k));
        assert.ok(ok, `[${s}] ${k}: not an option of glance 2014.2 (sample), keystonemiddleware 1.0.0 or glance_store 0.1.4 there`);
        assert.ok(!seen.has(`${s}/${k}`), `[${s}] ${k} set twice`);
        seen.add(`${s}/${k}`);
      }
      if (file === 'glance-registry.conf') assert.doesNotMatch(merged, /^\[glance_store\]/m, 'the registry has no [glance_store]');
    });

    test('no value of ours carries an inline comment (oslo.config would read it as part of the value)', () => {
      for (const s of template.sections) for (const [k, v] of s.set) assert.doesNotMatch(typeof v === 'string' ? v : v.masked(), /\s[#;]/, `[${s.name}] ${k}`);
    });
  });
}

test('the check can fail: a Kilo key in a Juno file is caught', () => {
  const names = sampleNames(read(fixtures, 'juno-glance-api.conf.packaged'));
  const kilo = ['auth_plugin', 'project_domain_id', 'username', 'password', 'auth_url'].filter((k) => names.get('keystone_authtoken')?.has(k) || known.keystone_authtoken!.options.includes(k));
  assert.deepEqual(kilo, [], 'Kilo\'s authtoken keys are not Juno options');
});
