#!/usr/bin/env bash
# Integration test: the catalog plugin and the central-config provider on
# the embedded database, over loopback.
#
#  - a directory source made of the real Backstage files in
#    ../shared/testdata/backstage/ (copied, each named below), plus a file
#    with a YAML syntax error and a service list read by a mapping rule:
#    entities and the relations Backstage derives are served by the
#    catalog API; broken files are reported with path:line:col while the
#    rest lands; the duplicate definition is reported as a conflict;
#  - a git source (a repository this test makes with git) sees an added, a
#    changed and a deleted file across two syncs triggered by POST refresh;
#  - the sync status survives a restart;
#  - the github source, which needs the GitHub client, reports that it is
#    not available yet.
# Needs: git, jq, curl.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

td="$GR_SOURCE_DIR/../shared/testdata/backstage"
repo="$work/config-repo"
origin="$work/origin"
mkdir -p "$repo/lists" "$origin"

# ---- the directory source: real Backstage files ----------------------------------
for f in catalog-model-examples/acme/org.yaml \
         catalog-model-examples/acme/team-a-group.yaml \
         catalog-model-examples/components/artist-lookup-component.yaml \
         catalog-model-examples/components/different-namespace.yaml \
         catalog-model-examples/components/invalid-component.yaml \
         catalog-model-examples/resources/artists-db-resource.yaml \
         catalog-model-examples/systems/podcast-system.yaml \
         catalog-model-examples/domains/artists-domain.yaml \
         create-app-0.9.2/entities.yaml \
         create-app-0.9.2/org.yaml \
         janus-showcase/catalog-info.yaml \
         janus-showcase/groups-rhdh-team.yaml; do
  mkdir -p "$repo/$(dirname "$f")"
  cp "$td/$f" "$repo/$f"
done
# A YAML syntax error: its position is line 6, column 5.
printf 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: broken\n  description: [unclosed\nspec:\n  type: service\n' >"$repo/broken.yaml"
# An excluded directory: its invalid file must not be read.
mkdir -p "$repo/drafts"
printf 'kind: Component\nmetadata: {name: "not valid"}\n' >"$repo/drafts/wip.yaml"
# A service list that is not made of entities: a mapping rule reads it.
cat >"$repo/lists/services.yaml" <<'EOF'
services:
  - name: billing
    team: team-a
    description: Invoices and payments
  - name: ledger
    team: team-a
    lifecycle: production
  - name: Bad Name
    team: team-a
EOF

# ---- the git source: a repository made here -----------------------------------------
git_in() { git -C "$origin" -c user.name=test -c user.email=test@example.com "$@" >/dev/null 2>&1; }
git init -q -b main "$origin"
cat >"$origin/a.yaml" <<'EOF'
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: git-alpha }
spec: { type: service, lifecycle: production, owner: team-git }
EOF
cat >"$origin/b.yaml" <<'EOF'
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: git-beta, description: first version }
spec: { type: service, lifecycle: production, owner: team-git }
EOF
cat >"$origin/team.yaml" <<'EOF'
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-git }
spec: { type: team, children: [] }
EOF
git_in add -A && git_in commit -q -m one

cat >"$work/app-config.yaml" <<EOF
backend:
  listen: { host: 127.0.0.1, port: 0 }
  database: { client: embedded }
modules: [catalog, catalog-provider-central-config]
catalog:
  providers:
    centralConfig:
      testdata:
        source: { type: directory, path: $repo }
        include: ['**/*.yaml']
        exclude: ['drafts/**']
        mappings:
          - include: 'lists/services.yaml'
            items: services
            entity:
              apiVersion: backstage.io/v1alpha1
              kind: Component
              metadata:
                name: '{{ name }}'
                description: '{{ description }}'
                tags: [mapped]
              spec:
                type: service
                lifecycle: '{{ lifecycle | experimental }}'
                owner: 'group:default/{{ team }}'
        schedule: { frequency: { hours: 1 }, initialDelay: { hours: 1 } }
      github:
        source: { type: github, repo: acme/config, branch: main }
        schedule: { frequency: { hours: 1 }, initialDelay: { hours: 1 } }
      gitrepo:
        source: { type: git, url: $origin, branch: main }
        schedule: { frequency: { hours: 1 }, initialDelay: { hours: 1 }, timeout: { minutes: 1 } }
EOF

