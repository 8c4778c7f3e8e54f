#!/usr/bin/env bash
# Integration test: the official @backstage/catalog-client npm package
# against a running host (tests/node/catalog_client.test.mjs): getEntities,
# getEntityByRef, queryEntities, getEntitiesByRefs, getEntityFacets and
# streamEntities return exactly the entities of tests/fixtures/web-catalog.
# Installs its npm packages itself (tests/integration/node.sh).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node.sh"

node_tests_setup

start_web_catalog_host

if GR_BASE_URL="http://127.0.0.1:$port" node --test --test-reporter=spec "$node_dir/catalog_client.test.mjs"; then
  pass "@backstage/catalog-client works against the host"
else
  fail "@backstage/catalog-client: see the failed tests above"
fi

# Greenroom's own addition beside Backstage's routes: where an entity is defined.
src=$(get /api/catalog/entities/by-name/component/default/ledger/source)
check_eq "$(jq -r '.path + ":" + (.line | tostring)' <<<"$src")" "components/payments.yaml:33" "source names the file and the line of the entity"
check_eq "$(jq -r .location <<<"$src")" "file:$repo/components/payments.yaml" "source has the location ref"
check_eq "$(jq -r .provider <<<"$src")" "central-config:fixture" "source names the provider"
expect_status 404 /api/catalog/entities/by-name/component/default/half-written/source
stop_host
finish
