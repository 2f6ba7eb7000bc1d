// The config-file layer: data-driven cases (test/fixtures/ini/cases/<case>/), golden files against the
// real packaged configs (Debian bookworm's glance 25, glance 2014.2's shipped etc/), idempotence, masking.
// UPDATE_GOLDEN=1 rewrites the *.merged goldens (review the git diff before committing them).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderTemplate, placeholdersOf, IniTemplateError, type ManagedIni, type IniValue, type TemplateVars } from '../../src/resources/ini/template.ts';
import { mergeIni as mergeLines, mergedText, type MergedIni } from '../../src/resources/ini/merge.ts';
import { diffIni as diffMerged, maskUrlPasswords } from '../../src/resources/ini/diff.ts';
import { getIniValue } from '../../src/resources/ini/lines.ts';
import { Secret } from '../../src/secret.ts';

/** The merged file's text, secrets revealed (as the bytes written to the target). */
const mergeIni = (existing: string, managed: ManagedIni): string => mergedText(mergeLines(existing, managed)).reveal();
/** Plain text as a merge result, to diff two plain versions of a file. */
const asMerged = (before: string, after: string): MergedIni => ({ lines: after.split('\n'), changed: before !== after });
const diffIni = (before: string, after: string | MergedIni, sensitive?: (s: string, k: string) => boolean): string[] =>
  diffMerged(before, typeof after === 'string' ? asMerged(before, after) : after, sensitive);
/** Template vars with the listed values as Secrets, as the playbook passes its passwords. */
const withSecrets = (vars: Record<string, string>, secrets: readonly string[] = []): TemplateVars =>
  Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, secrets.includes(v) ? new Secret(v) : v]));
const plain = (v: IniValue): string => (typeof v === 'string' ? v : v.reveal());

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.join(root, 'test/fixtures/ini');
const read = (...p: string[]): string => fs.readFileSync(path.join(...p), 'utf8');

interface CaseSpec {
  description: string;
  vars?: Record<string, string>;
  secrets?: string[];
  error?: string;
}

describe('ini-merge cases (test/fixtures/ini/cases)', () => {
  const dir = path.join(fixtures, 'cases');
  for (const name of fs.readdirSync(dir).sort()) {
    const at = (f: string) => path.join(dir, name, f);
    const spec = JSON.parse(read(at('case.json'))) as CaseSpec;
    test(`${name}: ${spec.description}`, () => {
      const existing = read(at('existing.conf'));
      const template = read(at('template.conf'));
      if (spec.error !== undefined) {
        assert.throws(() => mergeIni(existing, renderTemplate(template, spec.vars ?? {})),
          (e: unknown) => e instanceof IniTemplateError && new RegExp(spec.error as string).test(e.message));
        return;
      }
      const managed = renderTemplate(template, withSecrets(spec.vars ?? {}, spec.secrets));
      const result = mergeLines(existing, managed);
      const merged = mergedText(result).reveal();
      assert.equal(merged, read(at('expected.conf')));
      assert.equal(mergeLines(merged, managed).changed, false, 'a second merge changes nothing');
      assert.equal(mergeIni(merged, managed), merged, 'a second merge changes nothing');
      assert.deepEqual(diffIni(merged, mergeLines(merged, managed)), []);
      if (fs.existsSync(at('expected.diff'))) {
        const lines = read(at('expected.diff')).split('\n').filter((l, i, all) => i < all.length - 1 || l !== '');
        assert.deepEqual(diffIni(existing, result), lines);
      }
      const shown = diffIni(existing, result).join('\n');
      for (const s of spec.secrets ?? []) assert.ok(!shown.includes(s), `secret ${JSON.stringify(s)} never shows in the diff`);
    });
  }
});

