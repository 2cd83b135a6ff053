#!/usr/bin/env bash
# bench/daemon-scale: installs nginx (Debian) if missing, builds, and runs
# dist/bench/daemon-scale.js, which starts its own nginx on a free port and
# the real daemon process per N, and stops both. One JSON line per N on stdout.
#
#   bash bench/daemon-scale.sh [--n 1000,10000,100000] [--seconds 60] [--reuse default|true|false]
#                              [--per-check status|full|none] [--no-bare] [--profile DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

export NGINX_BIN=/usr/sbin/nginx
source bench/lib/bench.sh
install_missing daemon-scale.sh "$NGINX_BIN=nginx"
build_bench

kill_children_on_exit daemon-scale "$NGINX_BIN *" "node *dist/src/cli.js start*" "node *scale-bare.js*"

# Descriptors: the daemon and nginx may hold one per kept connection (up to the hard limit).
ulimit -n "$(ulimit -Hn)"
# Bounded: each N stops itself (about warm-up + window + 2 min at most); this is the outer backstop.
timeout --signal=INT --kill-after=30 1800 node dist/bench/daemon-scale.js "$@"
