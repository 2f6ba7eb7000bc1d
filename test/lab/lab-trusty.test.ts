// The trusty-shaped lab (`lab up --release juno`): each thing that makes it look like the seed's Ubuntu
// 14.04 Juno controller, checked from outside, as install-glance (or an operator) meets it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Client } from 'ssh2';
import { useLab, labSsh, explain, poll } from './helpers.ts';
import { paths } from '../../src/lab/paths.ts';
import { labCredentials } from '../../src/lab/credentials.ts';
import type { LabRecord } from '../../src/lab/records.ts';

const { lab } = useLab('lv-trusty', ['--release', 'juno']);

// Ubuntu 14.04.5's /etc/os-release, as in canonical/ubuntu-pro-client uaclient/tests/test_util.py.
const TRUSTY_OS_RELEASE = `NAME="Ubuntu"
VERSION="14.04.5 LTS, Trusty Tahr"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME="Ubuntu 14.04.5 LTS"
VERSION_ID="14.04"
HOME_URL="http://www.ubuntu.com/"
SUPPORT_URL="http://help.ubuntu.com/"
BUG_REPORT_URL="http://bugs.launchpad.net/ubuntu/"
`;

async function sshOk(command: string, input?: string): Promise<string> {
  const r = await labSsh(lab(), command, input === undefined ? {} : { input });
  assert.equal(r.code, 0, explain(command, r));
  return r.stdout;
}

/** `mysql -e SQL` on the lab as USER, its password fed through a defaults file on stdin (never on argv). */
function mysqlAs(user: string, password: string | undefined, sql: string, protocol = 'socket') {
  const cnf = `[client]\nuser=${user}\n${password === undefined ? '' : `password=${password}\n`}`;
  const host = protocol === 'tcp' ? ' -h127.0.0.1' : '';
  return labSsh(lab(), `exec mysql --defaults-extra-file=<(cat) --protocol=${protocol}${host} -N -e ${JSON.stringify(sql)}`, { input: cnf });
}

/** An SSH connection to the lab with ssh2 (the lab's client key; its host key checked against the record). */
function sshClient(r: LabRecord): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    const expected = Buffer.from(r.hostKey.split(' ')[1]!, 'base64');
    c.once('ready', () => resolve(c)).once('error', reject).connect({
      host: r.address, username: 'root', privateKey: fs.readFileSync(paths.clientKey), readyTimeout: 10_000,
      hostVerifier: (key: Buffer) => key.equals(expected),
    });
  });
}

test('/etc/os-release is trusty\'s, line for line, with no VERSION_CODENAME; lab up records it as juno on bookworm', async () => {
  assert.equal(await sshOk('cat /etc/os-release'), TRUSTY_OS_RELEASE);
  assert.equal(await sshOk('test -L /etc/os-release && echo symlink || echo file'), 'file\n');
  assert.match(await sshOk('cat /etc/lsb-release'), /^DISTRIB_CODENAME=trusty$/m);
  assert.equal(lab().release, 'juno');
  assert.equal(lab().base, 'bookworm');
});

test('admin-openrc.sh is the Juno guide\'s: a tenant, identity v2.0 on the admin port', async () => {
  const { adminPassword } = labCredentials(lab());
  assert.equal(await sshOk('cat /root/openstack/admin-openrc.sh'),
    `export OS_TENANT_NAME=admin\nexport OS_USERNAME=admin\nexport OS_PASSWORD=${adminPassword}\nexport OS_AUTH_URL=http://controller:35357/v2.0\n`);
});

test('MariaDB root logs in by password only: without one it is refused on the socket, with it on the socket and over TCP', async () => {
  const { mysqlRootPassword } = labCredentials(lab());
  assert.ok(mysqlRootPassword, 'no root password on the host for the lab');
  const bare = await labSsh(lab(), 'mysql -uroot -N -e "SELECT CURRENT_USER()"');
  assert.equal(bare.code, 1, explain('mysql -uroot without a password', bare));
  assert.match(bare.stderr, /Access denied for user 'root'@'localhost' \(using password: NO\)/);
  const wrong = await mysqlAs('root', 'not-the-password', 'SELECT CURRENT_USER()');
  assert.equal(wrong.code, 1, explain('mysql -uroot with a wrong password', wrong));

  const socket = await mysqlAs('root', mysqlRootPassword, 'SELECT CURRENT_USER()');
  assert.equal(socket.code, 0, explain('mysql -uroot with the password', socket));
  assert.equal(socket.stdout, 'root@localhost\n');
  const tcp = await mysqlAs('root', mysqlRootPassword, 'SELECT CURRENT_USER()', 'tcp');
  assert.equal(tcp.code, 0, explain('mysql -uroot -h127.0.0.1 with the password', tcp));
  assert.match(tcp.stdout, /^root@(127\.0\.0\.1|localhost)\n$/);

  const plugins = await mysqlAs('root', mysqlRootPassword, "SELECT CONCAT(user, '@', host, ' ', plugin) FROM mysql.user ORDER BY user, host");
  assert.equal(plugins.code, 0, explain('mysql.user', plugins));
  assert.doesNotMatch(plugins.stdout, /unix_socket/, `an account logs in by unix socket:\n${plugins.stdout}`);
  assert.match(plugins.stdout, /^root@127\.0\.0\.1 mysql_native_password$/m);
  assert.match(plugins.stdout, /^root@::1 mysql_native_password$/m);
});

