#!/usr/bin/env bash
# Database service figures in one run: embedded start-up time (empty and
# existing state directory), then queries/s through a plugin's pool against
# pgbench -S with the same number of clients on the same server.
#   bench/db_bench.sh [clients=8] [seconds=5] [scale=10]
# Builds build/ (RelWithDebInfo) first when needed.  Needs the postgresql
# package (server binaries and pgbench), as scripts/install-deps.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${GR_BUILD_DIR:-build}"
if [ ! -x "$build/bench/db_bench" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" --target db_bench -j2 >/dev/null
echo "== greenroom database benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs)"
"$build/bench/db_bench" "${1:-8}" "${2:-5}" "${3:-10}"