api() { curl -s --max-time 10 "http://127.0.0.1:$port/api/catalog$1"; }
code_of() { curl -s -o /dev/null --max-time 10 -w '%{http_code}' "http://127.0.0.1:$port/api/catalog$1"; }
sync_status() { curl -s --max-time 10 "http://127.0.0.1:$port/api/central-config/last-sync?provider=$1"; }
refresh() { curl -s -o /dev/null -w '%{http_code}' -X POST --max-time 10 "http://127.0.0.1:$port/api/central-config/refresh?provider=$1"; }
# Waits until the provider's lastAttempt differs from $2 and the run is over.
wait_sync() {
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || { fail "the host died while provider $1 synced"; finish; }
    local s
    s=$(sync_status "$1")
    if [ "$(jq -r '.running' <<<"$s")" = "false" ] && [ "$(jq -r '.lastAttempt' <<<"$s")" != "$2" ]; then
      return 0
    fi
    sleep 0.1
  done
  fail "provider $1 did not finish a sync"
}
relations_of() { api "/entities/by-name/$1" | jq -r '[.relations[] | .type + " " + .targetRef] | sort | join(",")'; }

start_host -c "$work/app-config.yaml"

# Nothing has run yet (initialDelay: 1 h): the status says so.
check_eq "$(sync_status testdata | jq -r .status)" "pending" "status before the first sync is pending"
check_eq "$(refresh testdata)" "202" "POST refresh answers 202"
wait_sync testdata null
st=$(sync_status testdata)
check_eq "$(jq -r .status <<<"$st")" "succeeded" "directory sync succeeded"

# ---- entities and relations as Backstage derives them ----------------------------
check_eq "$(code_of /entities/by-name/component/default/artist-lookup)" "200" "artist-lookup is served"
check_eq "$(api /entities/by-name/Component/default/Artist-Lookup | jq -r .metadata.name)" "artist-lookup" "by-name is case-insensitive"
check_eq "$(relations_of component/default/artist-lookup)" \
  "ownedBy group:default/team-a,partOf system:default/artist-engagement-portal" \
  "artist-lookup: ownedBy and partOf"
team_a=$(relations_of group/default/team-a)
check_contains "$team_a" "ownerOf component:default/artist-lookup" "team-a ownerOf artist-lookup (inverse relation)"
check_contains "$team_a" "ownerOf resource:default/artists-db" "team-a ownerOf artists-db"
check_contains "$team_a" "hasMember user:default/breanna.davison" "team-a hasMember (from the user's memberOf)"
check_contains "$team_a" "childOf group:default/backstage" "team-a childOf its parent"
check_contains "$(relations_of user/default/breanna.davison)" "memberOf group:default/team-a" "user memberOf"
check_contains "$(relations_of group/default/acme-corp)" "parentOf group:default/infrastructure" "acme-corp parentOf (children)"
check_contains "$(relations_of component/default/example-website)" "providesApi api:default/example-grpc-api" "providesApi"
check_contains "$(relations_of api/default/example-grpc-api)" "apiProvidedBy component:default/example-website" "apiProvidedBy (inverse)"
check_contains "$(relations_of system/default/rhdh)" "hasPart component:default/rhdh" "system hasPart"
check_eq "$(api /entities/by-name/component/alternative/different-namespace | jq -r .metadata.namespace)" "alternative" "an entity in another namespace"
uid=$(api /entities/by-name/group/default/team-a | jq -r .metadata.uid)
check_eq "$(api "/entities/by-uid/$uid" | jq -r .metadata.name)" "team-a" "by-uid finds the entity"
check_eq "$(api /entities/by-name/group/default/team-a | jq -r '.metadata.etag | length')" "64" "entities carry an etag"
check_eq "$(api /entities/by-name/group/default/team-a | jq -r '.metadata.annotations["backstage.io/managed-by-location"]')" \
  "file:$repo/catalog-model-examples/acme/team-a-group.yaml" "managed-by-location names the file"

# Filters, fields, ordering and paging as Backstage's API has them.
check_eq "$(api '/entities?filter=kind=component,spec.type=service&fields=metadata.name&order=asc:metadata.name' | jq -r '[.[].metadata.name] | join(",")')" \
  "artist-lookup,billing,different-namespace,ledger" "filter kind+spec.type, fields, order"
check_eq "$(api '/entities?filter=kind=user,relations.memberof=group:default/team-a&fields=metadata.name,metadata.namespace' | jq -r 'map(.metadata.namespace + "/" + .metadata.name) | sort | join(",")')" \
  "default/breanna.davison,default/guest,default/janelle.dawe,default/nigel.manning,development/guest" "filter on relations.memberof"
check_eq "$(api '/entities?filter=kind=domain&filter=kind=resource&fields=kind' | jq -r 'map(.kind) | sort | join(",")')" \
  "Domain,Resource" "repeated filters are OR-ed"
