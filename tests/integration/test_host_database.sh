#!/usr/bin/env bash
# Integration test: the host on its embedded default database.  A first start
# from an empty state directory creates the cluster, migrates the fixture
# plugin "gamma" and serves its data; a restart finds the data again; a
# crash of the embedded server turns readiness to 503 until the host has
# restarted it; hostile input round-trips through parameters.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

fx="$GR_FIXTURE_MODULE_DIR"
cat >"$work/app-config.yaml" <<EOF
backend:
  listen: { host: 127.0.0.1, port: 0 }
modules:
  - path: $fx/gamma.so
EOF

start_host -c "$work/app-config.yaml"
check_contains "$(cat "$log")" "creating the embedded PostgreSQL cluster" "first start creates the cluster"
expect_status 200 /.backstage/health/v1/readiness
hostile="Robert'); DROP TABLE notes;-- \\\\ \"quoted\" ünïcødé"
body=$(printf '{"body": "%s"}' "$(printf '%s' "$hostile" | sed 's/"/\\"/g')")
code=$(curl -s -o "$work/post.out" -w '%{http_code}' -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$port/api/gamma/notes")
check_eq "$code" "201" "POST a note"
expect_body_contains 'DROP TABLE notes' /api/gamma/notes
expect_body_contains 'ünïcødé' /api/gamma/notes
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"body": 5}' "http://127.0.0.1:$port/api/gamma/notes")
check_eq "$code" "400" "a malformed note is refused"
stop_host

# Restart on the existing state directory: no initdb, migrations already applied.
start_host -c "$work/app-config.yaml"
check_not_contains "$(cat "$log")" "creating the embedded PostgreSQL cluster" "restart reuses the cluster"
expect_body_contains 'DROP TABLE notes' /api/gamma/notes

# Kill the embedded server: readiness turns 503, then 200 once it is restarted.
pgpid=$(head -n 1 "$work/state/postgres/data/postmaster.pid" 2>/dev/null)
if [ -n "$pgpid" ]; then
  kill -KILL "$pgpid"
  saw503=0
  for _ in $(seq 1 100); do
    [ "$(status_of /.backstage/health/v1/readiness)" = "503" ] && { saw503=1; break; }
    sleep 0.05
  done
  check_eq "$saw503" "1" "readiness is 503 while the database is down"
  for _ in $(seq 1 200); do
    [ "$(status_of /.backstage/health/v1/readiness)" = "200" ] && break
    sleep 0.1
  done
  expect_status 200 /.backstage/health/v1/readiness
  wait_for_body 'DROP TABLE notes' /api/gamma/notes "data is served again after the restart"
else
  fail "no postmaster.pid under the state directory"
fi
stop_host
finish
