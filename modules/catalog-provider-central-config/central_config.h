/* modules/catalog-provider-central-config/central_config.h: what the files
 * of the central-config entity provider share.
 *
 * A provider (catalog.providers.centralConfig.<providerId>) syncs one
 * config repository into the catalog on a schedule:
 *
 *   source (source_*.c)  makes the repository's files available in a local
 *                        directory: the directory itself, a git clone kept
 *                        under the state directory, or a mirror of a GitHub
 *                        repository fetched through the API (github_mirror.c
 *                        keeps it on disk);
 *   scan (scan.c)        walks that directory on the thread pool: include
 *                        and exclude globs (glob.c), YAML and JSON entity
 *                        files, mapping rules for files that are not
 *                        entities (mapping.c), validation with positions,
 *                        one winner per entity ref;
 *   sync (sync.c)        hands the entities to the catalog as one full
 *                        mutation and records the sync status;
 *   routes (routes.c)    /api/central-config/last-sync, /status, /refresh.
 *
 * The first half of this header is pure (glob, mapping, scan: no host
 * calls, safe on worker threads, unit-tested); the second half runs on the
 * loop thread. */
#ifndef CENTRAL_CONFIG_H
#define CENTRAL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <json.h>
#include <uv.h>

#include <greenroom/greenroom.h>

#include "catalog_model.h"
#include "catalog_provider.h"
#include "util.h"

/* ---- globs (glob.c) ------------------------------------------------------------ */

/* Matches a path relative to the source root ("teams/a/catalog-info.yaml")
 * against a glob: "*" and "?" stay within one path segment, "**" as a whole
 * segment matches any number of segments (none included), "[abc]" and
 * "[a-z]" ("[!...]" negated) match one character, "{a,b}" either text.
 * Wildcards do not match a leading '.' of a name (hidden files and
 * directories need a pattern that names the dot).  Returns 1 on a match. */
int cc_glob_match(const char *pattern, const char *path);

/* ---- mapping rules (mapping.c) ------------------------------------------------- */

/* A rule that turns a file that is not an entity (a service list, a team
 * file) into entities:
 *
 *   mappings:
 *     - include: 'services/svc-*.yaml'  # which files the rule reads
 *       items: services                 # the list (or map) of items in each
 *                                       # document; omitted: the document
 *       entity:                         # a template, rendered per item
 *         apiVersion: backstage.io/v1alpha1
 *         kind: Component
 *         metadata: { name: '{{ name }}', description: '{{ description }}' }
 *         spec: { type: service, lifecycle: '{{ lifecycle | production }}',
 *                 owner: '{{ team }}' }
 *
 * In the template, a string that is exactly "{{ expr }}" takes the value
 * of expr with its type (a list stays a list); "{{ expr }}" inside a longer
 * string is replaced by the value's text.  expr is a dotted path into the
 * item, "$key" (the item's key in a map, or its index in a list), "$value"
 * (the item itself) or "$file" (the file's path), optionally followed by
 * "| default" (text used when the value is missing).  A value whose
 * template names something missing, without a default, is left out, so
 * optional fields need no special syntax. */
typedef struct cc_mapping {
    gr_strvec_t include;
    char *items;                /* dotted path, or NULL */
    struct json_object *entity; /* the template */
} cc_mapping_t;

void cc_mapping_free(cc_mapping_t *m);

/* Renders the template for one item.  Returns a new object, or NULL when
 * the template's root renders to nothing (err then says why). */
struct json_object *cc_mapping_render(const struct json_object *template_root,
                                      struct json_object *item, const char *key, const char *file,
                                      gr_error_t *err);

/* ---- scanning a directory (scan.c) ---------------------------------------------- */

typedef struct cc_scan_options {
    char *root; /* absolute directory */
    gr_strvec_t include;
    gr_strvec_t exclude;
    cc_mapping_t *mappings;
    size_t nmappings;
    /* The location ref of a file is this prefix followed by its relative
     * path ("file:/srv/repo/", "url:https://github.com/o/r/blob/main/"). */
    char *location_prefix;
    size_t max_file_bytes;
} cc_scan_options_t;

