#!/usr/bin/env bash
# Catalog benchmarks (issue 5), printed as figures:
#   1. a generated config repository of 10,000 entities (100 files of 100
#      documents: groups, users, systems, APIs, resources and components
#      with owners, systems, APIs and dependencies): time from the start of
#      a sync to every entity queryable, first sync and an unchanged re-sync;
#   2. GET /api/catalog/entities/by-name/... requests/s (wrk, loopback),
#      over 1,000 different entities;
#   3. GET /api/catalog/entities?limit=100 requests/s.
# The host runs on its embedded PostgreSQL, on the same machine.
# Usage: bench/catalog_bench.sh [build dir]   (default: build-release)
#   BENCH_SECONDS (10) and BENCH_CONNECTIONS (64) shape the wrk runs;
#   BENCH_LOG_LEVEL=debug also prints how long each step of a sync took.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-release}
GR_DEPS_EXTRA="wrk jq" scripts/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGR_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

work=$(mktemp -d /tmp/greenroom-catalog-bench.XXXXXX)
chmod o+x "$work"
hostpid=""
cleanup() {
  [ -n "$hostpid" ] && kill "$hostpid" 2>/dev/null && wait "$hostpid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# ---- the generated repository -------------------------------------------------------
repo="$work/repo"
mkdir -p "$repo"
awk -v dir="$repo" 'BEGIN {
  n = 0
  for (f = 0; f < 100; f++) {
    file = sprintf("%s/part-%03d.yaml", dir, f)
    for (d = 0; d < 100; d++) {
      if (d) print "---" > file
      i = f * 100 + d
      team = sprintf("team-%03d", i % 100)
      if (i < 100) {
        printf "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-%03d\nspec:\n  type: team\n  parent: %s\n  children: []\n", i, (i ? "team-000" : "org") > file
      } else if (i < 600) {
        printf "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: user-%04d\nspec:\n  profile: { email: user-%04d@example.com }\n  memberOf: [%s]\n", i, i, team > file
      } else if (i < 800) {
        printf "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: system-%03d\n  description: System number %d\nspec:\n  owner: %s\n", i - 600, i, team > file
      } else if (i < 1800) {
        printf "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: api-%04d\nspec:\n  type: openapi\n  lifecycle: production\n  owner: %s\n  system: system-%03d\n  definition: \"openapi: 3.0.0\"\n", i, team, i % 200 > file
      } else if (i < 2800) {
        printf "apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata:\n  name: db-%04d\nspec:\n  type: database\n  owner: %s\n  system: system-%03d\n", i, team, i % 200 > file
      } else {
        printf "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-%05d\n  description: Service number %d\n  tags: [bench, tier-%d]\n  annotations: { github.com/project-slug: acme/svc-%05d }\nspec:\n  type: service\n  lifecycle: production\n  owner: %s\n  system: system-%03d\n  providesApis: [api-%04d]\n  consumesApis: [api-%04d]\n  dependsOn: [resource:db-%04d]\n", i, i, i % 3, i, team, i % 200, 800 + i % 1000, 800 + (i + 7) % 1000, 1800 + i % 1000 > file
      }
      n++
    }
    close(file)
  }
}'
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "repository: $(ls "$repo" | wc -l) files, $(grep -c '^kind:' "$repo"/*.yaml | awk -F: '{s += $2} END {print s}') entities, $(du -sh "$repo" | cut -f1)"

port=17081
cat >"$work/app-config.yaml" <<EOF
backend:
  listen: { host: 127.0.0.1, port: $port }
  database: { client: embedded }
  log: { level: ${BENCH_LOG_LEVEL:-warn} }
  http: { maxConnections: 4096 }
modules: [catalog, catalog-provider-central-config]
catalog:
  providers:
    centralConfig:
      bench:
        source: { type: directory, path: $repo }
        schedule: { frequency: { hours: 1 }, initialDelay: { hours: 1 } }
EOF

"$build/greenroom" serve -c "$work/app-config.yaml" --state-dir "$work/state" 2>>"$work/host.log" &
hostpid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$port/.backstage/health/v1/readiness"; do sleep 0.05; done

base="http://127.0.0.1:$port"
# The last sync's status, read with bash's own /dev/tcp: the poll below runs
# every 10 ms while the sync is being measured, and a curl and a jq per poll
# took a third of this 2-core machine away from the host and its database.
# The answer's body (its last line) goes into $status.
last_sync() {
  local line
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'GET /api/central-config/last-sync HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n' >&3
  status=""
  while IFS= read -r line <&3 || [ -n "$line" ]; do status=$line; done
  exec 3<&-
}
mkfifo "$work/tick"
exec 4<>"$work/tick"
# Triggers a sync and waits until its status is saved, which happens after
# the catalog's transaction committed: every entity is then queryable.
sync_once() {
  local before t0 t1 s
  last_sync
  before=$(jq -r .lastAttempt <<<"$status")
  t0=$(date +%s%N)
  curl -s -o /dev/null -X POST "$base/api/central-config/refresh"
  while :; do
    last_sync
    s=$status
    [[ $s == *'"running":false'* && $s != *"\"lastAttempt\":\"$before\""* ]] && break
    read -r -t 0.01 -u 4 || true # a 10 ms wait without starting a process
  done
  t1=$(date +%s%N)
  echo "$1: $(((t1 - t0) / 1000000)) ms from refresh to all queryable (the sync's own duration: $(jq -r .durationMs <<<"$s") ms; $(jq -c .counts <<<"$s"))"
}
sync_once "first sync, 10,000 entities"
count=$(curl -s "$base/api/catalog/entities/by-query?limit=0" | jq .totalItems)
echo "entities served: $count"
sync_once "re-sync, nothing changed"

cat >"$work/by-name.lua" <<'EOF'
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", string.format("/api/catalog/entities/by-name/component/default/svc-%05d", 2800 + (counter % 1000)))
end
EOF
rps() { wrk -t2 -c"${BENCH_CONNECTIONS:-64}" -d"${BENCH_SECONDS:-10}"s "$@" | awk '/Requests\/sec/ {print $2}'; }
echo "by-name: $(rps -s "$work/by-name.lua" "$base/") requests/s (1,000 different components, ~1.3 KB each)"
echo "entities?limit=100: $(rps "$base/api/catalog/entities?limit=100") requests/s (~130 KB per answer)"
if [ "${BENCH_LOG_LEVEL:-}" = debug ]; then grep -E "mutation of|prepared|scanned" "$work/host.log" || true; fi
echo "host RSS after the runs: $(awk '/VmRSS/ {print $2 / 1024 " MB"}' /proc/$hostpid/status)"
