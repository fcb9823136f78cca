#!/usr/bin/env bash
# Writes the two rpmbuild sources of ja4-platform into OUTDIR (default
# build/rpm/SOURCES):
#   ja4-platform-VERSION.tar.gz               the tracked files of this checkout
#                                             (as they are in the working tree),
#                                             plus web/dist when it was built
#   ja4-platform-VERSION-node-modules.tar.gz  node_modules/ for the build: the
#                                             production dependency closure plus
#                                             the build-only tools listed in
#                                             node_modules/.ja4-build-only
# Both come from this checkout; nothing is downloaded, so `rpmbuild --rebuild`
# of the source RPM works on an EL machine without access to a registry.
# The copied modules are the ones `npm ci` installed here (npm ls lists them);
# platform binaries of other systems are left out (win32, darwin, linux-arm64).
#   JA4_RPM_GZIP_LEVEL=1..9  compression of the tarballs (default 6; tests use 1)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$repo/build/rpm/SOURCES}
level=${JA4_RPM_GZIP_LEVEL:-6}
case "$level" in [1-9]) ;; *) echo "JA4_RPM_GZIP_LEVEL must be 1..9, got \"$level\"" >&2; exit 2 ;; esac
cd "$repo"
version=$(node -p 'require("./package.json").version')
name=ja4-platform
mkdir -p "$out"
stage=$(mktemp -d "${TMPDIR:-/tmp}/ja4-rpm-sources.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# --- Source0: tracked files (existing ones: a file deleted in the working tree
# is left out) and the built web bundle.
{
  git ls-files -z --cached | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done
  if [ -d web/dist ]; then find web/dist -type f -print0; fi
} | tar --null -T - --transform "s|^|$name-$version/|" --owner=0 --group=0 --numeric-owner -cf - \
  | gzip -"$level" > "$out/$name-$version.tar.gz"

# --- Source1: node_modules. `npm ls --omit=dev --parseable --all` prints one
# directory per installed production package (nested ones included); each is
# copied without its own node_modules/, which the list covers.
nm="$stage/node_modules"
mkdir -p "$nm"
copy_package() { # path relative to the repository, e.g. node_modules/a/node_modules/b
  local rel=$1
  mkdir -p "$stage/$rel"
  tar -C "$repo/$rel" --exclude=./node_modules -cf - . | tar -C "$stage/$rel" -xf -
}
npm ls --omit=dev --all --parseable 2>/dev/null | sed "s|^$repo/\{0,1\}||" | grep '^node_modules/' | sort -u > "$stage/prod.list"
if [ ! -s "$stage/prod.list" ]; then echo "npm ls found no production packages: run npm ci first" >&2; exit 1; fi
while read -r rel; do copy_package "$rel"; done < "$stage/prod.list"

# Build-only tools: the TypeScript compiler with the type packages the
# sources import, and the Node-API headers for the addon. The spec builds
# with them and leaves them out of the installed tree.
: > "$nm/.ja4-build-only"
for pkg in typescript node-api-headers undici-types $(cd node_modules && ls -d @types/* 2>/dev/null); do
  [ -d "node_modules/$pkg" ] || continue
  [ -d "$nm/$pkg" ] && continue   # already a production package (e.g. @types/trusted-types)
  copy_package "node_modules/$pkg"
  echo "$pkg" >> "$nm/.ja4-build-only"
done

# Other systems' prebuilt binaries: onnxruntime-node ships win32, darwin and
# linux-arm64 libraries next to linux-x64 (about 230 MB).
ort="$nm/onnxruntime-node/bin/napi-v6"
if [ -d "$ort" ]; then
  find "$ort" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
  find "$ort/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} + 2>/dev/null || true
fi
find "$nm" -type f \( -name '*.dll' -o -name '*.dylib' -o -name '*.pdb' -o -name '*_darwin_*.node' -o -name '*_win32_*.node' -o -name '*_linux_arm64_*.node' \) -delete

tar -C "$stage" --owner=0 --group=0 --numeric-owner -cf - node_modules | gzip -"$level" > "$out/$name-$version-node-modules.tar.gz"
echo "$out/$name-$version.tar.gz"
echo "$out/$name-$version-node-modules.tar.gz"
