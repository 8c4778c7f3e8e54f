#!/usr/bin/env bash
# Outbound HTTP client throughput: GETs per second against a loopback server
# at several concurrency levels (keep-alive connections, one client loop).
#
#   bench/http_client_bench.sh [requests-per-run]
#
# Builds with the project's CMake build (GR_BUILD_DIR, default build-bench,
# Release) and links the bench against the core library and the test
# support library that holds the loopback server.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${GR_BUILD_DIR:-build-bench}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target greenroom_core gr_test_support >/dev/null
# Link flags the way CMake links the core (pkg-config names as in CMakeLists.txt).
libs=$(pkg-config --libs libuv libcurl json-c yaml-0.1 libpq openssl)
cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Icore -I"$build/generated" -Itests/unit/support \
  bench/http_client_bench.c "$build/tests/libgr_test_support.a" "$build/libgreenroom_core.a" \
  $libs -lhttp_parser -ldl -lm -lpthread -o "$build/http_client_bench"
echo "machine: $(nproc) cores, $(uname -sr), libcurl $(pkg-config --modversion libcurl)"
"$build/http_client_bench" "${1:-20000}"
