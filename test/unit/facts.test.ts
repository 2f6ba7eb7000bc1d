// Facts: the engine's own (os-release, init, journal) and the Glance playbook's (dpkg, config files,
// openrc, pids, schema revisions of the real glance packages in test/fixtures/facts/), each parser on
// what its snippet prints, and the joined script run in a real sh.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { factsScript, splitSections, parseOsRelease, osFact, initFact, defineFact, type FactSpec } from '../../src/engine/facts.ts';
import { Journal } from '../../src/engine/journal.ts';
import { JOURNAL } from '../../src/state-paths.ts';
import { parseRevisions, schemaHeads, revisionsFact, type Revision } from '../../src/resources/alembic-schema.ts';
import { dpkgFact } from '../../src/resources/apt-packages.ts';
import { fileFact } from '../../src/resources/ini-file.ts';
import { pidFact } from '../../src/resources/service.ts';
import { openrcFact } from '../../src/providers/admin-credentials.ts';
import { profiles, profileFor } from '../../playbooks/glance/profiles.ts';
import { glanceFacts } from '../../playbooks/glance/facts.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = (name: string): string => fs.readFileSync(path.join(root, 'test/fixtures/facts', name), 'utf8');

const API_CONF = '/etc/glance/glance-api.conf';
const REGISTRY_CONF = '/etc/glance/glance-registry.conf';
const BOOKWORM_SCHEMA = profiles.bookworm.schema.versionsDir;

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

// The engine's facts, and each Glance fact's parser, on what their snippets print on a bookworm
// controller with glance installed; the joined script run in a real sh here.
const facts = glanceFacts();
const byKey = new Map(facts.map((f) => [f.key, f]));
const spec = <T>(key: string): FactSpec<T> => {
  const f = byKey.get(key);
  assert.ok(f, `the glance playbook gathers "${key}"`);
  return f as FactSpec<T>;
};

describe('the engine\'s own facts', () => {
  test('os-release: codename and pretty name', () => {
    assert.deepEqual(parseOsRelease(bookwormOsRelease), { codename: 'bookworm', osName: 'Debian GNU/Linux 12 (bookworm)' });
  });
  test('systemd and upstart are recognised; anything else is sysvinit', () => {
    assert.equal(initFact.parse('systemd\n'), 'systemd');
    assert.equal(initFact.parse('upstart\n'), 'upstart');
    assert.equal(initFact.parse(''), 'sysvinit');
    assert.equal(initFact.parse('sysvinit\n'), 'sysvinit');
  });
  test('a release without VERSION_CODENAME: the codename comes from VERSION "N (name)"', () => {
    const os = 'PRETTY_NAME="Debian GNU/Linux 8 (jessie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="8"\nVERSION="8 (jessie)"\nID=debian\n';
    assert.equal(parseOsRelease(os).codename, 'jessie');
  });
  test("Ubuntu 14.04 (Juno's release): os-release has no codename field, VERSION says \"14.04.5 LTS, Trusty Tahr\"", () => {
    const os = 'NAME="Ubuntu"\nVERSION="14.04.5 LTS, Trusty Tahr"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 14.04.5 LTS"\nVERSION_ID="14.04"\n';
    const f = parseOsRelease(os);
    assert.equal(f.codename, 'trusty');
    assert.equal(f.osName, 'Ubuntu 14.04.5 LTS');
    assert.equal(profileFor({ ...f, init: 'upstart' })?.id, 'juno', 'the juno profile is found from it');
  });
  test('the journal: names, one per line; blank lines and spaces ignored; empty is []', () => {
    const j = new Journal({} as never, JOURNAL).fact();
    assert.deepEqual(j.parse('restart-glance-api\n'), ['restart-glance-api']);
    assert.deepEqual(j.parse('\n'), []);
    assert.deepEqual(j.parse('  restart-glance-api \n\nrestart-glance-registry\n'), ['restart-glance-api', 'restart-glance-registry']);
  });
});

