/* modules/catalog/prepare.c: one entity made ready for storage, on a worker
 * thread: defaults, validation, ref, uid, relations, etag, the JSON body
 * and the search rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"
#include "catalog_plugin.h"

void catalog_uid_for_ref(const char *ref, char out[CATALOG_UUID_LEN + 1])
{
    char hex[65];
    char *seed = gr_xasprintf("greenroom-catalog-entity:%s", ref);
    catalog__sha256_hex(seed, strlen(seed), hex);
    free(seed);
    /* RFC 9562: the version nibble (8: custom) and the variant bits (10xx). */
    hex[12] = '8';
    static const char variant[] = "89ab";
    int v = hex[16] >= 'a' ? hex[16] - 'a' + 10 : hex[16] - '0';
    hex[16] = variant[v & 3];
    snprintf(out, CATALOG_UUID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
             hex + 16, hex + 20);
}

static const char *string_at(struct json_object *obj, const char *a, const char *b)
{
    struct json_object *x = obj, *y;
    if (a && !json_object_object_get_ex(obj, a, &x))
        return NULL;
    if (!json_object_object_get_ex(x, b, &y) || !json_object_is_type(y, json_type_string))
        return NULL;
    return json_object_get_string(y);
}

static void reject(catalog_prepared_t *p, const char *path, const char *message)
{
    p->rejected = 1;
    p->reject_path = gr_xstrdup(path ? path : "");
    p->reject_message = gr_xstrdup(message);
}

void catalog_prepare_entity(catalog_prepared_t *p, struct json_object *entity, const char *location,
                            const char *source_path, uint32_t source_line)
{
    *p = (catalog_prepared_t){0};
    p->location = location ? gr_xstrdup(location) : NULL;
    p->source_path = source_path ? gr_xstrdup(source_path) : NULL;
    p->source_line = source_line;
    if (!json_object_is_type(entity, json_type_object)) {
        reject(p, "", "an entity must be a JSON object");
        return;
    }
    catalog_entity_apply_defaults(entity);
    p->ref = catalog_ref_of_entity(entity);

    catalog_issues_t issues = {0};
    if (catalog_entity_validate(entity, &issues) != 0 && issues.len) {
        reject(p, issues.items[0].path, issues.items[0].message);
        catalog_issues_free(&issues);
        return;
    }
    catalog_issues_free(&issues);
    if (!p->ref) {
        reject(p, "", "the entity has no kind or metadata.name");
        return;
    }
    /* A ref that cannot be parsed makes Backstage's processing fail, and so
     * the entity is not stored; the same here. */
    if (catalog_entity_relations(entity, &p->relations, &issues) != 0 && issues.len) {
        reject(p, issues.items[0].path, issues.items[0].message);
        catalog_issues_free(&issues);
        return;
    }
    catalog_issues_free(&issues);

    p->kind = gr_xstrdup(string_at(entity, NULL, "kind"));
    p->namespace = gr_xstrdup(string_at(entity, "metadata", "namespace"));
    p->name = gr_xstrdup(string_at(entity, "metadata", "name"));
    catalog_uid_for_ref(p->ref, p->uid);
    if (catalog_entity_stamp_json(entity, p->uid, &p->body) != 0) {
        reject(p, "metadata", "metadata must be an object");
        return;
    }
    snprintf(p->etag, sizeof p->etag, "%s", string_at(entity, "metadata", "etag"));

    gr_error_t err = {0};
    if (catalog_search_rows_build(entity, &p->search, &err) != 0) {
        free(p->body);
        p->body = NULL;
        reject(p, "", err.message);
    }
}

void catalog_prepared_free(catalog_prepared_t *p)
{
    free(p->ref);
    free(p->kind);
    free(p->namespace);
    free(p->name);
    free(p->body);
    free(p->location);
    free(p->source_path);
    free(p->reject_path);
    free(p->reject_message);
    catalog_relations_free(&p->relations);
    catalog_search_rows_free(&p->search);
    *p = (catalog_prepared_t){0};
}
