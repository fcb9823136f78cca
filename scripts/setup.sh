#!/usr/bin/env bash
# Installs everything ja4-platform needs on a fresh Debian/Ubuntu or
# RHEL-family (el8/el9/el10, Fedora) machine, as root: system packages first
# (only those missing), then the npm packages and the build.
# Idempotent and quick when everything is already there.
#   JA4_SETUP_SKIP_SYSTEM=1  skip the system packages (non-root developers)
#   JA4_SETUP_SKIP_NPM=1     skip npm install / build
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

# Package names per family. tshark is used by tests (JA3 cross-check) and
# the pcap benchmark; clang by the fuzzers; Apache and its headers (apxs)
# build and test mod_reqin_log (mod_http2 and mod_ssl ship in apache2 on
# Debian, in httpd and mod_ssl on RHEL); wrk runs its benchmark; chromium
# runs the dashboard's browser tests (EPEL on RHEL-family systems); tcpreplay
# drives the live-capture load test (scripts/tcpreplay-veth.sh).
DEB_PACKAGES=(build-essential cmake pkg-config python3 libpcap-dev libssl-dev tshark clang libclang-rt-dev curl ca-certificates openssl apache2 apache2-dev libnghttp2-dev wrk chromium tcpreplay rpm)
RPM_PACKAGES=(gcc-c++ make cmake pkgconf-pkg-config python3 libpcap-devel openssl-devel wireshark-cli clang compiler-rt curl ca-certificates openssl httpd httpd-devel libnghttp2-devel mod_ssl wrk chromium tcpreplay rpm-build)
# EL8's OpenSSL is 1.1.1; the engine needs 3.x: EPEL 8's openssl3-devel,
# beside it (CMakeLists.txt finds it there)
if [ -r /etc/os-release ] && (. /etc/os-release; [ "${VERSION_ID%%.*}" = 8 ] && [[ " ${ID} ${ID_LIKE:-} " == *" rhel "* ]]); then
  RPM_PACKAGES+=(openssl3-devel)
fi

# clang's sanitizer and libFuzzer runtime, for the clang on the PATH
clang_runtime_present() {
  command -v clang >/dev/null 2>&1 && [ -e "$(clang --print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer-x86_64.a" ]
}

# The runtime package of the clang version apt installs (the "clang"
# package's clang-N): the newest libclang-rt-N-dev in the archive may be
# another LLVM's (Debian 12 has 14 and 22), whose runtime clang 14 does not
# look for. Else the newest there is.
clang_runtime_package() {
  local v
  v=$(apt-cache depends clang 2>/dev/null | sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -1)
  if [ -n "$v" ] && apt-cache show "libclang-rt-$v-dev" >/dev/null 2>&1; then
    echo "libclang-rt-$v-dev"
    return
  fi
  apt-cache search --names-only '^libclang-rt-[0-9]+-dev$' | awk '{print $1}' | sort -V | tail -1
}

