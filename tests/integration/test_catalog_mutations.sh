#!/usr/bin/env bash
# Integration test: the catalog.entity-provider extension point itself,
# driven through the fixture module catalog-probe.so next to the
# central-config provider: full and delta mutations, refused entities
# (invalid, duplicate, owned by another provider), re-stitched relations,
# status documents; and the host's second routers (fixture mounter.so).
# Needs: jq, curl.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

repo="$work/repo"
mkdir -p "$repo"
cat >"$repo/org.yaml" <<'YAML'
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: owners }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: shared }
spec: { type: service, lifecycle: production, owner: owners }
YAML
cat >"$work/app-config.yaml" <<YAML
backend:
  listen: { host: 127.0.0.1, port: 0 }
modules:
  - catalog
  - catalog-provider-central-config
  - path: $GR_FIXTURE_MODULE_DIR/catalog-probe.so
  - path: $GR_FIXTURE_MODULE_DIR/mounter.so
catalog:
  providers:
    centralConfig:
      repo:
        source: { type: directory, path: $repo }
YAML

probe() { curl -s --max-time 10 -X POST -H 'Content-Type: application/json' -d "$2" "http://127.0.0.1:$port/api/catalog/probe/$1"; }
api() { curl -s --max-time 10 "http://127.0.0.1:$port/api/catalog$1"; }
code_of() { curl -s -o /dev/null --max-time 10 -w '%{http_code}' "http://127.0.0.1:$port/api/catalog$1"; }
component() { # name, description
  printf '{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"%s","description":"%s"},"spec":{"type":"service","lifecycle":"production","owner":"owners"}}' "$1" "$2"
}
owner_relations() { api /entities/by-name/group/default/owners | jq -r '[.relations[] | select(.type == "ownerOf") | .targetRef] | join(",")'; }

start_host -c "$work/app-config.yaml"
wait_for_body '"status":"succeeded"' /api/central-config/last-sync "the central-config provider synced at start"

# ---- a full mutation with refused entities ------------------------------------------
invalid='{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"no-lifecycle"},"spec":{"type":"service","owner":"owners"}}'
r=$(probe full "{\"entities\":[$(component alpha one),$invalid,$(component alpha again),$(component shared mine)]}")
check_eq "$(jq -c '{added, updated, removed, unchanged}' <<<"$r")" '{"added":1,"updated":0,"removed":0,"unchanged":0}' "full: one entity added"
check_eq "$(jq -r '[.rejected[].index] | sort | join(",")' <<<"$r")" "1,2,3" "full: the invalid, the duplicate and the foreign entity are refused by index"
check_eq "$(jq -r '.rejected[] | select(.index == 1) | .path' <<<"$r")" "spec.lifecycle" "the refusal names the field"
check_contains "$(jq -r '.rejected[] | select(.index == 2) | .message' <<<"$r")" "appears twice" "the duplicate's refusal says so"
check_contains "$(jq -r '.rejected[] | select(.index == 3) | .message' <<<"$r")" "already provided by 'central-config:repo'" "the owner keeps a contested entity"
check_eq "$(api /entities/by-name/component/default/shared | jq -r .metadata.description)" "null" "the contested entity is the owner's version"
check_eq "$(api /entities/by-name/component/default/alpha | jq -r .metadata.description)" "one" "the first of two duplicates wins"
check_eq "$(owner_relations)" "component:default/alpha,component:default/shared" "the group from the other provider gains ownerOf"

# The same full mutation again changes nothing.
r=$(probe full "{\"entities\":[$(component alpha one)]}")
check_eq "$(jq -c '{added, updated, removed, unchanged}' <<<"$r")" '{"added":0,"updated":0,"removed":0,"unchanged":1}' "full again: unchanged"
etag=$(api /entities/by-name/component/default/alpha | jq -r .metadata.etag)
uid=$(api /entities/by-name/component/default/alpha | jq -r .metadata.uid)

