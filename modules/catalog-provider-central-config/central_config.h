/* modules/catalog-provider-central-config/central_config.h: what the files
 * of the central-config entity provider share.
 *
 * A provider (catalog.providers.centralConfig.<providerId>) syncs one
 * config repository into the catalog on a schedule:
 *
 *   source               makes the repository's files available in a local
 *                        directory (config_source.h, shared with the other
 *                        modules that read a config repository);
 *   scan (scan.c)        walks that directory on the thread pool: include
 *                        and exclude globs, YAML and JSON entity
 *                        files, mapping rules for files that are not
 *                        entities (mapping.c), validation with positions,
 *                        one winner per entity ref;
 *   sync (sync.c)        the provider's steps of the shared sync runner
 *                        (source_sync.h): hands the entities to the
 *                        catalog as one full mutation and records the
 *                        sync status;
 *   routes (routes.c)    /api/central-config/last-sync, /status, /refresh.
 *
 * The first half of this header is pure (mapping, scan: no host
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
#include "config_source.h"
#include "source_sync.h"
#include "util.h"

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

typedef struct cc_provider cc_provider_t;

/* ---- the module (loop thread) ---------------------------------------------------- */

typedef struct cc_module cc_module_t;

struct cc_provider {
    cc_module_t *mod;
    char *id;      /* the providerId in config */
    char *name;    /* "central-config:<id>", the catalog's provider name */
    char *task_id; /* "central-config-<id>" */
    cc_source_t source;
    cc_sync_t sync;         /* the source's syncs: schedule, run in progress */
    cc_scan_options_t scan; /* root and location_prefix are set per run */
    cc_selection_t select;  /* the files the scan reads, for the source */
    catalog_provider_t *catalog;
    struct cc_provider *next;
};

struct cc_module {
    gr_context_t *ctx;
    const catalog_provider_api_t *catalog;
    cc_provider_t *providers; /* sorted by id */
    size_t nproviders;
    int refs;                 /* runs and requests in flight, plus one until shutdown */
    gr_metric_t *syncs_total; /* labels: provider, result */
    gr_metric_t *sync_seconds;
    gr_metric_t *sync_errors; /* gauge, label: provider */
};

void cc_module_ref(cc_module_t *m);
void cc_module_unref(cc_module_t *m);

cc_provider_t *cc_provider_find(cc_module_t *m, const char *id);

/* sync.c: what a provider's runs do (the runner's owner is the provider). */
extern const cc_sync_ops_t cc_provider_sync_ops;

/* routes.c */
int cc_routes_add(cc_module_t *m, gr_router_t *router, gr_error_t *err);

#endif
