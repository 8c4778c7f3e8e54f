/* modules/catalog/catalog_model.h: Backstage's entity model as a plain C
 * library, with no dependency on the host, the database or the network.
 *
 * The catalog plugin and its entity providers use it in four steps:
 *
 *   1. parse a file into entity documents, each with its source position
 *      (catalog_file_parse / catalog_file_load);
 *   2. apply Backstage's defaults and validate each entity
 *      (catalog_entity_apply_defaults, catalog_entity_validate), then turn
 *      problems into "file:line:col: reason" sentences (catalog_doc_locate_issues,
 *      catalog_issue_format);
 *   3. derive the relations Backstage's BuiltinKindsEntityProcessor emits
 *      (catalog_entity_relations);
 *   4. stamp metadata.uid and metadata.etag (catalog_uuid_v4, catalog_entity_etag).
 *
 * Entities are json-c objects shaped exactly like Backstage's JSON.  Nothing
 * here keeps global state, so every function may run on a libuv worker
 * thread; only catalog_file_load reads from disk, so call it off the loop.
 *
 * Ownership: functions whose name ends in _free release what the matching
 * parse/derive call filled; functions documented as "returns a new string"
 * hand the caller a malloc'd string to free().
 */
#ifndef CATALOG_MODEL_H
#define CATALOG_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <greenroom/error.h>

struct json_object;

/* ---- problems with a position -------------------------------------------- */

/* One problem found in a file or an entity.  `path` names the field
 * ("metadata.name", "spec.dependsOn.0"; "" for the document itself) and
 * `message` is a full sentence that starts with that path when there is one. */
typedef struct catalog_issue {
    char *path;
    char *message;
    uint32_t line;   /* 1-based; 0 while unknown */
    uint32_t column; /* 1-based; 0 while unknown */
} catalog_issue_t;

typedef struct catalog_issues {
    catalog_issue_t *items;
    size_t len;
    size_t cap;
} catalog_issues_t;

/* Appends an issue without a position; the message is printf-formatted. */
__attribute__((format(printf, 3, 4))) void
catalog_issues_add(catalog_issues_t *issues, const char *path, const char *fmt, ...);
void catalog_issues_free(catalog_issues_t *issues);

/* Returns a new string "file:line:col: message" ("file: message" when the
 * issue has no position), the form users see in sync status and logs. */
char *catalog_issue_format(const char *file, const catalog_issue_t *issue);

/* ---- parsing files --------------------------------------------------------- */

/* Where the nodes of one document sit in its file, by field path. */
typedef struct catalog_posmap catalog_posmap_t;

/* One entity read from a file.  The document root is always a JSON object. */
typedef struct catalog_doc {
    struct json_object *entity; /* owned by the file; take a reference to keep it */
    uint32_t index;             /* 0-based ordinal of the document in its file */
    uint32_t line;              /* where the document's content starts, 1-based */
    uint32_t column;
    catalog_posmap_t *positions; /* owned; see catalog_doc_locate */
} catalog_doc_t;

/* Everything read from one file: the documents that parsed, and one issue
 * (with its line and column) for each document that did not.  A syntax
 * error in one document does not lose the others: the YAML reader resumes
 * at the next "---" line after the error. */
typedef struct catalog_file {
    char *path; /* as given, used in messages */
    catalog_doc_t *docs;
    size_t ndocs;
    catalog_issues_t errors;
} catalog_file_t;

/* Parses YAML: several documents separated by "---", comments anywhere,
 * scalars typed by the YAML 1.2 core schema as Backstage's reader does
 * (plain true/false, null, numbers become JSON types; quoted and block
 * scalars stay strings).  Empty documents are skipped; a document whose
 * root is not a mapping, a duplicate key, a merge key (<<) or an alias
 * that expands too far is reported as an error of that document.
 * Fills *out (which the caller then frees with catalog_file_free) and
 * returns 0, or GR_ERR_INVALID when out->errors is not empty. */
int catalog_file_parse_yaml(catalog_file_t *out, const char *path, const char *data, size_t len);