check_eq "$(api '/entities?filter=metadata.tags.java&fields=metadata.name' | jq -r '.[0].metadata.name')" "artist-lookup" "tag filter (key form)"
hdr=$(curl -s -D - -o /dev/null "http://127.0.0.1:$port/api/catalog/entities?limit=2&fields=metadata.name")
check_contains "$hdr" 'rel="next"' "a limited list links to the next page"
next=$(sed -n 's/^[Ll]ink: <\([^>]*\)>.*/\1/p' <<<"$hdr" | tr -d '\r')
check_eq "$(curl -s "http://127.0.0.1:$port$next" | jq length)" "2" "the next page follows the link"
facets=$(api '/entity-facets?facet=kind&facet=spec.type')
check_eq "$(jq -r '.facets.kind[] | select(.value=="Group") | .count' <<<"$facets")" "4" "entity-facets counts kinds"
check_eq "$(jq -r '.facets["spec.type"] | map(.value) | index("service") != null' <<<"$facets")" "true" "entity-facets spec.type"
q=$(api '/entities/by-query?limit=3&orderField=metadata.name,asc&fields=metadata.name')
total=$(jq -r .totalItems <<<"$q")
check_eq "$(jq -r '.items | length' <<<"$q")" "3" "by-query pages"
names=$(jq -r '[.items[].metadata.name] | join(",")' <<<"$q")
cursor=$(jq -r .pageInfo.nextCursor <<<"$q")
seen=$(jq -r '.items | length' <<<"$q")
while [ "$cursor" != "null" ] && [ -n "$cursor" ]; do
  q=$(api "/entities/by-query?limit=3&cursor=$cursor&fields=metadata.name")
  seen=$((seen + $(jq -r '.items | length' <<<"$q")))
  cursor=$(jq -r .pageInfo.nextCursor <<<"$q")
done
check_eq "$seen" "$total" "following nextCursor visits totalItems entities"
check_eq "$(jq -r '.pageInfo.prevCursor != null' <<<"$q")" "true" "a later page has a prevCursor"
check_eq "$(api '/entities/by-query?fullTextFilterTerm=LOOKUP&fullTextFilterFields=metadata.name&fields=metadata.name' | jq -r '.items[0].metadata.name')" \
  "artist-lookup" "full-text filter, case-insensitive"
refs=$(curl -s -X POST -H 'Content-Type: application/json' \
  -d '{"entityRefs":["group:default/team-a","component:default/missing","resource:default/artists-db"],"fields":["kind"]}' \
  "http://127.0.0.1:$port/api/catalog/entities/by-refs")
check_eq "$(jq -c '.items' <<<"$refs")" '[{"kind":"Group"},null,{"kind":"Resource"}]' "by-refs keeps order, null for missing"
check_contains "$(api /locations)" "\"target\":\"$repo/lists/services.yaml\"" "locations list the source files"
bad=$(curl -s -w ' %{http_code}' -X POST -H 'Content-Type: application/json' \
  -d '{"location":"url:https://example.com/x.yaml","entity":{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"x"},"spec":{"type":"service"}}}' \
  "http://127.0.0.1:$port/api/catalog/validate-entity")
check_contains "$bad" "spec.lifecycle" "validate-entity names the missing field"
check_contains "$bad" " 400" "validate-entity refuses an invalid entity with 400"

# ---- the mapping rule ------------------------------------------------------------------
billing=$(api /entities/by-name/component/default/billing)
check_eq "$(jq -r .metadata.description <<<"$billing")" "Invoices and payments" "a mapped entity takes the item's fields"
check_eq "$(jq -r .spec.lifecycle <<<"$billing")" "experimental" "a mapping default applies"
check_eq "$(api /entities/by-name/component/default/ledger | jq -r .spec.lifecycle)" "production" "a mapped field overrides the default"
check_contains "$(relations_of component/default/billing)" "ownedBy group:default/team-a" "a mapped entity has relations"

# ---- broken files are reported, the rest landed ---------------------------------------
errs=$(jq -r '.errors[].where' <<<"$st")
check_contains "$errs" "broken.yaml:6:5" "the YAML syntax error has its position"
check_contains "$errs" "catalog-model-examples/components/invalid-component.yaml:4:9" "the invalid entity name has its position"
check_contains "$errs" "lists/services.yaml:8:5" "an invalid mapped item points at its item"
check_contains "$(jq -r '.errors[].message' <<<"$st")" "conflict: user:default/guest" "a duplicate entity is a conflict"
check_contains "$(jq -r '.errors[] | select(.message | startswith("conflict")) | .where' <<<"$st")" "create-app-0.9.2/org.yaml" "the later file loses the conflict"
check_eq "$(code_of /entities/by-name/component/default/broken)" "404" "the broken file's entity is not stored"
check_eq "$(jq -r '.counts.errors' <<<"$st")" "$(jq -r '.errors | length' <<<"$st")" "counts.errors matches the list"
check_not_contains "$errs" "drafts/" "an excluded file is not read"
check_eq "$(jq -r '.counts.added' <<<"$st")" "$(jq -r '.entities' <<<"$st")" "first sync: every entity added"

