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
# Set by pg_server_start and node_launch (several hosts on one database).
pg_pid=""
conninfo=""
nodes=""

finished=0
cleanup() {
  local code=$? name p
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  for name in $nodes; do
    eval "p=\${${name}_pid:-}"
    [ -n "$p" ] && kill -KILL "$p" 2>/dev/null
  done
  # TERM, not KILL: the helper then stops the server and removes its directory.
  [ -n "$pg_pid" ] && { kill -TERM "$pg_pid" 2>/dev/null; wait "$pg_pid" 2>/dev/null; }
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

# Prints the port that host process $1, logging to $2, listens on, once its
# log says so (up to $3 looks, 50 ms apart); returns 1 if it exits first or
# never does.
await_port() {
  local p
  for _ in $(seq 1 "$3"); do
    p=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$2" | tail -n 1)
    [ -n "$p" ] && { echo "$p"; return 0; }
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# Starts the host in the background and waits until it listens; sets pid, port.
start_host() {
  : >"$log"
  "$GR_BINARY" serve "$@" --state-dir "$work/state" >>"$log" 2>&1 &
  pid=$!
  port=$(await_port "$pid" "$log" 200) && return 0
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

# ---- the web catalog fixture ------------------------------------------------------

# Starts the host with the catalog and the central-config provider
# "fixture" (tests/fixtures/web-catalog-app-config.yaml) on a copy of
# tests/fixtures/web-catalog (in $repo, set here) and waits for the
# provider's first sync.
start_web_catalog_host() {
  repo="$work/config-repo"
  cp -r "$GR_SOURCE_DIR/tests/fixtures/web-catalog" "$repo"
  export GR_WEB_CATALOG_REPO="$repo"
  start_host -c "$GR_SOURCE_DIR/tests/fixtures/web-catalog-app-config.yaml"
  wait_for_body '"status":"succeeded"' "/api/central-config/last-sync?provider=fixture" "the fixture repository synced"
}

# ---- several hosts on one PostgreSQL ---------------------------------------------

# Starts a throwaway PostgreSQL server (tests/integration/pg_server.c) for
# hosts with client: pg; sets pg_pid and conninfo (its libpq connection
# string).  cleanup stops it.
pg_server_start() {
  "$GR_BUILD_DIR/tests/gr_test_pg_server" >"$work/pg.out" 2>"$work/pg.err" &
  pg_pid=$!
  for _ in $(seq 1 1200); do
    conninfo=$(sed -n 's/^conninfo: //p' "$work/pg.out")
    [ -n "$conninfo" ] && return 0
    kill -0 "$pg_pid" 2>/dev/null || break
    sleep 0.1
  done
  log="$work/pg.err"
  fail "the throwaway PostgreSQL did not start"
  finish
}

# node_launch NAME: starts host NAME in the background on
# $work/app-config.yaml with its own state directory and log
# ($work/NAME.log); sets NAME_pid.  cleanup kills it.
node_launch() {
  "$GR_BINARY" serve -c "$work/app-config.yaml" --state-dir "$work/state-$1" >"$work/$1.log" 2>&1 &
  eval "${1}_pid=$!"
  nodes="$nodes $1"
}

# node_await NAME: waits until host NAME listens; sets NAME_port.
node_await() {
  local p po
  eval "p=\$${1}_pid"
  if po=$(await_port "$p" "$work/$1.log" 400); then
    eval "${1}_port=$po"
    return 0
  fi
  log="$work/$1.log"
  fail "host $1 did not start"
  finish
}

# node_stop NAME: stops host NAME with SIGTERM and checks that it exits 0.
node_stop() {
  local p code
  eval "p=\$${1}_pid"
  kill -TERM "$p"
  wait "$p"
  code=$?
  check_eq "$code" "0" "host $1 stopped cleanly"
  eval "${1}_pid="
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
