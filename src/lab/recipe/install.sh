#!/bin/bash
# Runs inside the new rootfs (chroot), with the host's network: installs what parts 1-2 of the
# seed's series leave on a controller, and warms apt's cache with Glance so a lab install is local.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

# Nothing starts while packages install; boot.sh replaces this with the lab's policy.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d

# The packages must configure nothing behind our back: the lab configures Keystone itself below.
debconf-set-selections <<'SEL'
keystone keystone/configure_db boolean false
keystone keystone/create-admin-tenant boolean false
keystone keystone/register-endpoint boolean false
keystone keystone/admin-password password
keystone keystone/admin-password-confirm password
mariadb-server mysql-server/root_password password
SEL

# The seed's controller takes security and point-release updates too.
: "${MIRROR:?}" "${RELEASE:?}"
cat >/etc/apt/sources.list <<SRC
deb $MIRROR $RELEASE main
deb $MIRROR $RELEASE-updates main
deb ${SECURITY_MIRROR:-${MIRROR%/debian}/debian-security} $RELEASE-security main
SRC
apt-get -q update
install() {
  apt-get -q install -y --no-install-recommends \
    openssh-server mariadb-server keystone python3-pymysql iproute2 procps ca-certificates less netbase &&
  # Glance's packages downloaded, not installed: install-glance installs them, from the lab's cache.
  apt-get -q install -y --no-install-recommends --download-only glance python3-glanceclient
}
# An old release's mirror can list a security update whose .deb it no longer has (bullseye): then
# build from main + updates alone.
if ! install; then
  sed -i '/-security/d' /etc/apt/sources.list
  apt-get -q update
  install
fi
