#!/usr/bin/env bash
# Integration test: the github plugin's webhooks through the real binary.
#
# Part 1 (embedded database): our reference HMAC (openssl) reproduces
# GitHub's published test vector; every payload in the shared testdata,
# signed with it, is answered 202 and listed in /api/github/deliveries with
# its exact bytes stored; wrong, missing and truncated signatures get 401 and
# store nothing; a body past 25 MB gets 413 while a 2 MB one (past the host's
# 1 MiB default) is taken; a redelivery is not handed over twice; a handler
# that fails its first attempt succeeds on the retry; counters in /metrics;
# no configured secret refuses everything.
#
# Part 2 (a PostgreSQL server this test runs, client: pg): webhooks sent while
# the server is stopped are spooled, answered 202, and all present once it is
# back, also across a restart of the host itself.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

testdata="${GR_SOURCE_DIR:-$(dirname "$0")/../..}/../shared/testdata/webhooks"
fx="$GR_FIXTURE_MODULE_DIR"
secret="It's a Secret to Everybody, really"

for tool in openssl psql; do
  command -v "$tool" >/dev/null || { fail "$tool is needed (scripts/install-deps.sh installs it)"; finish; }
done

# HMAC-SHA256 of a file's exact bytes, as hex.
hmac_file() { openssl dgst -sha256 -hmac "$2" -r <"$1" | cut -d' ' -f1; }

# post FILE EVENT DELIVERY [SIGNATURE-HEADER-VALUE|-] -> prints the status code.
post() {
  local sig=${4:-"sha256=$(hmac_file "$1" "$secret")"}
  local args=(-s -o "$work/post.out" -w '%{http_code}' --max-time 60
    -H "Content-Type: application/json" -H "X-GitHub-Event: $2" -H "X-GitHub-Delivery: $3")
  [ "$sig" != "-" ] && args+=(-H "X-Hub-Signature-256: $sig")
  curl "${args[@]}" --data-binary @"$1" "http://127.0.0.1:$port/api/github/webhook"
}

# The number of recorder calls for a delivery (and subscription) in the log.
calls() { grep -c "recorder: call sub=${2:-recorder.all} delivery=$1 " "$log"; }

# ---- the reference HMAC against GitHub's published vector ------------------
vector="$testdata/signature/github-docs-test-vector.json"
field() { sed -n "s/^  \"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" "$vector"; }
vsecret=$(field secret)
vpayload=$(field payload)
printf '%s' "$vpayload" >"$work/vector.txt"
check_eq "sha256=$(hmac_file "$work/vector.txt" "$vsecret")" "$(field x_hub_signature_256)" \
  "openssl's HMAC reproduces GitHub's published signature"

# ---- part 1: the embedded database ---------------------------------------------
cat >"$work/app-config.yaml" <<EOF
backend:
  listen: { host: 127.0.0.1, port: 0 }
integrations:
  github:
    - host: github.com
      token: not-used-here
      webhookSecret: "$secret"
github:
  webhooks:
    retry: { initialDelay: 300, frequency: 200 }
    spool: { importFrequency: 200 }
modules:
  - path: $GR_MODULE_DIR/github.so
  - path: $fx/github-recorder.so
EOF
start_host -c "$work/app-config.yaml"
expect_status 200 /.backstage/health/v1/readiness

n=0
bad=0
: >"$work/sent.txt"
for f in $(find "$testdata" -name '*.json' ! -path '*/signature/*' | sort); do
  name=$(basename "$f")
  event=${name%%.*}
  n=$((n + 1))
  id="it-$n-$event"
  code=$(post "$f" "$event" "$id")
  if [ "$code" = "202" ]; then
    echo "$id $(md5sum <"$f" | cut -d' ' -f1)" >>"$work/sent.txt"
  else
    bad=$((bad + 1))
    echo "  $name: $code $(cat "$work/post.out")"
  fi
done
[ "$n" -ge 25 ] && pass "found $n testdata payloads" || fail "only $n testdata payloads found under $testdata"
check_eq "$bad" "0" "every testdata payload, signed, is answered 202"

listing=$(get "/api/github/deliveries?limit=1000")
missing=0
while read -r id _; do
  case "$listing" in *"\"deliveryId\":\"$id\""*) ;; *) missing=$((missing + 1)) ;; esac
