#!/usr/bin/env bash
# Kafka topology figures (issue 6), on a generated topology of N topics and
# M services in each source format (kafka-gitops in one file and split by
# settings.files, fifty JulieOps descriptors, one Strimzi multi-document
# file, the plain format):
#   1. the model library alone: median parse, finish (interpret, resolve,
#      check) and Cytoscape graph export times (bench/kafka_bench.c);
#   2. through the real plugin on the embedded PostgreSQL: a sync's
#      durationMs from GET /api/kafka-topology/status (fetch, parse on the
#      thread pool, the whole model stored with COPY in one transaction),
#      median of several syncs per layout [aim: under 1 s];
#   3. GET /api/kafka-topology/clusters/<name>/graph latency: the first
#      request (computed on the thread pool), then warm requests timed by
#      curl and a wrk run [aim: under 50 ms].
#   bench/kafka_bench.sh [topics=5000] [services=500] [runs=5]
# Builds build-release (RelWithDebInfo) first; GR_BUILD_DIR picks another.
# BENCH_SECONDS (5) and BENCH_CONNECTIONS (8) shape the wrk runs;
# BENCH_LAYOUTS lists the layouts to sync (default: all five).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${GR_BUILD_DIR:-build-release}"
topics=${1:-5000}
services=${2:-500}
runs=${3:-5}
seconds=${BENCH_SECONDS:-5}
connections=${BENCH_CONNECTIONS:-8}
layouts=${BENCH_LAYOUTS:-gitops-1file gitops-split julieops-50 strimzi-1file plain-1file}
GR_DEPS_EXTRA="wrk" scripts/install-deps.sh
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGR_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build" --target kafka_bench greenroom kafka-topology -j2 >/dev/null
echo "== greenroom kafka topology benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
"$build/bench/kafka_bench" "$topics" "$services" "$runs"

# ---- through the plugin ---------------------------------------------------------------
work=$(mktemp -d /tmp/greenroom-kafka-bench.XXXXXX)
chmod o+x "$work"
hostpid=""
cleanup() {
  [ -n "$hostpid" ] && kill "$hostpid" 2>/dev/null && wait "$hostpid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
"$build/bench/kafka_bench" --write "$work/layouts" "$topics" "$services"
chmod -R o+rX "$work/layouts"
# One host for every layout: the source is a symbolic link switched between them.
ln -s "$work/layouts/gitops-1file" "$work/current"
cat >"$work/app-config.yaml" <<EOF
backend:
  listen: { host: 127.0.0.1, port: 0 }
  database: { client: embedded }
modules: [kafka-topology]
kafkaTopology:
  source: { type: directory, path: $work/current }
  schedule: { frequency: { hours: 1 }, initialDelay: { hours: 1 }, timeout: { minutes: 5 } }
  pollInterval: 0
EOF
"$build/greenroom" serve -c "$work/app-config.yaml" --state-dir "$work/state" \
  >"$work/host.log" 2>&1 &
hostpid=$!
port=""
for _ in $(seq 1 400); do
  port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$work/host.log" | tail -n 1)
  [ -n "$port" ] && break
  kill -0 "$hostpid" 2>/dev/null || { cat "$work/host.log"; exit 1; }
  sleep 0.05
done
[ -n "$port" ] || { echo "the host did not start"; cat "$work/host.log"; exit 1; }
api="http://127.0.0.1:$port/api/kafka-topology"

sync_once() { # prints the status document of a new sync
  local before
  before=$(curl -s "$api/status" | jq -r .lastAttempt)
  curl -s -o /dev/null -X POST "$api/refresh"
  for _ in $(seq 1 1200); do
    local s
    s=$(curl -s "$api/status")
    if [ "$(jq -r .running <<<"$s")" = "false" ] && [ "$(jq -r .lastAttempt <<<"$s")" != "$before" ]; then
      echo "$s"
      return
    fi
    sleep 0.05
  done
  echo "a sync did not finish" >&2
  exit 1
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo
echo "kafka-topology plugin, embedded PostgreSQL on this machine, median of $runs syncs per layout:"
for layout in $layouts; do
  ln -sfn "$work/layouts/$layout" "$work/current"
  : >"$work/durations"
  status=""
  for _ in $(seq 1 "$runs"); do
    status=$(sync_once)
    [ "$(jq -r .status <<<"$status")" = "succeeded" ] || { echo "$layout: $(jq -r .error <<<"$status")"; exit 1; }
    jq -r '[.durationMs, .timings.fetchMs, .timings.parseMs, .timings.prepareMs, .timings.storeMs] | @tsv' <<<"$status" >>"$work/durations"
  done
  total=$(cut -f1 "$work/durations" | median)
  parse=$(cut -f3 "$work/durations" | median)
  prepare=$(cut -f4 "$work/durations" | median)
  store=$(cut -f5 "$work/durations" | median)
  counts=$(jq -r '"\(.counts.topics) topics, \(.counts.principals) principals, \(.counts.edges) edges"' <<<"$status")
  cluster=$(curl -s "$api/clusters" | jq -r '.clusters | max_by(.topics) | .name')
  # Each sync starts computing the graphs on the thread pool; the first
  # request waits for that if it is not done, later ones are served as kept.
  first=$(curl -s -o /dev/null -w '%{time_total}' "$api/clusters/$cluster/graph")
  size=$(curl -s -o /dev/null -w '%{size_download}' "$api/clusters/$cluster/graph")
  warm=$(for _ in $(seq 1 21); do curl -s -o /dev/null -w '%{time_total}\n' "$api/clusters/$cluster/graph"; done | median)
  wrk_out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "$api/clusters/$cluster/graph" 2>&1)
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$wrk_out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$wrk_out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$wrk_out")
  printf '%-13s %s | sync %5s ms (parse %4s, prepare %3s, store %4s) | graph %s: %s KB, first %4.0f ms, warm %4.1f ms; wrk -c%s: %s req/s, p50 %s, p99 %s\n' \
    "$layout" "$counts" "$total" "$parse" "$prepare" "$store" "$cluster" "$((size / 1024))" \
    "$(awk -v t="$first" 'BEGIN {print t * 1000}')" "$(awk -v t="$warm" 'BEGIN {print t * 1000}')" \
    "$connections" "$rps" "$p50" "$p99"
done
