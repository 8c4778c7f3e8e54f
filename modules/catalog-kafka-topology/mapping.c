/* modules/catalog-kafka-topology/mapping.c: topics as Resource entities,
 * with the Components that produce or consume them as dependencyOf refs
 * (kafka_mapping.h has the rules).  Pure: runs on the thread pool. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "catalog_internal.h"
#include "kafka_mapping.h"

void km_components_add(km_components_t *c, const char *ref, const char *name,
                       const char *principals)
{
    if (c->len == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->items = gr_xrealloc(c->items, c->cap * sizeof *c->items);
    }
    km_component_t *k = &c->items[c->len++];
    k->ref = gr_xstrdup(ref);
    k->name = gr_xstrdup(name);
    for (char *s = k->name; *s; s++)
        *s = (char)tolower((unsigned char)*s);
    k->principals = principals && *principals ? gr_xstrdup(principals) : NULL;
}

void km_components_free(km_components_t *c)
{
    for (size_t i = 0; i < c->len; i++) {
        free(c->items[i].ref);
        free(c->items[i].name);
        free(c->items[i].principals);
    }
    free(c->items);
    *c = (km_components_t){0};
}

void km_components_from_entities(km_components_t *c, struct json_object *entities)
{
    size_t n =
        json_object_is_type(entities, json_type_array) ? json_object_array_length(entities) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *entity = json_object_array_get_idx(entities, i), *meta, *name,
                           *annotations, *principals = NULL;
        char *ref = catalog_ref_of_entity(entity);
        if (!ref)
            continue;
        json_object_object_get_ex(entity, "metadata", &meta);
        json_object_object_get_ex(meta, "name", &name);
        if (json_object_object_get_ex(meta, "annotations", &annotations) &&
            json_object_object_get_ex(annotations, KM_ANNOTATION_PRINCIPAL, &principals) &&
            !json_object_is_type(principals, json_type_string))
            principals = NULL;
        km_components_add(c, ref, json_object_get_string(name),
                          principals ? json_object_get_string(principals) : NULL);
        free(ref);
    }
}

void km_result_free(km_result_t *r)
{
    for (size_t i = 0; i < r->nentities; i++) {
        if (r->entities[i].entity)
            json_object_put(r->entities[i].entity);
        free(r->entities[i].location);
        free(r->entities[i].path);
    }
    free(r->entities);
    gr_strvec_free(&r->unmatched);
    *r = (km_result_t){0};
}

/* ---- names ------------------------------------------------------------------------------- */

static int is_alnum(char c)
{
    return isascii((unsigned char)c) && isalnum((unsigned char)c);
}

void km_namespace(const char *cluster, char out[64])
{
    size_t n = 0;
    for (const char *s = cluster; *s && n < 63; s++) {
        char c = (char)tolower((unsigned char)*s);
        if (is_alnum(c))
            out[n++] = c;
        else if (n && out[n - 1] != '-')
            out[n++] = '-';
    }
    while (n && out[n - 1] == '-')
        n--;
    out[n] = '\0';
    if (!n)
        strcpy(out, "default");
}

/* The name's characters, trimmed to start and end with a letter or digit. */
static size_t name_chars(const char *topic, char *out, size_t max)
{
    size_t n = 0;
    for (const char *s = topic; *s && n < max; s++) {
        char c = *s;
        if (!is_alnum(c) && c != '.' && c != '_' && c != '-')
            c = '-';
        if (n == 0 && !is_alnum(c))
            continue;
        out[n++] = c;
    }
    while (n && !is_alnum(out[n - 1]))
        n--;
    out[n] = '\0';
    return n;
}

/* The name cut to leave room for "-" and 8 hex digits of the full name's hash. */
static void name_with_hash(const char *topic, char out[64])
{
    char hash[65];
    catalog__sha256_hex(topic, strlen(topic), hash);
    size_t n = name_chars(topic, out, 54);
    if (n)
        out[n++] = '-';
    memcpy(out + n, hash, 8);
    out[n + 8] = '\0';
}

