#!/bin/sh
# Stages the rebound image's contents in dist/docker/app (the Dockerfile COPYs it): the root
# package.json and lock file, each workspace package's package.json, built dist/src and the data
# it reads at run time (the loadgen's scenario files), and production node_modules installed here,
# on the host, from the lock file. The image build reaches no registry (containers.md), and a
# production install leaves out TypeScript, the test tooling and the pinned Node binary (~150 MB).
# The dependencies are plain JavaScript (no native addons), so a host of any OS stages a Linux image.
# Needs `npm run build` first. Usage: scripts/docker/stage.sh
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
stage="$root/dist/docker/app"

rm -rf "$stage"
mkdir -p "$stage"
cp "$root/package.json" "$root/package-lock.json" "$stage/"
for pkg in $(node -p "require('$root/package.json').workspaces.join(' ')"); do
  if [ ! -d "$root/$pkg/dist/src" ]; then
    echo "stage: $pkg/dist/src is missing; run 'npm run build' first" >&2
    exit 1
  fi
  mkdir -p "$stage/$pkg/dist"
  cp "$root/$pkg/package.json" "$stage/$pkg/"
  cp -R "$root/$pkg/dist/src" "$stage/$pkg/dist/src"
  if [ -d "$root/$pkg/scenarios" ]; then cp -R "$root/$pkg/scenarios" "$stage/$pkg/scenarios"; fi
done
# The lock file pins every version; --prefer-offline takes them from the cache `npm install` filled.
(cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
find "$stage" -name '*.node' | grep -q . && { echo "stage: native addons found; the image would be tied to this host's OS" >&2; exit 1; }
echo "stage: $stage ($(du -sh "$stage" | cut -f1))"
