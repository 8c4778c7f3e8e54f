/* modules/catalog/entity_relations.c: the relations an entity's spec
 * implies, as Backstage's BuiltinKindsEntityProcessor derives them.
 *
 * Each rule names a kind, a spec field holding one ref or a list of refs,
 * the kind a short ref defaults to (none for dependsOn/dependencyOf, which
 * must say their kind), and the relation from the entity to the target.
 * Every relation is emitted together with its inverse from the target back
 * to the entity, so the target's page shows it without the target's own
 * file mentioning it.  Short refs take the entity's own namespace. */
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"
#include "util.h"

typedef struct catalog__rel_rule {
    const char *kind;
    const char *field;
    const char *default_kind; /* NULL: the ref must name its kind */
    const char *type;         /* from the entity to the target */
} catalog__rel_rule_t;

static const catalog__rel_rule_t catalog__rules[] = {
    {"Component", "owner", "Group", CATALOG_REL_OWNED_BY},
    {"Component", "subcomponentOf", "Component", CATALOG_REL_PART_OF},
    {"Component", "providesApis", "API", CATALOG_REL_PROVIDES_API},
    {"Component", "consumesApis", "API", CATALOG_REL_CONSUMES_API},
    {"Component", "dependsOn", NULL, CATALOG_REL_DEPENDS_ON},
    {"Component", "dependencyOf", NULL, CATALOG_REL_DEPENDENCY_OF},
    {"Component", "system", "System", CATALOG_REL_PART_OF},
    {"API", "owner", "Group", CATALOG_REL_OWNED_BY},
    {"API", "system", "System", CATALOG_REL_PART_OF},
    {"Resource", "owner", "Group", CATALOG_REL_OWNED_BY},
    {"Resource", "dependsOn", NULL, CATALOG_REL_DEPENDS_ON},
    {"Resource", "dependencyOf", NULL, CATALOG_REL_DEPENDENCY_OF},
    {"Resource", "system", "System", CATALOG_REL_PART_OF},
    {"User", "memberOf", "Group", CATALOG_REL_MEMBER_OF},
    {"Group", "parent", "Group", CATALOG_REL_CHILD_OF},
    {"Group", "children", "Group", CATALOG_REL_PARENT_OF},
    {"Group", "members", "User", CATALOG_REL_HAS_MEMBER},
    {"System", "owner", "Group", CATALOG_REL_OWNED_BY},
    {"System", "domain", "Domain", CATALOG_REL_PART_OF},
    {"Domain", "owner", "Group", CATALOG_REL_OWNED_BY},
    {"Domain", "subdomainOf", "Domain", CATALOG_REL_PART_OF},
};

static const char *const catalog__pairs[][2] = {
    {CATALOG_REL_OWNED_BY, CATALOG_REL_OWNER_OF},
    {CATALOG_REL_PART_OF, CATALOG_REL_HAS_PART},
    {CATALOG_REL_DEPENDS_ON, CATALOG_REL_DEPENDENCY_OF},
    {CATALOG_REL_PROVIDES_API, CATALOG_REL_API_PROVIDED_BY},
    {CATALOG_REL_CONSUMES_API, CATALOG_REL_API_CONSUMED_BY},
    {CATALOG_REL_MEMBER_OF, CATALOG_REL_HAS_MEMBER},
    {CATALOG_REL_CHILD_OF, CATALOG_REL_PARENT_OF},
};

const char *catalog_relation_inverse(const char *type)
{
    for (size_t i = 0; i < sizeof catalog__pairs / sizeof catalog__pairs[0]; i++) {
        if (strcmp(type, catalog__pairs[i][0]) == 0)
            return catalog__pairs[i][1];
        if (strcmp(type, catalog__pairs[i][1]) == 0)
            return catalog__pairs[i][0];
    }
    return NULL;
}

/* Takes ownership of source and target; drops the pair when it is there
 * already (Backstage stores each relation once). */