int km_name(const char *topic, char out[64])
{
    char full[256];
    size_t n = name_chars(topic, full, sizeof full - 1);
    if (n >= 1 && n <= 63 && strlen(topic) < sizeof full - 1) {
        memcpy(out, full, n + 1);
        return 0;
    }
    name_with_hash(topic, out);
    return 1;
}

/* ---- matching services to components ------------------------------------------------------ */

typedef struct key_index {
    const char *key; /* lower case */
    size_t comp;
} key_index_t;

static int key_cmp(const void *a, const void *b)
{
    const key_index_t *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->comp > y->comp) - (x->comp < y->comp);
}

typedef struct matcher {
    key_index_t *keys; /* names and annotated principals, sorted */
    size_t nkeys;
    gr_strvec_t owned; /* lower-cased principal strings */
} matcher_t;

static char *lower_dup(const char *s, size_t n)
{
    char *out = gr_xstrndup(s, n);
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return out;
}

static void matcher_push(matcher_t *m, size_t *cap, const char *key, size_t comp)
{
    if (m->nkeys == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        m->keys = gr_xrealloc(m->keys, *cap * sizeof *m->keys);
    }
    m->keys[m->nkeys++] = (key_index_t){key, comp};
}

static void matcher_init(matcher_t *m, const km_components_t *comps)
{
    *m = (matcher_t){0};
    size_t cap = 0;
    for (size_t i = 0; i < comps->len; i++) {
        matcher_push(m, &cap, comps->items[i].name, i);
        for (const char *s = comps->items[i].principals; s && *s;) {
            const char *end = strchr(s, ',');
            size_t len = end ? (size_t)(end - s) : strlen(s);
            while (len && isspace((unsigned char)*s)) {
                s++;
                len--;
            }
            while (len && isspace((unsigned char)s[len - 1]))
                len--;
            if (len) {
                char *k = lower_dup(s, len);
                gr_strvec_push_owned(&m->owned, k);
                matcher_push(m, &cap, k, i);
            }
            s = end ? end + 1 : s + strlen(s);
        }
    }
    if (m->nkeys)
        qsort(m->keys, m->nkeys, sizeof *m->keys, key_cmp);
}

static void matcher_free(matcher_t *m)
{
    free(m->keys);
    gr_strvec_free(&m->owned);
}

