#!/bin/sh
# Runs in a lab's namespaces (nsenter into its holder), as a script on stdin, from the host's tools:
# network, the overlay root and its pseudo file systems, then the services, as a booted controller has them.
# Arguments: ADDRESS GATEWAY LOWER UPPER WORK ROOT HOSTNAME
set -eu
addr=$1 gw=$2 lower=$3 upper=$4 work=$5 root=$6 name=$7

hostname "$name"
ip link set lo up
ip addr add "$addr/24" dev eth0
ip link set eth0 up
ip route add default via "$gw"

mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount -t tmpfs -o mode=0755,size=64m tmpfs "$root/dev"
for d in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
  n=${d%%:*} mm=${d#*:}
  mknod -m 666 "$root/dev/$n" c "${mm%:*}" "${mm#*:}"
done
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mount -t tmpfs -o mode=0755,size=64m tmpfs "$root/run"
mkdir -p "$root/run/lock" "$root/run/sshd" && chmod 1777 "$root/run/lock"

# Daemons get no terminal and no pipe of ours: one that keeps our stdout would hang the caller.
chroot "$root" /bin/sh -c '
  /usr/sbin/sshd
  service mariadb start &
  /etc/init.d/keystone start
  wait
' </dev/null >"$root/var/log/lab-boot.log" 2>&1
