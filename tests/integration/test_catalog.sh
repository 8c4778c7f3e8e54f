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
#  - a github source, read through the host's GitHub client from a fake
#    GitHub (gr_test_fake_github serving a directory as acme/config):
#    its entities land, an unchanged commit costs one request answered 304,
#    an added, a changed and a deleted file fetch only the new blobs, and a
#    missing repository fails the sync with GitHub's message.
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

# Entity files for the git and github sources: a Component (a service in
# production) and a Group (a team without children).
component_file() { # path, name, owner[, description]
  printf 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: { name: %s%s }\nspec: { type: service, lifecycle: production, owner: %s }\n' \
    "$2" "${4:+, description: $4}" "$3" >"$1"
}
group_file() { # path, name[, description]
  printf 'apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: { name: %s%s }\nspec: { type: team, children: [] }\n' \
    "$2" "${3:+, description: $3}" >"$1"
}

# ---- the git source: a repository made here -----------------------------------------
git_in() { git -C "$origin" -c user.name=test -c user.email=test@example.com "$@" >/dev/null 2>&1; }
git init -q -b main "$origin"
component_file "$origin/a.yaml" git-alpha team-git
component_file "$origin/b.yaml" git-beta team-git "first version"
group_file "$origin/team.yaml" team-git
git_in add -A && git_in commit -q -m one

# ---- the github source: a fake GitHub serving a directory ------------------------------
ghdir="$work/github-repo"
mkdir -p "$ghdir/services" "$ghdir/docs"
component_file "$ghdir/catalog-info.yaml" gh-alpha team-gh
group_file "$ghdir/team.yaml" team-gh "first version"
cat >"$ghdir/services/orders.yaml" <<'EOF'
apiVersion: backstage.io/v1alpha1
kind: API
metadata: { name: gh-orders }
spec:
  type: openapi
  lifecycle: production
  owner: team-gh
  definition:
    $text: ./orders-openapi.txt
EOF
printf 'openapi: 3.0.0\n' >"$ghdir/services/orders-openapi.txt"
printf '# not read by the provider\n' >"$ghdir/docs/readme.md"
"$GR_BUILD_DIR/tests/gr_test_fake_github" --repo acme/config --branch main --dir "$ghdir" \
  --repo-document "$GR_SOURCE_DIR/../shared/testdata/github-api/rest/openapi-examples/full-repository-default-response.json" \
  >"$work/github.log" 2>&1 &
ghpid=$!
gh_url=""
for _ in $(seq 1 100); do
  gh_url=$(sed -n 's/^listening on //p' "$work/github.log")
  [ -n "$gh_url" ] && break
  sleep 0.05
done
[ -n "$gh_url" ] || { fail "the fake GitHub did not start: $(cat "$work/github.log")"; finish; }
# What the fake answered after line $1 of its log.
gh_since() { tail -n +"$(($1 + 1))" "$work/github.log"; }
gh_lines() { wc -l <"$work/github.log"; }

cat >"$work/app-config.yaml" <<EOF
backend:
  listen: { host: 127.0.0.1, port: 0 }
  database: { client: embedded }
integrations:
  github:
    - host: github.com
      apiBaseUrl: $gh_url
      token: ghp_integration_test_token
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
        source: { type: github, repo: acme/config }
        include: ['**/*.yaml']
        schedule: { frequency: { hours: 1 }, initialDelay: { hours: 1 } }
      ghmissing:
        source: { type: github, repo: acme/missing, branch: main }
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
component_file "$origin/c.yaml" git-gamma team-git
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
check_eq "$(jq -r '[.providers[].providerId] | join(",")' <<<"$all")" "ghmissing,github,gitrepo,testdata" "status lists every provider"

# ---- the github source ----------------------------------------------------------------
check_eq "$(refresh github)" "202" "refresh the github provider"
wait_sync github null
gh1=$(sync_status github)
check_eq "$(jq -r .status <<<"$gh1")" "succeeded" "github sync succeeded$(jq -r 'if .error then ": " + .error else "" end' <<<"$gh1")"
check_eq "$(jq -r .source.revision <<<"$gh1" | grep -cE '^[0-9a-f]{40}$')" "1" "the status names the commit read"
check_eq "$(jq -r .source.branch <<<"$gh1")" "main" "the repository's default branch was used"
check_eq "$(jq -r .counts.added <<<"$gh1")" "3" "github: three entities added"
check_eq "$(api /entities/by-name/component/default/gh-alpha | jq -r '.metadata.annotations["backstage.io/managed-by-location"]')" \
  "url:https://github.com/acme/config/blob/main/catalog-info.yaml" "a github entity's location is its file on GitHub"
check_contains "$(relations_of group/default/team-gh)" "ownerOf component:default/gh-alpha" "github: the owner has the relation"
check_eq "$(api /entities/by-name/api/default/gh-orders | jq -r .spec.definition)" "openapi: 3.0.0" \
  "github: a placeholder's file was fetched and read"
check_eq "$(grep -c ' /repos/acme/config/git/blobs/' "$work/github.log")" "4" "github: only the blobs the provider reads were fetched"
check_eq "$(ls "$work/state/central-config/github/github/tree/docs" 2>/dev/null | wc -l)" "0" "github: an unselected file is not mirrored"

before=$(gh_lines)
check_eq "$(refresh github)" "202" "refresh the github provider again"
wait_sync github "$(jq -r .lastAttempt <<<"$gh1")"
gh2=$(sync_status github)
check_eq "$(jq -r .status <<<"$gh2")" "succeeded" "an unchanged github sync succeeded"
check_eq "$(gh_since "$before" | sed 's/ inm=.*//')" "304 GET /repos/acme/config/commits/main" \
  "an unchanged commit costs one conditional request, answered 304"
check_eq "$(jq -c '.counts | {added, updated, removed}' <<<"$gh2")" '{"added":0,"updated":0,"removed":0}' "and changes nothing"

rm "$ghdir/catalog-info.yaml"
sed -i 's/first version/second version/' "$ghdir/team.yaml"
component_file "$ghdir/services/beta.yaml" gh-beta team-gh
before=$(gh_lines)
check_eq "$(refresh github)" "202" "refresh the github provider after a commit"
wait_sync github "$(jq -r .lastAttempt <<<"$gh2")"
gh3=$(sync_status github)
check_eq "$(jq -c '.counts | {added, updated, removed}' <<<"$gh3")" '{"added":1,"updated":1,"removed":1}' "github: one added, one changed, one deleted"
check_eq "$(gh_since "$before" | grep -c ' /repos/acme/config/git/blobs/')" "2" "github: only the changed and the added blob were fetched"
check_eq "$(code_of /entities/by-name/component/default/gh-alpha)" "404" "github: the deleted file's entity is gone"
check_eq "$(api /entities/by-name/group/default/team-gh | jq -r .metadata.description)" "second version" "github: the changed file is updated"
check_eq "$(code_of /entities/by-name/component/default/gh-beta)" "200" "github: the added file's entity is there"
check_eq "$(ls "$work/state/central-config/github/github/tree/catalog-info.yaml" 2>/dev/null | wc -l)" "0" "github: the deleted file left the mirror"

check_eq "$(refresh ghmissing)" "202" "refresh the provider of a missing repository"
wait_sync ghmissing null
ghm=$(sync_status ghmissing)
check_eq "$(jq -r .status <<<"$ghm")" "failed" "a missing repository fails the sync"
check_contains "$(jq -r .error <<<"$ghm")" "404 Not Found" "with GitHub's message"
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
kill -TERM "$ghpid" 2>/dev/null
wait "$ghpid" 2>/dev/null
finish
