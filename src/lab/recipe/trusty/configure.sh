#!/bin/bash
# The trusty shape: runs in a chroot of the bookworm snapshot under an overlay whose upper directory
# becomes the layer (loopback only), and makes the controller look to a client like the seed's Ubuntu
# 14.04 controller after the Juno guide's parts 1-2, as far as a Debian lab honestly can. What cannot
# be shaped (kernel, binaries, versions: OpenSSH 9, MariaDB 10.11, Keystone v3 only, Python 3) stays
# Debian's; /usr/lib/os-release and /etc/debian_version still say Debian.
# Reads ADMIN_PASS, MYSQL_ROOT_PASS and DEBIAN_SYS_MAINT_PASS from the environment (never from argv).
set -euo pipefail
export LC_ALL=C.UTF-8
: "${ADMIN_PASS:?}" "${MYSQL_ROOT_PASS:?}" "${DEBIAN_SYS_MAINT_PASS:?}"
files=/tmp/lab-variant/files
mkdir -p /run/lock && chmod 1777 /run/lock

# /etc/os-release is trusty's file, line for line: the nine lines of Ubuntu 14.04.5's base-files (as in
# canonical/ubuntu-pro-client, uaclient/tests/test_util.py, OS_RELEASE_TRUSTY, commit 93ad481c), no
# VERSION_CODENAME (trusty's file had none). A regular file, as on trusty (Debian's is a symlink).
rm -f /etc/os-release
install -m 0644 "$files/os-release" /etc/os-release
install -m 0644 "$files/lsb-release" /etc/lsb-release

# OpenSSH 6.6: no stream-local forwarding.
install -m 0644 "$files/sshd-trusty.conf" /etc/ssh/sshd_config.d/trusty-shape.conf

# MariaDB as trusty's MySQL/MariaDB 5.5 is left by its package and the guide's mysql_secure_installation:
# root by password only (localhost, 127.0.0.1, ::1; no unix_socket), and the package's maintenance
# account debian-sys-maint with every privilege, its password in /etc/mysql/debian.cnf
# (mysql-server-5.5.postinst, e.g. ystk/debian-mysql-5.5 debian/mysql-server-5.5.postinst).
install -m 0644 "$files/mariadb-juno-guide.cnf" /etc/mysql/mariadb.conf.d/60-juno-guide.cnf
service mariadb start >/var/log/lab-build-mariadb.log 2>&1 </dev/null
mysql --protocol=socket -uroot <<SQL
CREATE USER 'debian-sys-maint'@'localhost' IDENTIFIED BY '${DEBIAN_SYS_MAINT_PASS}';
GRANT ALL PRIVILEGES ON *.* TO 'debian-sys-maint'@'localhost' WITH GRANT OPTION;
CREATE USER 'root'@'127.0.0.1' IDENTIFIED BY '${MYSQL_ROOT_PASS}';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER 'root'@'::1' IDENTIFIED BY '${MYSQL_ROOT_PASS}';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'::1' WITH GRANT OPTION;
-- Debian's unix_socket account for the OS user mysql; trusty has no such account.
DROP USER IF EXISTS 'mysql'@'localhost';

-- The identity catalog as the Juno guide's part 2 leaves it: region regionOne, v2.0 URLs, admin on 35357
-- (keystone endpoint-create --publicurl http://controller:5000/v2.0 --internalurl ... --adminurl
-- http://controller:35357/v2.0 --region regionOne). This Keystone serves v3 only: the URLs are the shape.
USE keystone;
SET FOREIGN_KEY_CHECKS = 0;
UPDATE region SET id = 'regionOne' WHERE id = 'RegionOne';
UPDATE endpoint SET region_id = 'regionOne' WHERE region_id = 'RegionOne';
SET FOREIGN_KEY_CHECKS = 1;
UPDATE endpoint e JOIN service s ON e.service_id = s.id
  SET e.url = IF(e.interface = 'admin', 'http://controller:35357/v2.0', 'http://controller:5000/v2.0')
  WHERE s.type = 'identity';

-- Last: after this, root's socket login without a password is refused.
ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('${MYSQL_ROOT_PASS}');
SQL
umask 066
sed "s/@PASSWORD@/${DEBIAN_SYS_MAINT_PASS}/" "$files/debian.cnf.in" >/etc/mysql/debian.cnf
umask 022
chown 0:0 /etc/mysql/debian.cnf && chmod 0600 /etc/mysql/debian.cnf
# Stops through debian.cnf: proves the maintenance account works before the layer is kept.
service mariadb stop >>/var/log/lab-build-mariadb.log 2>&1 </dev/null

# Upstart, as far as a client sees it: initctl, start/stop/restart/reload/status, upstart jobs for
# glance-api and glance-registry in the form of Ubuntu's packaged ones (start-stop-daemon --chuid glance;
# the exact Juno files were not found: juno-reference/ubuntu-trusty-juno/NOT-FOUND.md), and service(8)
# and invoke-rc.d that hand such a job to upstart, as trusty's do.
install -d /usr/lib/trusty-shape
cp -p /usr/sbin/service /usr/lib/trusty-shape/service.debian
cp -p /usr/sbin/invoke-rc.d /usr/lib/trusty-shape/invoke-rc.d.debian
install -m 0755 "$files/initctl" /sbin/initctl
for c in start stop restart reload status; do ln -sf initctl "/sbin/$c"; done
install -m 0755 "$files/service" /usr/sbin/service
install -m 0755 "$files/invoke-rc.d" /usr/sbin/invoke-rc.d
install -d /etc/init
install -m 0644 "$files/glance-api.upstart" /etc/init/glance-api.conf
install -m 0644 "$files/glance-registry.upstart" /etc/init/glance-registry.conf

# Juno's Keystone listened on 5000 (public) and 35357 (admin). Today's serves one v3 application: on both.
cat >>/etc/keystone/keystone-uwsgi.ini <<'INI'

# install-glance lab, trusty shape: Juno's admin port too (the init script adds :5000).
http-socket = :35357
INI

# The Juno guide's admin-openrc.sh: identity v2.0 on the admin port, a tenant, no domains.
umask 077
cat >/root/openstack/admin-openrc.sh <<RC
export OS_TENANT_NAME=admin
export OS_USERNAME=admin
export OS_PASSWORD=${ADMIN_PASS}
export OS_AUTH_URL=http://controller:35357/v2.0
RC

rm -rf /tmp/lab-variant
rm -rf /run/* 2>/dev/null || true
