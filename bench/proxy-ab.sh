#!/usr/bin/env bash
# bench/proxy-ab: installs nginx and wrk (Debian) if missing, builds, and
# runs dist/bench/proxy-ab.js, which compares builds of the proxy on one
# nginx in alternating wrk runs (see bench/proxy-ab.ts). One JSON line on
# stdout; progress on stderr.
#
#   bash bench/proxy-ab.sh --variant NAME=DIST[:NODE_FLAGS] ... [--rounds 6] [--seconds 3] [--phases c1,r2000,r8000,c32]
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/lib/bench.sh
install_missing proxy-ab.sh "/usr/sbin/nginx=nginx" "wrk=wrk"
build_bench

kill_children_on_exit bench-proxy-ab "/usr/sbin/nginx *" "*/bench/proxy.js --serve *"

timeout --signal=INT --kill-after=20 3600 node dist/bench/proxy-ab.js "$@"
