// Hostile input on a real controller (issue 11, item 5). A secret no layer can carry (a newline, a NUL, a
// character PyMySQL cannot send, a `\$` oslo.config would eat) is refused before anything is changed:
// no database, no package, no Keystone user, nothing kept locally. Every other value — quotes, backslash,
// `$(…)`, backticks, `%`, `#`, `;`, white space at the ends, a tab, non-ASCII — is used exactly: after a
// fresh apply the controller's own PyMySQL logs in to MariaDB as glance with GLANCE_DBPASS (over TCP to
// the controller's name, as Glance does), oslo.config and SQLAlchemy read both passwords back from
// glance-api.conf unchanged, Keystone gives glance a token for GLANCE_PASS, Glance takes an image, and a
// second workstation adopts both. An admin-openrc.sh in Horizon's shape with a hostile admin password is
// read exactly (the plan logs in with it); one sh would read otherwise is refused naming its line. Host
// and user names that are options are refused before connecting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, explain, useLab, labSsh, adminPassword, type CliResult, GLANCE_DEPS } from './helpers.ts';
import type { HostReport } from '../../src/engine/report-model.ts';

const LAB = 'sb-hostile';
const fixture = useLab(LAB, GLANCE_DEPS);
const lab = () => fixture.lab();

// The database password: all of latin-1's hard cases (PyMySQL sends latin-1), white space at both ends.
const DBPASS = ` it's "q" \\back\\ $(id) \`id\` $HOME %25 %(x)s #h ;c\ttab éÿß `;
// The Keystone password: the same kinds, plus what only UTF-8 has.
const PASS = ` "k" 'd' \\ $$ \${x} %#; 日本 € 😀 café `;

type Run = CliResult & { report?: HostReport };

async function cli(args: string[], opts: { secrets: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  const r = await runCli([...args, '--json'], { env: { ...process.env, INSTALL_GLANCE_SECRETS: opts.secrets, GLANCE_DBPASS: '', GLANCE_PASS: '', ...opts.env }, timeoutMs: 600_000 });
  let report: HostReport | undefined;
  try {
    report = (JSON.parse(r.stdout) as { hosts: HostReport[] }).hosts[0];
  } catch {
    /* not JSON: the assertion shows the output */
  }
  return { ...r, report };
}

async function sh(command: string, input?: string): Promise<string> {
  const r = await labSsh(lab(), command, input === undefined ? {} : { input });
  assert.equal(r.code, 0, explain(command, r));
  return r.stdout;
}

/** Keystone's v3 API from this machine (the lab's port 5000 is reachable from the host). */
async function keystone(method: string, p: string, o: { token?: string; json?: unknown } = {}): Promise<{ status: number; token: string | null; body: unknown }> {
  const res = await fetch(`http://${lab().address}:5000/v3${p}`, {
    method, headers: { 'content-type': 'application/json', ...(o.token ? { 'x-auth-token': o.token } : {}) },
    ...(o.json === undefined ? {} : { body: JSON.stringify(o.json) }), signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  return { status: res.status, token: res.headers.get('x-subject-token'), body: text ? JSON.parse(text) : undefined };
}

const login = (user: string, password: string, project: string) => keystone('POST', '/auth/tokens', {
  json: { auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } }, scope: { project: { name: project, domain: { id: 'default' } } } } },
});

let adminPw = '';
async function adminToken(): Promise<string> {
  const r = await login('admin', adminPw || adminPassword(lab()), 'admin');
  assert.equal(r.status, 201, `admin login: ${JSON.stringify(r.body)}`);
  return r.token!;
}

/** What a refused run must have left as it was: no database, no package, no Keystone user, nothing kept here. */
async function untouched(secretsDir: string): Promise<void> {
  assert.equal((await sh('mysql -N -e "SHOW DATABASES LIKE \'glance\'"')).trim(), '', 'the glance database was created');
  assert.equal((await sh('mysql -N -e "SELECT COUNT(*) FROM mysql.user WHERE User = \'glance\'"')).trim(), '0', 'a glance account was made');
  assert.match(await sh('dpkg-query -W -f=\'${Status}\' glance 2>&1 || true'), /^(?!install ok installed)/, 'glance was installed');
  const users = await keystone('GET', '/users?name=glance', { token: await adminToken() });
  assert.deepEqual((users.body as { users: unknown[] }).users, [], 'a glance user was made in Keystone');
  assert.ok(!fs.existsSync(path.join(secretsDir, `${LAB}.json`)), 'a secret was kept locally');
}

