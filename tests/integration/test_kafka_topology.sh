#!/usr/bin/env bash
# Integration test: the kafka-topology plugin on the embedded database, over
# loopback, then with the catalog and the catalog-kafka-topology module.
#
# The directory source holds real files from ../shared/testdata/kafka/,
# copied under these names:
#   julieops/descriptor.yaml            <- julieops/descriptor.yaml
#   gitops/{state,topics,services,users}.yaml
#                                       <- kafka-gitops/confluent-cloud/*.yaml
#   strimzi/topic.yaml                  <- strimzi/kafka-topic.v1beta2.yaml
#   plans/invalid-topic.yaml            <- kafka-gitops/plans/invalid-topic.yaml
# plus a plain-format file written here (cluster prod with two brokers, a
# topic asking for replication factor 3) and a malformed YAML file.
#
#  - clusters, topics (search, paging), a topic's producers and consumers,
#    a service's reads and writes, a cluster's graph, with their counts;
#  - problems with file:line: the YAML syntax error, the replication factor
#    above the broker count, the invalid kafka-gitops state;
#  - bad input answers 4xx;
#  - the status and the model survive a restart (the model is loaded from
#    the database: the graph is byte for byte the same before any sync);
#  - a git source (a repository made here) syncs through the shared source code;
#  - with the catalog: each topic is a Resource of type kafka-topic and the
#    Components that produce or consume it get dependsOn relations, also a
#    Component added after the topics were mapped (and a removed one loses
#    them); turning the mapping off withdraws the Resources.
# Needs: git, jq, curl.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

td="$GR_SOURCE_DIR/../shared/testdata/kafka"
src="$work/kafka"
mkdir -p "$src/julieops" "$src/gitops" "$src/strimzi" "$src/plans" "$src/plain" "$src/broken" \
  "$src/drafts"
cp "$td/julieops/descriptor.yaml" "$src/julieops/descriptor.yaml"
for f in state topics services users; do
  cp "$td/kafka-gitops/confluent-cloud/$f.yaml" "$src/gitops/$f.yaml"
done
cp "$td/strimzi/kafka-topic.v1beta2.yaml" "$src/strimzi/topic.yaml"
cp "$td/kafka-gitops/plans/invalid-topic.yaml" "$src/plans/invalid-topic.yaml"
# Line 10 asks for replication factor 3 on a two-broker cluster.
cat >"$src/plain/prod.yaml" <<'EOF'
clusters:
  - name: prod
    bootstrap: kafka-1.prod:9092
    brokers:
      - {id: 1, host: kafka-1.prod, rack: eu-1a}
      - {id: 2, host: kafka-2.prod, rack: eu-1b}
topics:
  - name: orders
    partitions: 12
    replicationFactor: 3
    config: {cleanup.policy: compact}
  - name: payments
    partitions: 6
    replicationFactor: 2
services:
  - name: orders-api
    produces: [orders]
  - name: billing
    consumes: [orders]
    produces: [payments]
  - name: auditor
    principal: User:auditor
    consumes: [payments]
EOF
# A YAML syntax error: the key at line 4, column 3 breaks the list.
printf 'topics:\n  - name: fine\n    partitions: 1\n  partitions: 3\n  - name: other\n' >"$src/broken/bad.yaml"
# Excluded by the config: never read.
printf 'topics:\n  - {name: draft-topic}\n' >"$src/drafts/wip.yaml"
chmod -R o+rX "$src"

write_config() { # $1: modules, $2: source block, $3: catalog mapping on/off
  cat >"$work/app-config.yaml" <<EOF
backend:
  listen: { host: 127.0.0.1, port: 0 }
  database: { client: embedded }
modules: [$1]
catalog:
  providers:
    centralConfig:
      components:
        source: { type: directory, path: $work/components }
        schedule: { frequency: { hours: 1 }, initialDelay: { hours: 1 } }
kafkaTopology:
  source: $2
  exclude: ['drafts/**']
  schedule: { frequency: { hours: 1 }, initialDelay: { hours: 1 } }
  catalogMapping: { enabled: $3, owner: 'group:default/kafka-platform' }
EOF
}

