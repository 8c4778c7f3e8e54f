/* modules/kafka-topology/kafka_build.c: the builders the parsers call to
 * put clusters, topics, principals, connectors, streams apps and refs into
 * the model.  They copy every string into the topology's arena (the parsed
 * documents are freed when finish is done) and merge repeated mentions of
 * one thing, which is also where a topic defined twice is caught. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"

static const char *kafka__dup(kafka_topology_t *t, const char *s)
{
    return kafka__strdup(&t->impl->arena, s);
}

void kafka__problem(kafka_topology_t *t, kafka_pos_t pos, kafka_severity_t severity,
                    const char *check, const char *fmt, ...)
{
    kafka__impl_t *im = t->impl;
    gr_buf_t b = {0};
    va_list ap;
    va_start(ap, fmt);
    gr_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    KAFKA__GROW(t->problems, t->nproblems, im->problems_cap);
    t->problems[t->nproblems++] = (kafka_problem_t){
        .pos = pos,
        .severity = severity,
        .check = check,
        .message = kafka__strndup(&im->arena, b.data ? b.data : "", b.len),
    };
    gr_buf_free(&b);
}

/* ---- clusters ----------------------------------------------------------------- */

size_t kafka__cluster(kafka_topology_t *t, const char *name, kafka_pos_t pos)
{
    kafka__impl_t *im = t->impl;
    size_t idx;
    if (kafka__map_get(&im->cluster_map, name, 0, &idx))
        return idx;
    KAFKA__GROW(t->clusters, t->nclusters, im->clusters_cap);
    idx = t->nclusters++;
    t->clusters[idx] = (kafka_cluster_t){.name = kafka__dup(t, name), .pos = pos};
    kafka__map_put(&im->cluster_map, t->clusters[idx].name, 0, idx);
    return idx;
}

size_t kafka__default_cluster(kafka_topology_t *t, kafka_pos_t pos)
{
    return kafka__cluster(t, t->impl->default_cluster, pos);
}

int kafka__cluster_declare(kafka_topology_t *t, size_t cluster, const char *bootstrap,
                           kafka_pos_t pos)
{
    kafka_cluster_t *c = &t->clusters[cluster];
    if (c->declared)
        return -1;
    c->declared = 1;
    c->pos = pos;
    if (bootstrap)
        c->bootstrap = kafka__dup(t, bootstrap);
    return 0;
}

void kafka__cluster_add_broker(kafka_topology_t *t, size_t cluster, int32_t id, const char *host,
                               const char *rack)
{
    kafka_cluster_t *c = &t->clusters[cluster];
    /* Clusters have a handful of brokers: growing one at a time is fine. */
    c->brokers = gr_xrealloc(c->brokers, (c->nbrokers + 1) * sizeof *c->brokers);
    c->brokers[c->nbrokers++] = (kafka_broker_t){id, kafka__dup(t, host), kafka__dup(t, rack)};
}

/* ---- topic config ------------------------------------------------------------- */

void kafka__config_put(kafka__config_t *c, const char *key, const char *value)
{
    for (size_t i = 0; i < c->len; i++) {
        if (strcmp(c->items[i].key, key) == 0) {
            c->items[i].value = value;
            return;
        }
    }
    KAFKA__GROW(c->items, c->len, c->cap);
    c->items[c->len++] = (kafka_config_entry_t){key, value};
}

const char *kafka__config_get(const kafka__config_t *c, const char *key)
{
    for (size_t i = 0; i < c->len; i++)
        if (strcmp(c->items[i].key, key) == 0)
            return c->items[i].value;
    return NULL;
}

void kafka__config_remove(kafka__config_t *c, const char *key)
{
    for (size_t i = 0; i < c->len; i++) {
        if (strcmp(c->items[i].key, key) == 0) {
            memmove(&c->items[i], &c->items[i + 1], (c->len - i - 1) * sizeof *c->items);
            c->len--;
            return;
        }
    }
}

void kafka__config_free(kafka__config_t *c)
{
    free(c->items);
    *c = (kafka__config_t){0};
}

static int kafka__entry_cmp(const void *a, const void *b)
{
    return strcmp(((const kafka_config_entry_t *)a)->key, ((const kafka_config_entry_t *)b)->key);
}

