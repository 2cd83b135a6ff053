#!/usr/bin/env bash
# bench/probes: installs nginx and prometheus-blackbox-exporter (Debian) if
# missing, builds, and runs dist/bench/probes.js, which starts its own nginx
# and blackbox_exporter on free ports and kills them at the end.
# Prints one JSON line on stdout; progress goes to stderr.
#
#   bash bench/probes.sh [--seconds 10] [--warmup 2] [--concurrency 64] [--rounds 1]
#                        [--modes http-reused,http-new,http-new-undici,tcp] [--only healthmesh,bare,blackbox] [--no-variants]
#
# NODE_OPTIONS is passed through (e.g. NODE_OPTIONS=--cpu-prof to profile).
set -euo pipefail
cd "$(dirname "$0")/.."

export NGINX_BIN=/usr/sbin/nginx
export BLACKBOX_BIN=/usr/bin/prometheus-blackbox-exporter

source bench/lib/bench.sh
install_missing probes.sh "$NGINX_BIN=nginx" "$BLACKBOX_BIN=prometheus-blackbox-exporter"
build_bench

kill_children_on_exit probes "$NGINX_BIN *" "$BLACKBOX_BIN *"

# Bounded: the bench stops itself after (warmup + seconds + 10 s) per measurement
# plus a minute; this two-hour limit is only the outer backstop.
timeout --signal=INT --kill-after=20 7200 node dist/bench/probes.js "$@"