describe('the Glance playbook\'s facts on a bookworm controller', () => {
  test('dpkg: every package with its version and state (ii installed, rc config left, un unknown)', () => {
    assert.equal(spec('dpkg'), dpkgFact);
    const dpkg = dpkgFact.parse('glance\t2:25.1.0-2+deb12u5\tii \npython3-glanceclient\t1:4.1.0-2\trc \nfoo\t\tun \n');
    assert.deepEqual(dpkg, { glance: { version: '2:25.1.0-2+deb12u5', status: 'ii' }, 'python3-glanceclient': { version: '1:4.1.0-2', status: 'rc' }, foo: { version: '', status: 'un' } });
  });
  test('a config file: owner, mode (octal) and content, gzipped or plain, from base64 as UTF-8; absent is undefined; empty is empty', () => {
    const f = fileFact(API_CONF);
    assert.deepEqual(f.parse(`root:glance 640\nplain\n${Buffer.from(apiConf).toString('base64')}\n`), { owner: 'root:glance', mode: 0o640, content: apiConf });
    assert.deepEqual(f.parse(`root:glance 640\ngzip\n${zlib.gzipSync(apiConf).toString('base64')}\n`), { owner: 'root:glance', mode: 0o640, content: apiConf });
    assert.equal(f.parse(''), undefined);
    assert.deepEqual(f.parse('root:glance 640\nplain\n\n'), { owner: 'root:glance', mode: 0o640, content: '' });
    assert.deepEqual(f.parse(`root:glance 640\ngzip\n${zlib.gzipSync('').toString('base64')}\n`), { owner: 'root:glance', mode: 0o640, content: '' });
    assert.ok(byKey.has(fileFact(REGISTRY_CONF).key), 'juno\'s registry config is gathered too');
  });
  test('admin-openrc: its text, or undefined', () => {
    assert.equal(openrcFact.parse(`${openrc}\n`), `${openrc}\n`, 'as sh reads it: no trimming (a byte-order mark must stay visible)');
    assert.equal(openrcFact.parse('\n'), undefined);
  });
  test('the running pid: a number, or undefined; pid files are part of the fact\'s name, so two profiles never share one', () => {
    const f = pidFact('glance-api', profiles.bookworm.services[0]!.pidfiles);
    assert.equal(f.parse('2150\n'), 2150);
    assert.equal(f.parse(''), undefined);
    assert.notEqual(f.key, pidFact('glance-api', profiles.juno.services[1]!.pidfiles).key);
    assert.ok(byKey.has(f.key));
  });
  test('schema: every revision of glance 25, with what it builds on; the head is wallaby_contract01', () => {
    const revs = spec<Revision[]>(revisionsFact(BOOKWORM_SCHEMA).key).parse(fixture('glance25-revisions.txt'));
    assert.equal(revs.length, 19);
    assert.deepEqual(revs.find((f) => f.revision === 'liberty'), { revision: 'liberty', down: [] });
    assert.deepEqual(revs.find((f) => f.revision === 'ocata_contract01'), { revision: 'ocata_contract01', down: ['mitaka02', 'ocata_expand01'] });
    assert.deepEqual(schemaHeads(revs), ['wallaby_contract01']);
  });
  test('no two facts share a key', () => {
    assert.equal(new Set(facts.map((f) => f.key)).size, facts.length);
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

describe('the one script', () => {
  const all = [osFact, initFact, ...facts, new Journal({} as never, JOURNAL).fact()];
  const script = factsScript(all);

  test('a section per fact, each in its own subshell, ending with "==> end"', () => {
    for (const f of all) assert.ok(script.includes(`echo '==> ${f.key}'`), f.key);
    assert.match(script, /echo '==> end'$/);
  });

  test('runs in a real sh here and every section parses (this machine\'s os-release; no openrc, no glance)', () => {
    const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/nonexistent' }, timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /==> end\n$/);
    const sections = splitSections(r.stdout);
    for (const f of all) assert.ok(sections.has(f.key), `section ${f.key}`);
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1];
    assert.equal(parseOsRelease(sections.get('os')!).osName, pretty);
    assert.equal(openrcFact.parse(sections.get(openrcFact.key)!), undefined, 'no openrc under a HOME that does not exist');
    assert.equal(fileFact(API_CONF).parse(sections.get(fileFact(API_CONF).key)!), undefined);
    assert.ok(Object.keys((byKey.get('dpkg') as FactSpec<Record<string, unknown>>).parse(sections.get('dpkg')!)).length > 10, 'this machine\'s packages');
  });

  test('a file read by sh for real: gzipped where gzip is, plain where it is not; its bytes come back exactly', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-file-fact-'));
    try {
      const file = path.join(dir, 'x.conf');
      const text = `${apiConf}# café ü ß, a tab\tand no final newline`;
      fs.writeFileSync(file, text, { mode: 0o640 });
      const f = fileFact(file);
      // Without gzip: a PATH of only what the other branch needs.
      const bin = path.join(dir, 'bin');
      fs.mkdirSync(bin);
      for (const tool of ['stat', 'base64']) fs.symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), path.join(bin, tool));
      for (const [PATH, encoding] of [[process.env.PATH, 'gzip'], [bin, 'plain']] as const) {
        const r = spawnSync('/bin/sh', ['-c', f.script], { encoding: 'utf8', env: { PATH } });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.split('\n')[1], encoding);
        assert.equal(f.parse(r.stdout)?.content, text, encoding);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a fact whose snippet exits does not end the others', () => {
    const quitter = defineFact('quitter', 'echo bye; exit 3', (raw) => raw.trim());
    const r = spawnSync('sh', ['-c', factsScript([quitter, osFact])], { encoding: 'utf8' });
    const sections = splitSections(r.stdout);
    assert.equal(quitter.parse(sections.get('quitter')!), 'bye');
    assert.ok(sections.get('os')!.includes('PRETTY_NAME'));
  });
});
