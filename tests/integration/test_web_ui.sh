#!/usr/bin/env bash
# Integration test: the web UI in Debian's headless chromium, driven by
# playwright-core (tests/node/web_ui.test.mjs), against a host serving the
# web build next to its binary (no --web-dir: the build-tree default) on a
# copy of tests/fixtures/web-catalog, whose broken.yaml is a sync error.
# Screenshots are kept in $GR_BUILD_DIR/artifacts/web-ui/.
# Installs chromium (apt) and its npm packages itself; skips, saying why,
# only when chromium cannot be installed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node.sh"

[ -f "$GR_BUILD_DIR/web/index.html" ] || { fail "no web build in $GR_BUILD_DIR/web (configure with GR_BUILD_WEB=ON)"; finish; }
chromium_setup
node_tests_setup

repo="$work/config-repo"
cp -r "$GR_SOURCE_DIR/tests/fixtures/web-catalog" "$repo"
cat >"$work/app-config.yaml" <<EOF2
backend:
  listen: { host: 127.0.0.1, port: 0 }
  database: { client: embedded }
modules: [catalog, catalog-provider-central-config]
catalog:
  providers:
    centralConfig:
      fixture:
        source: { type: directory, path: $repo }
        include: ['**/*.yaml']
        schedule: { frequency: { hours: 1 } }
EOF2
start_host -c "$work/app-config.yaml"
wait_for_body '"status":"succeeded"' "/api/central-config/last-sync?provider=fixture" "the fixture repository synced"
wait_for_log "web UI: serving $(realpath "$GR_BUILD_DIR")/web at /" "the host serves the web build beside its binary by default"
check_contains "$(get /)" '<script type="module" src="js/main.js">' "GET / is the web UI"
check_eq "$(status_of /vendor/cytoscape/cytoscape.esm.min.mjs)" "200" "vendored npm files are served"

artifacts="$GR_BUILD_DIR/artifacts/web-ui"
mkdir -p "$artifacts"
if GR_BASE_URL="http://127.0.0.1:$port" GR_CONFIG_REPO="$repo" GR_ARTIFACT_DIR="$artifacts" \
  GR_CHROMIUM="$chromium_bin" GR_BROWSER_PROFILE="$work/chromium-profile" \
  node --test --test-reporter=spec "$node_dir/web_ui.test.mjs"; then
  pass "the pages work in chromium (screenshots in $artifacts)"
else
  fail "web UI in chromium: see the failed steps above (screenshots in $artifacts)"
fi
stop_host
finish
