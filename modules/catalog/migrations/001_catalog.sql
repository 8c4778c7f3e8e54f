-- The catalog's tables.  Entities are written only by provider mutations
-- (store_apply.c) and read by the API (store.c, routes.c).

-- One row per entity.  body is the entity as its provider emitted it, in
-- canonical JSON with metadata.uid and metadata.etag; final_entity is body
-- with the stitched relations added, which is what the API serves as is.
CREATE TABLE entities (
    uid          uuid PRIMARY KEY,
    ref          text NOT NULL UNIQUE,    -- kind:namespace/name, lower-cased
    kind         text NOT NULL,           -- as written
    namespace    text NOT NULL,
    name         text NOT NULL,
    etag         text NOT NULL,
    body         text NOT NULL,
    entity       jsonb GENERATED ALWAYS AS (body::jsonb) STORED,
    final_entity text NOT NULL,
    provider     text NOT NULL,           -- the provider that emitted it
    location     text,                    -- Backstage location ref of its file
    source_path  text,                    -- where a person finds it: path and line
    source_line  integer,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
-- Rows stay inline and uncompressed up to about 8 kB: entities are read far
-- more often than written, and most fit.
ALTER TABLE entities SET (toast_tuple_target = 8160);
CREATE INDEX entities_provider_idx ON entities (provider);
CREATE INDEX entities_location_idx ON entities (location);

-- Relations as each entity's spec implies them, both directions, tagged
-- with the entity they came from so a change re-derives exactly its own.
-- An entity's relations are every row whose source_ref is its ref,
-- whichever entity they came from.  Mutations delete an entity's relations
-- and search rows with it; there is no foreign key, as its per-row checks
-- would cost more than the bulk load of a whole sync.
CREATE TABLE relations (
    originating_uid uuid NOT NULL,
    source_ref      text NOT NULL,
    type            text NOT NULL,
    target_ref      text NOT NULL
);
CREATE INDEX relations_source_idx ON relations (source_ref);

-- Backstage's search table: every leaf of an entity under its lower-cased
-- dotted path, with its lower-cased value (filters, ordering, text search)
-- and the value as written (facets).  relations.<type> rows come from
-- stitching.  One index: a second one, on entity_uid, would double the
-- cost of loading a large sync, and the deletes it would serve are
-- set-wise (hash joins) anyway.
CREATE TABLE search (
    entity_uid     uuid NOT NULL,
    key            text NOT NULL,
    value          text,
    original_value text
);
CREATE INDEX search_key_value_idx ON search (key, value);

-- Each provider's status document (last sync, counts, errors), written by
-- the provider through the entity-provider extension point.
CREATE TABLE provider_status (
    provider   text PRIMARY KEY,
    status     jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