test('/etc/mysql/debian.cnf is trusty\'s maintenance account: debian-sys-maint, its password, the socket; it logs in with every privilege', async () => {
  const { debianSysMaintPassword } = labCredentials(lab());
  assert.match(debianSysMaintPassword ?? '', /^[a-zA-Z0-9]{16}$/);
  const cnf = await sshOk('stat -c "%a %U" /etc/mysql/debian.cnf; cat /etc/mysql/debian.cnf');
  assert.match(cnf, /^600 root\n# Automatically generated for Debian scripts\. DO NOT TOUCH!\n\[client\]\n/);
  for (const section of ['client', 'mysql_upgrade']) {
    assert.match(cnf, new RegExp(`\\[${section}\\]\\nhost     = localhost\\nuser     = debian-sys-maint\\npassword = ${debianSysMaintPassword}\\nsocket   = /var/run/mysqld/mysqld\\.sock\\n`));
  }
  const who = await sshOk('mysql --defaults-file=/etc/mysql/debian.cnf -N -e "SELECT CURRENT_USER(); SHOW GRANTS"');
  assert.match(who, /^debian-sys-maint@localhost\n/);
  assert.match(who, /^GRANT ALL PRIVILEGES ON \*\.\* TO `debian-sys-maint`@`localhost` .*WITH GRANT OPTION$/m);
});

test('sshd refuses stream-local forwarding (OpenSSH 6.6 has none) and still forwards TCP', async () => {
  const c = await sshClient(lab());
  try {
    const refused = await new Promise<Error | undefined>((resolve) =>
      c.openssh_forwardOutStreamLocal('/run/mysqld/mysqld.sock', (err, stream) => { stream?.close(); resolve(err); }));
    assert.ok(refused, 'sshd opened a stream-local channel to MariaDB\'s socket');
    assert.match(refused.message, /prohibited|refused|failed/i);
    const greeting = await new Promise<string>((resolve, reject) =>
      c.forwardOut('127.0.0.1', 0, '127.0.0.1', 3306, (err, stream) => {
        if (err) return reject(err);
        stream.once('data', (d: Buffer) => { stream.close(); resolve(d.toString('latin1')); });
      }));
    assert.match(greeting, /MariaDB/, 'no MariaDB greeting through a TCP forward');
  } finally {
    c.end();
  }
});

test('Keystone answers on 5000 and on Juno\'s admin port 35357; the identity catalog is the Juno guide\'s', async () => {
  const { adminPassword } = labCredentials(lab());
  const body = JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: adminPassword } } },
    scope: { project: { name: 'admin', domain: { id: 'default' } } } } });
  for (const port of [5000, 35357]) {
    const res = await fetch(`http://${lab().address}:${port}/v3/auth/tokens`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 201, `no token on port ${port}`);
    const { token } = (await res.json()) as { token: { catalog: { type: string; endpoints: { interface: string; url: string; region_id: string }[] }[] } };
    if (port !== 35357) continue;
    const identity = token.catalog.find((s) => s.type === 'identity');
    const urls = Object.fromEntries((identity?.endpoints ?? []).map((e) => [e.interface, `${e.url} ${e.region_id}`]));
    assert.deepEqual(urls, {
      public: 'http://controller:5000/v2.0 regionOne',
      internal: 'http://controller:5000/v2.0 regionOne',
      admin: 'http://controller:35357/v2.0 regionOne',
    });
  }
});

test('upstart, as far as a client sees it: initctl version, job status, a job whose daemon is missing fails to start', async () => {
  assert.equal(await sshOk('/sbin/initctl version'), 'init (upstart 1.12.1)\n');
  assert.equal(await sshOk('service glance-api status; status glance-registry'), 'glance-api stop/waiting\nglance-registry stop/waiting\n');
  const unknown = await labSsh(lab(), 'status no-such-job');
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, 'status: Unknown job: no-such-job\n');
  const stop = await labSsh(lab(), 'stop glance-api');
  assert.equal(stop.code, 1);
  assert.equal(stop.stderr, 'stop: Unknown instance: \n');
  // Debian's Glance has no registry (removed in Ussuri): its job exists, its daemon does not.
  const registry = await labSsh(lab(), 'service glance-registry restart');
  assert.equal(registry.code, 1, explain('service glance-registry restart', registry));
  assert.match(registry.stderr, /^start: Job failed to start$/m);
  // Services without a job are Debian's, as before.
  assert.match(await sshOk('service mariadb status'), /Uptime:/);
});

test('glance-api the upstart way: the package starts it through invoke-rc.d, service restart gives a new process, logs in /var/log/glance/api.log', { timeout: 10 * 60_000 }, async () => {
  const install = await labSsh(lab(), 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends glance 2>&1 | tail -n 20',
    { timeoutMs: 8 * 60_000 });
  assert.equal(install.code, 0, explain('apt-get install glance', install));
  assert.match(install.stdout, /^glance-api start\/running, process \d+$/m, 'the package did not start glance-api through upstart');
  const first = Number(/process (\d+)/.exec(await sshOk('status glance-api'))?.[1]);
  assert.ok(first > 0);

  const answers = () => fetch(`http://${lab().address}:9292/`, { signal: AbortSignal.timeout(3000) }).then((r) => r.status === 300, () => false);
  assert.ok(await poll(answers, 120_000, 500), 'glance-api does not answer on 9292');

  const restart = await sshOk('service glance-api restart');
  const second = Number(/^glance-api start\/running, process (\d+)$/m.exec(restart)?.[1]);
  assert.ok(second > 0 && second !== first, `service glance-api restart: ${restart}`);
  assert.ok(await poll(answers, 120_000, 500), 'glance-api does not answer on 9292 after the restart');
  assert.match(await sshOk('cat /var/log/glance/api.log'), new RegExp(`^\\S+ \\S+ ${second} INFO .*Starting \\d+ workers`, 'm'));

  assert.equal(await sshOk('service glance-api stop'), 'glance-api stop/waiting\n');
  assert.equal(await sshOk("pgrep -f '^/usr/bin/python3 /usr/bin/glance-api' || echo none"), 'none\n');
});