/* ---- topics ------------------------------------------------------------------- */

static void kafka__describe_int(gr_buf_t *b, const char *what, int32_t v)
{
    if (v)
        gr_buf_printf(b, "%s %d", what, v);
    else
        gr_buf_printf(b, "%s unset", what);
}

/* Appends "; "-separated differences between a topic and a new definition
 * ("partitions 6 here, 3 there") and returns how many there were. */
static int kafka__topic_differences(gr_buf_t *b, const kafka_topic_t *old,
                                    const kafka__topic_draft_t *dr, const kafka_config_entry_t *cfg,
                                    size_t ncfg)
{
    int n = 0;
    if (old->partitions != dr->partitions) {
        kafka__describe_int(b, "partitions", dr->partitions);
        gr_buf_puts(b, " here, ");
        kafka__describe_int(b, "partitions", old->partitions);
        gr_buf_puts(b, " there");
        n++;
    }
    if (old->replication != dr->replication) {
        if (n++)
            gr_buf_puts(b, "; ");
        kafka__describe_int(b, "replication factor", dr->replication);
        gr_buf_puts(b, " here, ");
        kafka__describe_int(b, "replication factor", old->replication);
        gr_buf_puts(b, " there");
    }
    /* Both configs are sorted by key: walk them side by side. */
    size_t i = 0, j = 0;
    while (i < ncfg || j < old->nconfig) {
        int c = i >= ncfg ? 1 : j >= old->nconfig ? -1 : strcmp(cfg[i].key, old->config[j].key);
        if (c == 0 && strcmp(cfg[i].value, old->config[j].value) == 0) {
            i++;
            j++;
            continue;
        }
        if (n++)
            gr_buf_puts(b, "; ");
        if (c == 0) {
            gr_buf_printf(b, "%s=%s here, %s there", cfg[i].key, cfg[i].value,
                          old->config[j].value);
            i++;
            j++;
        } else if (c < 0) {
            gr_buf_printf(b, "%s=%s only here", cfg[i].key, cfg[i].value);
            i++;
        } else {
            gr_buf_printf(b, "%s=%s only there", old->config[j].key, old->config[j].value);
            j++;
        }
    }
    return n;
}

size_t kafka__topic_add(kafka__doc_t *d, const kafka__topic_draft_t *dr)
{
    kafka_topology_t *t = d->t;
    kafka__impl_t *im = t->impl;

    size_t ncfg = dr->config.len;
    kafka_config_entry_t *cfg = ncfg ? kafka__alloc(&im->arena, ncfg * sizeof *cfg) : NULL;
    for (size_t i = 0; i < ncfg; i++) {
        cfg[i].key = kafka__dup(t, dr->config.items[i].key);
        cfg[i].value = kafka__dup(t, dr->config.items[i].value);
    }
    if (ncfg > 1)
        qsort(cfg, ncfg, sizeof *cfg, kafka__entry_cmp);

    size_t idx;
    if (kafka__map_get(&im->topic_map, dr->name, (uint32_t)dr->cluster, &idx)) {
        const kafka_topic_t *old = &t->topics[idx];
        gr_buf_t diff = {0};
        if (kafka__topic_differences(&diff, old, dr, cfg, ncfg)) {
            kafka__problem(t, dr->pos, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_DUPLICATE_TOPIC,
                           "topic '%s' in cluster '%s' is defined again with different settings "
                           "(%s); the definition at %s:%u is kept; define the topic once",
                           dr->name, t->clusters[dr->cluster].name, diff.data, old->pos.file,
                           old->pos.line);
        }
        gr_buf_free(&diff);
        return idx;
    }

    KAFKA__GROW(t->topics, t->ntopics, im->topics_cap);
    idx = t->ntopics++;
    t->topics[idx] = (kafka_topic_t){
        .name = kafka__dup(t, dr->name),
        .cluster = dr->cluster,
        .partitions = dr->partitions,
        .replication = dr->replication,
        .config = cfg,
        .nconfig = ncfg,
        .project = kafka__dup(t, dr->project),
        .data_type = kafka__dup(t, dr->data_type),
        .format = d->file->format,
        .pos = dr->pos,
        .replication_pos = dr->replication_pos.line ? dr->replication_pos : dr->pos,
    };
    kafka__map_put(&im->topic_map, t->topics[idx].name, (uint32_t)dr->cluster, idx);
    return idx;
}

