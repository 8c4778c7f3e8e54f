#!/usr/bin/env bash
# Integration test: two greenroom processes share one PostgreSQL (a throwaway
# server from tests/integration/pg_server.c, client: pg).  The fixture plugin
# "ticker" has a global task due every 300 ms that records each run in its
# table.  Together the two hosts run it once per period, never at the same
# time; the task list and trigger routes answer; when the host running it is
# killed, the other takes over once the lease (the task's 2 s timeout) has
# run out, not before.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

fx="$GR_FIXTURE_MODULE_DIR"
log="$work/a.log"

# The value of "key" in a flat JSON object.
json_num() { sed -n "s/.*\"$1\": *\([0-9]*\).*/\1/p"; }
runs_on() { curl -s --max-time 10 "http://127.0.0.1:$1/api/ticker/runs"; }
now_ms() { date +%s%3N; }

pg_server_start

cat >"$work/app-config.yaml" <<EOF
backend:
  listen: { host: 127.0.0.1, port: 0 }
  database:
    client: pg
    connection: "$conninfo"
modules:
  - path: $fx/ticker.so
ticker:
  schedule: { frequency: { milliseconds: 300 }, timeout: { seconds: 2 }, scope: global }
  holdMs: 250
EOF

# Both hosts start at the same moment on an empty database: the host's and
# the plugin's migrations race, and the advisory lock must serialise them.
node_launch a
node_launch b
node_await a
node_await b
pass "two hosts started together on one empty database"

# ---- once per period, never at once ---------------------------------------
sleep 0.5
n0=$(runs_on "$a_port" | json_num runs)
sleep 3
body=$(runs_on "$b_port")
n1=$(echo "$body" | json_num runs)
delta=$((n1 - n0))
echo "     $delta runs in 3 s: $body"
# One run per 300 ms is 10; each host running every period would be about 20.
[ "$delta" -ge 6 ] && [ "$delta" -le 12 ] && pass "3 s at 300 ms ran the task $delta times in total" \
  || fail "3 s at 300 ms ran the task $delta times in total, expected about 10"
check_eq "$(echo "$body" | json_num overlaps)" "0" "no two runs overlapped"

tasks=$(curl -s --max-time 10 "http://127.0.0.1:$b_port/api/scheduler/tasks")
check_contains "$tasks" '"id":"ticker.tick"' "GET /api/scheduler/tasks lists the task"
check_contains "$tasks" '"scope":"global"' "the task is global"
check_contains "$tasks" '"lastStatus":"succeeded"' "the task list shows the last outcome"

# ---- triggers --------------------------------------------------------------
code=$(curl -s -o "$work/trigger.out" -w '%{http_code}' -X POST \
  "http://127.0.0.1:$a_port/api/scheduler/tasks/ticker.tick/trigger")
check_eq "$code" "202" "POST .../ticker.tick/trigger -> 202"
check_contains "$(cat "$work/trigger.out")" '"triggered"' "the trigger answer says so"
code=$(curl -s -o "$work/trigger.out" -w '%{http_code}' -X POST \
  "http://127.0.0.1:$a_port/api/scheduler/tasks/ticker.nothing/trigger")
check_eq "$code" "404" "an unknown task's trigger -> 404"
check_contains "$(cat "$work/trigger.out")" '"NotFoundError"' "the 404 is a JSON error"

# ---- the host running the task dies ------------------------------------------
# Wait until host a is in a run (it may take a few periods: the hosts share them).
victim=""
for _ in $(seq 1 400); do
  if curl -s --max-time 5 "http://127.0.0.1:$a_port/api/scheduler/tasks" | grep -q '"running":true'; then
    victim=a
    break
  fi
  if curl -s --max-time 5 "http://127.0.0.1:$b_port/api/scheduler/tasks" | grep -q '"running":true'; then
    victim=b
    break
  fi
  sleep 0.02
done
if [ -z "$victim" ]; then
  fail "neither host was ever seen running the task"
  finish
fi
if [ "$victim" = a ]; then
  survivor_port=$b_port
  kill -KILL "$a_pid"; wait "$a_pid" 2>/dev/null; a_pid=""
else
  survivor_port=$a_port
  kill -KILL "$b_pid"; wait "$b_pid" 2>/dev/null; b_pid=""
fi
killed_at=$(now_ms)
body=$(runs_on "$survivor_port")
before=$(echo "$body" | json_num runs)
# The victim's run never finishes: its row shows whether the kill was mid-run.
mid_run=$(( before - $(echo "$body" | json_num finished) ))
took_over=""
for _ in $(seq 1 200); do
  n=$(runs_on "$survivor_port" | json_num runs)
  if [ -n "$n" ] && [ "$n" -gt "$before" ]; then
    took_over=$(($(now_ms) - killed_at))
    break
  fi
  sleep 0.05
done
echo "     killed host $victim mid-run; the other ran the task after ${took_over:-never} ms"
if [ -z "$took_over" ]; then
  fail "the surviving host never ran the task after the other was killed"
else
  # The lease (2 s) was renewed at most 2/3 s before the kill.
  if [ "$mid_run" -ge 1 ]; then
    [ "$took_over" -ge 1000 ] && pass "no run while the dead host's lease lasted" \
      || fail "a run started ${took_over} ms after the kill, inside the dead host's lease"
  else
    echo "     (the run had ended just before the kill: no lease was left to wait for)"
  fi
  [ "$took_over" -le 5000 ] && pass "the surviving host took over once the lease ran out" \
    || fail "the surviving host took ${took_over} ms to take over"
fi
sleep 1.5
body=$(runs_on "$survivor_port")
check_eq "$(echo "$body" | json_num overlaps)" "0" "still no two finished runs overlapped"
after=$(echo "$body" | json_num runs)
[ "$((after - before))" -ge 3 ] && pass "the surviving host keeps running it every period" \
  || fail "only $((after - before)) runs in the 1.5 s after the takeover"

# ---- a clean stop ----------------------------------------------------------
if [ "$victim" = a ]; then survivor=b; else survivor=a; fi
log="$work/$survivor.log"
node_stop "$survivor"
check_not_contains "$(cat "$log")" "lost its lease" "the survivor never lost a lease"
finish
