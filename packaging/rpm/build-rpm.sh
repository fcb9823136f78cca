#!/usr/bin/env bash
# `make rpm`: the sources (make-sources.sh), then rpmbuild -ba in TOPDIR
# (default build/rpm): binary RPMs for this machine in TOPDIR/RPMS/x86_64 and
# the source RPM in TOPDIR/SRPMS, which `rpmbuild --rebuild` turns into
# binaries on el8, el9 and el10 (docs/operations.md).
#   TOPDIR   first argument
#   further arguments go to rpmbuild (e.g. --define '_binary_payload w0.ufdio')
#   JA4_RPM_JOBS       parallel compile jobs (default 1: the build shares the machine)
#   JA4_RPM_GZIP_LEVEL compression of the source tarballs (make-sources.sh)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
topdir=${1:-$repo/build/rpm}
shift || true
command -v rpmbuild >/dev/null || { echo "rpmbuild not found: install rpm-build (EL) or rpm (Debian/Ubuntu), e.g. with scripts/setup.sh" >&2; exit 1; }
jobs=${JA4_RPM_JOBS:-1}
mkdir -p "$topdir"/{SOURCES,SPECS,BUILD,RPMS,SRPMS,BUILDROOT}
"$repo/packaging/rpm/make-sources.sh" "$topdir/SOURCES" >/dev/null
cp "$repo/packaging/rpm/ja4-platform.spec" "$topdir/SPECS/"
# BuildRequires name EL packages; where rpm is not the system's package
# manager (Debian) its database is empty and cannot vouch for them.
nodeps=()
if ! rpm -q rpm >/dev/null 2>&1; then nodeps=(--nodeps); fi
nice -n 19 rpmbuild -ba "${nodeps[@]}" \
  --define "_topdir $topdir" \
  --define "_smp_mflags -j$jobs" \
  "$@" "$topdir/SPECS/ja4-platform.spec"