void cc_scan_options_free(cc_scan_options_t *o);

/* A problem with one file (or one entity in it), shown to people as
 * "path:line:column: message". */
typedef struct cc_file_error {
    char *path;
    uint32_t line;
    uint32_t column;
    char *message;
} cc_file_error_t;

typedef struct cc_scan_entity {
    struct json_object *entity; /* owned */
    char *ref;                  /* canonical */
    char *path;                 /* relative to the root */
    uint32_t line;
    uint32_t column;
    char *location; /* the file's location ref */
} cc_scan_entity_t;

typedef struct cc_scan_result {
    int status;        /* 0, or a gr_status_t when the root itself failed */
    char message[512]; /* why, when status is not 0 */
    size_t files;      /* files read (entity files and mapped files) */
    cc_scan_entity_t *entities;
    size_t nentities;
    cc_file_error_t *errors;
    size_t nerrors;
} cc_scan_result_t;

/* Reads the files under o->root that the include globs (or a mapping rule)
 * select, in sorted path order, and fills *out.  Every file-level problem
 * (unreadable, syntax, invalid entity, placeholder, mapping, duplicate ref)
 * becomes an error with its position and the rest goes on.  Two documents
 * defining the same entity: the first in path order (then document order)
 * wins and the other is reported as a conflict.  Blocking: call it on the
 * thread pool. */
void cc_scan(const cc_scan_options_t *o, cc_scan_result_t *out);
void cc_scan_result_free(cc_scan_result_t *r);

/* The same scan in parts, so several threads read files at once:
 * cc_scan_begin walks the tree and selects the files (NULL when the root
 * itself failed, with out->status set); cc_scan_part(job, i) for each i
 * below cc_scan_parts(job), in any order and on any threads, each part on
 * one thread; then cc_scan_finish merges the parts into out (deterministic
 * whatever the order the parts ran in) and frees the job. */
typedef struct cc_scan_job cc_scan_job_t;
cc_scan_job_t *cc_scan_begin(const cc_scan_options_t *o, size_t max_parts, cc_scan_result_t *out);
size_t cc_scan_parts(const cc_scan_job_t *job);
void cc_scan_part(cc_scan_job_t *job, size_t part);
void cc_scan_finish(cc_scan_job_t *job);

/* Appends an error (copies path and message). */
void cc_errors_add(cc_file_error_t **errors, size_t *n, const char *path, uint32_t line,
                   uint32_t column, const char *message);

/* ---- the GitHub source's mirror on disk (github_mirror.c) ------------------------------ */

/* The github source (source_github.c) keeps a copy of the files it needs
 * under <state>/central-config/<providerId>/github/:
 *
 *   tree/          the files, at their paths in the repository: the scan's root;
 *   manifest.json  {"commit": sha, "files": {path: blob sha}} of what tree/
 *                  holds, so the next commit only fetches blobs that changed;
 *   tmp/           blobs being written (renamed into tree/ when complete).
 *
 * These functions do the blocking half (parsing GitHub's answers, files,
 * the manifest) on the thread pool; the source does the requests. */

typedef enum cc_want {
    CC_WANT_NONE = 0,
    CC_WANT_MATCHED,   /* an include glob or a mapping rule selects it */
    CC_WANT_REFERENCED /* a $text/$json/$yaml/... placeholder of a matched file names it */
} cc_want_t;

typedef struct cc_mirror_entry {
    char *path;              /* relative to the repository's root */
    char sha[65];            /* the git object id, hex */
    uint64_t size;           /* blobs: bytes */
    unsigned char is_tree;   /* a directory, when the tree is walked level by level */
    unsigned char wanted;    /* a cc_want_t */
    unsigned char fetch;     /* its blob must be fetched (first of the entries sharing a sha) */
    unsigned char oversized; /* over maxFileBytes: a sparse stand-in of its size is written */
    unsigned char ready;     /* tree/ holds it already (before this run's fetches) */
    size_t same_sha;         /* the next entry to write from the same blob, or SIZE_MAX */
} cc_mirror_entry_t;