/* Parses one JSON document (strict JSON, the root must be an object).  The
 * same contract as catalog_file_parse_yaml; positions come from the text. */
int catalog_file_parse_json(catalog_file_t *out, const char *path, const char *data, size_t len);

/* JSON when the path ends in ".json" (any case), YAML otherwise. */
int catalog_file_parse(catalog_file_t *out, const char *path, const char *data, size_t len);

/* Reads and parses a file from disk (blocking: call it off the loop).
 * Returns GR_ERR_IO with err filled when the file cannot be read, else the
 * result of catalog_file_parse; *out must be freed in every case. */
int catalog_file_load(catalog_file_t *out, const char *path, gr_error_t *err);

void catalog_file_free(catalog_file_t *file);

/* Finds the position of the node at `path` in the document, or of its
 * nearest ancestor that has one (at worst the document start).  Always
 * succeeds for a document that came from a parse. */
void catalog_doc_locate(const catalog_doc_t *doc, const char *path, uint32_t *line,
                        uint32_t *column);

/* Fills line and column of every issue that has none, from its path. */
void catalog_doc_locate_issues(const catalog_doc_t *doc, catalog_issues_t *issues);

/* ---- validation ------------------------------------------------------------ */

#define CATALOG_DEFAULT_NAMESPACE "default"

/* Backstage's DefaultNamespaceEntityPolicy: sets metadata.namespace to
 * "default" when it is missing or empty.  Does nothing to an entity without
 * a metadata object (validation reports that). */
void catalog_entity_apply_defaults(struct json_object *entity);

/* Checks an entity the way Backstage's default policies and kind schemas
 * do: the envelope (only apiVersion, kind, metadata and spec at the root),
 * field formats (name, namespace, labels, annotations, tags, links), and
 * for the core kinds (Component, API, Resource, System, Domain, Group, User,
 * Location) their apiVersion and the required and typed fields of spec.
 * Other kinds are accepted with any spec.  Appends one issue per problem
 * and returns 0 when there was none, GR_ERR_INVALID otherwise.
 * A Backstage placeholder ({"$text": ...}, $json, $yaml, $openapi,
 * $asyncapi) is accepted where spec expects a string: resolving it is the
 * provider's job, as Backstage's PlaceholderProcessor runs before
 * validation. */
int catalog_entity_validate(struct json_object *entity, catalog_issues_t *issues);

/* 1 for the kinds whose spec this library checks and derives relations from. */
int catalog_kind_is_core(const char *kind);

/* ---- entity references ----------------------------------------------------- */

typedef struct catalog_ref {
    char *kind;      /* as written (or the default), not lower-cased */
    char *namespace; /* likewise */
    char *name;
} catalog_ref_t;

/* Backstage's parseEntityRef: "[kind:][namespace/]name".  A missing kind
 * takes default_kind, and it is an error when that is NULL too; a missing
 * namespace takes default_namespace (NULL means "default").  As in
 * Backstage, a '/' before the first ':' means there is no kind ("a/b:c" is
 * namespace a, name "b:c").  Returns 0, or GR_ERR_INVALID with err filled. */
int catalog_ref_parse(catalog_ref_t *out, const char *text, const char *default_kind,
                      const char *default_namespace, gr_error_t *err);
void catalog_ref_free(catalog_ref_t *ref);

/* Backstage's stringifyEntityRef: returns a new string "kind:namespace/name"
 * with every part lower-cased (ASCII), namespace NULL meaning "default".
 * This is the canonical form used for storage, relations and comparison. */
char *catalog_ref_string(const char *kind, const char *namespace, const char *name);

/* Parses with defaults and returns the canonical string (new), or NULL with
 * err filled. */
char *catalog_ref_normalize(const char *text, const char *default_kind,
                            const char *default_namespace, gr_error_t *err);

/* Returns the canonical ref of an entity (new string), or NULL when kind or
 * metadata.name is missing or not a string. */
char *catalog_ref_of_entity(struct json_object *entity);

