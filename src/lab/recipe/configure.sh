#!/bin/bash
# Runs inside the new rootfs (chroot) in a network namespace of its own (loopback only):
# configures MariaDB and Keystone as the seed's parts 1-2 leave them, then stops them again.
# Reads ADMIN_PASS and KEYSTONE_DBPASS from the environment (never from argv).
set -euo pipefail
export LC_ALL=C.UTF-8
: "${ADMIN_PASS:?}" "${KEYSTONE_DBPASS:?}"
mkdir -p /run/lock && chmod 1777 /run/lock

cat >/etc/mysql/mariadb.conf.d/99-lab.cnf <<'CNF'
# install-glance lab: a small, reachable MariaDB (the seed's part 1 binds it to the controller's address)
[mysqld]
bind-address = 0.0.0.0
innodb_buffer_pool_size = 64M
innodb_log_file_size = 8M
performance_schema = OFF
CNF

# uwsgi's packaged 8 processes x 32 threads take long to start and much memory; a lab needs little.
# One thread per process: concurrent first requests in a fresh worker race oslo.policy's rule loading
# and get a spurious 403. The workers fork from one loaded application (lazy-apps off): Keystone's
# import and set-up, ~4 s of CPU here, is paid once per lab boot instead of once per worker.
sed -i -e 's/^processes *=.*/processes = 2/' -e 's/^threads *=.*/threads = 1/' -e 's/^lazy-apps *=.*/lazy-apps = false/' /etc/keystone/keystone-uwsgi.ini

echo '127.0.0.1 localhost controller' >/etc/hosts
service mariadb start >/var/log/lab-build-mariadb.log 2>&1 </dev/null
mysql --protocol=socket -uroot <<SQL
CREATE DATABASE IF NOT EXISTS keystone;
CREATE USER IF NOT EXISTS 'keystone'@'localhost' IDENTIFIED BY '${KEYSTONE_DBPASS}';
GRANT ALL PRIVILEGES ON keystone.* TO 'keystone'@'localhost';
SQL

python3 - <<'PY'
import os
p = '/etc/keystone/keystone.conf'
# keystone.conf is large; edit only the two keys, line by line, so the packaged comments stay.
lines = open(p).read().split('\n')
want = {'database': ('connection', 'mysql+pymysql://keystone:%s@localhost/keystone' % os.environ['KEYSTONE_DBPASS']),
        'token': ('provider', 'fernet')}
out, section, done = [], None, set()
for line in lines:
    s = line.strip()
    if s.startswith('[') and s.endswith(']'):
        if section in want and section not in done:
            out.append('%s = %s' % want[section]); done.add(section)
        section = s[1:-1]
        out.append(line); continue
    if section in want and s.split('=')[0].strip() == want[section][0] and not s.startswith('#'):
        continue
    out.append(line)
if section in want and section not in done:
    out.append('%s = %s' % want[section]); done.add(section)
for sec in want:
    if sec not in done:
        out += ['[%s]' % sec, '%s = %s' % want[sec]]
open(p, 'w').write('\n'.join(out))
PY
chown root:keystone /etc/keystone/keystone.conf && chmod 0640 /etc/keystone/keystone.conf

su -s /bin/sh -c 'keystone-manage db_sync' keystone 2>/var/log/lab-build-keystone.log
keystone-manage fernet_setup --keystone-user keystone --keystone-group keystone 2>>/var/log/lab-build-keystone.log
keystone-manage credential_setup --keystone-user keystone --keystone-group keystone 2>>/var/log/lab-build-keystone.log
keystone-manage bootstrap --bootstrap-password "$ADMIN_PASS" \
  --bootstrap-admin-url http://controller:5000/v3/ \
  --bootstrap-internal-url http://controller:5000/v3/ \
  --bootstrap-public-url http://controller:5000/v3/ \
  --bootstrap-region-id RegionOne 2>>/var/log/lab-build-keystone.log

/etc/init.d/keystone start >>/var/log/lab-build-keystone.log 2>&1 </dev/null
python3 - <<'PY'
import json, os, time, urllib.request, urllib.error
base = 'http://127.0.0.1:5000/v3'
def call(method, path, body=None, token=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                 headers={'Content-Type': 'application/json', **({'X-Auth-Token': token} if token else {})})
    return urllib.request.urlopen(req, timeout=60)
auth = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {'name': 'admin', 'domain': {'id': 'default'},
        'password': os.environ['ADMIN_PASS']}}}, 'scope': {'project': {'name': 'admin', 'domain': {'id': 'default'}}}}}
# A busy build machine makes a fresh uwsgi slow to answer: wait by the clock, and a timed-out try is a try.
deadline = time.time() + 300
while True:
    try:
        token = call('POST', '/auth/tokens', auth).headers['X-Subject-Token']; break
    except OSError:
        if time.time() > deadline:
            raise SystemExit('keystone did not answer in 300 s')
        time.sleep(0.2)
call('POST', '/projects', {'project': {'name': 'service', 'domain_id': 'default', 'description': 'Service Project'}}, token)
PY
/etc/init.d/keystone stop >>/var/log/lab-build-keystone.log 2>&1 </dev/null || true
service mariadb stop >>/var/log/lab-build-mariadb.log 2>&1 </dev/null

mkdir -p /root/openstack && chmod 0700 /root/openstack
umask 077
cat >/root/openstack/admin-openrc.sh <<RC
export OS_USERNAME=admin
export OS_PASSWORD='${ADMIN_PASS}'
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_AUTH_URL=http://controller:5000/v3
export OS_IDENTITY_API_VERSION=3
export OS_IMAGE_API_VERSION=2
RC

# Every lab gets its own host keys and address; none may come from the snapshot.
rm -f /etc/ssh/ssh_host_* /etc/hosts /etc/hostname
rm -rf /var/log/keystone/* /run/* 2>/dev/null || true

# A real controller starts what it installs (glance-api at install), so the lab allows starts, except
# iSCSI and multipath daemons that glance's os-brick pulls in and that cannot start in a namespace.
cat >/usr/sbin/policy-rc.d <<'POLICY'
#!/bin/sh
case "$1" in
  iscsid|open-iscsi|multipathd|multipath-tools|tgt) exit 101 ;;
esac
exit 0
POLICY
chmod 755 /usr/sbin/policy-rc.d