const refusals: { name: string; env?: Record<string, string>; team?: Record<string, string>; re: RegExp }[] = [
  { name: 'GLANCE_DBPASS with a newline (environment)', env: { GLANCE_DBPASS: 'one\ntwo', GLANCE_PASS: 'fine' },
    re: /^GLANCE_DBPASS \(the password of the glance database account\), from the environment \(GLANCE_DBPASS\), cannot be used: it holds a line feed \(U\+000A\) at character 4, where a line of a config file ends; nothing was changed$/ },
  { name: 'GLANCE_PASS with a NUL (a --secrets file)', team: { GLANCE_DBPASS: 'fine', GLANCE_PASS: 'nul\u0000here' },
    re: /^GLANCE_PASS \(the password of the glance user in Keystone\), from .*team\.json, cannot be used: it holds a NUL byte \(U\+0000\) at character 4, where C strings/ },
  { name: 'GLANCE_DBPASS with € (PyMySQL cannot send it)', env: { GLANCE_DBPASS: 'price 5€', GLANCE_PASS: 'fine' },
    re: /cannot be used: character 8 is outside latin-1, and PyMySQL \(Glance's MySQL driver\) sends a password as latin-1/ },
  { name: 'GLANCE_PASS with \\$ (oslo.config would drop the backslash)', env: { GLANCE_DBPASS: 'fine', GLANCE_PASS: 'a\\$b' },
    re: /GLANCE_PASS .* cannot be used: it holds a backslash right before a \$ \(characters 2-3\), which oslo.config reads as an escaped \$/ },
];

for (const c of refusals) {
  test(`refused before any change: ${c.name}`, async (t) => {
    const secrets = path.join(fixture.tmp, `refused-${refusals.indexOf(c)}`);
    const args = ['apply', '--lab', LAB];
    if (c.team) {
      const team = path.join(fixture.tmp, 'team.json');
      fs.writeFileSync(team, JSON.stringify(c.team));
      args.push('--secrets', team);
    }
    const r = await cli(args, { secrets, env: c.env ?? {} });
    assert.equal(r.code, 1, explain('apply', r));
    assert.equal(r.report?.error?.step, 'secrets', explain('apply', r));
    t.diagnostic(`apply (${((r.report?.durationMs ?? 0) / 1000).toFixed(1)} s): ${r.report!.error!.message}\n  what to do: ${r.report!.error!.hint}`);
    assert.match(r.report!.error!.message, c.re);
    assert.match(r.report!.error!.hint, /give GLANCE_(DB)?PASS a value without it/);
    assert.equal(r.report?.changed, 0);
    assert.match(r.stderr, /error at secrets: GLANCE_/);
    await untouched(secrets);
  });
}

const ws1 = () => path.join(fixture.tmp, 'ws1');

test('a fresh apply with hostile values: exit 0, Glance verified, the next plan empty', async () => {
  const r = await cli(['apply', '--lab', LAB], { secrets: ws1(), env: { GLANCE_DBPASS: DBPASS, GLANCE_PASS: PASS } });
  assert.equal(r.code, 0, explain('apply', r));
  assert.equal(r.report?.verify?.kind, 'upload');
  assert.equal(r.report?.verify?.ok, true);
  assert.ok(!r.stdout.includes('é') && !r.stderr.includes(DBPASS.trim()) && !r.stderr.includes('日本'), 'a secret was printed');
  const again = await cli(['plan', '--lab', LAB], { secrets: ws1(), env: { GLANCE_DBPASS: DBPASS, GLANCE_PASS: PASS } });
  assert.equal(again.code, 0, explain('plan after apply', again));
});

test('MariaDB: the controller\'s own PyMySQL logs in as glance with GLANCE_DBPASS, over TCP to the controller\'s name and over the socket', async () => {
  // The password on stdin, as JSON (never on a command line); PyMySQL as Glance's SQLAlchemy calls it.
  const py = [
    'import json, sys, pymysql',
    'pw = json.loads(sys.stdin.read())',
    'out = []',
    'for kw in ({"host": "controller"}, {"unix_socket": "/run/mysqld/mysqld.sock"}):',
    '    c = pymysql.connect(user="glance", password=pw, database="glance", **kw)',
    '    cur = c.cursor(); cur.execute("SELECT CURRENT_USER()"); out.append(cur.fetchone()[0]); c.close()',
    'print(json.dumps(out))',
  ].join('\n');
  const out = JSON.parse(await sh(`python3 -c '${py}'`, JSON.stringify(DBPASS))) as string[];
  assert.deepEqual(out, ['glance@%', 'glance@localhost']);
  // A wrong one is refused (the check can fail).
  const wrong = await labSsh(lab(), `python3 -c '${py}'`, { input: JSON.stringify(`${DBPASS}x`) });
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /Access denied for user 'glance'/);
});

test('glance-api.conf: oslo.config reads GLANCE_PASS back exactly, and SQLAlchemy GLANCE_DBPASS out of [database] connection', async () => {
  const py = [
    'import json',
    'from oslo_config import cfg',
    'from sqlalchemy.engine.url import make_url',
    'conf = cfg.ConfigOpts()',
    'conf.register_opt(cfg.StrOpt("password", secret=True), group="keystone_authtoken")',
    'conf.register_opt(cfg.StrOpt("connection", secret=True), group="database")',
    'conf(args=[], default_config_files=["/etc/glance/glance-api.conf"])',
    'print(json.dumps([conf.keystone_authtoken.password, make_url(conf.database.connection).password]))',
  ].join('\n');
  const [ks, db] = JSON.parse(await sh(`python3 -c '${py}'`)) as [string, string];
  assert.equal(ks, PASS);
  assert.equal(db, DBPASS);
});

test('Keystone gives glance a token with GLANCE_PASS (and not with it changed by one character)', async () => {
  assert.equal((await login('glance', PASS, 'service')).status, 201);
  assert.equal((await login('glance', PASS.trim(), 'service')).status, 401);
});

test('Glance takes an image again (verify), and a second workstation adopts both values from the controller', async () => {
  const v = await cli(['verify', '--lab', LAB], { secrets: ws1(), env: { GLANCE_DBPASS: DBPASS, GLANCE_PASS: PASS } });
  assert.equal(v.code, 0, explain('verify', v));
  assert.equal(v.report?.verify?.ok, true);
  const ws2 = path.join(fixture.tmp, 'ws2');
  const r = await cli(['plan', '--lab', LAB], { secrets: ws2 });
  assert.equal(r.code, 0, explain('plan from a second workstation', r));
  const from = Object.fromEntries((r.report?.secrets ?? []).map((s) => [s.name, s.from]));
  assert.match(from.GLANCE_DBPASS ?? '', /^adopted from the controller .*MariaDB accepts it for glance@localhost/);
  assert.match(from.GLANCE_PASS ?? '', /^adopted from the controller .*Keystone gives glance a token with it/);
  const kept = JSON.parse(fs.readFileSync(path.join(ws2, `${LAB}.json`), 'utf8')) as Record<string, string>;
  assert.deepEqual(kept, { GLANCE_DBPASS: DBPASS, GLANCE_PASS: PASS });
});

// Horizon's openrc, the password written in: comments, echo, unset, its if/unset lines, and 'a'\''b' quoting.
const ADMIN_PW = `adm'n "pw" \\ $x #;% é ${'`'}id${'`'} `;
const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const horizonRc = (pw: string) => [
  '#!/usr/bin/env bash', '# To use an OpenStack cloud you need to authenticate against the Identity service', 'export OS_AUTH_URL=http://controller:5000/v3',
  'export OS_PROJECT_NAME="admin"', 'export OS_USER_DOMAIN_NAME="Default"', 'if [ -z "$OS_USER_DOMAIN_NAME" ]; then unset OS_USER_DOMAIN_NAME; fi',
  'export OS_PROJECT_DOMAIN_NAME=Default', 'unset OS_TENANT_ID', 'unset OS_TENANT_NAME', 'export OS_USERNAME="admin"',
  'echo "Using project $OS_PROJECT_NAME as user $OS_USERNAME" >&2', `export OS_PASSWORD=${pw}   # the admin's`, 'export OS_REGION_NAME="RegionOne"',
  'if [ -z "$OS_REGION_NAME" ]; then unset OS_REGION_NAME; fi', 'alias os=openstack', 'export OS_INTERFACE=public', 'export OS_IDENTITY_API_VERSION=3', '',
].join('\n');

test('admin-openrc.sh in Horizon\'s shape with a hostile admin password is read exactly: the plan logs the admin in with it', async () => {
  const token = await adminToken();
  const users = await keystone('GET', '/users?name=admin', { token });
  const id = (users.body as { users: { id: string }[] }).users[0]!.id;
  assert.equal((await keystone('PATCH', `/users/${id}`, { token, json: { user: { password: ADMIN_PW } } })).status, 200);
  adminPw = ADMIN_PW;
  await sh('cat > /root/openstack/admin-openrc.sh', horizonRc(shQuote(ADMIN_PW)));
  // bash agrees: sourcing it gives the same password (a check on the file itself).
  assert.equal(await sh('bash -c \'. /root/openstack/admin-openrc.sh 2>/dev/null; printf %s "$OS_PASSWORD"\''), ADMIN_PW);
  const r = await cli(['plan', '--lab', LAB], { secrets: ws1(), env: { GLANCE_DBPASS: DBPASS, GLANCE_PASS: PASS } });
  assert.equal(r.code, 0, explain('plan with the hostile openrc', r));
  assert.ok((r.report?.notes ?? []).some((n) => /admin credentials: ~\/openstack\/admin-openrc\.sh/.test(n)));
});

test('an openrc sh would read otherwise is refused, naming the line; Horizon\'s prompt for the password too', async () => {
  const cases: [string, RegExp][] = [
    [horizonRc("$'adm\\n'"), /admin-openrc\.sh on the controller line 12: OS_PASSWORD's value uses \$'…' quoting, which bash and dash read differently/],
    [horizonRc('x').replace('export OS_PASSWORD=x   # the admin\'s', 'read -sr OS_PASSWORD_INPUT\nexport OS_PASSWORD=$OS_PASSWORD_INPUT'), /line 12: `read` asks the terminal for OS_PASSWORD_INPUT/],
    [`\ufeff${horizonRc(shQuote(ADMIN_PW))}`, /line 1: the file starts with a byte-order mark/],
  ];
  for (const [text, re] of cases) {
    await sh('cat > /root/openstack/admin-openrc.sh', text);
    const r = await cli(['plan', '--lab', LAB], { secrets: ws1(), env: { GLANCE_DBPASS: DBPASS, GLANCE_PASS: PASS } });
    assert.equal(r.code, 1, explain('plan', r));
    assert.match(r.report?.error?.message ?? '', re, explain('plan', r));
    assert.ok(!`${r.stdout}${r.stderr}`.includes('adm\'n'), 'the admin password was printed');
  }
  await sh('cat > /root/openstack/admin-openrc.sh', horizonRc(shQuote(ADMIN_PW)));
});

test('a host or user name that is an option is refused before connecting (exit 64)', async () => {
  // `--host -o…` is read as another option by the parser itself; `--host=-o…` reaches the check.
  const parser = await runCli(['plan', '--host', '-oProxyCommand=touch /tmp/pwned']);
  assert.equal(parser.code, 64, explain('--host -o…', parser));
  for (const args of [['--host=-oProxyCommand=touch /tmp/pwned'], ['--host', lab().address, '--user=-oProxyCommand=x'], ['--host', 'two words']]) {
    const r = await runCli(['plan', ...args]);
    assert.equal(r.code, 64, explain(args.join(' '), r));
    assert.match(r.stderr, /^usage error: --(host|user) ".*": it (starts with "-"|holds white space)/m);
  }
  assert.equal((await labSsh(lab(), 'test -e /tmp/pwned && echo yes || echo no')).stdout.trim(), 'no');
});