install_system_packages() {
  if [ "${JA4_SETUP_SKIP_SYSTEM:-0}" = 1 ]; then return; fi
  if [ "$(id -u)" != 0 ]; then
    log "not root: skipping system packages (set JA4_SETUP_SKIP_SYSTEM=1 to silence)"
    return
  fi
  if command -v apt-get >/dev/null 2>&1; then
    local missing=()
    for p in "${DEB_PACKAGES[@]}"; do
      # libclang-rt-dev is versioned on Debian 12 (libclang-rt-14-dev), and
      # the fuzzers link the sanitizer runtime of the clang that compiles them
      if [ "$p" = libclang-rt-dev ]; then
        clang_runtime_present || missing+=("$p")
        continue
      fi
      # any Chromium on the PATH will do (Ubuntu ships it as a snap)
      if [ "$p" = chromium ] && { command -v chromium || command -v chromium-browser; } >/dev/null 2>&1; then continue; fi
      dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if ! command -v node >/dev/null 2>&1; then missing+=(nodejs npm); fi
    if [ ${#missing[@]} -gt 0 ]; then
      log "apt-get install ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      # tshark asks whether non-root users may capture: answer no.
      echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
      local resolved=()
      for p in "${missing[@]}"; do
        if [ "$p" = libclang-rt-dev ]; then
          p=$(clang_runtime_package)
          [ -n "$p" ] || continue
        fi
        if [ "$p" = chromium ] && ! apt-cache show chromium >/dev/null 2>&1; then
          log "no chromium package here: the dashboard browser tests need one (JA4_CHROMIUM=/path/to/chrome)"
          continue
        fi
        resolved+=("$p")
      done
      apt-get install -y -qq --no-install-recommends "${resolved[@]}" >/dev/null
    fi
  elif command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1; then
    local pm; pm=$(command -v dnf || command -v yum)
    local missing=()
    for p in "${RPM_PACKAGES[@]}"; do rpm -q "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if ! command -v node >/dev/null 2>&1; then missing+=(nodejs npm); fi
    if [ ${#missing[@]} -gt 0 ]; then
      log "$pm install ${missing[*]}"
      # libpcap-devel lives in CRB (el9/el10) or PowerTools (el8).
      "$pm" install -y -q dnf-plugins-core >/dev/null 2>&1 || true
      "$pm" config-manager --set-enabled crb >/dev/null 2>&1 || "$pm" config-manager --set-enabled powertools >/dev/null 2>&1 || true
      # chromium (and wrk) come from EPEL on el8/el9/el10; Fedora has them.
      "$pm" install -y -q epel-release >/dev/null 2>&1 || true
      if ! command -v node >/dev/null 2>&1 && "$pm" module list nodejs >/dev/null 2>&1; then
        "$pm" module enable -y -q nodejs:20 >/dev/null 2>&1 || true
      fi
      "$pm" install -y -q --skip-broken "${missing[@]}" >/dev/null
    fi
  else
    log "no apt-get, dnf or yum: install ${DEB_PACKAGES[*]} by hand"
  fi
}

check_node() {
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -lt 20 ]; then
    log "Node.js >= 20 is required (found $(node --version 2>/dev/null || echo none))"
    exit 1
  fi
}

install_npm_packages() {
  if [ "${JA4_SETUP_SKIP_NPM:-0}" = 1 ]; then return; fi
  # Reinstall only when package.json or the lockfile changed since the last run.
  local stamp=node_modules/.ja4-setup-stamp
  local want; want=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  log "npm install"
  if [ -f package-lock.json ]; then
    # chdb lists its other platforms' native packages (@chdb/lib-darwin-*,
    # lib-linux-arm64-gnu) as optional dependencies; the registry this project
    # uses has only lib-linux-x64-gnu, so the lockfile cannot record the others
    # and `npm ci` refuses it ("Missing: @chdb/lib-darwin-arm64@ from lock
    # file"). `npm install` honours the same lockfile and skips them.
    # No install script is needed: chdb's own is a no-op, its binary is a
    # prebuilt file inside @chdb/lib-linux-x64-gnu.
    # npm ci's refusal prints its whole usage text: kept in a file, shown
    # only if the fallback fails too
    local ci_log; ci_log=$(mktemp)
    if ! npm ci --no-audit --no-fund --ignore-scripts >"$ci_log" 2>&1; then
      log "npm ci refused the lockfile ($( (grep -m1 'Missing:' "$ci_log" || grep -m1 'npm error' "$ci_log") | cut -c1-120)): npm install with the same lockfile"
      npm install --no-audit --no-fund --ignore-scripts >&2 || { cat "$ci_log" >&2; rm -f "$ci_log"; return 1; }
    fi
    rm -f "$ci_log"
  else
    npm install --no-audit --no-fund --ignore-scripts >&2
  fi
  echo "$want" > "$stamp"
}

install_system_packages
check_node
install_npm_packages
