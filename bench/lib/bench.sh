# Shell helpers sourced by the bench scripts: Debian packages, the build, and
# killing the children a bench leaves behind.
# install_missing LABEL "path-or-command=package" ...
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

# Children started by the bench append their pid to $PROBES_PIDFILE; anything
# still alive when the script exits (even if node was killed hard) is killed
# by pid, but only if its command line still matches one of the glob
# PATTERNS (pids get reused). Usage: kill_children_on_exit LABEL PATTERN...
kill_children_on_exit() {
  local label="$1"
  shift
  BENCH_CHILD_PATTERNS=("$@")
  PROBES_TMPDIR="$(mktemp -d -t "healthmesh-$label.XXXXXX")"
  PROBES_PIDFILE="$PROBES_TMPDIR/pids"
  : >"$PROBES_PIDFILE"
  export PROBES_TMPDIR PROBES_PIDFILE
  trap _kill_bench_children EXIT
  trap 'exit 130' INT TERM
}

_kill_bench_children() {
  local pid cmd pattern
  while read -r pid; do
    [ -n "$pid" ] || continue
    [ -r "/proc/$pid/cmdline" ] || continue
    cmd="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || true)"
    for pattern in "${BENCH_CHILD_PATTERNS[@]}"; do
      # shellcheck disable=SC2053 # the pattern is a glob on purpose
      if [[ "$cmd" == $pattern ]]; then
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
    done
  done <"$PROBES_PIDFILE"
  rm -rf "$PROBES_TMPDIR"
}
