#!/usr/bin/env bash
# Installs the outside programs the test suite talks to. Idempotent and quick
# when everything is present; called by `npm test` (pretest) and by .ci/run.
set -euo pipefail

# command → Debian package that provides it
declare -A NEEDED=(
  [openssl]=openssl
  [/usr/lib/nagios/plugins/check_dummy]=monitoring-plugins-basic
  [/usr/lib/nagios/plugins/check_curl]=monitoring-plugins-standard
  [/usr/lib/x86_64-linux-gnu/liburiparser.so.1]=liburiparser1
  [ping]=iputils-ping
  [promtool]=prometheus
  [prometheus]=prometheus
  [prometheus-alertmanager]=prometheus-alertmanager
  [chromium]=chromium                  # the dashboard tests (playwright-core drives /usr/bin/chromium)
)

missing=()
for cmd in "${!NEEDED[@]}"; do
  { command -v "$cmd" >/dev/null 2>&1 || [ -e "$cmd" ]; } || missing+=("${NEEDED[$cmd]}")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-test-peers: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
