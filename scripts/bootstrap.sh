#!/usr/bin/env bash
# Makes a fresh Debian/Ubuntu machine ready for install-glance and its lab: the Debian packages the
# lab builder uses, and the npm packages. Safe to run again. Needs root (apt-get, and the lab itself).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "bootstrap: run as root (sudo bash scripts/bootstrap.sh): it installs Debian packages" >&2
  exit 1
fi
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "bootstrap: install-glance needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# debootstrap builds the lab's rootfs; iproute2/iptables wire its network; util-linux has unshare and
# nsenter; openssh-client is for `install-glance lab ssh`; openssl makes a TLS lab's CA;
# curl is for the TLS lab test (curl --cacert); qemu-utils (qemu-img check/compare, ~7 MB) judges the
# qcow2 image verify generates in the unit tests.
need=()
for pkg in debootstrap iptables iproute2 util-linux openssh-client perl ca-certificates openssl curl qemu-utils; do
  dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null | grep -q '^ii' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "bootstrap: apt-get install ${need[*]}" >&2
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi
echo "bootstrap: ready" >&2
