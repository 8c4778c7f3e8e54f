#!/usr/bin/env bash
# Builds greenroom and runs it on the demo config: an embedded PostgreSQL
# cluster under ./.greenroom, the web UI on http://127.0.0.1:7007/.
# Extra arguments go to `greenroom serve` (e.g. -c my-overrides.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
exec build/greenroom serve -c config/app-config.demo.yaml --state-dir ./.greenroom "$@"
