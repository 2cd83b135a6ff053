#!/usr/bin/env bash
# bench/proxy: installs haproxy, wrk and nginx (Debian) if missing, builds,
# and runs dist/bench/proxy.js, which starts nginx (the upstream), the
# healthmesh proxy and haproxy on free ports, measures all three with wrk
# and stops them at the end. Prints one JSON line on stdout; progress goes
# to stderr.
#
#   bash bench/proxy.sh [--seconds 10] [--warmup 2] [--connections 32] [--threads 1] [--rounds 3]
#                       [--c1-seconds 5] [--rate-rps 10000] [--rate-seconds 10] [--body-bytes 1024] [--prof-dir DIR] [--engine lean|node]
set -euo pipefail
cd "$(dirname "$0")/.."

export NGINX_BIN=/usr/sbin/nginx
export HAPROXY_BIN=/usr/sbin/haproxy

source bench/lib/debian.sh
install_missing proxy.sh "$NGINX_BIN=nginx" "$HAPROXY_BIN=haproxy" "wrk=wrk"
build_bench

# Children started by the bench append their pid here; anything still alive
# when this script exits (even if node was killed hard) is killed by pid.
PROBES_TMPDIR="$(mktemp -d -t healthmesh-bench-proxy.XXXXXX)"
PROBES_PIDFILE="$PROBES_TMPDIR/pids"
: >"$PROBES_PIDFILE"
export PROBES_TMPDIR PROBES_PIDFILE
BENCH_JS="$PWD/dist/bench/proxy.js"
cleanup() {
  local pid cmd
  while read -r pid; do
    [ -n "$pid" ] || continue
    # Only if that pid is still one of ours (pids get reused).
    [ -r "/proc/$pid/cmdline" ] || continue
    cmd="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || true)"
    case "$cmd" in
      "$NGINX_BIN "* | "$HAPROXY_BIN "* | *"$BENCH_JS --serve "*) kill -KILL "$pid" 2>/dev/null || true ;;
    esac
  done <"$PROBES_PIDFILE"
  rm -rf "$PROBES_TMPDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Bounded: the bench stops itself past its own budget (rounds × runs + a minute);
# this limit is only the outer backstop.
timeout --signal=INT --kill-after=20 3600 node dist/bench/proxy.js "$@"
