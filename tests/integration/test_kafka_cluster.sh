#!/usr/bin/env bash
# Integration test: two greenroom hosts running kafka-topology share one
# PostgreSQL (a throwaway server from tests/integration/pg_server.c, client:
# pg), with a global sync schedule.  A sync triggered on host a is stored
# once; host b, which did not sync, notices the newer model (pollInterval)
# and serves the same topics, graph and status; a second sync triggered on
# b reaches a too.  The topology is a plain-format file written here.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

helper="$GR_BUILD_DIR/tests/gr_test_pg_server"
pg_pid=""
a_pid=""
b_pid=""
log="$work/a.log"

stop_all() {
  [ -n "$a_pid" ] && kill -KILL "$a_pid" 2>/dev/null
  [ -n "$b_pid" ] && kill -KILL "$b_pid" 2>/dev/null
  [ -n "$pg_pid" ] && { kill -TERM "$pg_pid" 2>/dev/null; wait "$pg_pid" 2>/dev/null; }
}
trap 'stop_all; cleanup' EXIT

launch_one() {
  "$GR_BINARY" serve -c "$work/app-config.yaml" --state-dir "$work/state-$1" >"$work/$1.log" 2>&1 &
  eval "${1}_pid=$!"
}

await_one() {
  local name=$1 l="$work/$1.log" p po
  eval "p=\$${name}_pid"
  for _ in $(seq 1 400); do
    po=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$l" | tail -n 1)
    if [ -n "$po" ]; then
      eval "${name}_port=$po"
      return 0
    fi
    kill -0 "$p" 2>/dev/null || break
    sleep 0.05
  done
  log="$l"
  fail "host $name did not start"
  finish
}

on() { curl -s --max-time 10 "http://127.0.0.1:$1/api/kafka-topology$2"; }

# Waits until host $1 serves model generation $2.
await_generation() {
  for _ in $(seq 1 100); do
    [ "$(on "$1" /status | jq -r '.model.generation')" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

"$helper" >"$work/pg.out" 2>"$work/pg.err" &
pg_pid=$!
conninfo=""
for _ in $(seq 1 1200); do
  conninfo=$(sed -n 's/^conninfo: //p' "$work/pg.out")
  [ -n "$conninfo" ] && break
  kill -0 "$pg_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$conninfo" ]; then
  log="$work/pg.err"
  fail "the throwaway PostgreSQL did not start"
  finish
fi

src="$work/kafka"
mkdir -p "$src"
cat >"$src/topology.yaml" <<'EOF'
clusters:
  - name: prod
topics:
  - {name: orders, partitions: 6}
  - {name: payments, partitions: 3}
services:
  - name: billing
    consumes: [orders]
    produces: [payments]
EOF
cat >"$work/app-config.yaml" <<EOF
backend:
  listen: { host: 127.0.0.1, port: 0 }
  database:
    client: pg
    connection: "$conninfo"
modules: [kafka-topology]
kafkaTopology:
  source: { type: directory, path: $src }
  schedule: { frequency: { hours: 1 }, initialDelay: { hours: 1 }, scope: global }
  pollInterval: { milliseconds: 300 }
EOF

launch_one a
launch_one b
await_one a
await_one b
pass "two hosts started on one database"

check_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$a_port/api/kafka-topology/refresh")" "202" "refresh on host a"
await_generation "$a_port" 1 && pass "host a serves generation 1" || fail "host a did not sync"
await_generation "$b_port" 1 && pass "host b picked up generation 1 without syncing" || { log="$work/b.log"; fail "host b did not load the stored model"; }
grep -q "loaded the stored model (generation 1)" "$work/b.log" && pass "host b loaded it from the database" || { log="$work/b.log"; fail "host b's log does not say it loaded the model"; }
check_eq "$(on "$b_port" '/topics?cluster=prod' | jq -r '[.items[].name] | join(",")')" "orders,payments" "host b serves the topics"
check_eq "$(on "$b_port" /graph | md5sum)" "$(on "$a_port" /graph | md5sum)" "both hosts serve the same graph"
check_eq "$(on "$b_port" /status | jq -r .lastAttempt)" "$(on "$a_port" /status | jq -r .lastAttempt)" "both hosts show the same last sync"

# A change synced through b shows on a.
cat >>"$src/topology.yaml" <<'EOF'
  - name: auditor
    consumes: [payments]
EOF
check_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$b_port/api/kafka-topology/refresh")" "202" "refresh on host b"
await_generation "$a_port" 2 && pass "host a serves generation 2" || { log="$work/a.log"; fail "host a did not get generation 2"; }
check_eq "$(on "$a_port" /services/auditor | jq -r '[.consumes[].topic] | join(",")')" "payments" "host a serves the new service"
syncs=$(cat "$work/a.log" "$work/b.log" | grep -c "kafka-topology synced")
check_eq "$syncs" "2" "two syncs in all: each stored once, by one host"

for h in a b; do
  eval "p=\$${h}_pid"
  kill -TERM "$p"
  wait "$p"
  check_eq "$?" "0" "host $h stopped cleanly"
  eval "${h}_pid="
done
finish
