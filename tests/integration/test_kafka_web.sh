#!/usr/bin/env bash
# Integration test: the Kafka topology page of the web UI in Debian's
# headless chromium, driven by playwright-core (tests/node/kafka_graph.test.mjs),
# against a host running kafka-topology on a directory of:
#   julieops/descriptor.yaml  <- ../shared/testdata/kafka/julieops/descriptor.yaml
#   plain/prod.yaml           written here: cluster prod, topics orders and
#                             payments, services orders-api, billing, auditor
# Screenshots are kept in $GR_BUILD_DIR/artifacts/kafka-graph/.
# Installs chromium (apt) and its npm packages itself; skips, saying why,
# only when chromium cannot be installed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node.sh"

browser_test_setup js/kafka.js

src="$work/kafka"
mkdir -p "$src/julieops" "$src/plain"
cp "$GR_SOURCE_DIR/../shared/testdata/kafka/julieops/descriptor.yaml" "$src/julieops/descriptor.yaml"
cat >"$src/plain/prod.yaml" <<'EOF'
clusters:
  - name: prod
    brokers:
      - {id: 1, host: kafka-1.prod}
      - {id: 2, host: kafka-2.prod}
      - {id: 3, host: kafka-3.prod}
topics:
  - name: orders
    partitions: 12
    replicationFactor: 3
    config: {cleanup.policy: compact}
  - name: payments
    partitions: 6
    replicationFactor: 3
services:
  - name: orders-api
    produces: [orders]
  - name: billing
    consumes: [orders]
    produces: [payments]
  - name: auditor
    consumes: [payments]
EOF
chmod -R o+rX "$src"
cat >"$work/app-config.yaml" <<EOF
backend:
  listen: { host: 127.0.0.1, port: 0 }
  database: { client: embedded }
modules: [kafka-topology]
kafkaTopology:
  source: { type: directory, path: $src }
  schedule: { frequency: { hours: 1 } }
EOF
start_host -c "$work/app-config.yaml"
wait_for_body '"status":"succeeded"' /api/kafka-topology/status "the topology synced"
check_eq "$(status_of /js/kafka.js)" "200" "the Kafka page's script is served"

browser_test kafka_graph.test.mjs kafka-graph "the Kafka page"
stop_host
finish
