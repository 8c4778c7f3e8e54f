# tests/integration/lib.sh: helpers for integration tests that drive the real
# binary over loopback.  Each check prints "ok" or "FAIL"; `finish` prints
# "N passed, N failed" and exits non-zero on any failure.
# Needs: GR_BINARY, GR_FIXTURE_MODULE_DIR (set by ctest), curl.

work=$(mktemp -d /tmp/greenroom-it.XXXXXX)
# The embedded PostgreSQL runs as an unprivileged user, who must reach the state dir.
chmod o+x "$work"
log="$work/host.log"
pid=""
port=""
passed=0
failed=0

finished=0
cleanup() {
  local code=$?
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  rm -rf "$work"
  # A script that stops before `finish` (a syntax error, a missing helper)
  # must not pass by exiting 0.
  if [ "$finished" -eq 0 ]; then
    echo "FAIL the test script ended before finish (exit $code)"
    exit 1
  fi
}
trap cleanup EXIT

pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() {
  failed=$((failed + 1))
  echo "FAIL $1"
  [ -f "$log" ] && { echo "---- host log (last 30 lines)"; tail -n 30 "$log"; echo "----"; }
}

check_eq() { [ "$1" = "$2" ] && pass "$3" || fail "$3: got '$1', expected '$2'"; }
check_contains() { case "$1" in *"$2"*) pass "$3" ;; *) fail "$3: '$2' not in output: ${1:0:600}" ;; esac; }
check_not_contains() { case "$1" in *"$2"*) fail "$3: '$2' found" ;; *) pass "$3" ;; esac; }

get() { curl -s --max-time 10 "http://127.0.0.1:$port$1"; }
status_of() { curl -s -o /dev/null --max-time 10 -w '%{http_code}' "http://127.0.0.1:$port$1"; }
expect_status() { check_eq "$(status_of "$2")" "$1" "GET $2 -> $1"; } # code, path
expect_body_contains() { check_contains "$(get "$2")" "$1" "GET $2 has $1"; } # text, path

# Polls until the body of $2 contains $1 (up to 5 s).
wait_for_body() {
  for _ in $(seq 1 100); do
    case "$(get "$2")" in *"$1"*) pass "$3"; return ;; esac
    sleep 0.05
  done
  fail "$3: '$1' never appeared in $2"
}

wait_for_log() {
  for _ in $(seq 1 100); do
    grep -q -- "$1" "$log" 2>/dev/null && { pass "$2"; return; }
    sleep 0.05
  done
  fail "$2: '$1' never appeared in the log"
}

# Starts the host in the background and waits until it listens; sets pid, port.
start_host() {
  : >"$log"
  "$GR_BINARY" serve "$@" --state-dir "$work/state" >>"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do
    port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  fail "host did not start"
  finish
}

stop_host() {
  kill -TERM "$pid"
  wait "$pid"
  local code=$?
  check_eq "$code" "0" "host stopped cleanly"
  pid=""
}

# Runs the host in the foreground and checks its exit code.
run_host_expect_exit() {
  local want=$1
  shift
  : >"$log"
  timeout 20 "$GR_BINARY" serve "$@" --state-dir "$work/state" >>"$log" 2>&1
  check_eq "$?" "$want" "host exits $want"
}

finish() {
  finished=1
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

# Ends the test as skipped (ctest shows it as "Skipped", not passed): only
# for a prerequisite that cannot be had on this machine, said in $1.
skip() {
  finished=1
  echo "SKIP $1"
  exit 77
}