static void catalog__add(catalog_relations_t *out, char *source, const char *type, char *target)
{
    for (size_t i = 0; i < out->len; i++) {
        const catalog_relation_t *r = &out->items[i];
        if (strcmp(r->type, type) == 0 && strcmp(r->source, source) == 0 &&
            strcmp(r->target, target) == 0) {
            free(source);
            free(target);
            return;
        }
    }
    if (out->len == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 8;
        out->items = gr_xrealloc(out->items, out->cap * sizeof *out->items);
    }
    out->items[out->len++] = (catalog_relation_t){source, type, target};
}

static void catalog__emit(catalog_relations_t *out, const char *self, const char *type,
                          const char *target)
{
    catalog__add(out, gr_xstrdup(self), type, gr_xstrdup(target));
    catalog__add(out, gr_xstrdup(target), catalog_relation_inverse(type), gr_xstrdup(self));
}

static void catalog__emit_ref(catalog_relations_t *out, catalog_issues_t *issues, const char *self,
                              const char *ns, const catalog__rel_rule_t *rule, const char *path,
                              struct json_object *value)
{
    if (!json_object_is_type(value, json_type_string)) {
        catalog_issues_add(issues, path, "%s must be an entity reference, not %s", path,
                           catalog__json_type_phrase(value));
        return;
    }
    gr_error_t err = {0};
    char *target =
        catalog_ref_normalize(json_object_get_string(value), rule->default_kind, ns, &err);
    if (!target) {
        catalog_issues_add(issues, path, "%s: %s", path, err.message);
        return;
    }
    catalog__emit(out, self, rule->type, target);
    free(target);
}

int catalog_entity_relations(struct json_object *entity, catalog_relations_t *out,
                             catalog_issues_t *issues)
{
    size_t before = issues->len;
    struct json_object *kind_v, *meta, *spec, *ns_v;
    if (!json_object_object_get_ex(entity, "kind", &kind_v) ||
        !json_object_is_type(kind_v, json_type_string) ||
        !json_object_object_get_ex(entity, "spec", &spec) ||
        !json_object_is_type(spec, json_type_object))
        return 0; /* no kind or no spec: nothing to derive */
    const char *kind = json_object_get_string(kind_v);
    char *self = catalog_ref_of_entity(entity);
    if (!self) {
        catalog_issues_add(issues, "metadata.name",
                           "metadata.name is required to derive the entity's relations");
        return GR_ERR_INVALID;
    }
    const char *ns = CATALOG_DEFAULT_NAMESPACE;
    if (json_object_object_get_ex(entity, "metadata", &meta) &&
        json_object_object_get_ex(meta, "namespace", &ns_v) &&
        json_object_is_type(ns_v, json_type_string) && *json_object_get_string(ns_v))
        ns = json_object_get_string(ns_v);

    gr_buf_t path = {0};
    for (size_t i = 0; i < sizeof catalog__rules / sizeof catalog__rules[0]; i++) {
        const catalog__rel_rule_t *rule = &catalog__rules[i];
        struct json_object *v;
        /* Backstage compares the kind exactly; "component" gets nothing. */
        if (strcmp(kind, rule->kind) != 0 || !json_object_object_get_ex(spec, rule->field, &v) ||
            !v)
            continue;
        gr_buf_reset(&path);
        gr_buf_puts(&path, "spec.");
        gr_buf_puts(&path, rule->field);
        if (!json_object_is_type(v, json_type_array)) {
            /* Backstage skips an empty string the way it skips a missing
             * field; validation reports it. */
            if (json_object_is_type(v, json_type_string) && !*json_object_get_string(v))
                continue;
            catalog__emit_ref(out, issues, self, ns, rule, path.data, v);
            continue;
        }
        size_t base = path.len;
        for (size_t k = 0; k < json_object_array_length(v); k++) {
            path.len = base;
            gr_buf_printf(&path, ".%zu", k);
            catalog__emit_ref(out, issues, self, ns, rule, path.data,
                              json_object_array_get_idx(v, k));
        }
    }
    gr_buf_free(&path);
    free(self);
    return issues->len > before ? GR_ERR_INVALID : 0;
}

void catalog_relations_free(catalog_relations_t *relations)
{
    for (size_t i = 0; i < relations->len; i++) {
        free(relations->items[i].source);
        free(relations->items[i].target);
    }
    free(relations->items);
    *relations = (catalog_relations_t){0};
}
