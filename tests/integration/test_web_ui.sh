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

browser_test_setup index.html

start_web_catalog_host
wait_for_log "web UI: serving $(realpath "$GR_BUILD_DIR")/web at /" "the host serves the web build beside its binary by default"
check_contains "$(get /)" '<script type="module" src="js/main.js">' "GET / is the web UI"
check_eq "$(status_of /vendor/cytoscape/cytoscape.esm.min.mjs)" "200" "vendored npm files are served"

browser_test web_ui.test.mjs web-ui "the web UI" GR_CONFIG_REPO="$repo"
stop_host
finish
