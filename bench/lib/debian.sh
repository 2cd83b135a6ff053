# Sourced by the bench scripts: install Debian packages that are missing, and
# build. Usage: install_missing LABEL "path-or-command=package" ...
install_missing() {
  local label="$1" spec bin pkg
  shift
  local missing=()
  for spec in "$@"; do
    bin="${spec%%=*}"
    pkg="${spec#*=}"
    { [ -x "$bin" ] || command -v "$bin" >/dev/null 2>&1; } || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "$label: installing ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
  # The Debian packages may have started system services; they are not used
  # (the benches start their own instances on free ports) and are left alone.
}

# Install the npm packages if needed, and compile.
build_bench() {
  [ -d node_modules/undici ] || npm ci --no-audit --no-fund >&2
  npx tsc -p . >&2
}
