#!/usr/bin/env bash
# Integration test: examples/hello-module is built out of tree against the
# installed SDK only (cmake --install, then pkg-config), and the installed
# host loads it and serves its route.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

prefix="$work/prefix"
cmake --install "$GR_BUILD_DIR" --prefix "$prefix" >"$work/install.log" 2>&1
check_eq "$?" "0" "cmake --install succeeds"
pc=$(find "$prefix" -name greenroom.pc | head -n 1)
check_contains "$pc" "pkgconfig/greenroom.pc" "the SDK installs a pkg-config file"
export PKG_CONFIG_PATH="$(dirname "$pc")"
check_contains "$(pkg-config --cflags greenroom)" "$prefix" "pkg-config points into the install prefix"

# Build the example with nothing from the source tree but its own directory.
cp -r "$GR_SOURCE_DIR/examples/hello-module" "$work/hello-src"
cmake -S "$work/hello-src" -B "$work/hello-build" >"$work/hello.log" 2>&1 &&
  cmake --build "$work/hello-build" >>"$work/hello.log" 2>&1
check_eq "$?" "0" "the example builds against the installed SDK"
if grep -rq -- "$GR_SOURCE_DIR/include" "$work/hello-build/CMakeFiles/hello.dir/flags.make"; then
  fail "the example's flags point into the source tree"
else
  pass "the example uses only the installed headers"
fi

cat >"$work/app-config.yaml" <<EOF
backend:
  listen: { host: 127.0.0.1, port: 0 }
  database: { client: none }
modules:
  - path: $work/hello-build/hello.so
hello:
  greeting: Howdy
EOF
GR_BINARY="$prefix/bin/greenroom"
start_host -c "$work/app-config.yaml"
expect_body_contains '"message":"Howdy, Ada!"' '/api/hello/greet?name=Ada'
expect_status 400 /api/hello/greet
expect_body_contains '"name":"InputError"' /api/hello/greet
expect_body_contains 'hello_greetings_total 1' /metrics
out=$("$GR_BINARY" modules list -c "$work/app-config.yaml")
check_contains "$out" "hello" "modules list reads the example's descriptor"
stop_host
finish
