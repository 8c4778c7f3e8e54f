#!/usr/bin/env bash
# Host benchmarks (issue 2), printed as figures:
#   1. cold start to readiness with ten modules loaded (median of 20 starts),
#   2. idle RSS after start,
#   3. requests/s on a trivial JSON route with keep-alive (wrk, 2 threads,
#      loopback) next to nginx serving a small static file, in the same run.
# Usage: bench/host_bench.sh [build dir]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
GR_DEPS_EXTRA="wrk nginx-light" scripts/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

work=$(mktemp -d /tmp/greenroom-bench.XXXXXX)
hostpid=""
nginxpid=""
cleanup() {
  [ -n "$hostpid" ] && kill "$hostpid" 2>/dev/null || true
  [ -n "$nginxpid" ] && kill "$nginxpid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=17071
{
  echo "backend:"
  echo "  listen: { host: 127.0.0.1, port: $port }"
  echo "  database: { client: none }"
  echo "  log: { level: warn }"
  echo "modules:"
  for i in $(seq 1 10); do echo "  - path: $PWD/$build/bench/modules/bench-$i.so"; done
} >"$work/app-config.yaml"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

# 1. Cold start: from exec to the first 200 from the readiness endpoint.
times=()
for _ in $(seq 1 20); do
  t0=$(date +%s%N)
  "$build/greenroom" serve -c "$work/app-config.yaml" --state-dir "$work/state" 2>>"$work/host.log" &
  hostpid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/.backstage/health/v1/readiness"; do sleep 0.001; done
  t1=$(date +%s%N)
  times+=($(((t1 - t0) / 1000)))
  kill "$hostpid"; wait "$hostpid" || true; hostpid=""
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "cold start to readiness, 10 modules: median $((sorted[10] / 1000)).$(((sorted[10] % 1000) / 100)) ms (min $((sorted[0] / 1000)) ms, max $((sorted[19] / 1000)) ms, 20 runs; includes curl polling)"

# 2. Idle RSS.
"$build/greenroom" serve -c "$work/app-config.yaml" --state-dir "$work/state" 2>>"$work/host.log" &
hostpid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$port/.backstage/health/v1/readiness"; do sleep 0.01; done
sleep 0.5
echo "idle RSS, 10 modules: $(awk '/VmRSS/ {print $2 / 1024 " MB"}' /proc/$hostpid/status)"

# 3. Throughput: greenroom's trivial JSON route against nginx's small static file.
mkdir -p "$work/nginx/html"
printf '{"ok":true}' >"$work/nginx/html/ping.json"
cat >"$work/nginx/nginx.conf" <<NGINX
daemon off;
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:17072; root $work/nginx/html; location / { default_type application/json; } }
}
NGINX
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginxpid=$!
sleep 0.5
rps() { wrk -t2 -c64 -d"${BENCH_SECONDS:-5}"s "$1" | awk '/Requests\/sec/ {print $2}'; }
g=$(rps "http://127.0.0.1:$port/api/bench-1/ping")
n=$(rps "http://127.0.0.1:17072/ping.json")
echo "requests/s, keep-alive, wrk -t2 -c64: greenroom /api/bench-1/ping $g, nginx static file $n (greenroom/nginx = $(awk -v g="$g" -v n="$n" 'BEGIN {printf "%.2f", g / n}'))"
