#!/usr/bin/env bash
# Integration test: the catalog's reads for other modules
# (catalog_entities_read, catalog_entities_revision), driven through the
# fixture module catalog-probe.so, which also writes the entities:
#  - a read answers the entities a Backstage filter matches, sorted by ref,
#    projected to the fields asked for, with the set's revision;
#  - the revision query answers the same revision as the read, and it stays
#    the same while nothing of the set changes (the same mutation again, a
#    change to an entity outside the set);
#  - it changes when an entity of the set is added, updated or removed;
#  - a relation stitched into an entity by another entity's change changes
#    the revision of reads whose answer holds relations, and only theirs;
#  - a filter or fields the API would refuse are refused at the call;
#  - callbacks never run inside the call; after the catalog has shut down a
#    read is answered "cancelled", once.
# Needs: jq, curl.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

cat >"$work/app-config.yaml" <<YAML
backend:
  listen: { host: 127.0.0.1, port: 0 }
modules:
  - catalog
  - path: $GR_FIXTURE_MODULE_DIR/catalog-probe.so
YAML

probe() { curl -s --max-time 10 -X POST -H 'Content-Type: application/json' -d "$2" "http://127.0.0.1:$port/api/catalog/probe/$1"; }
# read <filter> [fields]: the probe's answer to catalog_entities_read.
read_api() { curl -s --max-time 10 -G "http://127.0.0.1:$port/api/catalog/probe/entities" --data-urlencode "filter=$1" ${2:+--data-urlencode "fields=$2"}; }
read_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 -G "http://127.0.0.1:$port/api/catalog/probe/entities" --data-urlencode "filter=$1" ${2:+--data-urlencode "fields=$2"}; }
revision() { curl -s --max-time 10 -G "http://127.0.0.1:$port/api/catalog/probe/revision" --data-urlencode "filter=$1" ${2:+--data-urlencode "fields=$2"} | jq -r .revision; }
component() { # name, type, description
  printf '{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"%s","description":"%s","annotations":{"greenroom.dev/kafka-principal":"svc-%s"}},"spec":{"type":"%s","lifecycle":"production","owner":"owners"}}' "$1" "$3" "$1" "$2"
}
resource() { # name, description, dependencyOf (a ref or empty)
  printf '{"apiVersion":"backstage.io/v1alpha1","kind":"Resource","metadata":{"name":"%s","description":"%s"},"spec":{"type":"database","owner":"owners"%s}}' "$1" "$2" "${3:+,\"dependencyOf\":[\"$3\"]}"
}
group='{"apiVersion":"backstage.io/v1alpha1","kind":"Group","metadata":{"name":"owners"},"spec":{"type":"team","children":[]}}'
fields="kind,metadata.name,metadata.annotations"

start_host -c "$work/app-config.yaml"
r=$(probe full "{\"entities\":[$group,$(component beta website b),$(component alpha service a),$(resource db one)]}")
check_eq "$(jq -c '{added, rejected}' <<<"$r")" '{"added":4,"rejected":[]}' "the probe's entities are stored"

# ---- reading ------------------------------------------------------------------------------
r=$(read_api "kind=component" "$fields")
check_eq "$(jq -r '[.entities[].metadata.name] | join(",")' <<<"$r")" "alpha,beta" "a read answers the filter's entities, sorted by ref"
check_eq "$(jq -r '[.entities[] | keys | join("+")] | unique | join(",")' <<<"$r")" "kind+metadata" "the entities are projected to the fields asked for"
check_eq "$(jq -r '.entities[0].metadata | keys | join(",")' <<<"$r")" "annotations,name" "projection keeps only the listed metadata"
check_eq "$(jq -r '.entities[0].metadata.annotations["greenroom.dev/kafka-principal"]' <<<"$r")" "svc-alpha" "an annotation travels with metadata.annotations"
rev0=$(jq -r .revision <<<"$r")
check_eq "$(revision "kind=component" "$fields")" "$rev0" "the revision query answers the read's revision"
check_eq "$(read_api "kind=COMPONENT,spec.type=website" "metadata.name" | jq -c .entities)" '[{"metadata":{"name":"beta"}}]' \
  "conditions combine, values compare in any case"
check_eq "$(read_api "kind=component,spec.type=website,spec.type=service" "metadata.name" | jq -r '.entities | length')" "2" \
  "the same key twice matches either value"
whole=$(read_api "kind=group")
check_eq "$(jq -r '.entities[0].relations | map(.type + " " + .targetRef) | sort | join(",")' <<<"$whole")" \
  "ownerOf component:default/alpha,ownerOf component:default/beta,ownerOf resource:default/db" \
  "without fields a read answers the final entity, relations included"