/* Adds to out (deduplicated) the components whose key is s. */
static void match_key(const matcher_t *m, const char *s, size_t *out, size_t *n, size_t max)
{
    if (!s || !*s || !m->nkeys)
        return;
    char *key = lower_dup(s, strlen(s));
    size_t lo = 0, hi = m->nkeys;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(m->keys[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < m->nkeys && strcmp(m->keys[i].key, key) == 0; i++) {
        size_t k = 0;
        while (k < *n && out[k] != m->keys[i].comp)
            k++;
        if (k == *n && *n < max)
            out[(*n)++] = m->keys[i].comp;
    }
    free(key);
}

/* The components an actor matches: by its name, its principal, and the
 * part of either after the last ':' ("User:billing" → "billing"). */
static size_t match_actor(const matcher_t *m, const char *name, const char *principal, size_t *out,
                          size_t max)
{
    size_t n = 0;
    const char *forms[2] = {name, principal};
    for (size_t i = 0; i < 2; i++) {
        if (!forms[i])
            continue;
        match_key(m, forms[i], out, &n, max);
        const char *colon = strrchr(forms[i], ':');
        if (colon)
            match_key(m, colon + 1, out, &n, max);
    }
    return n;
}

/* ---- entities -----------------------------------------------------------------------------------
 */

#define MAX_MATCHES 16

typedef struct named {
    char ns[64];
    char name[64];
    size_t topic;
} named_t;

static int named_cmp(const void *a, const void *b)
{
    const named_t *x = a, *y = b;
    int c = strcmp(x->ns, y->ns);
    if (!c)
        c = strcasecmp(x->name, y->name);
    return c ? c : (x->topic > y->topic) - (x->topic < y->topic);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void add_str(struct json_object *o, const char *key, const char *value)
{
    json_object_object_add(o, key, json_object_new_string(value));
}

static struct json_object *topic_entity(const kafka_topology_t *t, size_t ti, const named_t *nm,
                                        const char *owner, const char *location,
                                        const char *const *deps, size_t ndeps)
{
    const kafka_topic_t *tp = &t->topics[ti];
    const char *cluster = t->clusters[tp->cluster].name;
    struct json_object *e = json_object_new_object();
    add_str(e, "apiVersion", "backstage.io/v1alpha1");
    add_str(e, "kind", "Resource");
    struct json_object *meta = json_object_new_object();
    add_str(meta, "name", nm->name);
    add_str(meta, "namespace", nm->ns);
    add_str(meta, "title", tp->name);
    gr_buf_t d = {0};
    gr_buf_printf(&d, "Kafka topic on cluster %s", cluster);
    if (tp->partitions)
        gr_buf_printf(&d, ", %d partitions", tp->partitions);
    if (tp->replication)
        gr_buf_printf(&d, ", replication factor %d", tp->replication);
    add_str(meta, "description", d.data);
    gr_buf_free(&d);
    struct json_object *ann = json_object_new_object();
    add_str(ann, KM_ANNOTATION_CLUSTER, cluster);
    add_str(ann, KM_ANNOTATION_TOPIC, tp->name);
    if (tp->pos.file) {
        char *src = tp->pos.line ? gr_xasprintf("%s:%u", tp->pos.file, tp->pos.line)
                                 : gr_xstrdup(tp->pos.file);
        add_str(ann, KM_ANNOTATION_SOURCE, src);
        free(src);
    }
    if (location) {
        /* As Backstage's providers stamp every entity they emit. */
        add_str(ann, "backstage.io/managed-by-location", location);
        add_str(ann, "backstage.io/managed-by-origin-location", location);
    }
    json_object_object_add(meta, "annotations", ann);
    struct json_object *tags = json_object_new_array();
    json_object_array_add(tags, json_object_new_string("kafka"));
    json_object_object_add(meta, "tags", tags);
    json_object_object_add(e, "metadata", meta);
    struct json_object *spec = json_object_new_object();
    add_str(spec, "type", "kafka-topic");
    add_str(spec, "owner", owner);
    if (ndeps) {
        struct json_object *list = json_object_new_array();
        for (size_t i = 0; i < ndeps; i++)
            json_object_array_add(list, json_object_new_string(deps[i]));
        json_object_object_add(spec, "dependencyOf", list);
    }
    json_object_object_add(e, "spec", spec);
    return e;
}

void km_build(const kafka_topology_t *t, const char *location_prefix, const km_components_t *comps,
              const char *owner, km_result_t *out)
{
    *out = (km_result_t){0};
    matcher_t m;
    matcher_init(&m, comps);

    /* Which components each producer or consumer matches, once per actor. */
    size_t nactors = t->nprincipals + t->nconnectors;
    size_t *match_count = gr_xcalloc(nactors + 1, sizeof *match_count);
    size_t *matches = gr_xcalloc(nactors * MAX_MATCHES + 1, sizeof *matches);
    unsigned char *has_edge = gr_xcalloc(nactors + 1, 1);
    for (size_t i = 0; i < t->nedges; i++)
        if (t->edges[i].topic != KAFKA_NONE)
            has_edge[t->edges[i].from_kind == KAFKA_NODE_PRINCIPAL
                         ? t->edges[i].from
                         : t->nprincipals + t->edges[i].from] = 1;
    for (size_t a = 0; a < nactors; a++) {
        size_t n = 0;
        if (has_edge[a]) {
            const char *name =
                a < t->nprincipals ? t->principals[a].name : t->connectors[a - t->nprincipals].name;
            const char *principal = a < t->nprincipals ? t->principals[a].principal : NULL;
            n = match_actor(&m, name, principal, matches + a * MAX_MATCHES, MAX_MATCHES);
            out->services++;
            if (n)
                out->matched++;
            else
                gr_strvec_push(&out->unmatched, name);
        }
        match_count[a] = n; /* the matches of actor a sit at a * MAX_MATCHES */
    }
    free(has_edge);

    /* Edges per topic. */
    size_t *topic_start = gr_xcalloc(t->ntopics + 2, sizeof *topic_start);
    size_t *topic_edges = gr_xcalloc(t->nedges + 1, sizeof *topic_edges);
    for (size_t i = 0; i < t->nedges; i++)
        if (t->edges[i].topic != KAFKA_NONE)
            topic_start[t->edges[i].topic + 1]++;
    for (size_t i = 0; i < t->ntopics; i++)
        topic_start[i + 1] += topic_start[i];
    size_t *fill = gr_xcalloc(t->ntopics + 1, sizeof *fill);
    for (size_t i = 0; i < t->nedges; i++) {
        size_t tp = t->edges[i].topic;
        if (tp != KAFKA_NONE)
            topic_edges[topic_start[tp] + fill[tp]++] = i;
    }
    free(fill);

    /* Names, made unique within each namespace. */
    named_t *names = gr_xcalloc(t->ntopics + 1, sizeof *names);
    int *shortened = gr_xcalloc(t->ntopics + 1, sizeof *shortened);
    for (size_t i = 0; i < t->ntopics; i++) {
        km_namespace(t->clusters[t->topics[i].cluster].name, names[i].ns);
        shortened[i] = km_name(t->topics[i].name, names[i].name);
        names[i].topic = i;
    }
    named_t *sorted = gr_xcalloc(t->ntopics + 1, sizeof *sorted);
    if (t->ntopics)
        memcpy(sorted, names, t->ntopics * sizeof *names);
    if (t->ntopics > 1)
        qsort(sorted, t->ntopics, sizeof *sorted, named_cmp);
    /* Backstage compares names without case: the first topic (in model
     * order) of a clash keeps the plain name, the others get the hash. */
    for (size_t i = 1; i < t->ntopics; i++)
        if (strcmp(sorted[i].ns, sorted[i - 1].ns) == 0 &&
            strcasecmp(sorted[i].name, sorted[i - 1].name) == 0 && !shortened[sorted[i].topic])
            name_with_hash(t->topics[sorted[i].topic].name, names[sorted[i].topic].name);
    free(sorted);
    free(shortened);

    out->entities = gr_xcalloc(t->ntopics + 1, sizeof *out->entities);
    const char **deps = gr_xcalloc(comps->len + 1, sizeof *deps);
    unsigned char *used = gr_xcalloc(comps->len + 1, 1);
    for (size_t i = 0; i < t->ntopics; i++) {
        size_t ndeps = 0;
        for (size_t k = topic_start[i]; k < topic_start[i + 1]; k++) {
            const kafka_edge_t *e = &t->edges[topic_edges[k]];
            size_t a = e->from_kind == KAFKA_NODE_PRINCIPAL ? e->from : t->nprincipals + e->from;
            for (size_t j = 0; j < match_count[a]; j++) {
                size_t c = matches[a * MAX_MATCHES + j];
                if (!used[c]) {
                    used[c] = 1;
                    deps[ndeps++] = comps->items[c].ref;
                }
            }
        }
        if (ndeps > 1)
            qsort(deps, ndeps, sizeof *deps, str_cmp);
        out->relations += ndeps;
        const kafka_topic_t *tp = &t->topics[i];
        km_entity_t *ke = &out->entities[out->nentities++];
        ke->path = tp->pos.file ? gr_xstrdup(tp->pos.file) : NULL;
        ke->line = tp->pos.line;
        ke->location = location_prefix && tp->pos.file
                           ? gr_xasprintf("%s%s", location_prefix, tp->pos.file)
                           : NULL;
        ke->entity = topic_entity(t, i, &names[i], owner, ke->location, deps, ndeps);
        /* Clear the marks of this topic's components for the next one. */
        for (size_t k = topic_start[i]; k < topic_start[i + 1]; k++) {
            const kafka_edge_t *e = &t->edges[topic_edges[k]];
            size_t a = e->from_kind == KAFKA_NODE_PRINCIPAL ? e->from : t->nprincipals + e->from;
            for (size_t j = 0; j < match_count[a]; j++)
                used[matches[a * MAX_MATCHES + j]] = 0;
        }
    }
    free(used);
    free(deps);
    free(names);
    free(topic_start);
    free(topic_edges);
    free(match_count);
    free(matches);
    matcher_free(&m);
}