describe('golden files: templates merged into the real packaged configs', () => {
  const vars = JSON.parse(read(fixtures, 'golden-vars.json')) as Record<string, string>;
  const secrets = [vars.GLANCE_DBPASS as string, vars.GLANCE_PASS as string];
  const goldens = JSON.parse(read(fixtures, 'golden.json')) as { template: string; packaged: string; merged: string }[];
  for (const g of goldens) {
    test(`${g.template} into ${g.packaged}`, () => {
      const packaged = read(fixtures, g.packaged);
      const managed = renderTemplate(read(root, g.template), withSecrets(vars, secrets));
      const result = mergeLines(packaged, managed);
      const merged = mergedText(result).reveal();
      if (process.env.UPDATE_GOLDEN) fs.writeFileSync(path.join(fixtures, g.merged), merged);
      assert.equal(merged, read(fixtures, g.merged));
      assert.equal(mergeIni(merged, managed), merged, 'idempotent on the real file');

      // every managed key reads back (as oslo.config would) with the template's value; removals are gone
      for (const s of managed.sections) {
        for (const [k, v] of s.set) assert.equal(getIniValue(merged, s.name, k), plain(v), `[${s.name}] ${k}`);
        for (const k of s.remove) assert.equal(getIniValue(merged, s.name, k), undefined, `[${s.name}] !${k}`);
      }
      // nothing but added/replaced/removed managed lines: every packaged line that is not a managed
      // key is still there, in order
      const managedKeys = new Set(managed.sections.flatMap((s) => [...s.set.map(([k]) => k), ...s.remove]));
      const kept = packaged.split('\n').filter((l) => !managedKeys.has(l.split(/[=:]/)[0]?.trim() ?? ''));
      const after = merged.split('\n');
      let j = 0;
      for (const line of kept) {
        while (j < after.length && after[j] !== line) j++;
        assert.ok(j < after.length, `packaged line kept in order: ${JSON.stringify(line)}`);
        j++;
      }
      const diff = diffIni(packaged, result);
      assert.ok(diff.length > 0 && diff.length < 60, 'a short diff');
      for (const s of secrets) assert.ok(!diff.join('\n').includes(s), 'no secret in the diff');
    });
  }

  test('bookworm with an https Keystone: cafile right after its commented default in [keystone_authtoken], nothing else moves', () => {
    const vars = { ...(JSON.parse(read(fixtures, 'golden-vars.json')) as Record<string, string>), KEYSTONE_URL: 'https://controller:5000', KEYSTONE_CAFILE: '/etc/glance/keystone-ca.pem' };
    const packaged = read(fixtures, 'bookworm-glance-api.conf.packaged');
    const merged = mergeIni(packaged, renderTemplate(read(root, 'playbooks/glance/templates/bookworm/glance-api.conf'), vars));
    assert.equal(getIniValue(merged, 'keystone_authtoken', 'cafile'), '/etc/glance/keystone-ca.pem');
    assert.equal(getIniValue(merged, 'keystone_authtoken', 'insecure'), undefined);
    assert.match(merged, /\n#cafile = <None>\ncafile = \/etc\/glance\/keystone-ca\.pem\n/);
    // Only [keystone_authtoken] gets it (the file has #cafile in two other sections too).
    assert.equal(merged.split('\n').filter((l) => l.startsWith('cafile')).length, 1);
    assert.deepEqual(diffIni(read(fixtures, 'bookworm-glance-api.conf.merged'), merged).filter((l) => /^[-+]/.test(l)),
      ['-auth_url = http://controller:5000', '+auth_url = https://controller:5000', '-www_authenticate_uri = http://controller:5000', '+www_authenticate_uri = https://controller:5000', '+cafile = /etc/glance/keystone-ca.pem']);
  });

  test('bookworm: the keys that made the lab work (region case, password, connection, flavor)', () => {
    const merged = read(fixtures, 'bookworm-glance-api.conf.merged');
    assert.equal(getIniValue(read(fixtures, 'bookworm-glance-api.conf.packaged'), 'keystone_authtoken', 'region_name'), 'regionOne');
    assert.equal(getIniValue(merged, 'keystone_authtoken', 'region_name'), 'RegionOne');
    assert.equal(getIniValue(merged, 'keystone_authtoken', 'password'), 'pass-Golden2');
    assert.equal(getIniValue(merged, 'database', 'connection'), 'mysql+pymysql://glance:dbpass-Golden1@controller/glance');
    assert.equal(getIniValue(merged, 'paste_deploy', 'flavor'), 'keystone');
    assert.equal(getIniValue(merged, 'oslo_concurrency', 'lock_path'), '/var/lock/glance', 'packaged key untouched');
    // the password goes right after Debian's "#password =" comment in [keystone_authtoken]
    assert.match(merged, /\n# Password for auth\n#password =\npassword = pass-Golden2\n/);
    const vars = JSON.parse(read(fixtures, 'golden-vars.json')) as Record<string, string>;
    const managed = renderTemplate(read(root, 'playbooks/glance/templates/bookworm/glance-api.conf'), withSecrets(vars, ['dbpass-Golden1', 'pass-Golden2']));
    assert.deepEqual(diffIni(read(fixtures, 'bookworm-glance-api.conf.packaged'), mergeLines(read(fixtures, 'bookworm-glance-api.conf.packaged'), managed)), [
      '[database]',
      '+connection = mysql+pymysql://glance:***@controller/glance',
      '[glance_store]',
      '+stores = file,http',
      '+default_store = file',
      '-filesystem_store_datadir = /var/lib/glance/images',
      '+filesystem_store_datadir = /var/lib/glance/images/',
      '[keystone_authtoken]',
      '-auth_url = http://localhost:5000',
      '+auth_url = http://controller:5000',
      '+password = ***',
      '-www_authenticate_uri = http://localhost:5000',
      '+www_authenticate_uri = http://controller:5000',
      '-region_name = regionOne',
      '+region_name = RegionOne',
      '[paste_deploy]',
      '+flavor = keystone',
    ]);
  });

  test('trixie: named backends; the single-store keys go, the reserved stores come', () => {
    const packaged = read(fixtures, 'trixie-glance-api.conf.packaged');
    const merged = read(fixtures, 'trixie-glance-api.conf.merged');
    assert.equal(getIniValue(packaged, 'glance_store', 'filesystem_store_datadir'), '/var/lib/glance/images');
    assert.equal(getIniValue(merged, 'glance_store', 'filesystem_store_datadir'), undefined);
    assert.match(merged, /^#filesystem_store_datadir = \/var\/lib\/glance\/images$/m, 'the commented default stays');
    assert.equal(getIniValue(merged, 'DEFAULT', 'enabled_backends'), 'fs:file, http:http');
    assert.equal(getIniValue(merged, 'glance_store', 'default_backend'), 'fs');
    assert.equal(getIniValue(merged, 'fs', 'filesystem_store_datadir'), '/var/lib/glance/images/');
    assert.equal(getIniValue(merged, 'os_glance_staging_store', 'filesystem_store_datadir'), '/var/lib/glance/staging/');
    assert.equal(getIniValue(merged, 'os_glance_tasks_store', 'filesystem_store_datadir'), '/var/lib/glance/tasks_work_dir/');
    assert.equal(getIniValue(merged, 'keystone_authtoken', 'region_name'), 'RegionOne');
  });

  test('juno: the seed\'s keys land where Juno reads them', () => {
    const merged = read(fixtures, 'juno-glance-api.conf.merged');
    assert.equal(getIniValue(merged, 'DEFAULT', 'verbose'), 'True');
    assert.equal(getIniValue(merged, 'DEFAULT', 'notification_driver'), 'noop');
    assert.equal(getIniValue(merged, 'DEFAULT', 'default_store'), 'file', 'packaged [DEFAULT] default_store kept');
    assert.equal(getIniValue(merged, 'glance_store', 'default_store'), 'file');
    assert.equal(getIniValue(merged, 'keystone_authtoken', 'identity_uri'), 'http://controller:35357');
    assert.equal(getIniValue(merged, 'keystone_authtoken', 'auth_uri'), 'http://controller:5000/v2.0');
    assert.equal(getIniValue(merged, 'keystone_authtoken', 'admin_password'), 'pass-Golden2');
    assert.equal(getIniValue(merged, 'keystone_authtoken', 'revocation_cache_time'), '10', 'packaged key untouched');
    assert.equal(getIniValue(merged, 'database', 'connection'), 'mysql://glance:dbpass-Golden1@controller/glance');
    assert.match(merged, /\n#flavor=\nflavor = keystone\n/);
    const registry = read(fixtures, 'juno-glance-registry.conf.merged');
    assert.equal(getIniValue(registry, 'database', 'connection'), 'mysql://glance:dbpass-Golden1@controller/glance');
    assert.ok(!/^\[glance_store\]/m.test(registry), 'the registry gets no [glance_store]');
  });

  test('a modern template on a Juno-configured file removes the Juno keys', () => {
    const vars2 = JSON.parse(read(fixtures, 'golden-vars.json')) as Record<string, string>;
    const juno = read(fixtures, 'juno-glance-api.conf.merged');
    const modern = mergeIni(juno, renderTemplate(read(root, 'playbooks/glance/templates/bookworm/glance-api.conf'), vars2));
    for (const k of ['auth_uri', 'identity_uri', 'admin_user', 'admin_password', 'admin_tenant_name']) {
      assert.equal(getIniValue(modern, 'keystone_authtoken', k), undefined, k);
    }
    assert.equal(getIniValue(modern, 'DEFAULT', 'verbose'), undefined);
    assert.equal(getIniValue(modern, 'DEFAULT', 'notification_driver'), undefined);
    assert.equal(getIniValue(modern, 'keystone_authtoken', 'auth_url'), 'http://controller:5000');
    assert.match(modern, /^#verbose = False$/m, 'commented lines stay');
    assert.equal(mergeIni(modern, renderTemplate(read(root, 'playbooks/glance/templates/bookworm/glance-api.conf'), vars2)), modern);
  });
});

describe('every template', () => {
  const vars = JSON.parse(read(fixtures, 'golden-vars.json')) as Record<string, string>;
  const templates = path.join(root, 'playbooks', 'glance', 'templates');
  for (const release of fs.readdirSync(templates).sort()) {
    for (const file of fs.readdirSync(path.join(templates, release)).sort()) {
      test(`templates/${release}/${file} renders, documents its placeholders, and merges idempotently into an empty file`, () => {
        const text = read(templates, release, file);
        const header = text.split('\n').filter((l) => l.startsWith('#')).join('\n');
        for (const p of placeholdersOf(text)) assert.ok(header.includes(`{{${p}}}`) || header.includes(`{{${p}?}}`), `{{${p}}} documented at the top`);
        const managed = renderTemplate(text, vars);
        assert.ok(managed.sections.length > 0);
        const merged = mergeIni('', managed);
        assert.equal(mergeIni(merged, managed), merged);
        assert.doesNotMatch(merged, /\{\{|\}\}/);
      });
    }
  }
});

describe('renderTemplate', () => {
  test('sets and removals, in template order, values as strings', () => {
    const m = renderTemplate('# c\n[DEFAULT]\nshow = true\n!verbose\n[a.b]\nx = {{X}}\n', { X: '1' });
    assert.deepEqual(m, {
      sections: [
        { name: 'DEFAULT', set: [['show', 'true']], remove: ['verbose'] },
        { name: 'a.b', set: [['x', '1']], remove: [] },
      ],
    } satisfies ManagedIni);
  });

  test('an optional key: set when its value is given, a removal when it is empty (also an empty Secret); the name is listed once', () => {
    const t = '[s]\ncafile = {{CA?}}\ninsecure = {{ INSECURE ? }}\nkeep = 1\n';
    assert.deepEqual(renderTemplate(t, { CA: '/etc/glance/ca.pem', INSECURE: 'true' }).sections[0], { name: 's', set: [['cafile', '/etc/glance/ca.pem'], ['insecure', 'true'], ['keep', '1']], remove: [] });
    assert.deepEqual(renderTemplate(t, { CA: '', INSECURE: new Secret('') }).sections[0], { name: 's', set: [['keep', '1']], remove: ['cafile', 'insecure'] });
    assert.deepEqual(placeholdersOf(t), ['CA', 'INSECURE']);
    const secret = renderTemplate('[s]\np = {{P?|url}}\n', { P: new Secret('a b') }).sections[0]!.set[0]![1];
    assert.equal(plain(secret), 'a%20b');
    assert.equal(String(secret), '[secret]');
  });

  test('a missing placeholder names every missing one', () => {
    assert.throws(() => renderTemplate('[s]\na = {{A}}\nb = {{B}} {{A}}\n', {}), (e: unknown) => {
      assert.ok(e instanceof IniTemplateError);
      assert.deepEqual(e.placeholders, ['A', 'B']);
      assert.match(e.message, /\{\{A\}\} \(used by \[s\] a, \[s\] b\); \{\{B\}\} \(used by \[s\] b\)/);
      return true;
    });
  });

  test('values are substituted after parsing: a secret with ini syntax in it stays whole', () => {
    const m = renderTemplate('[s]\np = {{P}}\n', { P: '"x"; y # z = [w]' });
    assert.deepEqual(m.sections[0]?.set, [['p', '"x"; y # z = [w]']]);
    const merged = mergeIni('[s]\n', m);
    assert.equal(getIniValue(merged, 's', 'p'), '"x"; y # z = [w]');
  });

  test('unwritable values and malformed templates are errors', () => {
    assert.throws(() => renderTemplate('[s]\np = {{P}}\n', { P: 'a\nb' }), /\{\{P\}\} cannot be written into an INI file: it holds a line feed at character 2/);
    assert.throws(() => renderTemplate('[s]\np = {{P}}\n', { P: 'a\rb' }), /carriage return/);
    assert.throws(() => renderTemplate('[s]\np = {{P}}\n', { P: 'a\\$b' }), /backslash right before a \$/);
    assert.throws(() => renderTemplate('[s]\np = {{P\n', { P: 'a' }), /malformed placeholder/);
    assert.throws(() => renderTemplate('p = 1\n[s]\n', {}), /outside any \[section\]/);
    assert.throws(() => renderTemplate('[s]\np = 1\np = 2\n', {}), /appears twice/);
    assert.throws(() => renderTemplate('[s]\np = 1\n!p\n', {}), /appears twice/);
    assert.throws(() => renderTemplate('[s]\n!p = 1\n', {}), /without a value/);
    assert.throws(() => renderTemplate('[s]\np[] = 1\n', {}), /plain name/);
    assert.throws(() => renderTemplate('[s]\n!p # why\n', {}), /plain name/);
  });

  test('placeholdersOf lists each placeholder once', () => {
    assert.deepEqual(placeholdersOf('a={{B}} {{A|url}} {{ B }}'), ['A', 'B']);
  });
});

describe('mergeIni edge cases', () => {
  const m = renderTemplate('[s]\nk = v\n', {});
  test('an empty file gets the section', () => {
    assert.equal(mergeIni('', m), '[s]\nk = v\n');
  });
  test('a header-only section gets the key after its header', () => {
    assert.equal(mergeIni('[s]\n[t]\n', m), '[s]\nk = v\n[t]\n');
  });
  test('keys before any section, and keys of other sections, are never touched', () => {
    assert.equal(mergeIni('k = top\n[t]\nk = other\n', m), 'k = top\n[t]\nk = other\n\n[s]\nk = v\n');
  });
  test('keys compare case-sensitively', () => {
    assert.equal(mergeIni('[s]\nK = x\n', m), '[s]\nK = x\nk = v\n');
  });
  test('an indented line after the commented key would continue our key: append at the end instead', () => {
    const text = '[s]\n#k = old\n  odd indented line\n\nlast = 1\n';
    const merged = mergeIni(text, m);
    assert.equal(merged, '[s]\n#k = old\n  odd indented line\n\nlast = 1\nk = v\n');
    assert.equal(mergeIni(merged, m), merged);
  });
  test('a value with colons and a key: value line read as oslo does', () => {
    assert.equal(getIniValue('[s]\nurl: http://a:1\n', 's', 'url'), 'http://a:1');
    assert.equal(getIniValue('[s]\nk = "quoted"\n', 's', 'k'), 'quoted');
    assert.equal(getIniValue('[s]\nk = 1\nk = 2\n', 's', 'k'), '2', 'the last one wins, as in oslo.config');
  });
});

describe('diffIni and masking', () => {
  test('identical files: empty diff', () => {
    assert.deepEqual(diffIni('[a]\nx = 1\n', '[a]\nx = 1\n'), []);
  });
  test('a line holding a secret is masked by its type, in any form the template wrote it ($$-escaped, percent-encoded)', () => {
    const before = '[database]\nconnection = sqlite://\n[x]\nnote = old\n';
    const managed = renderTemplate('[database]\nconnection = mysql+pymysql://glance:{{P|url}}@db/glance\n[x]\nnote = {{P}} here\n', { P: new Secret('p@ss$') });
    const result = mergeLines(before, managed);
    assert.equal(mergedText(result).reveal(), '[database]\nconnection = mysql+pymysql://glance:p%40ss%24@db/glance\n[x]\nnote = p@ss$$ here\n');
    assert.deepEqual(diffIni(before, result), [
      '[database]', '-connection = sqlite://', '+connection = mysql+pymysql://glance:***@db/glance',
      '[x]', '-note = old', '+note = *** here',
    ]);
  });
  test('a secret whose value is already in the file is recognised without revealing it: nothing to change', () => {
    const managed = renderTemplate('[s]\npassword = {{P}}\n', { P: new Secret('same') });
    assert.equal(mergeLines('[s]\npassword = same\n', managed).changed, false);
    assert.equal(mergeLines('[s]\npassword = other\n', managed).changed, true);
  });
  test('an unknown old password is masked by its key, and a URL password by its place', () => {
    const before = '[keystone_authtoken]\npassword = old-unknown\n[database]\nconnection = mysql+pymysql://glance:olddb@c/glance\n';
    const after = '[keystone_authtoken]\npassword = new\n[database]\nconnection = mysql+pymysql://glance:newdb@c/glance\n';
    const d = diffIni(before, after);
    assert.deepEqual(d, [
      '[keystone_authtoken]', '-password = ***', '+password = ***',
      '[database]', '-connection = mysql+pymysql://glance:***@c/glance', '+connection = mysql+pymysql://glance:***@c/glance',
    ]);
  });
  test('a custom sensitive predicate', () => {
    assert.deepEqual(diffIni('[a]\nx = 1\n', '[a]\nx = 2\n', (s, k) => s === 'a' && k === 'x'), ['[a]', '-x = ***', '+x = ***']);
  });
  test('maskUrlPasswords leaves a URL without a password alone', () => {
    assert.equal(maskUrlPasswords('http://controller:5000/v3'), 'http://controller:5000/v3');
    assert.equal(maskUrlPasswords('mysql://glance:pw@db/glance'), 'mysql://glance:***@db/glance');
  });
  test('a large file with changes far apart gives a short diff', () => {
    const body = Array.from({ length: 5000 }, (_, i) => `#opt${i} = ${i}`).join('\n');
    const before = `[a]\nx = 1\n${body}\n[b]\ny = 1\n`;
    const after = `[a]\nx = 2\n${body}\n[b]\ny = 2\n`;
    assert.deepEqual(diffIni(before, after), ['[a]', '-x = 1', '+x = 2', '[b]', '-y = 1', '+y = 2']);
  });
});