typedef struct cc_mirror_tree {
    cc_mirror_entry_t *entries;
    size_t n, cap;
    int truncated;  /* GitHub left entries out (recursive listing over its limit) */
    size_t skipped; /* symbolic links, submodules and unsafe paths left out */
} cc_mirror_tree_t;

/* Appends the entries of a GET /repos/{o}/{r}/git/trees/{sha} answer to
 * out, each path prefixed with prefix ("" or "dir/"): regular and
 * executable files, and directories (is_tree) when keep_trees is set.
 * Symbolic links and submodules are left out, as are paths that could
 * leave the mirror ("..", absolute, empty segments).  0, or
 * GR_ERR_INVALID when the answer is not a tree. */
int cc_mirror_tree_parse(const char *json, size_t len, const char *prefix, int keep_trees,
                         cc_mirror_tree_t *out, gr_error_t *err);
void cc_mirror_tree_free(cc_mirror_tree_t *t);

/* Decodes base64 as GitHub sends blob content: lines of 60 characters
 * separated by "\n" (any ASCII whitespace is skipped), "=" padding.  New
 * buffer (NUL after the bytes) or NULL when the text is not base64. */
char *cc_base64_decode(const char *text, size_t len, size_t *out_len);

/* The git object id of a blob with these bytes: SHA-1 of "blob <len>\0" + data. */
void cc_git_blob_sha1(const void *data, size_t len, char hex[41]);

/* The targets of the $text, $json, $yaml, $openapi and $asyncapi
 * placeholders in a YAML or JSON file's text, resolved against the file's
 * directory into paths relative to the root (as the scan resolves them);
 * URLs and targets outside the root are left out.  Appended to out.  Read
 * from the text, not parsed: a name too many only costs a fetch. */
void cc_placeholder_targets(const char *file, const char *data, size_t len, gr_strvec_t *out);

typedef struct cc_mirror {
    char *dir;                       /* <state>/central-config/<id>/github */
    char *root;                      /* dir/tree */
    const cc_scan_options_t *select; /* the provider's globs and maxFileBytes (borrowed) */
    cc_mirror_tree_t tree;           /* the commit's files, sorted by path */
    struct json_object *manifest;    /* the manifest as read by cc_mirror_plan */
    /* What the last step did, for the log. */
    size_t to_fetch; /* blobs (distinct shas) the step marked for fetching */
    size_t removed;  /* files removed from tree/ */
} cc_mirror_t;

/* "dir/manifest.json"'s commit (new string), or NULL when there is no
 * readable manifest; creates dir on the way.  Blocking. */
char *cc_mirror_commit(const cc_mirror_t *m, gr_error_t *err);

/* Sorts the tree, marks what the provider reads (wanted) and which blobs
 * must be fetched (not in the manifest with that sha, or the file is
 * missing or has another size), writes sparse stand-ins for oversized
 * files, removes files the commit no longer has, and rewrites the
 * manifest without the paths about to change (so a run that stops half
 * way never leaves a file the manifest vouches for wrongly).  Blocking. */
int cc_mirror_plan(cc_mirror_t *m, gr_error_t *err);

/* Stores one GET .../git/blobs/{sha} answer: decodes it, checks its size
 * and object id against the tree, and writes it to the entry's path and
 * to every other path of the same blob.  Safe on several threads at once
 * for different entries.  Blocking. */
int cc_mirror_store_blob(cc_mirror_t *m, size_t index, const char *json, size_t len,
                         gr_error_t *err);

/* Reads the matched files for placeholders and marks the files they name
 * (wanted CC_WANT_REFERENCED, fetched unless already there).  Blocking. */
void cc_mirror_discover(cc_mirror_t *m);

/* Removes every file of tree/ that is not wanted, and empty directories,
 * then writes the manifest of commit.  Blocking. */
int cc_mirror_finish(cc_mirror_t *m, const char *commit, gr_error_t *err);

void cc_mirror_free(cc_mirror_t *m);

/* ---- sources (source_*.c, loop thread) ------------------------------------------ */

