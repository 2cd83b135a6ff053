#!/usr/bin/env bash
# bench/proxy: installs haproxy, wrk and nginx (Debian) if missing, builds,
# and runs dist/bench/proxy.js, which starts nginx (the upstream), the
# healthmesh proxy and haproxy on free ports, measures all three with wrk
# and stops them at the end. Prints one JSON line on stdout; progress goes
# to stderr.
#
#   bash bench/proxy.sh [--seconds 10] [--warmup 2] [--connections 32] [--threads 1] [--rounds 3]
#                       [--c1-seconds 5] [--rate-rps 2000,8000] [--rate-seconds 10] [--body-bytes 1024] [--prof-dir DIR] [--engine lean|node]
set -euo pipefail
cd "$(dirname "$0")/.."

export NGINX_BIN=/usr/sbin/nginx
export HAPROXY_BIN=/usr/sbin/haproxy

source bench/lib/bench.sh
install_missing proxy.sh "$NGINX_BIN=nginx" "$HAPROXY_BIN=haproxy" "wrk=wrk"
build_bench

kill_children_on_exit bench-proxy "$NGINX_BIN *" "$HAPROXY_BIN *" "*$PWD/dist/bench/proxy.js --serve *"

# Bounded: the bench stops itself past its own budget (rounds × runs + a minute);
# this limit is only the outer backstop.
timeout --signal=INT --kill-after=20 3600 node dist/bench/proxy.js "$@"