done <"$work/sent.txt"
check_eq "$missing" "0" "every accepted delivery is listed"
check_contains "$(get '/api/github/deliveries?limit=1')" '"items":[{"deliveryId":"it-'"$n"'-' \
  "the newest delivery comes first and limit applies"
check_contains "$listing" '"event":"pull_request","action":"opened"' "event and action are listed"

# The stored payloads are the exact bytes that were signed.
sock="$work/state/postgres/run"
stored=$(psql -h "$sock" -U postgres -d backstage_plugin_github -At -F' ' \
  -c "SELECT delivery_id, md5(payload) FROM deliveries WHERE delivery_id LIKE 'it-%' ORDER BY 1" 2>&1)
check_eq "$stored" "$(sort "$work/sent.txt")" "each payload is stored byte for byte"

# Every delivery reached the catch-all subscriber exactly once.
once=0
while read -r id _; do [ "$(calls "$id")" = "1" ] && once=$((once + 1)); done <"$work/sent.txt"
check_eq "$once" "$(wc -l <"$work/sent.txt")" "each delivery is handed to recorder.all once"

# Wrong, missing and truncated signatures: 401, nothing stored.
f="$testdata/push/push.noaction.0.json"
good="sha256=$(hmac_file "$f" "$secret")"
check_eq "$(post "$f" push bad-1 "sha256=$(hmac_file "$f" "another secret")")" "401" "wrong secret -> 401"
check_contains "$(cat "$work/post.out")" "does not match" "401 says the signature does not match"
check_eq "$(post "$f" push bad-2 -)" "401" "missing signature -> 401"
check_contains "$(cat "$work/post.out")" "X-Hub-Signature-256 header is missing" "401 names the missing header"
check_eq "$(post "$f" push bad-3 "${good:0:40}")" "401" "truncated signature -> 401"
check_eq "$(post "$f" push bad-4 "${good/sha256=/sha1=}")" "401" "sha1= prefix -> 401"
printf '%s ' "$(cat "$f")" >"$work/tampered.json"
check_eq "$(post "$work/tampered.json" push bad-5 "$good")" "401" "a body changed by one byte -> 401"
check_not_contains "$(get '/api/github/deliveries?limit=1000')" '"deliveryId":"bad-' "refused deliveries are not stored"