/* ---- principals, connectors, streams apps, refs -------------------------------- */

static size_t kafka__principal_new(kafka_topology_t *t, const char *name, kafka_kind_t kind,
                                   int declared, kafka_pos_t pos)
{
    kafka__impl_t *im = t->impl;
    KAFKA__GROW(t->principals, t->nprincipals, im->principals_cap);
    size_t idx = t->nprincipals++;
    t->principals[idx] = (kafka_principal_t){
        .name = kafka__dup(t, name),
        .kind = kind,
        .declared = declared,
        .pos = pos,
    };
    kafka__map_put(&im->principal_map, t->principals[idx].name, 0, idx);
    return idx;
}

size_t kafka__principal_define(kafka_topology_t *t, const char *name, kafka_kind_t kind,
                               const char *principal, kafka_pos_t pos)
{
    size_t idx;
    if (!kafka__map_get(&t->impl->principal_map, name, 0, &idx))
        idx = kafka__principal_new(t, name, kind, 1, pos);
    kafka_principal_t *p = &t->principals[idx];
    if (!p->declared) {
        p->declared = 1;
        p->pos = pos;
        p->kind = kind;
    } else if (p->kind == KAFKA_KIND_APPLICATION &&
               (kind == KAFKA_KIND_STREAMS || kind == KAFKA_KIND_CONNECT)) {
        /* JulieOps lists one principal as a consumer in one project and as
         * a streams app in another: it is the streams app. */
        p->kind = kind;
    }
    if (!p->principal && principal)
        p->principal = kafka__dup(t, principal);
    return idx;
}

size_t kafka__principal_use(kafka_topology_t *t, const char *name, kafka_pos_t pos)
{
    size_t idx;
    if (kafka__map_get(&t->impl->principal_map, name, 0, &idx))
        return idx;
    return kafka__principal_new(t, name, KAFKA_KIND_APPLICATION, 0, pos);
}

void kafka__ref_add(kafka_topology_t *t, kafka_node_kind_t owner_kind, size_t owner,
                    kafka_access_t access, kafka_pattern_t pattern, const char *topic,
                    size_t cluster, kafka_pos_t pos)
{
    kafka__impl_t *im = t->impl;
    KAFKA__GROW(t->refs, t->nrefs, im->refs_cap);
    t->refs[t->nrefs++] = (kafka_ref_t){
        .owner_kind = owner_kind,
        .owner = owner,
        .access = access,
        .pattern = pattern,
        .topic = kafka__dup(t, topic),
        .cluster = cluster,
        .pos = pos,
    };
}

size_t kafka__connector_add(kafka_topology_t *t, const char *name, size_t principal,
                            const char *class_name, kafka_pos_t pos)
{
    kafka__impl_t *im = t->impl;
    size_t idx;
    if (kafka__map_get(&im->connector_map, name, 0, &idx)) {
        kafka_connector_t *c = &t->connectors[idx];
        if (c->principal == KAFKA_NONE)
            c->principal = principal;
        if (!c->class_name && class_name)
            c->class_name = kafka__dup(t, class_name);
        return idx;
    }
    KAFKA__GROW(t->connectors, t->nconnectors, im->connectors_cap);
    idx = t->nconnectors++;
    t->connectors[idx] = (kafka_connector_t){
        .name = kafka__dup(t, name),
        .principal = principal,
        .class_name = kafka__dup(t, class_name),
        .pos = pos,
    };
    kafka__map_put(&im->connector_map, t->connectors[idx].name, 0, idx);
    return idx;
}

void kafka__streams_app_add(kafka_topology_t *t, const char *application_id, size_t principal,
                            kafka_pos_t pos)
{
    kafka__impl_t *im = t->impl;
    KAFKA__GROW(t->streams_apps, t->nstreams_apps, im->apps_cap);
    t->streams_apps[t->nstreams_apps++] = (kafka_streams_app_t){
        .application_id = kafka__dup(t, application_id),
        .principal = principal,
        .pos = pos,
    };
}
