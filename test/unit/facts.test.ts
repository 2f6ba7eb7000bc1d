// The facts parser on what the facts script prints: a realistic capture from a bookworm controller
// (built section by section as factsScript() prints them), the schema revisions of the real glance
// packages (test/fixtures/facts/), and the edge cases of each section.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseFacts, parseRevisions, schemaHeads, factsScript, JOURNAL } from '../../src/engine/facts.ts';
import { profiles } from '../../src/profiles/profiles.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = (name: string): string => fs.readFileSync(path.join(root, 'test/fixtures/facts', name), 'utf8');

const API_CONF = '/etc/glance/glance-api.conf';
const REGISTRY_CONF = '/etc/glance/glance-registry.conf';
const BOOKWORM_SCHEMA = profiles.bookworm.schema.versionsDir;
const JUNO_SCHEMA = profiles.juno.schema.versionsDir;

const bookwormOsRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`;

// Non-ASCII on purpose: base64 carries bytes, the parser must decode them as UTF-8.
const apiConf = `[DEFAULT]
# Café: the packaged file's comments survive.
bind_host = 0.0.0.0

[database]
connection = mysql+pymysql://glance:pw@controller/glance

[keystone_authtoken]
www_authenticate_uri = http://controller:5000
region_name = RegionOne
`;

const openrc = `export OS_USERNAME=admin
export OS_PASSWORD='d2XvO7zmH0U3F120CEsITwKT'
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_AUTH_URL=http://controller:5000/v3
export OS_IDENTITY_API_VERSION=3
export OS_IMAGE_API_VERSION=2`;

interface Sections {
  os?: string;
  init?: string;
  packages?: string;
  apiConf?: string | null;
  pending?: string;
  running?: string;
  schema?: string;
  users?: string;
}

/** The facts script's stdout, section by section as factsScript() prints them (stat, then base64 -w0, then echo). */
function capture(s: Sections = {}): string {
  const file = (content: string | null | undefined, owner: string, mode: string) =>
    content === null || content === undefined ? '' : `${owner} ${mode}\n${Buffer.from(content).toString('base64')}\n`;
  return [
    `==> os\n${s.os ?? bookwormOsRelease}`,
    `==> init\n${s.init ?? 'sysvinit'}\n`,
    // dpkg-query's ${db:Status-Abbrev} is three characters: "ii " installed, "rc " removed with its config kept.
    `==> packages\n${s.packages ?? 'glance\t2:25.1.0-2+deb12u5\tii \npython3-glanceclient\t1:4.1.0-2\trc \n'}`,
    `==> file ${API_CONF}\n${file(s.apiConf === undefined ? apiConf : s.apiConf, 'root:glance', '640')}`,
    `==> file ${REGISTRY_CONF}\n`,
    `==> openrc\n${openrc}\n`,
    `==> pending\n${s.pending ?? 'restart-glance-api\n'}`,
    `==> running glance-api\n${s.running ?? '2150\n'}`,
    `==> schema ${BOOKWORM_SCHEMA}\n${s.schema ?? fixture('glance25-revisions.txt')}`,
    `==> schema ${JUNO_SCHEMA}\n`,
    `==> users\n${s.users ?? 'glance\n'}`,
    '==> end\n',
  ].join('');
}

describe('parseFacts on a bookworm controller with glance installed', () => {
  const facts = parseFacts(capture());

  test('os-release: codename and pretty name; the init line', () => {
    assert.equal(facts.codename, 'bookworm');
    assert.equal(facts.osName, 'Debian GNU/Linux 12 (bookworm)');
    assert.equal(facts.init, 'sysvinit');
  });

  test('packages: only state ii counts; a package in state rc (removed, config kept) is not installed', () => {
    assert.deepEqual(facts.packages, { glance: '2:25.1.0-2+deb12u5' });
  });

  test('a config file: owner, mode (octal) and content decoded from base64 as UTF-8', () => {
    assert.deepEqual(facts.files[API_CONF], { owner: 'root:glance', mode: 0o640, content: apiConf });
  });

  test('a config file the host does not have is undefined', () => {
    assert.equal(facts.files[REGISTRY_CONF], undefined);
    assert.ok(REGISTRY_CONF in facts.files, 'its section was read');
  });

  test('admin-openrc, the pending journal, the running pid, the users', () => {
    assert.equal(facts.adminOpenrc, openrc);
    assert.deepEqual(facts.pending, ['restart-glance-api']);
    assert.deepEqual(facts.running, { 'glance-api': 2150 });
    assert.deepEqual(facts.hasUser, { glance: true });
  });

  test('schema: every revision of glance 25, with what it builds on; the head is wallaby_contract01', () => {
    assert.equal(facts.schemaFiles.length, 19);
    assert.deepEqual(facts.schemaFiles.find((f) => f.revision === 'liberty'), { revision: 'liberty', down: [] });
    assert.deepEqual(facts.schemaFiles.find((f) => f.revision === 'ocata_contract01'), { revision: 'ocata_contract01', down: ['mitaka02', 'ocata_expand01'] });
    assert.deepEqual(schemaHeads(facts.schemaFiles), ['wallaby_contract01']);
  });

  test("a profile hint keeps only that release's schema directory", () => {
    const other = `revision = 'juno_only'\ndown_revision = ('x1', 'x2')\ndepends_on = None\n`;
    const out = capture().replace(`==> schema ${JUNO_SCHEMA}\n`, `==> schema ${JUNO_SCHEMA}\n${other}`);
    assert.equal(parseFacts(out, profiles.bookworm).schemaFiles.some((f) => f.revision === 'juno_only'), false);
    assert.deepEqual(parseFacts(out, profiles.bookworm).schemaFiles, parseFacts(capture()).schemaFiles);
    assert.deepEqual(parseFacts(out, profiles.juno).schemaFiles, [{ revision: 'juno_only', down: ['x1', 'x2'] }]);
    assert.equal(parseFacts(out).schemaFiles.length, 20, 'without a hint, every directory counts');
  });
});

describe('parseFacts: sections that are empty or odd', () => {
  test('a controller without glance: no packages, no file, nothing pending, not running, no schema, no user', () => {
    const f = parseFacts(capture({ packages: '', apiConf: null, pending: '', running: '', schema: '', users: '' }));
    assert.deepEqual(f.packages, {});
    assert.equal(f.files[API_CONF], undefined);
    assert.deepEqual(f.pending, []);
    assert.equal(f.running['glance-api'], undefined);
    assert.deepEqual(f.schemaFiles, []);
    assert.deepEqual(schemaHeads(f.schemaFiles), []);
    assert.deepEqual(f.hasUser, {});
  });

  test('an empty pending file is [], blank lines and spaces in it are ignored', () => {
    assert.deepEqual(parseFacts(capture({ pending: '\n' })).pending, []);
    assert.deepEqual(parseFacts(capture({ pending: '  restart-glance-api \n\nrestart-glance-registry\n' })).pending, ['restart-glance-api', 'restart-glance-registry']);
  });

  test('an empty config file exists, with empty content', () => {
    assert.deepEqual(parseFacts(capture({ apiConf: '' })).files[API_CONF], { owner: 'root:glance', mode: 0o640, content: '' });
  });

  test('a dpkg line of a package dpkg knows but has not installed ("un", no version) does not count', () => {
    assert.deepEqual(parseFacts(capture({ packages: 'glance\t\tun \npython3-glanceclient\t1:4.1.0-2\tii \n' })).packages, { 'python3-glanceclient': '1:4.1.0-2' });
  });

  test('systemd and upstart are recognised; anything else is sysvinit', () => {
    assert.equal(parseFacts(capture({ init: 'systemd' })).init, 'systemd');
    assert.equal(parseFacts(capture({ init: 'upstart' })).init, 'upstart');
    assert.equal(parseFacts(capture({ init: '' })).init, 'sysvinit');
  });

  test('no admin-openrc: undefined', () => {
    const f = parseFacts(capture().replace(`==> openrc\n${openrc}\n`, '==> openrc\n'));
    assert.equal(f.adminOpenrc, undefined);
  });

  test('a release without VERSION_CODENAME: the codename comes from VERSION "N (name)"', () => {
    const os = 'PRETTY_NAME="Debian GNU/Linux 8 (jessie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="8"\nVERSION="8 (jessie)"\nID=debian\n';
    assert.equal(parseFacts(capture({ os })).codename, 'jessie');
  });

  test("Ubuntu 14.04 (Juno's release): os-release has no codename field, VERSION says \"14.04.5 LTS, Trusty Tahr\"", () => {
    const os = 'NAME="Ubuntu"\nVERSION="14.04.5 LTS, Trusty Tahr"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 14.04.5 LTS"\nVERSION_ID="14.04"\n';
    const f = parseFacts(capture({ os, init: 'upstart' }));
    assert.equal(f.codename, 'trusty');
    assert.equal(f.osName, 'Ubuntu 14.04.5 LTS');
    assert.ok(profiles.juno.codenames.includes(f.codename), 'the juno profile is found from it');
  });
});

describe('parseRevisions', () => {
  test('a name, a tuple, None; single or double quotes; indented lines', () => {
    const text = [
      "revision = 'base'",
      'down_revision = None',
      'depends_on = None',
      'revision = "a1"',
      "down_revision = 'base'",
      "revision = 'merge01'",
      "down_revision = ('a1', \"b1\")",
      "  depends_on = ('x1',)",
    ].join('\n');
    assert.deepEqual(parseRevisions(text), [
      { revision: 'base', down: [] },
      { revision: 'a1', down: ['base'] },
      { revision: 'merge01', down: ['a1', 'b1', 'x1'] },
    ]);
  });

  test('lines before the first revision and other lines are ignored', () => {
    assert.deepEqual(parseRevisions("down_revision = 'orphan'\nbranch_labels = None\nrevision = 'r1'\n# revision = 'commented'\n"), [{ revision: 'r1', down: [] }]);
  });

  test('glance 25 (bookworm): 19 revisions, each with the chain it builds on', () => {
    const revs = parseRevisions(fixture('glance25-revisions.txt'));
    assert.equal(revs.length, 19);
    const by = new Map(revs.map((r) => [r.revision, r.down]));
    assert.deepEqual(by.get('wallaby_contract01'), ['ussuri_contract01', 'wallaby_expand01']);
    assert.deepEqual(by.get('wallaby_expand01'), ['ussuri_expand01']);
    assert.deepEqual(by.get('rocky_contract02'), ['rocky_contract01', 'rocky_expand02']);
    assert.deepEqual(by.get('mitaka01'), ['liberty']);
  });
});

describe('schemaHeads', () => {
  test('glance 25: only wallaby_contract01, because the contract depends_on the expand', () => {
    assert.deepEqual(schemaHeads(parseRevisions(fixture('glance25-revisions.txt'))), ['wallaby_contract01']);
  });

  test('glance 25 without its depends_on lines has two heads (the expand branch too): depends_on is what joins them', () => {
    const withoutDepends = fixture('glance25-revisions.txt').split('\n').filter((l) => !l.startsWith('depends_on')).join('\n');
    assert.deepEqual(schemaHeads(parseRevisions(withoutDepends)), ['wallaby_contract01', 'wallaby_expand01']);
  });

  test('glance 30 (trixie): only 2024_1_contract01', () => {
    assert.deepEqual(schemaHeads(parseRevisions(fixture('glance30-revisions.txt'))), ['2024_1_contract01']);
  });

  test('a merge revision (tuple down_revision) is the one head; two open branches are two heads, sorted', () => {
    const merge = "revision = 'a'\nrevision = 'b'\ndown_revision = 'a'\nrevision = 'c'\ndown_revision = 'a'\nrevision = 'm'\ndown_revision = ('b', 'c')\n";
    assert.deepEqual(schemaHeads(parseRevisions(merge)), ['m']);
    assert.deepEqual(schemaHeads(parseRevisions("revision = 'a'\nrevision = 'z'\ndown_revision = 'a'\nrevision = 'b'\ndown_revision = 'a'\n")), ['b', 'z']);
    assert.deepEqual(schemaHeads([]), []);
  });
});

describe('factsScript', () => {
  const script = factsScript();

  test('prints a section for every config file, service pid and schema directory of every profile, and ends with "==> end"', () => {
    for (const p of Object.values(profiles)) {
      for (const c of p.configs) assert.ok(script.includes(`echo "==> file ${c.path}"`), c.path);
      assert.ok(script.includes(`echo "==> schema ${p.schema.versionsDir}"`), p.schema.versionsDir);
    }
    assert.ok(script.includes('echo "==> running glance-api"'));
    assert.ok(script.includes(`cat ${JOURNAL}`));
    assert.match(script, /echo "==> end"$/);
  });

  test('runs in a real sh here and its output parses (os-release of this machine)', () => {
    const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/nonexistent' }, timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /==> end\n$/);
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1];
    const f = parseFacts(r.stdout);
    assert.equal(f.osName, pretty);
    assert.equal(f.adminOpenrc, undefined, 'no openrc under a HOME that does not exist');
  });
});