# Body limits: past 25 MB 413; 2 MB (over the host's 1 MiB default) accepted.
head -c $((25 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$work/huge.json"
check_eq "$(post "$work/huge.json" push huge-1)" "413" "a body past 25 MB -> 413"
{ printf '{"action":"big","pad":"'; head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'x'; printf '"}'; } >"$work/big.json"
check_eq "$(post "$work/big.json" workflow_run big-1)" "202" "a 2 MB body (over the default limit) -> 202"
wait_for_body '"deliveryId":"big-1"' "/api/github/deliveries?limit=5" "the 2 MB delivery is listed"

# Malformed requests that are correctly signed.
printf 'not json' >"$work/notjson.txt"
check_eq "$(post "$work/notjson.txt" push nj-1)" "400" "a signed body that is not JSON -> 400"
check_eq "$(post "$f" 'bad event!' ev-1)" "400" "a malformed X-GitHub-Event -> 400"

# A redelivery (same X-GitHub-Delivery) is answered but not handed over again.
first=$(head -n 1 "$work/sent.txt" | cut -d' ' -f1)
first_file=$(find "$testdata" -name '*.json' ! -path '*/signature/*' | sort | head -n 1)
first_event=$(basename "$first_file"); first_event=${first_event%%.*}
check_eq "$(post "$first_file" "$first_event" "$first")" "200" "a redelivery -> 200"
check_contains "$(cat "$work/post.out")" '"status":"duplicate"' "the redelivery is reported as a duplicate"
sleep 0.3
check_eq "$(calls "$first")" "1" "the redelivery is not dispatched again"

# A burst: 40 deliveries sent at once, the last five ids twice, so they are
# stored in batches of several (one statement each) with duplicates inside a
# batch.  Every request is answered 202 or 200 (duplicate), every id stored
# once, with its bytes.  burst PREFIX WHAT
burst_file="$testdata/push/push.noaction.0.json"
burst_sig="sha256=$(hmac_file "$burst_file" "$secret")"
burst() {
  local i id pids=()
  : >"$work/burst.codes"
  for i in $(seq 1 45); do
    id="$1-$(( i > 40 ? i - 5 : i ))"
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 -H "Content-Type: application/json" \
      -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: $id" -H "X-Hub-Signature-256: $burst_sig" \
      --data-binary @"$burst_file" "http://127.0.0.1:$port/api/github/webhook" >>"$work/burst.codes" &
    pids+=($!)
  done
  wait "${pids[@]}"
  check_eq "$(grep -c '^202$' "$work/burst.codes")" "40" "$2: a burst of 40 new deliveries, each answered 202"
  check_eq "$(grep -c '^200$' "$work/burst.codes")" "5" "$2: their five redeliveries in the same burst, 200"
  check_eq "$(psql -h "$sock" -U postgres -d backstage_plugin_github -At -c \
    "SELECT count(*), count(DISTINCT delivery_id), bool_and(md5(payload) = '$(md5sum <"$burst_file" | cut -d' ' -f1)') FROM deliveries WHERE delivery_id LIKE '$1-%'")" \
    "40|40|t" "$2: the burst is stored once per id, byte for byte"
}
# With a catch-all subscriber, each is also handed to it once.
burst burst "with a subscriber"
wait_for_log "recorder: call sub=recorder.all delivery=burst-40 " "the burst reaches the subscriber"
burst_once=0
for i in $(seq 1 40); do [ "$(calls "burst-$i")" = "1" ] && burst_once=$((burst_once + 1)); done
check_eq "$burst_once" "40" "each delivery of the burst is handed to recorder.all once"

# The flaky subscriber (issues/opened) fails its first attempt, then succeeds
# (so does the testdata's own issues/opened delivery above: two of each).
for f2 in "$testdata"/issues/issues.opened.*.json; do
  check_eq "$(post "$f2" issues flaky-1)" "202" "an issues/opened delivery -> 202"
done
wait_for_log "recorder: call sub=recorder.flaky delivery=flaky-1 event=issues action=opened attempt=2" \
  "the failed handler is called again"
wait_for_body '"id":"recorder.flaky","status":"succeeded","attempts":2' "/api/github/deliveries?limit=1" \
  "the retry succeeded and is recorded with 2 attempts"
check_eq "$(calls flaky-1 recorder.flaky)" "2" "the flaky handler ran exactly twice"
check_eq "$(calls flaky-1)" "1" "the retry did not call the subscriber that had succeeded"

metrics=$(get /metrics)
check_contains "$metrics" 'github_webhooks_received_total{event="push"}' "received_total by event"
check_contains "$metrics" 'github_webhooks_rejected_total{reason="signature_invalid"} 4' "rejected: invalid signatures"
check_contains "$metrics" 'github_webhooks_rejected_total{reason="signature_missing"} 1' "rejected: missing signature"
check_contains "$metrics" 'github_webhooks_duplicate_total 6' "duplicates counted (one, and five in the burst)"
check_contains "$metrics" 'github_webhook_dispatch_total{subscriber="recorder.flaky",status="failed"} 2' "dispatch: failure counted"
check_contains "$metrics" 'github_webhook_dispatch_total{subscriber="recorder.flaky",status="succeeded"} 2' "dispatch: success counted"
check_contains "$metrics" 'http_requests_total{plugin="host",method="POST",status="413"} 1' "the 413 is counted by the host"
stop_host

# Without any webhook secret, every delivery is refused.
sed -e '/webhookSecret/d' "$work/app-config.yaml" >"$work/nosecret.yaml"
start_host -c "$work/nosecret.yaml"
check_eq "$(post "$f" push nosecret-1)" "503" "no configured secret -> 503"
check_contains "$(cat "$work/post.out")" "no webhook secret is configured" "the 503 says why"
stop_host

# Without any subscriber, batches go by the plain insert statement, which
# must skip duplicates inside a batch just the same.
sed -e '/github-recorder.so/d' "$work/app-config.yaml" >"$work/nosubscriber.yaml"
start_host -c "$work/nosubscriber.yaml"
burst plain-burst "no subscriber"
stop_host

# ---- part 2: a server the test controls, stopped and started ----------------------
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
pgdir="$work/pg"
pgport=55432
mkdir -p "$pgdir/run"
as_pg=()
if [ "$(id -u)" = "0" ]; then
  chown -R postgres: "$pgdir"
  as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups)
fi
pg_ctl_() { "${as_pg[@]}" "$bindir/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w "$@" >/dev/null 2>&1; }
"${as_pg[@]}" "$bindir/initdb" -D "$pgdir/data" -U postgres -A trust --no-sync >/dev/null 2>&1 ||
  { fail "initdb failed"; finish; }
pg_start() { pg_ctl_ -o "-k $pgdir/run -p $pgport -c listen_addresses=''" start; }
pg_stop() { pg_ctl_ -m immediate stop; }
# Whatever happens, the server goes with the test.
trap 'pg_stop; cleanup' EXIT
pg_start || { fail "the test's PostgreSQL did not start"; finish; }

cat >"$work/pg-config.yaml" <<EOF
backend:
  listen: { host: 127.0.0.1, port: 0 }
  database:
    client: pg
    connection: "host=$pgdir/run port=$pgport user=postgres dbname=postgres"
integrations:
  github:
    - host: github.com
      apps:
        - appId: 1
          privateKey: { \$file: $work/app.pem }
          webhookSecret: "$secret"
github:
  webhooks:
    spool: { importFrequency: 200 }
modules:
  - path: $GR_MODULE_DIR/github.so
  - path: $fx/github-recorder.so
EOF
openssl genrsa -out "$work/app.pem" 2048 2>/dev/null
start_host -c "$work/pg-config.yaml"
expect_status 200 /.backstage/health/v1/readiness
check_eq "$(post "$f" push up-1)" "202" "a delivery while the server is up -> 202"
check_contains "$(cat "$work/post.out")" '"status":"stored"' "it is stored at once"

pg_stop
spool="$work/state/github/webhook-spool"
down_ok=0
for i in 1 2 3 4 5; do
  code=$(post "$f" push down-$i)
  [ "$code" = "202" ] && grep -q '"status":"spooled"' "$work/post.out" && down_ok=$((down_ok + 1))
done
check_eq "$down_ok" "5" "deliveries while the server is down are spooled and answered 202"
check_eq "$(post "$f" push down-1)" "200" "a redelivery while down is a duplicate"
check_eq "$(ls "$spool" | grep -c '\.delivery$')" "5" "five spool files wait"
check_eq "$(status_of '/api/github/deliveries')" "503" "listing says 503 while the database is away"

# Stop the host too: the spool must outlive it.
stop_host
pg_start || fail "the test's PostgreSQL did not restart"
start_host -c "$work/pg-config.yaml"
for i in 1 2 3 4 5; do
  wait_for_body "\"deliveryId\":\"down-$i\"" "/api/github/deliveries?limit=100" "down-$i is present after the restart"
done
check_contains "$(get '/api/github/deliveries?limit=100')" '"deliveryId":"down-1","event":"push","action":null,"receivedAt"' "the spooled delivery keeps its event"
check_contains "$(get '/api/github/deliveries?limit=100')" '"spooled":true' "imported deliveries are marked spooled"
check_eq "$(ls "$spool" | grep -c '\.delivery$')" "0" "the spool is empty after the import"
check_eq "$(calls down-3)" "1" "a spooled delivery is handed over once, after its import"

# And while the host keeps running: down, send, up.
pg_stop
for i in 6 7 8; do post "$f" push down-$i >/dev/null; done
check_eq "$(ls "$spool" | grep -c '\.delivery$')" "3" "three more are spooled"
pg_start || fail "the test's PostgreSQL did not restart"
for i in 6 7 8; do
  wait_for_body "\"deliveryId\":\"down-$i\"" "/api/github/deliveries?limit=100" "down-$i is present once the server is back"
done
check_contains "$(get /metrics)" 'github_webhooks_spooled_total 3' "spooled deliveries are counted"
check_eq "$(psql -h "$pgdir/run" -p $pgport -U postgres -d backstage_plugin_github -At \
  -c "SELECT count(*) FROM deliveries WHERE delivery_id LIKE 'down-%'")" "8" "nothing was lost or stored twice"
stop_host
pg_stop
finish