check_eq "$(read_api "" "metadata.name" | jq -r '.entities | length')" "4" "an empty filter reads every entity"
empty=$(read_api "kind=nothing" "metadata.name")
check_eq "$(jq -c .entities <<<"$empty")" "[]" "a filter nothing matches reads an empty array"
check_eq "$(jq -r .revision <<<"$empty")" "$(revision "kind=nothing" "metadata.name")" "an empty set has a revision too"
check_eq "$(read_code "kind=" "metadata.name")" "200" "a key with an empty value is a filter"
check_eq "$(read_code "=component")" "400" "a statement without a key is refused at the call"
check_contains "$(read_api "=component")" "Invalid filter" "with Backstage's sentence"
check_eq "$(read_code "kind=component" "metadata.tags[0]")" "400" "array fields are refused at the call"

# ---- the revision -------------------------------------------------------------------------
check_eq "$(revision "kind=component" "$fields")" "$rev0" "nothing changed: the revision stays"
r=$(probe full "{\"entities\":[$group,$(component beta website b),$(component alpha service a),$(resource db one)]}")
check_eq "$(jq -r .unchanged <<<"$r")" "4" "the same mutation again changes nothing"
check_eq "$(revision "kind=component" "$fields")" "$rev0" "an unchanged mutation keeps the revision"
probe delta "{\"added\":[$(resource db two)]}" >/dev/null
check_eq "$(revision "kind=component" "$fields")" "$rev0" "a change outside the set keeps the revision"

probe delta "{\"added\":[$(component gamma service g)]}" >/dev/null
rev1=$(revision "kind=component" "$fields")
check_eq "$([ "$rev1" != "$rev0" ] && echo changed)" "changed" "adding an entity to the set changes the revision"
r=$(read_api "kind=component" "$fields")
check_eq "$(jq -r '[.entities[].metadata.name] | join(",")' <<<"$r")" "alpha,beta,gamma" "the read sees the added entity"
check_eq "$(jq -r .revision <<<"$r")" "$rev1" "and answers the new revision"

probe delta "{\"added\":[$(component alpha service changed)]}" >/dev/null
rev2=$(revision "kind=component" "$fields")
check_eq "$([ "$rev2" != "$rev1" ] && echo changed)" "changed" "updating an entity of the set changes the revision"
check_eq "$(read_api "kind=component" "metadata.description" | jq -r '.entities[0].metadata.description')" "changed" "the read sees the update"

probe delta '{"removed":["component:default/gamma"]}' >/dev/null
rev3=$(revision "kind=component" "$fields")
check_eq "$([ "$rev3" != "$rev2" ] && echo changed)" "changed" "removing an entity of the set changes the revision"
check_eq "$(read_api "kind=component" "$fields" | jq -r '[.entities[].metadata.name] | join(",")')" "alpha,beta" "the read no longer has it"
check_eq "$(revision "kind=component" "$fields")" "$rev3" "and the revision then stays"

# A Resource that alpha's relations now name: alpha itself is not changed
# by its provider (same etag), but the catalog stitches dependsOn into it.
narrow=$(revision "kind=component" "$fields")
with_rel=$(revision "kind=component" "metadata.name,relations")
whole=$(revision "kind=component")
probe delta "{\"added\":[$(resource cache c component:default/alpha)]}" >/dev/null
check_eq "$(read_api "kind=component,metadata.name=alpha" | jq -r '[.entities[0].relations[] | select(.type == "dependsOn") | .targetRef] | join(",")')" \
  "resource:default/cache" "the relation is stitched into the entity"
check_eq "$(revision "kind=component" "$fields")" "$narrow" "fields without relations: a stitched relation keeps the revision"
check_eq "$([ "$(revision "kind=component" "metadata.name,relations")" != "$with_rel" ] && echo changed)" "changed" \
  "fields with relations: a stitched relation changes the revision"
check_eq "$([ "$(revision "kind=component")" != "$whole" ] && echo changed)" "changed" \
  "the whole entity: a stitched relation changes the revision"
check_eq "$(read_api "kind=component")" "$(read_api "kind=component")" "reads of an unchanged set are identical"
stop_host

check_eq "$(grep -c 'catalog-probe: read after shutdown: canceled' "$log")" "1" "a read after the catalog's shutdown is answered cancelled, once"
check_eq "$(grep -c 'catalog-probe: revision after shutdown: canceled' "$log")" "1" "so is a revision query"
check_eq "$(grep -c 'catalog-probe: .* after shutdown' "$log")" "2" "and nothing else answers them"
finish
