#!/usr/bin/env bash
# Kafka topology model figures: generates a topology of N topics and M
# services in each source format (kafka-gitops in one file and split by
# settings.files, fifty JulieOps descriptors, one Strimzi multi-document
# file, the plain format) and prints the median parse, finish (interpret,
# resolve, check) and Cytoscape graph export times.
#   bench/kafka_bench.sh [topics=5000] [services=500] [runs=5]
# Builds build/ (RelWithDebInfo) first when needed.  The store and the API
# come later; their figures will join these.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${GR_BUILD_DIR:-build}"
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" --target kafka_bench -j2 >/dev/null
echo "== greenroom kafka topology benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
"$build/bench/kafka_bench" "${1:-5000}" "${2:-500}" "${3:-5}"
