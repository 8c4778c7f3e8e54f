#!/usr/bin/env bash
# Durable webhook intake (issue 4): signed deliveries verified and committed
# per second through POST /api/github/webhook, next to pgbench's single-row
# INSERT rate on the same PostgreSQL server, which is the limit.
#
#   bench/webhook_bench.sh [clients=16] [seconds=10] [payload=push/push.noaction.0.json] [rounds=3]
#
# A throwaway server (fsync and synchronous_commit on, as in production) on a
# unix socket; the host reaches it with client: pg and a pool of `clients`
# connections.  wrk posts the same signed payload with a fresh
# X-GitHub-Delivery on every request and counts the 202s; afterwards the
# rows in the deliveries table must cover that count.  After each such run
# pgbench inserts the same row, one per transaction, into a copy of the
# deliveries table (same columns and indexes) with the same number of
# clients; the ratio of the two is the figure.  A tiny single-row insert is
# printed for scale.
# Needs wrk and the postgresql package (scripts/install-deps.sh with
# GR_DEPS_EXTRA=wrk).  Builds build-bench/ (RelWithDebInfo).
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-16}
seconds=${2:-10}
payload_rel=${3:-push/push.noaction.0.json}
rounds=${4:-3}
pool=${GR_BENCH_POOL:-4}
build=${GR_BUILD_DIR:-build-bench}
GR_DEPS_EXTRA="wrk" scripts/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGR_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target greenroom github >/dev/null

payload="$PWD/../shared/testdata/webhooks/$payload_rel"
[ -f "$payload" ] || { echo "no payload at $payload" >&2; exit 1; }
event=$(basename "$payload"); event=${event%%.*}
secret="bench-secret"
sig="sha256=$(openssl dgst -sha256 -hmac "$secret" -r <"$payload" | cut -d' ' -f1)"