kt() { curl -s --max-time 10 "http://127.0.0.1:$port/api/kafka-topology$1"; }
kt_code() { curl -s -o /dev/null --max-time 10 -w '%{http_code}' "http://127.0.0.1:$port/api/kafka-topology$1"; }
refresh() { curl -s -o /dev/null -w '%{http_code}' -X POST --max-time 10 "http://127.0.0.1:$port/api/kafka-topology/refresh"; }
# Waits until the status's lastAttempt differs from $1 and no sync runs.
wait_sync() {
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || { fail "the host died during a sync"; finish; }
    local s
    s=$(kt /status)
    if [ "$(jq -r '.running' <<<"$s")" = "false" ] && [ "$(jq -r '.lastAttempt' <<<"$s")" != "$1" ]; then
      return 0
    fi
    sleep 0.1
  done
  fail "the sync did not finish"
}

# ---- the plugin alone ----------------------------------------------------------------------
write_config "kafka-topology" "{ type: directory, path: $src }" false
start_host -c "$work/app-config.yaml"

check_eq "$(kt /status | jq -r .status)" "pending" "status before the first sync is pending"
check_eq "$(kt /clusters | jq -c .clusters)" "[]" "no clusters before the first sync"
check_eq "$(refresh)" "202" "POST refresh answers 202"
wait_sync null
st=$(kt /status)
check_eq "$(jq -r .status <<<"$st")" "succeeded" "the sync succeeded"
check_eq "$(jq -r .files <<<"$st")" "9" "9 files read (drafts/ excluded)"
check_eq "$(jq -c '[.counts.clusters, .counts.topics, .counts.brokers]' <<<"$st")" "[5,9,2]" \
  "status counts: 5 clusters, 9 topics, 2 brokers"
check_eq "$(jq -r '.generation' <<<"$st")" "1" "first stored generation"
check_eq "$(jq -r '.durationMs >= 0 and .timings.storeMs >= 0' <<<"$st")" "true" "sync timings"

# Clusters, each with its topics.
cl=$(kt /clusters)
check_eq "$(jq -r '[.clusters[].name] | sort | join(",")' <<<"$cl")" \
  "default,gitops,my-cluster,plans,prod" "clusters by name"
check_eq "$(jq -c '.clusters[] | select(.name=="prod") | [.topics, .services, (.brokers|length), .bootstrap]' <<<"$cl")" \
  '[2,3,2,"kafka-1.prod:9092"]' "prod: 2 topics, 3 services, 2 brokers"
check_eq "$(jq -c '.clusters[] | select(.name=="default") | .topics' <<<"$cl")" "5" \
  "default (JulieOps): 5 topics"

# Topics: search, cluster filter, paging.
all=$(kt '/topics?limit=1000')
check_eq "$(jq -r .totalItems <<<"$all")" "9" "9 topics in all"
check_eq "$(kt '/topics?q=PROJECTC' | jq -r '[.items[].name] | join(",")')" \
  "context.company.env.source.projectC.topicE,context.company.env.source.projectC.topicF" \
  "search is case-insensitive on the name"
check_eq "$(kt '/topics?cluster=prod' | jq -r '[.items[].name] | join(",")')" "orders,payments" \
  "topics of one cluster"
p1=$(kt '/topics?limit=4&offset=0' | jq -r '[.items[].name] | join(",")')
p3=$(kt '/topics?limit=4&offset=8')
check_eq "$(jq -r '.items | length' <<<"$p3")" "1" "the last page holds the rest"
check_eq "$(jq -r '.totalItems' <<<"$p3")" "9" "every page counts every match"
check_not_contains "$p1" "$(jq -r '.items[0].name' <<<"$p3")" "pages do not overlap"

# A topic with its producers and consumers.
tp=$(kt /topics/prod/orders)
check_eq "$(jq -c '[.partitions, .replicationFactor, .config["cleanup.policy"], .file, .line]' <<<"$tp")" \
  '[12,3,"compact","plain/prod.yaml",8]' "topic prod/orders: settings and position"
check_eq "$(jq -r '[.producers[].name] | join(",")' <<<"$tp")" "orders-api" "orders: producers"
check_eq "$(jq -r '[.consumers[].name] | join(",")' <<<"$tp")" "billing" "orders: consumers"
jtp=$(kt /topics/default/context.company.env.source.projectA.foo)
check_eq "$(jq -r '[.consumers[].name] | sort | join(",")' <<<"$jtp")" \
  "User:App0,User:App1" "JulieOps topic: the project's consumers"