/* 1 when two refs name the same entity: compared case-insensitively, as
 * Backstage compares refs. Both must be complete ("kind:namespace/name"). */
int catalog_ref_equal(const char *a, const char *b);

/* ---- relations ------------------------------------------------------------- */

#define CATALOG_REL_OWNED_BY "ownedBy"
#define CATALOG_REL_OWNER_OF "ownerOf"
#define CATALOG_REL_PART_OF "partOf"
#define CATALOG_REL_HAS_PART "hasPart"
#define CATALOG_REL_DEPENDS_ON "dependsOn"
#define CATALOG_REL_DEPENDENCY_OF "dependencyOf"
#define CATALOG_REL_PROVIDES_API "providesApi"
#define CATALOG_REL_API_PROVIDED_BY "apiProvidedBy"
#define CATALOG_REL_CONSUMES_API "consumesApi"
#define CATALOG_REL_API_CONSUMED_BY "apiConsumedBy"
#define CATALOG_REL_MEMBER_OF "memberOf"
#define CATALOG_REL_HAS_MEMBER "hasMember"
#define CATALOG_REL_PARENT_OF "parentOf"
#define CATALOG_REL_CHILD_OF "childOf"

/* One directed relation between two canonical refs. */
typedef struct catalog_relation {
    char *source;     /* owned, canonical ref */
    const char *type; /* one of CATALOG_REL_* (static) */
    char *target;     /* owned, canonical ref */
} catalog_relation_t;

typedef struct catalog_relations {
    catalog_relation_t *items;
    size_t len;
    size_t cap;
} catalog_relations_t;

/* Derives the relations Backstage's BuiltinKindsEntityProcessor emits for
 * an entity: for each spec field, the outgoing relation (self → target) and
 * its inverse (target → self), with the field's default kind and the
 * entity's namespace applied to short refs.  Appends to out without
 * duplicates, in emission order.  A ref that cannot be parsed (dependsOn
 * without a kind, a non-string item) becomes an issue naming its field and
 * the other relations are still derived; returns 0 or GR_ERR_INVALID. */
int catalog_entity_relations(struct json_object *entity, catalog_relations_t *out,
                             catalog_issues_t *issues);
void catalog_relations_free(catalog_relations_t *relations);

/* The relation type seen from the other end ("ownedBy" → "ownerOf"), or
 * NULL for an unknown type. */
const char *catalog_relation_inverse(const char *type);

/* ---- uid and etag ---------------------------------------------------------- */

#define CATALOG_UUID_LEN 36
#define CATALOG_ETAG_LEN 64

/* Writes a random (version 4) UUID in lower-case hex with dashes and a NUL
 * into out.  Returns 0, or GR_ERR_IO when the system has no randomness. */
int catalog_uuid_v4(char out[CATALOG_UUID_LEN + 1]);

/* Returns a new string: the entity as canonical JSON (object keys sorted
 * bytewise, no whitespace), equal for equal entities whatever their key
 * order in the source. */
char *catalog_entity_canonical_json(struct json_object *entity);

/* Writes the entity's etag (hex SHA-256 of its canonical JSON without
 * metadata.uid, metadata.etag and metadata.generation) and a NUL into out:
 * the same content always gives the same etag, so it tells whether an
 * entity changed between two syncs. */
void catalog_entity_etag(struct json_object *entity, char out[CATALOG_ETAG_LEN + 1]);

/* Sets metadata.uid (to `uid`, or a new random one when uid is NULL) and
 * metadata.etag.  Returns 0, GR_ERR_INVALID when the entity has no metadata
 * object, or GR_ERR_IO when no random uid could be made. */
int catalog_entity_stamp(struct json_object *entity, const char *uid);

/* catalog_entity_stamp, which also sets *json to the stamped entity's
 * canonical JSON (a new string; NULL on failure): cheaper than stamping
 * and then calling catalog_entity_canonical_json. */
int catalog_entity_stamp_json(struct json_object *entity, const char *uid, char **json);

#endif