work=$(mktemp -d /tmp/greenroom-webhook-bench.XXXXXX)
chmod o+rx "$work"
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_pg=()
[ "$(id -u)" = "0" ] && as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups)
pgdir="$work/pg"
pgport=55433
hostpid=""
cleanup() {
  [ -n "$hostpid" ] && kill "$hostpid" 2>/dev/null && wait "$hostpid" 2>/dev/null || true
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$pgdir/run"
[ "$(id -u)" = "0" ] && chown -R postgres: "$pgdir"
"${as_pg[@]}" "$bindir/initdb" -D "$pgdir/data" -U postgres -A trust >/dev/null
"${as_pg[@]}" "$bindir/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
  -o "-k $pgdir/run -p $pgport -c listen_addresses='' -c max_connections=100 -c max_wal_size=4GB -c checkpoint_timeout=30min" start >/dev/null
psql_() { psql -h "$pgdir/run" -p "$pgport" -U postgres -At "$@"; }

cat >"$work/app-config.yaml" <<EOF
backend:
  listen: { host: 127.0.0.1, port: 0 }
  log: { level: info }
  database:
    client: pg
    connection: "host=$pgdir/run port=$pgport user=postgres dbname=postgres"
    pool: { min: $pool, max: $pool }
integrations:
  github:
    - host: github.com
      webhookSecret: $secret
modules:
  - path: $PWD/$build/modules/github.so
EOF
"$build/greenroom" serve -c "$work/app-config.yaml" --state-dir "$work/state" 2>"$work/host.log" &
hostpid=$!
port=""
until [ -n "$port" ]; do
  kill -0 "$hostpid" 2>/dev/null || { cat "$work/host.log" >&2; exit 1; }
  sleep 0.05
  port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$work/host.log" | tail -n 1)
done
until curl -sf -o /dev/null "http://127.0.0.1:$port/.backstage/health/v1/readiness"; do sleep 0.05; done

cat >"$work/post.lua" <<EOF
-- Every request: the same signed body, a fresh delivery id.
counter = 0
thread_id = 0
non202 = 0
local threads = {}
local f = io.open("$payload", "rb")
local body = f:read("*a")
f:close()
function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end
function request()
  counter = counter + 1
  return wrk.format("POST", "/api/github/webhook", {
    ["Content-Type"] = "application/json",
    ["X-GitHub-Event"] = "$event",
    ["X-GitHub-Delivery"] = "bench-" .. thread_id .. "-" .. counter,
    ["X-Hub-Signature-256"] = "$sig",
  }, body)
end
function response(status, headers, body)
  if status ~= 202 then non202 = non202 + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("non202") end
  io.write(string.format("NON202 %d\n", bad))
  io.write(string.format("P50MS %.2f\nP99MS %.2f\n", latency:percentile(50) / 1000,
                         latency:percentile(99) / 1000))
end
EOF
echo "== webhook intake benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, PostgreSQL $("$bindir/postgres" --version | awk '{print $3}'), fsync on)"
echo "payload: $payload_rel ($(stat -c %s "$payload") bytes, event $event); $clients connections (host pool: $pool), ${seconds}s per run, $rounds rounds"

# pgbench's side: the same row into a table of the same definition (indexes
# and the payload's compression included) in the same database.  The payload
# travels as a parameter of the prepared statement (-D, -M prepared), as it
# does from the host: read from another table, the server would copy its
# stored, already compressed form and skip the compression every client's
# insert pays.  And a tiny row.
db=backstage_plugin_github
psql_ -d "$db" -c "CREATE TABLE bench_rows (LIKE deliveries INCLUDING ALL)" >/dev/null
echo "INSERT INTO bench_rows (delivery_id, event, action, payload, received_at, spooled) VALUES ('b-' || :client_id || '-' || random(), '$event', NULL, :p, now(), false);" >"$work/insert_payload.sql"
psql_ -d "$db" -c "CREATE TABLE bench_tiny (id bigserial PRIMARY KEY, v int)" >/dev/null
echo "INSERT INTO bench_tiny (v) VALUES (:client_id);" >"$work/insert_tiny.sql"
# CPU time (clock ticks) of the server: the postmaster, its live children
# and the ones it has reaped.  Per row, it says where the time goes even when
# other work on the machine moves the rates.
server_ticks() {
  local pm t
  pm=$(head -n 1 "$pgdir/data/postmaster.pid")
  t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
  for c in $(pgrep -P "$pm"); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
per_row_us() { # ticks rows
  awk -v c="$1" -v hz="$(getconf CLK_TCK)" -v n="$2" 'BEGIN {printf "%.0f", n ? c / hz * 1e6 / n : 0}'
}
# Prints "tps server-us-per-row".
run_pgbench() {
  local s0 s1 out
  s0=$(server_ticks)
  out=$(pgbench -h "$pgdir/run" -p "$pgport" -U postgres -n -M prepared -c "$clients" -j 2 \
    -T "$seconds" -D p="$(cat "$payload")" -f "$1" "$db" 2>>"$work/pgbench.err")
  sleep 0.5 # pgbench's backends have exited: let the postmaster reap them into its children's time
  s1=$(server_ticks)
  local tps n
  tps=$(awk '/^tps/ {printf "%.0f", $3}' <<<"$out")
  n=$(awk '/number of transactions actually processed/ {print $6}' <<<"$out" | cut -d/ -f1)
  echo "$tps $(per_row_us $((s1 - s0)) "$n")"
}

# Warm the pool and the prepared statements.
wrk -t2 -c"$clients" -d2s -s "$work/post.lua" "http://127.0.0.1:$port" >/dev/null
# The machine is shared, so the two sides alternate and each ratio is taken
# from back-to-back runs.
ratios=()
for r in $(seq 1 "$rounds"); do
  psql_ -d "$db" -c "TRUNCATE deliveries CASCADE" >/dev/null 2>&1
  cpu0=$(awk '{print $14 + $15}' "/proc/$hostpid/stat")
  srv0=$(server_ticks)
  wrk -t2 -c"$clients" -d"${seconds}s" -s "$work/post.lua" "http://127.0.0.1:$port" >"$work/wrk.out"
  requests=$(awk '/requests in/ {print $1}' "$work/wrk.out")
  non202=$(awk '/^NON202/ {print $2}' "$work/wrk.out")
  p50=$(awk '/^P50MS/ {print $2}' "$work/wrk.out")
  p99=$(awk '/^P99MS/ {print $2}' "$work/wrk.out")
  rows=$(psql_ -d "$db" -c "SELECT count(*) FROM deliveries")
  cpu1=$(awk '{print $14 + $15}' "/proc/$hostpid/stat")
  srv1=$(server_ticks)
  srv_us=$(per_row_us $((srv1 - srv0)) "$requests")
  accepted=$((requests - non202))
  host_us=$(awk -v c=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
    'BEGIN {printf "%.0f", n ? c / hz * 1e6 / n : 0}')
  rate=$(awk -v n="$accepted" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}')
  [ "$rows" -ge "$accepted" ] || echo "WARNING: fewer rows ($rows) than 202 answers ($accepted)"
  read -r pg pg_srv_us <<<"$(run_pgbench "$work/insert_payload.sql")"
  [ -n "$pg" ] || { cat "$work/pgbench.err" >&2; exit 1; }
  ratio=$(awk -v w="$rate" -v p="$pg" 'BEGIN {printf "%.0f", 100 * w / p}')
  ratios+=("$ratio")
  echo "round $r: greenroom $rate deliveries/s verified and committed (p50 ${p50} ms, p99 ${p99} ms, $non202 non-202, $rows rows, CPU per delivery: host ${host_us} us, server ${srv_us} us); pgbench same row $pg inserts/s (server CPU ${pg_srv_us} us each); ratio $ratio%"
done
pg_tiny=$(run_pgbench "$work/insert_tiny.sql" | cut -d' ' -f1)
echo "pgbench, tiny single-row insert (for scale): $pg_tiny inserts/s"
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
echo "median ratio: $median% of pgbench's single-row insert of the same row [target: at least 70%]"
kill "$hostpid" || { echo "the host died during the run:" >&2; tail -n 20 "$work/host.log" >&2; }
wait "$hostpid" || true
hostpid=""