check_eq "$(jq -r '[.producers[].name] | sort | join(",")' <<<"$jtp")" \
  "User:App3,User:App4" "JulieOps topic: the project's producers"
# Streams and connectors name topics in full: "topicA" is another topic,
# referenced and defined nowhere.
ext=$(kt /topics/default/topicA)
check_eq "$(jq -c '[.defined, ([.consumers[].name] | sort)]' <<<"$ext")" \
  '[false,["User:Connect1","User:Streams0"]]' "a topic only referenced: its consumers"

# A service: what it writes and reads.
svc=$(kt /services/billing)
check_eq "$(jq -c '[[.produces[].topic], [.consumes[].topic], .kind]' <<<"$svc")" \
  '[["payments"],["orders"],"application"]' "billing writes payments, reads orders"
check_eq "$(kt /services/my-test-service | jq -c '[.consumes[] | .cluster + "/" + .topic]')" \
  '["gitops/my-test-topic"]' "kafka-gitops service reads its topic"
check_eq "$(kt '/services/User:Streams0' | jq -r .kind)" "kafka-streams" "a principal name with a colon"

# The graph of a cluster: every topic and every service touching it.
g=$(kt /clusters/prod/graph)
check_eq "$(jq -c '[(.nodes|length), (.edges|length)]' <<<"$g")" "[5,4]" "prod graph: 5 nodes, 4 edges"
check_eq "$(jq -r '[.edges[].data | .source + ">" + .target] | sort | join(" ")' <<<"$g")" \
  "principal:billing>topic:prod/payments principal:orders-api>topic:prod/orders topic:prod/orders>principal:billing topic:prod/payments>principal:auditor" \
  "prod graph edges follow the data"
gd=$(kt /clusters/default/graph)
check_eq "$(jq -r '.nodes | length' <<<"$gd")" "18" "default graph: 18 nodes"
check_eq "$(jq -r '[.nodes[] | select(.data.kind=="topic" and .data.external != true)] | length' <<<"$gd")" \
  "5" "default graph: its 5 defined topics"
check_eq "$(kt /graph | jq -r '.nodes | length')" \
  "$(( $(jq '.nodes|length' <<<"$gd") + $(kt /clusters/gitops/graph | jq '.nodes|length') + $(jq '.nodes|length' <<<"$g") + $(kt /clusters/my-cluster/graph | jq '.nodes|length') + $(kt /clusters/plans/graph | jq '.nodes|length') ))" \
  "the whole graph is the clusters' graphs together"

# Problems, each with its file and line.
probs=$(jq -r '.problems[] | .where + " " + .check' <<<"$st")
check_contains "$probs" "broken/bad.yaml:4:3 syntax" "the malformed file: syntax error at 4:3"
check_contains "$probs" "plain/prod.yaml:10:24 replication-factor" \
  "replication factor 3 on two brokers, at its line"
check_contains "$(jq -r '.problems[] | select(.check=="replication-factor") | .message' <<<"$st")" \
  "cluster 'prod' has 2 brokers" "the replication problem says why"
check_contains "$probs" "plans/invalid-topic.yaml:3:5 invalid" "the invalid kafka-gitops state: no partitions"
check_eq "$(jq -r '.counts.problems == (.problems | length)' <<<"$st")" "true" "every problem listed"

# Bad input.
check_eq "$(kt_code '/topics?limit=0')" "400" "limit=0 is refused"
check_eq "$(kt_code '/topics?offset=-1')" "400" "a negative offset is refused"
check_eq "$(kt '/topics?limit=x' | jq -r .error.name)" "InputError" "errors are Backstage's JSON"
check_eq "$(kt_code '/topics?cluster=nope')" "404" "an unknown cluster filter is 404"
check_eq "$(kt_code /topics/prod/nope)" "404" "an unknown topic is 404"
check_eq "$(kt_code /clusters/nope/graph)" "404" "an unknown cluster's graph is 404"
check_eq "$(kt_code /services/nobody)" "404" "an unknown service is 404"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/kafka-topology/nothing")" "404" "an unknown route is 404"

