#!/usr/bin/env bash
# Integration test: two greenroom hosts running kafka-topology share one
# PostgreSQL (a throwaway server from tests/integration/pg_server.c, client:
# pg), with a global sync schedule.  A sync triggered on host a is stored
# once; host b, which did not sync, notices the newer model (pollInterval)
# and serves the same topics, graph and status; a second sync triggered on
# b reaches a too.  The topology is a plain-format file written here.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

log="$work/a.log"

on() { curl -s --max-time 10 "http://127.0.0.1:$1/api/kafka-topology$2"; }

# Waits until host $1 serves model generation $2.
await_generation() {
  for _ in $(seq 1 100); do
    [ "$(on "$1" /status | jq -r '.model.generation')" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

pg_server_start

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

node_launch a
node_launch b
node_await a
node_await b
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

node_stop a
node_stop b
finish
