// The Glance preflight's checks, each from raw fact output as the controller prints it (parsed by the real
// parsers) and the sessions' outcomes: what passes, what fails, and the words and fix of each failure.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FactSpec } from '../../src/engine/facts.ts';
import type { Host } from '../../src/engine/host.ts';
import type { Provider } from '../../src/engine/providers.ts';
import type { PlaybookContext } from '../../src/engine/playbook.ts';
import { Secret } from '../../src/secret.ts';
import { noteServerDate } from '../../src/clients/server-clock.ts';
import { glancePreflight, namesToResolve, preflightFacts } from '../../playbooks/glance/preflight.ts';
import { aptSize, procAddress } from '../../playbooks/glance/preflight-facts.ts';
import { profiles, type GlanceProfile } from '../../playbooks/glance/profiles.ts';
import { glanceSettings, type GlanceSettings } from '../../playbooks/glance/settings.ts';

const NOW_S = 1_790_000_000;

/** Raw fact output by key prefix, as the facts script would print it on a healthy bookworm controller before the install. */
function healthy(): Record<string, string> {
  return {
    'preflight clock': `${NOW_S}\n`,
    'preflight disk': '/var/lib/glance/images\t73000000\t/\n/var/cache/apt/archives\t73000000\t/\n/usr\t73000000\t/\n',
    'preflight listeners': '3306\t00000000:0CEA\t-\t\n',
    'preflight names': 'controller\t10.0.0.11 \n',
    dpkg: 'mariadb-server\t1:10.11.6-0+deb12u1\tii \n',
    'preflight apt': 'Need to get 0 B/51.8 MB of archives.\nAfter this operation, 288 MB of additional disk space will be used.\norigin http://deb.debian.org\n',
    'pid glance-api': '',
  };
}

interface Fake {
  raw: Record<string, string>;
  db?: Error;
  keystone?: Error;
  /** Keystone's Date, offset from the controller's clock (s); none: it sends no Date. */
  keystoneDateOffset?: number;
  settings?: GlanceSettings;
  profile?: GlanceProfile;
}

function ctx(f: Fake): PlaybookContext<GlanceSettings, GlanceProfile> {
  const t = { host: '10.0.0.11', user: 'root' };
  const factsAt = Date.now();
  const authUrl = 'http://controller:5000/v3';
  const host = {
    name: 'controller', t, factsAt,
    os: { codename: 'bookworm', osName: 'Debian', init: 'sysvinit' },
    async fact<T>(spec: FactSpec<T>): Promise<T> {
      const key = Object.keys(f.raw).find((k) => spec.key === k || spec.key.startsWith(`${k} `));
      return spec.parse(key === undefined ? '' : f.raw[key]!);
    },
    async use(p: Provider<unknown>) {
      if (p.key.startsWith('database-admin')) {
        if (f.db) throw f.db;
        return {};
      }
      if (p.key.startsWith('keystone')) {
        return {
          authUrl,
          async reader() {
            if (f.keystone) throw f.keystone;
            if (f.keystoneDateOffset !== undefined) noteServerDate(t, authUrl, new Date((NOW_S + f.keystoneDateOffset) * 1000 + (Date.now() - factsAt)).toUTCString());
            return {};
          },
          // The fake's reader is its answer (a login, not a kept token).
          async answered() {},
        };
      }
      throw new Error(`no fake for ${p.key}`);
    },
    note() {},
    progress() {},
    onChange() {},
    async refreshFacts() {},
  } as unknown as Host;
  return { host, profile: f.profile ?? profiles.bookworm, settings: f.settings ?? glanceSettings({}, {}), secrets: { GLANCE_PASS: new Secret('x'), GLANCE_DBPASS: new Secret('y') } };
}

const run = async (f: Fake) => glancePreflight(ctx(f));
const withRaw = (patch: Record<string, string>): Fake => ({ raw: { ...healthy(), ...patch } });

test('a healthy controller: no problem', async () => {
  assert.deepEqual(await run({ raw: healthy(), keystoneDateOffset: 1 }), []);
});

describe('disk', () => {
  test('the image store below 1 GiB, with the mount and the fix', async () => {
    const [p, ...rest] = await run(withRaw({ 'preflight disk': '/var/lib/glance/images\t204800\t/var/lib/glance\n/var/cache/apt/archives\t73000000\t/\n/usr\t73000000\t/\n' }));
    assert.deepEqual(rest, []);
    assert.equal(p?.check, 'disk');
    assert.equal(p?.message, '/var/lib/glance on the controller has 200 MiB free; it needs 1024 MiB: 1024 MiB for the image store (/var/lib/glance/images)');
    assert.match(p!.hint, /^free space on \/var\/lib\/glance, or mount a larger disk at \/var\/lib\/glance\/images, then run again$/);
  });
  test('apt\'s download and install sizes count on the file system they go to, with the store when it is the same', async () => {
    const raw = withRaw({
      'preflight disk': '/var/lib/glance/images\t1500000\t/\n/var/cache/apt/archives\t1500000\t/\n/usr\t1500000\t/\n',
      'preflight apt': 'Need to get 51.8 MB/51.8 MB of archives.\nAfter this operation, 288 MB of additional disk space will be used.\norigin http://deb.debian.org\nprobe http://deb.debian.org ok\n',
    });
    const [p] = await run(raw);
    assert.match(p!.message, /^\/ on the controller has 1465 MiB free; it needs \d+ MiB: 1024 MiB for the image store \(\/var\/lib\/glance\/images\), 49 MiB of packages to download \(\/var\/cache\/apt\/archives\), 275 MiB for the installed packages$/);
    assert.match(p!.hint, /apt-get clean empties/);
  });
  test('installed packages: apt is not asked', async () => {
    const raw = withRaw({ dpkg: 'glance\t2:25.1.0\tii \npython3-glanceclient\t1:4.1.0\tii \n', 'preflight apt': 'Need to get 999 GB of archives.\n' });
    assert.deepEqual(await run(raw), []);
  });
});

