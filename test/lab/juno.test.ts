// The juno profile against the trusty-shaped lab (`lab up --release juno`): trusty's os-release, the
// guide's v2.0 openrc, MariaDB root by password only with /etc/mysql/debian.cnf, sshd refusing
// stream-local forwarding, upstart-style jobs, today's Keystone (v3 only) on 5000 and 35357.
//
// What runs for real here: the detection (trusty → juno), the database admin over a TCP forward to
// 127.0.0.1:3306 as debian.cnf's maintenance account or as root with a password file, the MySQL 5.5
// statements (GRANT … IDENTIFIED BY, seen in MariaDB's general log), the glance passwords checked by
// logging in over TCP, the Keystone lane (user, role, service, endpoints in regionOne, written through v3
// because this Keystone has no /v2.0), the upstart status fact, the whole plan with both files' masked
// diffs, destroy, and the guide's bind-address (the server on the management address only). What cannot: Juno's packages (python-glanceclient is not in bookworm), so apply stops
// at apt with the Cloud Archive hint, and the files, db_sync and restarts are shown by the plan only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, labSsh, explain, useLab, repoRoot } from './helpers.ts';
import { labCredentials } from '../../src/lab/credentials.ts';
import type { HostReport, ResourceResult } from '../../src/engine/report-model.ts';
import { connect } from '../../src/transport/ssh.ts';
import { labTarget } from '../../src/cli/targets.ts';
import { HostSession } from '../../src/engine/host.ts';
import { openTcpAdminSession } from '../../src/providers/mysql-admin-tcp.ts';
import { databaseAdmin } from '../../src/providers/database-admin.ts';
import { mysqlUser } from '../../src/resources/mysql-user.ts';
import { Secret } from '../../src/secret.ts';

const NAME = 'jn-juno';
const { lab, env, tmp } = useLab(NAME, ['--release', 'juno']);

const fixture = (f: string) => fs.readFileSync(path.join(repoRoot, 'test/fixtures', f), 'utf8');
const VERSIONS_DIR = '/usr/lib/python2.7/dist-packages/glance/db/sqlalchemy/migrate_repo/versions';

function secrets(): { GLANCE_DBPASS: string; GLANCE_PASS: string } {
  return JSON.parse(fs.readFileSync(path.join(tmp, 'secrets', `${NAME}.json`), 'utf8')) as { GLANCE_DBPASS: string; GLANCE_PASS: string };
}

/** Every value that must never show: the lab's passwords and the generated ones, when made. */
function allSecrets(): string[] {
  const c = labCredentials(lab());
  const made = fs.existsSync(path.join(tmp, 'secrets', `${NAME}.json`)) ? Object.values(secrets()) : [];
  return [c.adminPassword, c.mysqlRootPassword!, c.debianSysMaintPassword!, ...made];
}

/** Text with every secret replaced, for an assertion message (MariaDB's general log may hold a password). */
const scrub = (text: string) => allSecrets().reduce((t, s) => t.split(s).join('[secret]'), text);

function assertNoSecret(text: string, what: string): void {
  for (const s of allSecrets()) assert.ok(!text.includes(s), `a secret in ${what}`);
}

async function run(mode: 'plan' | 'apply' | 'destroy', extra: string[] = [], expectCode?: number): Promise<{ host: HostReport; stderr: string }> {
  const r = await runCli([mode, '--lab', NAME, '--json', ...extra], { env, timeoutMs: 600_000 });
  assertNoSecret(r.stdout + r.stderr, `${mode}'s output`);
  if (expectCode !== undefined) assert.equal(r.code, expectCode, scrub(explain(mode, r)));
  return { host: (JSON.parse(r.stdout) as { hosts: HostReport[] }).hosts[0]!, stderr: r.stderr };
}