typedef struct cc_provider cc_provider_t;
typedef struct cc_source cc_source_t;

/* A fetched source: root is the directory to scan; revision names what was
 * read (a commit), NULL when the source has none.  Both borrowed for the
 * callback.  status 0 or a gr_status_t with message. */
typedef void (*cc_fetch_done_fn)(cc_source_t *src, int status, const char *message,
                                 const char *root, const char *revision, void *user_data);

typedef struct cc_source_ops {
    const char *type;
    /* Reads the source's config node (with defaults applied). */
    int (*init)(cc_source_t *src, const gr_config_t *node, gr_error_t *err);
    /* Brings the local copy up to date; done runs later on the loop. */
    void (*fetch)(cc_source_t *src, uint64_t timeout_ms, cc_fetch_done_fn done, void *user_data);
    /* Stops a fetch in progress (its done still runs, with GR_ERR_CANCELED). */
    void (*cancel)(cc_source_t *src);
    /* The "file:..." or "url:..." prefix of the location refs of its files. */
    char *(*location_prefix)(cc_source_t *src, const char *root);
    /* Adds what the status shows about the source (type, path or url without
     * credentials, branch) to obj. */
    void (*describe)(cc_source_t *src, struct json_object *obj);
    /* Releases the source's state; called once no fetch is running. */
    void (*free)(cc_source_t *src);
} cc_source_ops_t;

struct cc_source {
    const cc_source_ops_t *ops;
    cc_provider_t *provider;
    void *state;
};

extern const cc_source_ops_t cc_source_directory;
extern const cc_source_ops_t cc_source_git;
extern const cc_source_ops_t cc_source_github;

/* A URL with any "user:password@" replaced by "***@" (new string), for logs
 * and status documents. */
char *cc_redact_url(const char *url);

/* A path from config: relative ones are read against the directory of the
 * config file that sets them, then made absolute (new string). */
char *cc_config_path(const gr_config_t *node, const char *value);

/* ---- the module (loop thread) ---------------------------------------------------- */

typedef struct cc_module cc_module_t;

struct cc_provider {
    cc_module_t *mod;
    char *id;      /* the providerId in config */
    char *name;    /* "central-config:<id>", the catalog's provider name */
    char *task_id; /* "central-config-<id>" */
    cc_source_t source;
    cc_scan_options_t scan; /* root and location_prefix are set per run */
    gr_schedule_t schedule;
    catalog_provider_t *catalog;
    struct cc_provider *next;

    /* The run in progress, if any. */
    struct cc_run *run;
    int64_t last_start_wall_ms; /* -1 before the first run on this host */
    uint64_t started_mono_ms;   /* when this host scheduled the provider */
};

struct cc_module {
    gr_context_t *ctx;
    const catalog_provider_api_t *catalog;
    cc_provider_t *providers; /* sorted by id */
    size_t nproviders;
    int refs; /* runs and requests in flight, plus one until shutdown */
    int stopping;
    gr_metric_t *syncs_total; /* labels: provider, result */
    gr_metric_t *sync_seconds;
    gr_metric_t *sync_errors; /* gauge, label: provider */
};

void cc_module_ref(cc_module_t *m);
void cc_module_unref(cc_module_t *m);

cc_provider_t *cc_provider_find(cc_module_t *m, const char *id);

/* sync.c: the scheduler's task function (user_data is the provider). */
void cc_sync_task(gr_task_t *task, void *user_data);
/* Stops the provider's run in progress (shutdown). */
void cc_sync_cancel(cc_provider_t *p);

/* Runs fn(arg) on a later loop turn: for answers that must not come from
 * inside the call that asked. */
void cc_defer(cc_module_t *m, void (*fn)(void *arg), void *arg);

/* Milliseconds since the epoch, and as ISO 8601 UTC ("2024-05-01T12:00:00.000Z", new). */
int64_t cc_wall_ms(void);
char *cc_iso_time(int64_t wall_ms);

/* routes.c */
int cc_routes_add(cc_module_t *m, gr_router_t *router, gr_error_t *err);

#endif
