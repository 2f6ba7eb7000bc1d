#!/bin/bash
# TLS Keystone: runs in a chroot of a Debian snapshot under an overlay whose upper directory becomes the
# layer (loopback only). The identity endpoints and the openrc say https; each lab gets its own CA and
# server certificate at `lab up`, in /etc/keystone/ssl/private/*.pem and /etc/keystone/ssl/public/*.crt,
# where Debian's keystone init script (openstack-pkg-tools) finds them and starts uwsgi with
# --https-socket instead of --http-socket: uwsgi-core is built with OpenSSL, so Keystone itself speaks
# TLS, as the packaging offers, with no proxy in front.
# Reads ADMIN_PASS from the environment (never from argv).
set -euo pipefail
export LC_ALL=C.UTF-8
: "${ADMIN_PASS:?}"
mkdir -p /run/lock && chmod 1777 /run/lock

service mariadb start >/var/log/lab-build-mariadb.log 2>&1 </dev/null
mysql --protocol=socket -uroot keystone <<'SQL'
UPDATE endpoint e JOIN service s ON e.service_id = s.id
  SET e.url = REPLACE(e.url, 'http://controller:5000', 'https://controller:5000')
  WHERE s.type = 'identity';
SQL
left=$(mysql --protocol=socket -uroot -N keystone -e "SELECT COUNT(*) FROM endpoint e JOIN service s ON e.service_id = s.id WHERE s.type = 'identity' AND e.url NOT LIKE 'https://controller:5000/%'")
[ "$left" = 0 ] || { echo "identity endpoints still not https: $left" >&2; exit 1; }
service mariadb stop >>/var/log/lab-build-mariadb.log 2>&1 </dev/null

install -d -m 0755 -o root -g root /etc/keystone/ssl
install -d -m 0750 -o root -g keystone /etc/keystone/ssl/private
install -d -m 0755 -o root -g root /etc/keystone/ssl/public

umask 077
cat >/root/openstack/admin-openrc.sh <<RC
export OS_USERNAME=admin
export OS_PASSWORD='${ADMIN_PASS}'
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_AUTH_URL=https://controller:5000/v3
export OS_IDENTITY_API_VERSION=3
export OS_IMAGE_API_VERSION=2
export OS_CACERT=/root/openstack/ca.pem
RC

rm -rf /tmp/lab-variant
rm -rf /run/* 2>/dev/null || true