# ---- restart: the status and the model come back from the database ----------------------
attempt=$(jq -r .lastAttempt <<<"$st")
graph_before=$(kt /graph | md5sum)
stop_host
start_host -c "$work/app-config.yaml"
wait_for_log "loaded the stored model (generation 1)" "the stored model is loaded at start"
after=$(kt /status)
check_eq "$(jq -r .lastAttempt <<<"$after")" "$attempt" "the status survives a restart"
check_eq "$(jq -r '.problems | length' <<<"$after")" "$(jq -r '.problems | length' <<<"$st")" "problems survive a restart"
check_eq "$(kt /graph | md5sum)" "$graph_before" "the graph after a restart is the same bytes"
check_eq "$(kt /services/billing | jq -c '[.produces[].topic]')" '["payments"]' "services after a restart"
check_eq "$(jq -r '.model.generation' <<<"$after")" "1" "the model served is generation 1"
stop_host

# ---- a git source: the central-config provider's source code -----------------------------------
origin="$work/origin"
git init -q -b main "$origin"
cp "$src/plain/prod.yaml" "$origin/prod.yaml"
git -C "$origin" -c user.name=t -c user.email=t@example.com add -A >/dev/null 2>&1
git -C "$origin" -c user.name=t -c user.email=t@example.com commit -q -m one >/dev/null 2>&1
write_config "kafka-topology" "{ type: git, url: $origin, branch: main }" false
start_host -c "$work/app-config.yaml"
before=$(kt /status | jq -r .lastAttempt)
check_eq "$(refresh)" "202" "refresh with a git source"
wait_sync "$before"
gs=$(kt /status)
check_eq "$(jq -r .status <<<"$gs")" "succeeded" "the git sync succeeded"
check_eq "$(jq -r .source.revision <<<"$gs")" "$(git -C "$origin" rev-parse HEAD)" "the status names the commit"
check_eq "$(kt '/topics?limit=1000' | jq -r '[.items[].name] | join(",")')" "orders,payments" \
  "the git source's topics replace the directory's"
check_eq "$(jq -r .generation <<<"$gs")" "2" "the second stored generation"
stop_host

# ---- with the catalog: topics as Resources, dependsOn from Components --------------------
mkdir -p "$work/components"
cat >"$work/components/components.yaml" <<'EOF'
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: billing }
spec: { type: service, lifecycle: production, owner: group:default/payments }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: order-intake
  annotations: { greenroom.dev/kafka-principal: orders-api }
spec: { type: service, lifecycle: production, owner: group:default/orders }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: app0 }
spec: { type: service, lifecycle: production, owner: group:default/orders }
EOF
chmod -R o+rX "$work/components"
write_config "catalog, catalog-provider-central-config, kafka-topology, catalog-kafka-topology" \
  "{ type: directory, path: $src }" true
start_host -c "$work/app-config.yaml"
cat_api() { curl -s --max-time 10 "http://127.0.0.1:$port/api/catalog$1"; }
cat_code() { curl -s -o /dev/null --max-time 10 -w '%{http_code}' "http://127.0.0.1:$port/api/catalog$1"; }
# The stored model is mapped at start already; sync the Components, then
# the topology, so the mapping sees them.
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/api/central-config/refresh"
wait_for_body '"status":"succeeded"' /api/central-config/last-sync "the Components are synced"
before=$(kt /status | jq -r .lastAttempt)
refresh >/dev/null
wait_sync "$before"
for _ in $(seq 1 100); do
  [ "$(kt /status | jq -r '.catalogMapping.last.generation')" = "$(kt /status | jq -r .model.generation)" ] && break
  sleep 0.1
done
orders=$(cat_api /entities/by-name/resource/prod/orders)
check_eq "$(jq -r '.kind + " " + .spec.type' <<<"$orders")" "Resource kafka-topic" "prod/orders is a Resource of type kafka-topic"
check_eq "$(jq -r '.metadata.annotations["greenroom.dev/kafka-cluster"]' <<<"$orders")" "prod" "annotation: cluster"
check_eq "$(jq -r '.metadata.annotations["greenroom.dev/kafka-source"]' <<<"$orders")" "plain/prod.yaml:8" "annotation: source file and line"
check_eq "$(jq -r '.metadata.annotations["backstage.io/managed-by-location"]' <<<"$orders")" "file:$src/plain/prod.yaml" "managed-by-location names the file"
check_eq "$(jq -r '[.relations[] | .type + " " + .targetRef] | sort | join(",")' <<<"$orders")" \
  "dependencyOf component:default/billing,dependencyOf component:default/order-intake,ownedBy group:default/kafka-platform" \
  "orders: dependencyOf the Components producing and consuming it"