describe('clock', () => {
  test('more than 5 min apart, either way, names both clocks and what it breaks', async () => {
    const [ahead] = await run({ raw: healthy(), keystoneDateOffset: -3600 });
    assert.equal(ahead?.check, 'clock');
    assert.match(ahead!.message, /^the controller's clock is 1 h ahead of Keystone's \(controller .* UTC, Keystone at controller:5000 .* UTC\): .*tokens would look expired before their time$/);
    const [behind] = await run({ raw: healthy(), keystoneDateOffset: 7200 });
    assert.match(behind!.message, /2 h behind Keystone's/);
  });
  test('within 5 min, or no Date header, or no clock fact: nothing to say', async () => {
    assert.deepEqual(await run({ raw: healthy(), keystoneDateOffset: 240 }), []);
    assert.deepEqual(await run({ raw: healthy() }), []);
    assert.deepEqual(await run({ raw: { ...healthy(), 'preflight clock': '' }, keystoneDateOffset: 7200 }), []);
  });
});

describe('names', () => {
  test('the controller\'s name not resolving: the /etc/hosts line to add, with the address used to reach it', async () => {
    const [p] = await run(withRaw({ 'preflight names': 'controller\t\n' }));
    assert.equal(p?.check, 'name');
    assert.match(p!.message, /^"controller" does not resolve on the controller itself \(getent ahosts controller finds nothing\), and glance-api\.conf's \[database\] connection and the endpoints \(http:\/\/controller:9292\) use it$/);
    assert.match(p!.hint, /^add "10\.0\.0\.11 controller" to the controller's \/etc\/hosts/);
  });
  test('what is looked up: the controller and the endpoints\' hosts, no addresses', () => {
    assert.deepEqual(namesToResolve(glanceSettings({ controller: 'ctl', 'endpoint-url': 'https://glance.example.org:9292' }, {})), ['ctl', 'glance.example.org']);
    assert.deepEqual(namesToResolve(glanceSettings({ controller: '10.0.0.11' }, {})), []);
    assert.ok(preflightFacts(glanceSettings({}, {})).some((f) => f.key === 'preflight names controller'));
  });
});

describe('ports', () => {
  test('held by another process: its pid and command, and the fix', async () => {
    const [p] = await run(withRaw({ 'preflight listeners': '9292\t00000000:244C\t4242\tpython3 -m http.server 9292 \n3306\t00000000:0CEA\t-\t\n' }));
    assert.equal(p?.check, 'port 9292');
    assert.equal(p?.message, 'port 9292 on the controller is held by pid 4242 (python3 -m http.server 9292), not by glance-api: glance-api could not listen there');
    assert.match(p!.hint, /kill 4242/);
  });
  test('held by glance-api itself (plain or under uwsgi): fine', async () => {
    for (const cmd of ['/usr/bin/python3 /usr/bin/glance-api --config-file=/etc/glance/glance-api.conf', '/usr/bin/uwsgi_python3 --ini /etc/glance/glance-api-uwsgi.ini']) {
      assert.deepEqual(await run(withRaw({ 'preflight listeners': `9292\t00000000:244C\t77\t${cmd}\n3306\t00000000:0CEA\t-\t\n` })), [], cmd);
    }
  });
  test('a holder this user cannot see: fine when glance-api runs, a problem when it does not', async () => {
    const unseen = '9292\t00000000:244C\t-\t\n3306\t00000000:0CEA\t-\t\n';
    assert.deepEqual(await run(withRaw({ 'preflight listeners': unseen, 'pid glance-api': '2308\n' })), []);
    const [p] = await run(withRaw({ 'preflight listeners': unseen }));
    assert.match(p!.message, /held by a process root cannot see, and glance-api is not running/);
  });
  test('9191 counts where the release has a registry (juno), not elsewhere', async () => {
    const raw = withRaw({ 'preflight listeners': '9191\t00000000:23E7\t99\tnc -l 9191\n3306\t00000000:0CEA\t-\t\n' });
    assert.deepEqual(await run(raw), []);
    const juno = await run({ ...raw, profile: profiles.juno });
    assert.deepEqual(juno.map((p) => p.check), ['port 9191']);
  });
});

describe('mirror', () => {
  test('packages to download and the mirror refusing: said, with the sources to check', async () => {
    const [p] = await run(withRaw({ 'preflight apt': 'Need to get 51.8 MB of archives.\nAfter this operation, 288 MB of additional disk space will be used.\norigin http://deb.debian.org\nprobe http://deb.debian.org Connection refused\n' }));
    assert.equal(p?.check, 'mirror');
    assert.equal(p?.message, 'the package mirror http://deb.debian.org does not answer from the controller (Connection refused), and 49 MiB of packages are to be downloaded from it');
    assert.match(p!.hint, /\/etc\/apt\/sources\.list/);
  });
  test('through apt\'s proxy: the proxy is named', async () => {
    const [p] = await run(withRaw({ 'preflight apt': 'Need to get 1 MB of archives.\norigin http://deb.debian.org\nproxy http://proxy:3128/\nprobe http://proxy:3128/ timeout\n' }));
    assert.match(p!.message, /^apt's proxy http:\/\/proxy:3128\/ does not answer/);
    assert.match(p!.hint, /Acquire::http::Proxy/);
  });
  test('everything in apt\'s cache, or apt cannot plan (no such packages: the run says it at the packages): nothing', async () => {
    assert.deepEqual(await run(withRaw({ 'preflight apt': 'Need to get 0 B/51.8 MB of archives.\nprobe http://x refused\n' })), []);
    assert.deepEqual(await run(withRaw({ 'preflight apt': 'E: Unable to locate package python-glanceclient\n' })), []);
  });
});

describe('MariaDB and Keystone', () => {
  test('MariaDB listening on 127.0.0.1 only while Glance connects to the controller\'s address', async () => {
    const [p] = await run(withRaw({ 'preflight listeners': '3306\t0100007F:0CEA\t-\t\n' }));
    assert.equal(p?.check, 'mariadb');
    assert.equal(p?.message, 'MariaDB listens only on 127.0.0.1:3306, but Glance connects to controller:3306, which is 10.0.0.11 on the controller: db_sync and glance-api would be refused');
    assert.match(p!.hint, /bind-address = 0\.0\.0\.0 \(or 10\.0\.0\.11\)/);
  });
  test('on the controller\'s address, or everywhere (0.0.0.0, ::): fine', async () => {
    for (const l of ['3306\t0B00000A:0CEA\t-\t\n', '3306\t00000000000000000000000000000000:0CEA\t-\t\n']) assert.deepEqual(await run(withRaw({ 'preflight listeners': l })), [], l);
  });
  test('MariaDB down: its own message and hint; no second complaint about where it listens', async () => {
    const down = Object.assign(new Error('MariaDB does not answer on /run/mysqld/mysqld.sock'), { hint: 'start it (service mariadb start)' });
    const problems = await run({ ...withRaw({ 'preflight listeners': '' }), db: down });
    assert.deepEqual(problems, [{ check: 'mariadb', message: 'MariaDB does not answer on /run/mysqld/mysqld.sock', hint: 'start it (service mariadb start)' }]);
  });
  test('MariaDB read by the facts (root over its socket): the admin session is not opened; not read (MySQL 5.5, refused): it is', async () => {
    const unopenable = Object.assign(new Error('MariaDB does not answer on /run/mysqld/mysqld.sock'), { hint: 'start it' });
    const answered = '@version\t10.11.6-MariaDB-0+deb12u1\n@db 0\t1\n@end\n';
    assert.deepEqual(await run({ ...withRaw({ 'mysql snapshot': answered }), db: unopenable }), []);
    const refused = await run({ ...withRaw({ 'mysql snapshot': '' }), db: unopenable });
    assert.deepEqual(refused.map((p) => p.message), ['MariaDB does not answer on /run/mysqld/mysqld.sock']);
  });
  test('Keystone not answering is a problem; Keystone refusing the credentials is not the preflight\'s to say', async () => {
    const none = Object.assign(new Error('Keystone does not answer at http://controller:5000/v3; is it running on the controller?'), { hint: 'check keystone' });
    assert.deepEqual((await run({ raw: healthy(), keystone: none })).map((p) => p.check), ['keystone']);
    const refused = Object.assign(new Error('Keystone refused the admin credentials'), { hint: 'fix OS_PASSWORD', request: { status: 401 } });
    assert.deepEqual(await run({ raw: healthy(), keystone: refused }), []);
  });
});

test('the parsers: /proc/net addresses and apt\'s sizes', () => {
  assert.equal(procAddress('0100007F'), '127.0.0.1');
  assert.equal(procAddress('0B00000A'), '10.0.0.11');
  assert.equal(procAddress('00000000000000000000000000000000'), '::');
  assert.equal(procAddress('0000000000000000FFFF00000100007F'), '127.0.0.1');
  assert.equal(procAddress('000080FE00000000FF005452120B5CFE'), 'fe80::5254:ff:fe5c:b12');
  assert.equal(aptSize('51.8 MB'), 51_800_000);
  assert.equal(aptSize('0 B'), 0);
  assert.equal(aptSize('1,234 kB'), 1_234_000);
});
