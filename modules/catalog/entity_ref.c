/* modules/catalog/entity_ref.c: entity references, "[kind:][namespace/]name".
 *
 * Parsing follows Backstage's parseEntityRef: the kind ends at the first
 * ':', the namespace at the first '/', unless the '/' comes before the ':'
 * (then there is no kind and the ':' belongs to the name).  No part may be
 * empty.  The canonical string form, as Backstage's stringifyEntityRef
 * makes it, lower-cases every part; that is the form relations and lookups
 * use, so refs compare case-insensitively. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog_internal.h"
#include "util.h"

int catalog_ref_parse(catalog_ref_t *out, const char *text, const char *default_kind,
                      const char *default_namespace, gr_error_t *err)
{
    *out = (catalog_ref_t){0};
    if (!text || !*text)
        return gr_error_set(err, GR_ERR_INVALID, "an entity reference must not be empty");
    const char *colon = strchr(text, ':');
    const char *slash = strchr(text, '/');
    if (slash && colon && slash < colon)
        colon = NULL;
    const char *ns_start = colon ? colon + 1 : text;
    const char *name = slash ? slash + 1 : ns_start;
    if ((colon && colon == text) || (slash && slash == ns_start) || !*name)
        return gr_error_set(err, GR_ERR_INVALID,
                            "entity reference '%s' is not of the form [kind:][namespace/]name",
                            text);
    if (!colon && !default_kind)
        return gr_error_set(err, GR_ERR_INVALID,
                            "entity reference '%s' has no kind; write it as kind:%s (for example "
                            "component:%s)",
                            text, text, text);
    out->kind = colon ? gr_xstrndup(text, (size_t)(colon - text)) : gr_xstrdup(default_kind);
    out->namespace =
        slash ? gr_xstrndup(ns_start, (size_t)(slash - ns_start))
              : gr_xstrdup(default_namespace && *default_namespace ? default_namespace
                                                                   : CATALOG_DEFAULT_NAMESPACE);
    out->name = gr_xstrdup(name);
    return 0;
}

void catalog_ref_free(catalog_ref_t *ref)
{
    free(ref->kind);
    free(ref->namespace);
    free(ref->name);
    *ref = (catalog_ref_t){0};
}

static void catalog__append_lower(gr_buf_t *b, const char *s)
{
    size_t len = strlen(s);
    gr_buf_reserve(b, len);
    for (size_t i = 0; i < len; i++)
        b->data[b->len + i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    b->len += len;
    b->data[b->len] = '\0';
}

char *catalog_ref_string(const char *kind, const char *namespace, const char *name)
{
    gr_buf_t b = {0};
    catalog__append_lower(&b, kind);
    gr_buf_append(&b, ":", 1);
    catalog__append_lower(&b, namespace && *namespace ? namespace : CATALOG_DEFAULT_NAMESPACE);
    gr_buf_append(&b, "/", 1);
    catalog__append_lower(&b, name);
    return gr_buf_steal(&b);
}

char *catalog_ref_normalize(const char *text, const char *default_kind,
                            const char *default_namespace, gr_error_t *err)
{
    catalog_ref_t ref;
    if (catalog_ref_parse(&ref, text, default_kind, default_namespace, err))
        return NULL;
    char *s = catalog_ref_string(ref.kind, ref.namespace, ref.name);
    catalog_ref_free(&ref);
    return s;
}

static const char *catalog__string_at(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

char *catalog_ref_of_entity(struct json_object *entity)
{
    struct json_object *meta;
    const char *kind = catalog__string_at(entity, "kind");
    if (!kind || !*kind || !json_object_object_get_ex(entity, "metadata", &meta))
        return NULL;
    const char *name = catalog__string_at(meta, "name");
    if (!name || !*name)
        return NULL;
    return catalog_ref_string(kind, catalog__string_at(meta, "namespace"), name);
}

int catalog_ref_equal(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}