const res = (h: HostReport, kind: string, id?: string): ResourceResult => {
  const r = h.resources.find((x) => x.kind === kind && (id === undefined || x.id === id));
  assert.ok(r, `no ${kind} ${id ?? ''} in ${h.resources.map((x) => `${x.kind} ${x.id}`).join(', ')}`);
  return r;
};

async function sshOk(command: string, input?: string): Promise<string> {
  const r = await labSsh(lab(), command, input === undefined ? {} : { input });
  assert.equal(r.code, 0, scrub(explain(command, r)));
  return r.stdout;
}

/** SQL as the maintenance account (debian.cnf, on the lab: the test's own way in, not install-glance's). */
const maint = (sql: string) => sshOk(`mysql --defaults-file=/etc/mysql/debian.cnf -N -e ${JSON.stringify(sql)}`);

/** `mysql` as USER with PASSWORD over TCP to 127.0.0.1 on the lab, the password in a defaults file on stdin. */
function mysqlTcp(user: string, password: string, sql: string) {
  return labSsh(lab(), `exec mysql --defaults-extra-file=<(cat) --protocol=tcp -h127.0.0.1 -N -e ${JSON.stringify(sql)}`, { input: `[client]\nuser=${user}\npassword=${password}\n` });
}

/** MariaDB's general log into mysql.general_log from now on; `stop` turns it off and returns what it saw. */
async function generalLog(): Promise<{ stop(): Promise<{ userHost: string; type: string; text: string }[]> }> {
  await maint("SET GLOBAL general_log = 0; SET GLOBAL log_output = 'TABLE'; TRUNCATE TABLE mysql.general_log; SET GLOBAL general_log = 1");
  return {
    async stop() {
      const out = await maint("SET GLOBAL general_log = 0; SELECT HEX(user_host), command_type, HEX(argument) FROM mysql.general_log WHERE command_type IN ('Query', 'Connect')");
      return out.split('\n').filter(Boolean).map((l) => {
        const [u, type, a] = l.split('\t');
        return { userHost: Buffer.from(u ?? '', 'hex').toString(), type: type ?? '', text: Buffer.from(a ?? '', 'hex').toString() };
      });
    },
  };
}

async function keystone(pathname: string, token: string): Promise<Record<string, unknown>> {
  const r = await fetch(`http://${lab().address}:5000/v3${pathname}`, { headers: { 'x-auth-token': token }, signal: AbortSignal.timeout(10_000) });
  assert.equal(r.status, 200, `GET ${pathname}`);
  return (await r.json()) as Record<string, unknown>;
}

async function token(user: string, password: string, project?: string): Promise<{ status: number; token: string | null }> {
  const body = { auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } }, ...(project ? { scope: { project: { name: project, domain: { id: 'default' } } } } : {}) } };
  const r = await fetch(`http://${lab().address}:5000/v3/auth/tokens`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(10_000) });
  await r.arrayBuffer();
  return { status: r.status, token: r.headers.get('x-subject-token') };
}

