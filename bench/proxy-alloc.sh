#!/usr/bin/env bash
# bench/proxy-alloc: installs nginx and wrk (Debian) if missing, builds, and
# runs dist/bench/proxy-alloc.js: bytes the proxy allocates per proxied
# request under wrk load, and where (see bench/proxy-alloc.ts). One JSON
# line on stdout; progress on stderr.
#
#   bash bench/proxy-alloc.sh [--seconds 4] [--warmup 2] [--connections 32] [--interval 256] [--top 15] [--engine lean|node]
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/lib/bench.sh
install_missing proxy-alloc.sh "/usr/sbin/nginx=nginx" "wrk=wrk"
build_bench

kill_children_on_exit bench-proxy-alloc "/usr/sbin/nginx *"

timeout --signal=INT --kill-after=20 600 node dist/bench/proxy-alloc.js "$@"