check_eq "$(cat_api /entities/by-name/component/default/billing | jq -r '[.relations[] | select(.type=="dependsOn") | .targetRef] | sort | join(",")')" \
  "resource:prod/orders,resource:prod/payments" "billing dependsOn the topics it reads and writes"
check_eq "$(cat_api /entities/by-name/component/default/order-intake | jq -r '[.relations[] | select(.type=="dependsOn") | .targetRef] | join(",")')" \
  "resource:prod/orders" "a Component matched by its kafka-principal annotation"
check_eq "$(cat_api /entities/by-name/component/default/app0 | jq -r '[.relations[] | select(.type=="dependsOn") | .targetRef] | sort | join(",")')" \
  "resource:default/context.company.env.source.projecta.bar.avro,resource:default/context.company.env.source.projecta.foo" \
  "User:App0 matches the Component app0 (relation refs are lower case)"
check_eq "$(cat_api '/entities?filter=kind=resource,spec.type=kafka-topic&fields=metadata.name' | jq length)" "9" \
  "every topic is a Resource"
check_eq "$(cat_api /entities/by-name/resource/gitops/my-test-topic | jq -r .metadata.title)" "my-test-topic" "the kafka-gitops topic, in its cluster's namespace"
ms=$(kt /status | jq -c .catalogMapping.last)
check_eq "$(jq -c '[.status, .resources, .matchedServices, .dependencyOf]' <<<"$ms")" '["succeeded",9,3,5]' \
  "the mapping's report in the plugin's status"
# A Component added later (the auditor service reads payments) gets its
# relation without another topology sync: the module sees the Components
# change (it looks every 10 s).
remaps=$(grep -c "mapping the topics again" "$log")
cat >>"$work/components/components.yaml" <<'EOF'
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: auditor }
spec: { type: service, lifecycle: production, owner: group:default/payments }
EOF
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/api/central-config/refresh"
for _ in $(seq 1 250); do
  case "$(cat_api /entities/by-name/component/default/auditor)" in *resource:prod/payments*) break ;; esac
  sleep 0.1
done
check_eq "$(cat_api /entities/by-name/component/default/auditor | jq -r '[.relations[] | select(.type=="dependsOn") | .targetRef] | join(",")')" \
  "resource:prod/payments" "a Component added after the mapping gets its dependsOn relation"
check_eq "$(grep -c "mapping the topics again" "$log")" "$((remaps + 1))" "one change of the Components, one mapping again"
# Removed again, it leaves the topic's dependencyOf list the same way.
head -n -5 "$work/components/components.yaml" >"$work/components/next.yaml"
mv "$work/components/next.yaml" "$work/components/components.yaml"
chmod -R o+rX "$work/components"
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/api/central-config/refresh"
for _ in $(seq 1 250); do
  case "$(cat_api /entities/by-name/resource/prod/payments)" in *component:default/auditor*) sleep 0.1 ;; *) break ;; esac
done
check_eq "$(cat_api /entities/by-name/resource/prod/payments | jq -r '[.spec.dependencyOf[]] | sort | join(",")')" \
  "component:default/billing" "a Component removed after the mapping leaves the topic's dependencyOf"
stop_host

# Turned off, the mapping withdraws its Resources at start.
write_config "catalog, catalog-provider-central-config, kafka-topology, catalog-kafka-topology" \
  "{ type: directory, path: $src }" false
start_host -c "$work/app-config.yaml"
for _ in $(seq 1 100); do
  [ "$(cat_code /entities/by-name/resource/prod/orders)" = "404" ] && break
  sleep 0.1
done
check_eq "$(cat_code /entities/by-name/resource/prod/orders)" "404" "mapping off: the Resources are withdrawn"
check_eq "$(cat_api /entities/by-name/component/default/billing | jq -r '[.relations[] | select(.type=="dependsOn")] | length')" \
  "0" "mapping off: the dependsOn relations go with them"
stop_host

finish
