#!/usr/bin/env bash
# Live-capture load test: replay a capture with tcpreplay onto a veth pair
# and fingerprint it with `ja4 capture` on the other end.
#
#   scripts/tcpreplay-veth.sh up                  create the pair
#   scripts/tcpreplay-veth.sh down                remove it
#   scripts/tcpreplay-veth.sh run FILE [--pps N | --mbps N | --topspeed] [--loop N] [--output SPEC]
#       up, start `ja4 capture --iface ja4cap0 --promisc`, replay FILE from
#       the namespace, stop the capture (SIGINT: events flushed, counters
#       printed), down. Default output: jsonl:/tmp/ja4-veth-events.jsonl.
#
# Layout: veth ja4cap0 stays in this namespace (the capture side); its peer
# ja4rep0 lives in network namespace ja4replay, where tcpreplay writes, so
# nothing replayed reaches this host's stack or routes. Frames keep their
# recorded MAC and IP addresses; ja4cap0 is promiscuous so none is filtered.
# Needs root (ip netns, CAP_NET_RAW) and tcpreplay (scripts/setup.sh).
set -euo pipefail

NS=${JA4_VETH_NS:-ja4replay}
CAP_IF=${JA4_VETH_CAPTURE_IF:-ja4cap0}
REP_IF=${JA4_VETH_REPLAY_IF:-ja4rep0}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

log() { printf '[tcpreplay-veth] %s\n' "$*" >&2; }

up() {
  if ip link show "$CAP_IF" >/dev/null 2>&1; then return; fi
  ip netns add "$NS" 2>/dev/null || true
  ip link add "$CAP_IF" type veth peer name "$REP_IF" netns "$NS"
  # A large MTU: recorded frames may exceed 1500 bytes (offloaded segments).
  ip link set "$CAP_IF" mtu 65535 up promisc on txqueuelen 10000
  ip netns exec "$NS" ip link set "$REP_IF" mtu 65535 up txqueuelen 10000
  ip netns exec "$NS" ip link set lo up
  log "up: capture on $CAP_IF, replay into $REP_IF (netns $NS)"
}

down() {
  ip link del "$CAP_IF" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  log "down"
}

run() {
  local file=${1:?usage: $0 run FILE [--pps N | --mbps N | --topspeed] [--loop N] [--output SPEC]}
  shift
  local rate=(--topspeed) loop=1 output=jsonl:/tmp/ja4-veth-events.jsonl
  while [ $# -gt 0 ]; do
    case "$1" in
      --pps) rate=(--pps="$2"); shift 2 ;;
      --mbps) rate=(--mbps="$2"); shift 2 ;;
      --topspeed) rate=(--topspeed); shift ;;
      --loop) loop=$2; shift 2 ;;
      --output) output=$2; shift 2 ;;
      *) log "unknown option $1"; exit 2 ;;
    esac
  done
  command -v tcpreplay >/dev/null || { log "tcpreplay is not installed (scripts/setup.sh installs it)"; exit 1; }
  up
  trap down EXIT
  node "$ROOT/bin/ja4.js" capture --iface "$CAP_IF" --promisc --buffer-mb 256 --output "$output" --stats-interval 1 &
  local cap=$!
  sleep 1.5  # the capture is armed
  ip netns exec "$NS" tcpreplay --intf1="$REP_IF" "${rate[@]}" --loop="$loop" --preload-pcap "$file" 2>&1 | sed 's/^/[tcpreplay] /' >&2
  sleep 1
  kill -INT "$cap"
  wait "$cap"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  run) shift; run "$@" ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
