#!/usr/bin/env bash
# bench/probes: installs nginx and prometheus-blackbox-exporter (Debian) if
# missing, builds, and runs dist/bench/probes.js, which starts its own nginx
# and blackbox_exporter on free ports and kills them at the end.
# Prints one JSON line on stdout; progress goes to stderr.
#
#   bash bench/probes.sh [--seconds 10] [--warmup 2] [--concurrency 64] [--rounds 1]
#                        [--modes http-reused,http-new,tcp] [--only healthmesh,bare,blackbox] [--no-variants]
#
# NODE_OPTIONS is passed through (e.g. NODE_OPTIONS=--cpu-prof to profile).
set -euo pipefail
cd "$(dirname "$0")/.."

export NGINX_BIN=/usr/sbin/nginx
export BLACKBOX_BIN=/usr/bin/prometheus-blackbox-exporter

source bench/lib/debian.sh
install_missing probes.sh "$NGINX_BIN=nginx" "$BLACKBOX_BIN=prometheus-blackbox-exporter"
build_bench

# Children started by the bench append their pid here; anything still alive
# when this script exits (even if node was killed hard) is killed by pid.
PROBES_TMPDIR="$(mktemp -d -t healthmesh-probes.XXXXXX)"
PROBES_PIDFILE="$PROBES_TMPDIR/pids"
: >"$PROBES_PIDFILE"
export PROBES_TMPDIR PROBES_PIDFILE
cleanup() {
  local pid cmd
  while read -r pid; do
    [ -n "$pid" ] || continue
    # Only if that pid is still one of ours (pids get reused).
    [ -r "/proc/$pid/cmdline" ] || continue
    cmd="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || true)"
    case "$cmd" in
      "$NGINX_BIN "* | "$BLACKBOX_BIN "*) kill -KILL "$pid" 2>/dev/null || true ;;
    esac
  done <"$PROBES_PIDFILE"
  rm -rf "$PROBES_TMPDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Bounded: the bench stops itself after (warmup + seconds + 10 s) per measurement
# plus a minute; this two-hour limit is only the outer backstop.
timeout --signal=INT --kill-after=20 7200 node dist/bench/probes.js "$@"
