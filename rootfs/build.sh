#!/usr/bin/env bash
# Builds the test root filesystem under rootfs/build/: busybox (Debian's busybox-static) with
# its applets, a static probe, a static ptrace attacker (ptracer.c) and minimal /etc.
# Usage: rootfs/build.sh [amd64|arm64]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
arch=${1:-native}
out=$here/build/rootfs
[ "$arch" = native ] || out=$here/build/rootfs-$arch

busybox=/bin/busybox
cc=gcc
if [ "$arch" = arm64 ]; then
  busybox=$here/build/busybox-arm64
  cc=aarch64-linux-gnu-gcc
fi
[ -x "$busybox" ] || { echo "rootfs/build.sh: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }

rm -rf "$out.tmp"
mkdir -p "$out.tmp"/{bin,sbin,etc,proc,sys,dev,tmp,root,run,var,usr/bin,usr/sbin,home}
chmod 1777 "$out.tmp/tmp"
cp "$busybox" "$out.tmp/bin/busybox"
# Applet links: the native busybox lists them (the same Debian version ships both arches).
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$out.tmp/bin/$applet"
done
$cc -static -O2 -Wall -o "$out.tmp/bin/probe" "$here/probe.c"
$cc -static -O2 -Wall -o "$out.tmp/bin/ptracer" "$here/ptracer.c"
cat > "$out.tmp/etc/passwd" <<PW
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat > "$out.tmp/etc/group" <<GR
root:x:0:
nogroup:x:65534:
GR
echo "127.0.0.1 localhost" > "$out.tmp/etc/hosts"
: > "$out.tmp/etc/resolv.conf"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out"
