#!/usr/bin/env bash
# Integration test: the host under valgrind serves requests, reloads and
# shuts down with every allocation freed and no memory errors.  Skipped in
# the sanitizer build (ASan and valgrind cannot run together).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

if [ "${GR_SANITIZE:-OFF}" = "ON" ]; then
  pass "skipped under sanitizers: ASan checks this build instead"
  finish
fi
GR_DEPS_EXTRA=valgrind "$GR_SOURCE_DIR/scripts/install-deps.sh"

fx="$GR_FIXTURE_MODULE_DIR"
cat >"$work/app-config.yaml" <<EOF
backend:
  listen: { host: 127.0.0.1, port: 0 }
  database: { client: none }
modules:
  - path: $fx/alpha.so
  - path: $fx/alpha-extra.so
  - path: $fx/beta.so
alpha: { greeting: hi, slowMs: 50 }
EOF
real_binary="$GR_BINARY"
GR_BINARY="$work/valgrind-greenroom.sh"
cat >"$GR_BINARY" <<EOF
#!/bin/sh
exec valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
  --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=9 "$real_binary" "\$@"
EOF
chmod +x "$GR_BINARY"
start_host -c "$work/app-config.yaml"
expect_body_contains 'extra-widget' /api/alpha/widgets
expect_body_contains 'slow done' /api/alpha/slow
expect_status 404 /api/none
kill -HUP "$pid"
wait_for_log "config reloaded" "reload under valgrind"
stop_host
check_not_contains "$(cat "$log")" "==" "valgrind reported nothing"
finish