# ---- the git source: add, change, delete across two syncs ------------------------------
check_eq "$(refresh gitrepo)" "202" "refresh the git provider"
wait_sync gitrepo null
g1=$(sync_status gitrepo)
check_eq "$(jq -r .status <<<"$g1")" "succeeded" "git sync succeeded$(jq -r 'if .error then ": " + .error else "" end' <<<"$g1")"
check_eq "$(jq -r .source.revision <<<"$g1")" "$(git -C "$origin" rev-parse HEAD)" "the status names the commit read"
check_eq "$(code_of /entities/by-name/component/default/git-alpha)" "200" "git: first file synced"
check_contains "$(relations_of group/default/team-git)" "ownerOf component:default/git-alpha" "git: the owner has the relation"
check_eq "$(api /entities/by-name/component/default/git-beta | jq -r .metadata.description)" "first version" "git: second file synced"

rm "$origin/a.yaml"
sed -i 's/first version/second version/' "$origin/b.yaml"
cat >"$origin/c.yaml" <<'EOF'
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: git-gamma }
spec: { type: service, lifecycle: production, owner: team-git }
EOF
git_in add -A && git_in commit -q -m two
check_eq "$(refresh gitrepo)" "202" "refresh again after a commit"
wait_sync gitrepo "$(jq -r .lastAttempt <<<"$g1")"
g2=$(sync_status gitrepo)
check_eq "$(jq -c '.counts | {added, updated, removed}' <<<"$g2")" '{"added":1,"updated":1,"removed":1}' "second git sync: one added, one changed, one deleted"
check_eq "$(code_of /entities/by-name/component/default/git-alpha)" "404" "git: the deleted file's entity is gone"
check_eq "$(api /entities/by-name/component/default/git-beta | jq -r .metadata.description)" "second version" "git: the changed file is updated"
check_eq "$(code_of /entities/by-name/component/default/git-gamma)" "200" "git: the added file's entity is there"
check_contains "$(relations_of group/default/team-git)" "ownerOf component:default/git-beta" "the owner keeps the changed entity's relation"
check_not_contains "$(relations_of group/default/team-git)" "git-alpha" "the owner lost the deleted entity's relation"
check_contains "$(relations_of group/default/team-git)" "ownerOf component:default/git-gamma" "the owner gained the new entity's relation"

# A sync with nothing changed leaves everything unchanged.
check_eq "$(refresh testdata)" "202" "refresh the directory provider again"
wait_sync testdata "$(jq -r .lastAttempt <<<"$st")"
check_eq "$(sync_status testdata | jq -c '.counts | {added, updated, removed}')" '{"added":0,"updated":0,"removed":0}' "an unchanged source changes nothing"

all=$(curl -s "http://127.0.0.1:$port/api/central-config/status")
check_eq "$(jq -r '[.providers[].providerId] | join(",")' <<<"$all")" "github,gitrepo,testdata" "status lists every provider"

# The github source needs the host's GitHub client: its syncs fail and say so.
check_eq "$(refresh github)" "202" "refresh the github provider"
wait_sync github null
gh=$(sync_status github)
check_eq "$(jq -r .status <<<"$gh")" "failed" "the github source fails"
check_contains "$(jq -r .error <<<"$gh")" "not available yet" "and says it is not available yet"
attempt=$(sync_status gitrepo | jq -r .lastAttempt)
stop_host

# ---- the status survives a restart -------------------------------------------------------
start_host -c "$work/app-config.yaml"
after=$(sync_status gitrepo)
check_eq "$(jq -r .lastAttempt <<<"$after")" "$attempt" "last-sync after a restart is the one before it"
check_eq "$(jq -c '.counts | {added, updated, removed}' <<<"$after")" '{"added":1,"updated":1,"removed":1}' "its counts survive too"
check_eq "$(code_of /entities/by-name/component/default/git-gamma)" "200" "entities survive a restart"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/central-config/last-sync?provider=nope")" "404" "an unknown provider is 404"
stop_host
finish
