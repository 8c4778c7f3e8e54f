#!/usr/bin/env bash
# Integration test: the real greenroom binary driven over loopback.
# Loads the fixture modules (tests/fixtures/modules/), checks health,
# metadata, routes, metrics, SIGHUP with a valid and an invalid config,
# graceful shutdown with a request in flight, boot failure policies and the
# CLI's config and module commands.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

fx="$GR_FIXTURE_MODULE_DIR"

write_config() { # $1 = greeting, $2 = extra yaml appended (optional)
  cat >"$work/app-config.yaml" <<EOF
backend:
  listen: { host: 127.0.0.1, port: 0 }
  database: { client: none }
  log: { level: debug }
  http: { shutdownTimeout: { seconds: 5 } }
modules:
  - path: $fx/beta.so
  - path: $fx/alpha.so
  - path: $fx/alpha-extra.so
alpha:
  greeting: "$1"
${2:-}
EOF
}

# ---- start, health, routes ------------------------------------------------
write_config "hello one"
start_host -c "$work/app-config.yaml"
expect_status 200 /.backstage/health/v1/liveness
expect_body_contains '"status":"ok"' /.backstage/health/v1/liveness
expect_status 200 /.backstage/health/v1/readiness
expect_body_contains '"extra-widget"' /api/alpha/widgets
expect_body_contains 'pong' /api/beta/ping
expect_body_contains '"greeting":"hello one"' /api/alpha/config
expect_body_contains '"mode":"fast"' /api/alpha/config # the schema's default
meta=$(get /.backstage/instanceMetadata/v1/info)
check_contains "$meta" '"pluginId":"alpha"' "metadata lists alpha"
check_contains "$meta" '"moduleId":"extra"' "metadata lists alpha's module"
check_contains "$meta" '"version":"1.2.3"' "metadata gives versions"
expect_status 404 /api/nope
expect_body_contains '"name":"NotFoundError"' /api/nope
metrics=$(get /metrics)
check_contains "$metrics" 'http_requests_total' "metrics count requests"
check_contains "$metrics" 'greenroom_event_loop_lag_seconds' "metrics show loop lag"
check_contains "$(cat "$log")" 'info  alpha alpha started with 1 widgets' "module inits before its plugin; lines name the plugin"

# ---- SIGHUP with a valid config --------------------------------------------
write_config "hello two"
kill -HUP "$pid"
wait_for_body '"greeting":"hello two"' /api/alpha/config "valid reload applied"
expect_body_contains '"reconfigured":1' /api/alpha/config

# ---- SIGHUP with an invalid config: rejected, old one kept -------------------
write_config "hello three" "  mode: reckless"
kill -HUP "$pid"
wait_for_log "reload rejected" "invalid reload rejected"
check_contains "$(cat "$log")" "alpha.mode" "rejection names the key"
expect_body_contains '"greeting":"hello two"' /api/alpha/config

# ---- a module refusing its new config keeps the old one ----------------------
write_config "hello four" "  failReconfigure: true"
kill -HUP "$pid"
wait_for_log "reconfigure failed, keeping its previous config" "module may refuse a reload"
expect_body_contains '"greeting":"hello two"' /api/alpha/config

# ---- graceful shutdown drains a request in flight ---------------------------
slow_out="$work/slow.out"
curl -s "http://127.0.0.1:$port/api/alpha/slow" >"$slow_out" &
curl_pid=$!
sleep 0.1
kill -TERM "$pid"
sleep 0.05
ready_code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/.backstage/health/v1/readiness" || true)
wait "$curl_pid"
check_eq "$(cat "$slow_out")" "slow done" "in-flight request finished during shutdown"
wait "$pid"; code=$?
check_eq "$code" "0" "clean shutdown exits 0"
check_contains "$(cat "$log")" "alpha stopping" "plugin shutdown ran"
# New connections are refused once draining starts, or answered 503.
case "$ready_code" in 000|503) pass "no readiness during shutdown ($ready_code)";; *) fail "readiness during shutdown answered $ready_code";; esac

# ---- boot failure: abort (default) ----------------------------------------------
cat >"$work/fail.yaml" <<EOF
backend:
  listen: { host: 127.0.0.1, port: 0 }
  database: { client: none }
modules:
  - path: $fx/failing.so
  - path: $fx/beta.so
  - path: $fx/alpha.so
alpha: { greeting: hi }
EOF
run_host_expect_exit 1 -c "$work/fail.yaml"
check_contains "$(cat "$log")" "the failing fixture always fails" "abort names the failure"

