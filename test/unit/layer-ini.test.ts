// The INI layer: a hostile secret goes into glance-api.conf (each release's template, merged into a file
// that holds other values) and is read back the way Glance reads it — oslo.config's iniparser and
// _substitute, then SQLAlchemy's URL parser and PyMySQL's latin-1 for the database password — and must
// come back exactly. The readers below are ports of those Python functions (cited), written apart from
// src/resources/ini so that they check it rather than repeat it. Adoption reads the same file back too.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTemplate } from '../../src/resources/ini/template.ts';
import { mergeIni, mergedText } from '../../src/resources/ini/merge.ts';
import { osloUnescape, osloValueProblem } from '../../src/resources/ini/oslo-value.ts';
import { template } from '../../playbooks/glance/index.ts';
import { configuredSecrets } from '../../playbooks/glance/adopt.ts';
import { Secret } from '../../src/secret.ts';
import { hostile } from './hostile-values.ts';

// Python's str.isspace() characters (what str.strip() removes).
const PY_SPACE = new Set([...'\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000']);
const lstrip = (s: string) => { let i = 0; while (i < s.length && PY_SPACE.has(s[i]!)) i++; return s.slice(i); };
const rstrip = (s: string) => { let i = s.length; while (i > 0 && PY_SPACE.has(s[i - 1]!)) i--; return s.slice(0, i); };
const strip = (s: string) => lstrip(rstrip(s));

/** oslo_config/iniparser.py BaseParser.parse + _split_key_value, then cfg.py ConfigOpts._substitute (no option references allowed here). */
function osloRead(text: string, section: string, key: string): string | undefined {
  const found: Record<string, Record<string, string[]>> = {};
  let sec: string | undefined;
  let k: string | undefined;
  let value: string[] = [];
  const flush = () => {
    if (k !== undefined && sec !== undefined) ((found[sec] ??= {})[k] ??= []).push(value.join('\n'));
    k = undefined;
    value = [];
  };
  // open() in text mode: universal newlines; readlines() then splits at \n.
  for (const raw of text.replace(/\r\n?/g, '\n').split('\n')) {
    const line = rstrip(raw);
    if (!line) { flush(); continue; }
    if (line[0] === ' ' || line[0] === '\t') { value.push(lstrip(line)); continue; }
    flush();
    if (line.startsWith('[')) { assert.ok(line.endsWith(']'), `section line ${line}`); sec = line.slice(1, -1); continue; }
    if (line.startsWith('#') || line.startsWith(';')) continue;
    const colon = line.indexOf(':');
    const equal = line.indexOf('=');
    assert.ok(colon >= 0 || equal >= 0, `no assignment in ${line}`);
    const at = colon < 0 || (equal >= 0 && equal < colon) ? equal : colon;
    k = strip(line.slice(0, at));
    let v = strip(line.slice(at + 1));
    if (v && v[0] === v.at(-1) && (v[0] === '"' || v[0] === "'")) v = v.slice(1, -1);
    value = [v];
  }
  flush();
  const values = found[section]?.[key];
  if (!values) return undefined;
  // _substitute: "\$" is "$$", then string.Template.safe_substitute: "$$" is "$", $name another option.
  const t = values.at(-1)!.replace(/\\\$/g, '$$$$');
  return t.replace(/\$(\$|[_a-z][._a-z0-9]*|\{[_a-z][._a-z0-9]*\})?/gi, (m, what: string | undefined) => {
    if (what === '$') return '$';
    if (what === undefined) return m;
    throw new Error(`the value refers to option ${what}`);
  });
}

/** SQLAlchemy 1.4+ make_url (sqlalchemy/engine/url.py _parse_url): the password, unquote()d. */
function sqlalchemyPassword(url: string): string | undefined {
  const m = /^(?<name>[\w+]+):\/\/(?:(?<username>[^:/]*)(?::(?<password>[^@]*))?@)?/.exec(url);
  const p = m?.groups?.password;
  return p === undefined ? undefined : decodeURIComponent(p);
}

/** What Debian's package leaves, with values in the keys we own, so the merge replaces rather than appends. */
const packaged = [
  '[DEFAULT]', '#bind_port = 9292', '', '[database]', '#connection = <None>', 'connection = sqlite:////var/lib/glance/glance.sqlite', '',
  '[keystone_authtoken]', 'www_authenticate_uri = http://localhost:5000', 'auth_url = http://localhost:5000', 'password = old', 'region_name = regionOne', '',
].join('\n');

const vars = (db: string, ks: string) => ({
  GLANCE_DBPASS: new Secret(db), GLANCE_PASS: new Secret(ks), CONTROLLER: 'controller', REGION: 'RegionOne', KEYSTONE_URL: 'http://controller:5000',
  KEYSTONE_ADMIN_URL: 'http://controller:35357', DB_HOST: 'controller', KEYSTONE_CAFILE: '', KEYSTONE_INSECURE: '',
});

/** glance-api.conf as written to the controller for these passwords. */
function written(release: string, db: string, ks: string): string {
  const managed = renderTemplate(template(`${release}/glance-api.conf`), vars(db, ks));
  return mergedText(mergeIni(packaged, managed)).reveal();
}

const passwordKey = (release: string) => (release === 'juno' ? 'admin_password' : 'password');

for (const release of ['bookworm', 'bullseye', 'trixie', 'juno']) {
  describe(`glance-api.conf of ${release}, read as Glance reads it`, () => {
    for (const v of hostile) {
      test(JSON.stringify(v), () => {
        const text = written(release, v, v);
        assert.equal(osloRead(text, 'keystone_authtoken', passwordKey(release)), v, 'oslo.config reads GLANCE_PASS');
        const url = osloRead(text, 'database', 'connection')!;
        const pw = sqlalchemyPassword(url);
        assert.equal(pw, v, `SQLAlchemy reads GLANCE_DBPASS from ${url}`);
        // PyMySQL then sends password.encode("latin1"): the bytes the account is set from (mysql-user.ts).
        assert.deepEqual(Buffer.from(pw!, 'latin1'), Buffer.from(v, 'latin1'));
      });
    }
  });
}

describe('adoption reads back what was written', () => {
  for (const v of [...hostile, 'a$$b', '$']) {
    test(JSON.stringify(v), () => {
      const found = configuredSecrets(written('bookworm', v, v), '/etc/glance/glance-api.conf', { dbUser: 'glance', keystoneUser: 'glance' });
      assert.equal(found.GLANCE_DBPASS?.value, v);
      assert.equal(found.GLANCE_PASS?.value, v);
    });
  }
  test('an operator\'s value that names another option is not adopted (only the whole config would tell)', () => {
    const found = configuredSecrets('[keystone_authtoken]\nusername = glance\npassword = $other_option\n', 'f', { dbUser: 'glance', keystoneUser: 'glance' });
    assert.equal(found.GLANCE_PASS, undefined);
    assert.equal(osloUnescape('a\\$b$$c$'), 'a$b$c$');
  });
});

test('what cannot be written exactly is refused, each with its reason', () => {
  assert.match(osloValueProblem('a\nb') ?? '', /line feed at character 2/);
  assert.match(osloValueProblem('\\$') ?? '', /backslash right before a \$/);
  assert.throws(() => written('bookworm', 'x', 'a\\$b'), /\{\{GLANCE_PASS\}\} cannot be written into an INI file: it holds a backslash right before a \$/);
  // The URL percent-encodes what the file could not carry.
  assert.equal(sqlalchemyPassword(osloRead(written('bookworm', 'a\\$b', 'x'), 'database', 'connection')!), 'a\\$b');
});