test('plan on the fresh lab: trusty is juno; the database admin goes over TCP and the run says why', async () => {
  const { host, stderr } = await run('plan', [], 2);
  assert.equal(host.release, 'juno');
  assert.equal(host.os, 'Ubuntu 14.04.5 LTS');
  assert.match(stderr, /database admin: sshd on jn-juno \(OpenSSH_[\w.]+\) opens no channel to MariaDB's socket \/run\/mysqld\/mysqld\.sock \(stream-local forwarding came with OpenSSH 6\.7; later ones refuse it with AllowStreamLocalForwarding no\): using TCP 127\.0\.0\.1 through the SSH connection instead/);
  assert.equal(res(host, 'mysql-database').action, 'create');
  assert.equal(res(host, 'keystone-endpoint').changes.map((c) => c.to).join(', '), 'http://controller:9292 (regionOne), http://controller:9292 (regionOne), http://controller:9292 (regionOne)');
  assert.equal(res(host, 'migrate-schema').why, 'the package is not installed yet: the sync follows the install');
});

test('upstart for real: the status fact reads initctl (no pid file), a running job is running with its pid', async () => {
  // glance-api's job with its daemon swapped for sleep: the lab has no Juno Glance to run.
  await sshOk("cp /etc/init/glance-api.conf /root/glance-api.conf.orig && getent passwd glance >/dev/null || adduser --system --group --no-create-home glance >/dev/null; sed -i 's|^exec .*|exec sleep 600|' /etc/init/glance-api.conf && service glance-api start");
  try {
    const pid = Number(/start\/running, process (\d+)/.exec(await sshOk('initctl status glance-api'))?.[1]);
    assert.ok(pid > 0);
    const { host } = await run('plan', [], 2);
    assert.equal(res(host, 'service', 'glance-api').why, `glance-api is running (pid ${pid})`);
    assert.equal(res(host, 'service', 'glance-registry').why, 'glance-registry is not running');
  } finally {
    await sshOk('service glance-api stop; cp /root/glance-api.conf.orig /etc/init/glance-api.conf');
  }
});

test('plan with glance 2014.2\'s files in place: both files\' masked diffs, the migrate db_sync, registry then api restarts', async () => {
  // What Juno's package leaves before install-glance runs: glance 2014.2's etc/ files and the names of its
  // migrate scripts (the lab cannot install the package; the files are the upstream 2014.2 ones).
  const names = fixture('facts/glance-2014.2-migrate-versions.txt');
  await sshOk(`install -d -m 0755 /etc/glance && cat >/etc/glance/glance-api.conf`, fixture('ini/juno-glance-api.conf.packaged'));
  await sshOk(`cat >/etc/glance/glance-registry.conf`, fixture('ini/juno-glance-registry.conf.packaged'));
  await sshOk(`install -d ${VERSIONS_DIR} && cd ${VERSIONS_DIR} && xargs touch`, names);

  const r = await runCli(['plan', '--lab', NAME], { env, timeoutMs: 120_000 });
  assert.equal(r.code, 2, explain('plan', r));
  assertNoSecret(r.stdout + r.stderr, 'the plan');
  const out = r.stdout;
  for (const [file, lines] of [
    ['/etc/glance/glance-api.conf', ['+connection = mysql://glance:***@controller/glance', '+auth_uri = http://controller:5000/v2.0', '+identity_uri = http://controller:35357', '+admin_password = ***', '+flavor = keystone', '+default_store = file']],
    ['/etc/glance/glance-registry.conf', ['+connection = mysql://glance:***@controller/glance', '+admin_password = ***', '+flavor = keystone']],
  ] as const) {
    const start = out.indexOf(`ini-file ${file}`);
    assert.ok(start >= 0, `no ${file} in the plan:\n${out}`);
    // Its lines: up to the next resource's line (two spaces, then no space).
    const rest = out.slice(start);
    const end = rest.search(/\n {2}\S/);
    const block = end < 0 ? rest : rest.slice(0, end);
    for (const l of lines) assert.ok(block.includes(l), `${file}: no "${l}" in\n${block.slice(0, 3000)}`);
  }
  assert.match(out, /update migrate-schema glance — the database has no schema yet\n\s+schema: \(empty\) → version 36/);
  const sync = out.indexOf('pending  handler sync-glance-schema');
  const registry = out.indexOf('pending  handler restart-glance-registry');
  const api = out.indexOf('pending  handler restart-glance-api');
  assert.ok(sync > 0 && registry > sync && api > registry, `the db_sync, then registry's restart before the api's:\n${out}`);
});

test('apply: the database lane (TCP, debian.cnf, MySQL 5.5 statements) and the identity lane run for real; apt stops the run with the Cloud Archive hint', { timeout: 10 * 60_000 }, async () => {
  const log = await generalLog();
  const { host } = await run('apply', [], 1);
  const seen = await log.stop();

  // The run stopped where this lab cannot go on, and said what to do.
  assert.equal(host.error?.step, 'apt-package glance');
  assert.match(host.error?.message ?? '', /E: Unable to locate package python-glanceclient/);
  assert.match(host.error?.hint ?? '', /Ubuntu Cloud Archive.*add-apt-repository cloud-archive:juno/);
  for (const id of ['/etc/glance/glance-api.conf', '/etc/glance/glance-registry.conf']) assert.equal(res(host, 'ini-file', id).status, 'skipped');
  assert.equal(res(host, 'migrate-schema').status, 'skipped');
  assert.deepEqual(host.handlers.map((h) => `${h.name} ${h.status}`), ['restart-glance-registry pending', 'restart-glance-api pending']);
  // The lanes beside it finished.
  for (const [kind, id] of [['mysql-database', 'glance'], ['mysql-user', 'glance@localhost'], ['mysql-user', 'glance@%'], ['keystone-user', 'glance'],
    ['keystone-role-assignment', 'glance/service/admin'], ['keystone-service', 'glance (image)'], ['keystone-endpoint', 'image public/internal/admin']] as const) {
    assert.equal(res(host, kind, id).status, 'changed', `${kind} ${id}`);
  }

  // MariaDB's own record: the maintenance account over TCP from 127.0.0.1, and MySQL 5.5's statements.
  const maintQueries = seen.filter((q) => q.type === 'Query' && /^debian-sys-maint\[debian-sys-maint\] @ localhost \[127\.0\.0\.1\]/.test(q.userHost));
  const text = maintQueries.map((q) => q.text);
  const shown = scrub(text.join('\n'));
  assert.ok(text.some((t) => /^CREATE DATABASE IF NOT EXISTS `glance`$/.test(t)), shown);
  for (const account of ["'glance'@'localhost'", "'glance'@'%'"]) {
    assert.ok(text.some((t) => t.startsWith(`GRANT ALL PRIVILEGES ON \`glance\`.* TO ${account} IDENTIFIED BY `)), `GRANT … IDENTIFIED BY for ${account}:\n${shown}`);
  }
  assert.ok(!text.some((t) => /CREATE USER|ALTER USER/i.test(t)), `no CREATE USER / ALTER USER (MySQL 5.5 has neither):\n${shown}`);
  assert.ok(!seen.some((q) => /\[root\] @ localhost \[127\.0\.0\.1\]/.test(q.userHost)), 'root was not used without a password file');
});

test('proven: glance logs in over TCP as glance@localhost and from the controller\'s address as glance@%; Keystone has the guide\'s objects in regionOne; a plan finds both lanes converged', async () => {
  const { GLANCE_DBPASS, GLANCE_PASS } = secrets();
  const local = await mysqlTcp('glance', GLANCE_DBPASS, 'SELECT CURRENT_USER(); SHOW GRANTS');
  assert.equal(local.code, 0, scrub(explain('mysql as glance', local)));
  assert.match(local.stdout, /^glance@localhost\n/);
  assert.match(local.stdout, /^GRANT ALL PRIVILEGES ON `glance`\.\* TO `glance`@`localhost`$/m);
  const remote = await labSsh(lab(), `exec mysql --defaults-extra-file=<(cat) --protocol=tcp -h${lab().address} -N -e "SELECT CURRENT_USER()"`, { input: `[client]\nuser=glance\npassword=${GLANCE_DBPASS}\n` });
  assert.equal(remote.code, 0, scrub(explain('mysql as glance from the controller\'s address', remote)));
  assert.match(remote.stdout, /^glance@%\n/);

  assert.equal((await token('glance', GLANCE_PASS, 'service')).status, 201, 'glance gets a token on project service');
  const admin = await token('admin', labCredentials(lab()).adminPassword, 'admin');
  const { services } = (await keystone('/services?type=image', admin.token!)) as { services: { id: string; name: string }[] };
  assert.deepEqual(services.map((s) => s.name), ['glance']);
  const { endpoints } = (await keystone(`/endpoints?service_id=${services[0]!.id}`, admin.token!)) as { endpoints: { interface: string; url: string; region_id: string }[] };
  assert.deepEqual(endpoints.map((e) => `${e.interface} ${e.url} ${e.region_id}`).sort(),
    ['admin http://controller:9292 regionOne', 'internal http://controller:9292 regionOne', 'public http://controller:9292 regionOne']);
  // Why v3 wrote them: this Keystone answers 404 to the GET /v2.0 keystone 2014.2 answers with its version document.
  const v2 = await fetch(`http://${lab().address}:35357/v2.0`, { signal: AbortSignal.timeout(10_000) });
  await v2.arrayBuffer();
  assert.equal(v2.status, 404);

  const log = await generalLog();
  const { host } = await run('plan', [], 2);
  const seen = await log.stop();
  for (const r of host.resources.filter((x) => x.kind.startsWith('mysql-') || x.kind.startsWith('keystone-'))) assert.equal(r.action, 'none', `${r.kind} ${r.id}: ${r.why}`);
  assert.equal(res(host, 'mysql-user', 'glance@localhost').why, 'mysql user glance@localhost exists, logs in with its password, has ALL on glance.*');
  // The password check of glance@localhost was a login over TCP from 127.0.0.1, as the socket is out of reach.
  // (A Connect row's user_host is "[glance] @ localhost [127.0.0.1]": the account is known after the login.)
  assert.ok(seen.some((q) => q.type === 'Connect' && /^\[glance\] @ localhost \[127\.0\.0\.1\]/.test(q.userHost)), scrub(seen.map((q) => `${q.type} ${q.userHost}`).join('\n')));
  assert.deepEqual(host.handlers.map((h) => `${h.name}: ${h.reason}`),
    ['sync-glance-schema: migrate-schema glance changes', 'restart-glance-registry: left pending by an earlier run', 'restart-glance-api: left pending by an earlier run']);
});

test('drift repaired as root with --db-admin-password-file: a changed glance@localhost password is set again with GRANT … IDENTIFIED BY', { timeout: 10 * 60_000 }, async () => {
  await maint("SET PASSWORD FOR 'glance'@'localhost' = PASSWORD('drifted-password')");
  const file = path.join(tmp, 'mysql-root');
  fs.writeFileSync(file, `${labCredentials(lab()).mysqlRootPassword}\n`, { mode: 0o600 });
  const log = await generalLog();
  const { host } = await run('apply', ['--db-admin-password-file', file], 1);
  const seen = await log.stop();
  const user = res(host, 'mysql-user', 'glance@localhost');
  assert.equal(user.status, 'changed');
  assert.equal(user.why, 'its password does not log in');
  assert.equal(res(host, 'mysql-user', 'glance@%').status, 'ok');
  const asRoot = seen.filter((q) => q.type === 'Query' && /^root\[root\] @ localhost \[127\.0\.0\.1\]/.test(q.userHost)).map((q) => q.text);
  assert.ok(asRoot.some((t) => t.startsWith("GRANT ALL PRIVILEGES ON `glance`.* TO 'glance'@'localhost' IDENTIFIED BY ")), scrub(asRoot.join('\n')));
  // (This test's own maint() goes by the socket: only install-glance's sessions come from 127.0.0.1.)
  assert.ok(!seen.some((q) => /\[debian-sys-maint\] @ localhost \[127\.0\.0\.1\]/.test(q.userHost)), 'debian.cnf was not used with a password file');
  const again = await mysqlTcp('glance', secrets().GLANCE_DBPASS, 'SELECT 1');
  assert.equal(again.code, 0, scrub(explain('mysql as glance after the repair', again)));
});

test('destroy on juno: the Keystone objects, the accounts and the database go (through TCP), and /etc/glance', { timeout: 10 * 60_000 }, async () => {
  const { host } = await run('destroy', ['--yes'], 0);
  assert.equal(host.failed, 0, JSON.stringify(host.error));
  assert.equal((await maint("SELECT COUNT(*) FROM mysql.user WHERE User = 'glance'")).trim(), '0');
  assert.equal((await maint("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'glance'")).trim(), '0');
  assert.equal((await token('glance', 'anything')).status, 401);
  assert.equal((await labSsh(lab(), 'test -e /etc/glance')).code, 1);
});

test('the guide\'s bind-address (MariaDB on the controller\'s address only): the TCP way goes there; debian.cnf\'s account cannot log in from it, and says why; a root allowed from there can, and glance@localhost\'s password is then told by its hash', { timeout: 5 * 60_000 }, async () => {
  // Last: while MariaDB listens on the lab's address only, this lab's Keystone (pymysql to localhost) has no database.
  const address = lab().address;
  const { mysqlRootPassword } = labCredentials(lab());
  // What an operator does on such a controller for --db-admin-password-file; and glance's two accounts, with two passwords.
  await maint(`CREATE USER 'root'@'${address}' IDENTIFIED BY '${mysqlRootPassword}'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'${address}' WITH GRANT OPTION;
    GRANT ALL PRIVILEGES ON glance.* TO 'glance'@'localhost' IDENTIFIED BY 'pw-local'; GRANT ALL PRIVILEGES ON glance.* TO 'glance'@'%' IDENTIFIED BY 'pw-any'`);
  await sshOk(`printf '[mysqld]\\nbind-address = ${address}\\n' >/etc/mysql/mariadb.conf.d/99-zz-guide-bind.cnf && service mariadb restart >/dev/null`);
  const t = await connect(labTarget(lab()));
  try {
    const host = new HostSession(NAME, t, () => {});
    await assert.rejects(openTcpAdminSession(host), (e: Error & { hint?: string }) => {
      assert.match(e.message, new RegExp(`^MariaDB on ${NAME} refused debian-sys-maint \\(/etc/mysql/debian\\.cnf\\) over TCP ${address.replace(/\./g, '\\.')}:3306 \\(it listens on ${address.replace(/\./g, '\\.')} only: bind-address in its my\\.cnf, as the Juno guide sets it, so the login comes from ${address.replace(/\./g, '\\.')}, not from localhost\\): Access denied for user 'debian-sys-maint'`));
      assert.match(e.hint ?? '', /bind-address = 0\.0\.0\.0/);
      assertNoSecret(e.message + (e.hint ?? ''), 'the error');
      return true;
    });
    const file = path.join(tmp, 'mysql-root-bound');
    fs.writeFileSync(file, `${mysqlRootPassword}\n`, { mode: 0o600 });
    const admin = databaseAdmin({ prefer: 'tcp', passwordFile: file });
    assert.deepEqual((await host.use(admin)).local, { host: address, port: 3306 });
    const works = async (password: string) => {
      const state = await mysqlUser({ user: 'glance', host: 'localhost', database: 'glance', password: new Secret(password), admin }).read(host);
      return state.passwordWorks;
    };
    // From the lab's address a glance login is glance@'%': pw-any logs in as the wrong account, pw-local is refused by it.
    assert.equal(await works('pw-local'), true, "glance@localhost's own password");
    assert.equal(await works('pw-any'), false, "glance@'%'s password is not glance@localhost's");
    assert.equal(await works('wrong'), false);
    await host.providers.closeAll();
  } finally {
    t.close();
    await sshOk('rm -f /etc/mysql/mariadb.conf.d/99-zz-guide-bind.cnf && service mariadb restart >/dev/null');
    await maint(`DROP USER IF EXISTS 'root'@'${address}', 'glance'@'localhost', 'glance'@'%'`);
  }
});