# ---- delta mutations ----------------------------------------------------------------------
r=$(probe delta "{\"added\":[$(component alpha two),$(component beta b)]}")
check_eq "$(jq -c '{added, updated, removed, unchanged}' <<<"$r")" '{"added":1,"updated":1,"removed":0,"unchanged":0}' "delta: one added, one updated"
after=$(api /entities/by-name/component/default/alpha)
check_eq "$(jq -r .metadata.description <<<"$after")" "two" "delta: the update is served"
check_eq "$(jq -r .metadata.uid <<<"$after")" "$uid" "an updated entity keeps its uid"
check_eq "$(jq -r '.metadata.etag != "'"$etag"'"' <<<"$after")" "true" "an updated entity gets a new etag"
r=$(probe delta '{"removed":["COMPONENT:default/Beta","component:default/shared","component:default/never"]}')
check_eq "$(jq -c '{added, updated, removed}' <<<"$r")" '{"added":0,"updated":0,"removed":1}' "delta: removes its own entity only"
check_eq "$(code_of /entities/by-name/component/default/beta)" "404" "delta: the removed entity is gone"
check_eq "$(code_of /entities/by-name/component/default/shared)" "200" "delta: another provider's entity stays"
check_eq "$(api '/entities?filter=relations.ownedby=group:default/owners&fields=metadata.name' | jq -r 'map(.metadata.name) | sort | join(",")')" \
  "alpha,shared" "relation filters follow the mutations"

# ---- a full mutation removes what the provider no longer emits -------------------------
r=$(probe full '{"entities":[]}')
check_eq "$(jq -c '{added, removed}' <<<"$r")" '{"added":0,"removed":1}' "full with nothing: everything of the provider removed"
check_eq "$(owner_relations)" "component:default/shared" "the group's relation to the removed entity is gone"
check_eq "$(api '/entity-facets?facet=relations.ownerOf' | jq -r '.facets["relations.ownerOf"] | map(.value) | join(",")')" \
  "component:default/shared" "relations.* search rows follow stitching"

# ---- second routers (gr_router_mount, which central-config uses) ------------------------
mounts=$(curl -s "http://127.0.0.1:$port/api/mounter/results")
check_eq "$(jq -r '.["extra-api"]' <<<"$mounts")" "mounted" "a free name is mounted"
check_eq "$(curl -s "http://127.0.0.1:$port/api/extra-api/hello")" "hello from a second router" "its routes answer under /api/<name>/"
check_contains "$(jq -r .catalog <<<"$mounts")" "plugin 'catalog'" "a loaded plugin's prefix is refused"
check_contains "$(jq -r '.["extra-api again"]' <<<"$mounts")" "mounted it first" "a name is mounted once"
check_contains "$(jq -r '.["Not An Id"]' <<<"$mounts")" "must match" "a name must be an id"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/central-config/status")" "200" "central-config's routes live on its second router"

# ---- status documents -----------------------------------------------------------------
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' -d '{"note":"hello","n":3}' "http://127.0.0.1:$port/api/catalog/probe/status")
check_eq "$code" "200" "a provider saves its status"
check_eq "$(api /probe/status | jq -S -c .)" '{"n":3,"note":"hello"}' "and reads it back"

# ---- a load larger than the tables ------------------------------------------------------
# More search rows than the tables hold: the catalog drops the search and
# relations indexes for the load and builds them again before the commit;
# what was there and what came in must both be found.
many=""
for i in $(seq 1 60); do many="$many$(component "bulk-$i" "n$i"),"; done
r=$(probe full "{\"entities\":[${many%,}]}")
check_eq "$(jq -c '{added, removed}' <<<"$r")" '{"added":60,"removed":0}' "a large full mutation adds every entity"
check_eq "$(api '/entities?filter=kind=component&fields=metadata.name' | jq length)" "61" "filters find the new entities and the other provider's"
check_eq "$(api '/entities?filter=metadata.description=n7&fields=metadata.name' | jq -r '.[0].metadata.name')" "bulk-7" "a filter on a value finds its entity"
check_eq "$(owner_relations | tr ',' '\n' | grep -c .)" "61" "the other provider's group lists every new entity"
check_eq "$(api '/entity-facets?facet=relations.ownedBy' | jq -r '.facets["relations.ownedBy"][0].count')" "61" "relation facets count them"
stop_host
finish