# ---- boot failure: continue --------------------------------------------------------
cat >"$work/continue.yaml" <<EOF
backend:
  startup:
    plugins:
      failing: { onPluginBootFailure: continue }
EOF
start_host -c "$work/fail.yaml" -c "$work/continue.yaml"
expect_status 503 /.backstage/health/v1/readiness
expect_body_contains 'the failing fixture always fails' /.backstage/health/v1/readiness
expect_body_contains '"status":"failed"' /.backstage/instanceMetadata/v1/info
expect_body_contains 'pong' /api/beta/ping
stop_host

# ---- modules by name, JSON logs, secrets redacted -----------------------------
export GR_SECRET_GREETING="very-secret-greeting"
cat >"$work/named.yaml" <<EOF
backend:
  listen: { host: 127.0.0.1, port: 0 }
  database: { client: none }
  log: { format: json }
modules: [alpha, alpha-extra]
alpha:
  greeting: { \$env: GR_SECRET_GREETING }
EOF
start_host -c "$work/named.yaml" --module-dir "$fx"
expect_body_contains '"extra-widget"' /api/alpha/widgets
check_contains "$(cat "$log")" "alpha greeting is '[REDACTED]'" "a secret from \$env is redacted in logs"
check_not_contains "$(cat "$log")" "very-secret-greeting" "the secret never reaches the log"
check_contains "$(head -n 1 "$log")" '{"timestamp":"' "json log lines"
check_contains "$(cat "$log")" '"plugin":"alpha"' "json lines name the plugin"
stop_host

# ---- an extension point nobody provides refuses start-up ---------------------------
cat >"$work/missing-point.yaml" <<EOF
backend: { listen: { port: 0 }, database: { client: none } }
modules: [alpha, uses-missing-point]
alpha: { greeting: hi }
EOF
run_host_expect_exit 1 -c "$work/missing-point.yaml" --module-dir "$fx"
check_contains "$(cat "$log")" "uses extension point 'alpha.gadgets', which its plugin did not provide" "missing extension point named"
check_contains "$(cat "$log")" "uses-missing-point.so" "and the file named"

# ---- the CLI ---------------------------------------------------------------------
out=$("$GR_BINARY" version)
check_contains "$out" "module ABI 1" "version prints the ABI"
out=$("$GR_BINARY" modules list --module-dir "$fx" 2>&1)
check_contains "$out" "alpha.extra" "modules list shows modules"
check_contains "$out" "abi=1" "modules list shows the ABI"
check_contains "$out" "depends=alpha" "modules list shows dependencies"
check_contains "$out" "bad-abi.so: built for module ABI version 999" "modules list reports bad files"

cat >"$work/bad.yaml" <<EOF
backend:
  listen: { port: not-a-port }
modules:
  - path: $fx/alpha.so
alpha: { mode: reckless }
unknownThing: 1
EOF
out=$("$GR_BINARY" config check -c "$work/bad.yaml" 2>&1); code=$?
check_eq "$code" "1" "config check fails on errors"
check_contains "$out" "bad.yaml:2:19: backend.listen.port" "port error has file:line:col and key"
check_contains "$out" "alpha.greeting" "missing required key reported"
check_contains "$out" "alpha.mode" "enum violation reported"
check_contains "$out" "unknown top-level key 'unknownThing'" "unknown top-level key warned"

export GR_TEST_SECRET="s3cret-value-123"
cat >"$work/secret.yaml" <<EOF
backend:
  database:
    client: pg
    connection:
      host: localhost
      password: \${GR_TEST_SECRET}
EOF
out=$("$GR_BINARY" config print --redact -c "$work/secret.yaml" 2>&1)
check_contains "$out" "[REDACTED]" "config print --redact hides the password"
check_not_contains "$out" "s3cret-value-123" "the secret never prints"
out=$("$GR_BINARY" config check -c "$work/app-config.yaml" 2>&1); code=$?
check_eq "$code" "0" "a good config checks"

for bad in bad-abi bad-magic no-entry undefined-symbol; do
  printf 'modules:\n  - path: %s/%s.so\n' "$fx" "$bad" >"$work/m.yaml"
  out=$("$GR_BINARY" config check -c "$work/m.yaml" 2>&1); code=$?
  check_eq "$code" "1" "config check refuses $bad"
  check_contains "$out" "$bad.so" "the refusal of $bad names the file"
done

finish
