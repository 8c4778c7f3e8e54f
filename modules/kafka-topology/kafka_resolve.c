/* modules/kafka-topology/kafka_resolve.c: what can only be decided once
 * every file is read: each ref becomes edges to the topics it names (a
 * prefix or "*" to all the topics it matches), each principal and connector
 * gets its slice of refs, and the cross-file checks run: refs to topics or
 * principals that nothing defines, and replication factors above the
 * cluster's broker count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"

typedef struct kafka__ref_key {
    size_t seq;
    kafka_ref_t ref;
} kafka__ref_key_t;

static int kafka__ref_cmp(const void *a, const void *b)
{
    const kafka__ref_key_t *x = a, *y = b;
    if (x->ref.owner_kind != y->ref.owner_kind)
        return x->ref.owner_kind < y->ref.owner_kind ? -1 : 1;
    if (x->ref.owner != y->ref.owner)
        return x->ref.owner < y->ref.owner ? -1 : 1;
    if (x->ref.access != y->ref.access)
        return x->ref.access < y->ref.access ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts refs by owner, produces before consumes, keeping the files' order
 * within each, and points every principal and connector at its slice. */
void kafka__group_refs(kafka_topology_t *t)
{
    if (t->nrefs) {
        kafka__ref_key_t *keys = gr_xmalloc(t->nrefs * sizeof *keys);
        for (size_t i = 0; i < t->nrefs; i++)
            keys[i] = (kafka__ref_key_t){i, t->refs[i]};
        qsort(keys, t->nrefs, sizeof *keys, kafka__ref_cmp);
        for (size_t i = 0; i < t->nrefs; i++)
            t->refs[i] = keys[i].ref;
        free(keys);
    }
    for (size_t i = 0; i < t->nrefs; i++) {
        const kafka_ref_t *r = &t->refs[i];
        const kafka_ref_t **first;
        size_t *count;
        if (r->owner_kind == KAFKA_NODE_PRINCIPAL) {
            kafka_principal_t *p = &t->principals[r->owner];
            first = &p->refs;
            count = r->access == KAFKA_PRODUCES ? &p->nproduces : &p->nconsumes;
        } else {
            kafka_connector_t *c = &t->connectors[r->owner];
            first = &c->refs;
            count = r->access == KAFKA_PRODUCES ? &c->nproduces : &c->nconsumes;
        }
        if (!*first)
            *first = r;
        (*count)++;
    }
}

typedef struct kafka__edges {
    kafka_topology_t *t;
    kafka__map_t seen; /* one key per distinct edge */
    gr_buf_t key;
} kafka__edges_t;

static void kafka__edge_add(kafka__edges_t *e, const kafka_ref_t *r, size_t topic, const char *name,
                            size_t cluster)
{
    kafka_topology_t *t = e->t;
    kafka__impl_t *im = t->impl;
    gr_buf_reset(&e->key);
    gr_buf_printf(&e->key, "%d:%zu:%d:%zu:%s", (int)r->owner_kind, r->owner, (int)r->access,
                  cluster, name);
    if (kafka__map_get(&e->seen, e->key.data, 0, NULL))
        return;
    kafka__map_put(&e->seen, kafka__strndup(&im->arena, e->key.data, e->key.len), 0, 0);
    KAFKA__GROW(t->edges, t->nedges, im->edges_cap);
    t->edges[t->nedges++] = (kafka_edge_t){
        .from_kind = r->owner_kind,
        .from = r->owner,
        .access = r->access,
        .topic = topic,
        .topic_name = topic != KAFKA_NONE ? t->topics[topic].name : name,
        .cluster = cluster,
        .pos = r->pos,
    };
}

static const char *kafka__owner_name(const kafka_topology_t *t, const kafka_ref_t *r)
{
    return r->owner_kind == KAFKA_NODE_PRINCIPAL ? t->principals[r->owner].name
                                                 : t->connectors[r->owner].name;
}

static void kafka__resolve_ref(kafka__edges_t *e, const kafka_ref_t *r)
{
    kafka_topology_t *t = e->t;
    kafka__impl_t *im = t->impl;
    size_t from = r->cluster != KAFKA_NONE ? r->cluster : 0;
    size_t to = r->cluster != KAFKA_NONE ? r->cluster + 1 : t->nclusters;
    int every = r->pattern == KAFKA_PATTERN_LITERAL && strcmp(r->topic, "*") == 0;

    if (r->pattern == KAFKA_PATTERN_PREFIX || every) {
        /* Patterns grant rights on whatever matches, now or later, so
         * matching nothing is not a mistake. */
        size_t plen = strlen(r->topic);
        for (size_t i = 0; i < t->ntopics; i++) {
            const kafka_topic_t *tp = &t->topics[i];
            if (tp->cluster < from || tp->cluster >= to)
                continue;
            if (every || strncmp(tp->name, r->topic, plen) == 0)
                kafka__edge_add(e, r, i, tp->name, tp->cluster);
        }
        return;
    }
    int found = 0;
    for (size_t c = from; c < to; c++) {
        size_t idx;
        if (kafka__map_get(&im->topic_map, r->topic, (uint32_t)c, &idx)) {
            kafka__edge_add(e, r, idx, r->topic, c);
            found = 1;
        }
    }
    if (found)
        return;
    size_t cluster = r->cluster != KAFKA_NONE ? r->cluster : kafka__default_cluster(t, r->pos);
    if (r->cluster != KAFKA_NONE)
        kafka__problem(t, r->pos, KAFKA_SEVERITY_WARNING, KAFKA_CHECK_UNDEFINED_TOPIC,
                       "'%s' %s topic '%s', which no file defines in cluster '%s'; define the "
                       "topic or correct the name",
                       kafka__owner_name(t, r),
                       r->access == KAFKA_PRODUCES ? "produces to" : "consumes from", r->topic,
                       t->clusters[cluster].name);
    else
        kafka__problem(t, r->pos, KAFKA_SEVERITY_WARNING, KAFKA_CHECK_UNDEFINED_TOPIC,
                       "'%s' %s topic '%s', which no file defines in any cluster; define the "
                       "topic or correct the name",
                       kafka__owner_name(t, r),
                       r->access == KAFKA_PRODUCES ? "produces to" : "consumes from", r->topic);
    kafka__edge_add(e, r, KAFKA_NONE, r->topic, cluster);
}

void kafka__resolve(kafka_topology_t *t)
{
    for (size_t i = 0; i < t->nprincipals; i++) {
        const kafka_principal_t *p = &t->principals[i];
        if (!p->declared)
            kafka__problem(t, p->pos, KAFKA_SEVERITY_WARNING, KAFKA_CHECK_UNDEFINED_PRINCIPAL,
                           "'%s' is named here but no file defines it as a service or user; "
                           "define it or correct the name",
                           p->name);
    }

    kafka__group_refs(t);
    kafka__edges_t e = {.t = t};
    size_t nrefs = t->nrefs;
    for (size_t i = 0; i < nrefs; i++)
        kafka__resolve_ref(&e, &t->refs[i]);
    kafka__map_free(&e.seen);
    gr_buf_free(&e.key);

    for (size_t i = 0; i < t->ntopics; i++) {
        const kafka_topic_t *tp = &t->topics[i];
        const kafka_cluster_t *c = &t->clusters[tp->cluster];
        if (!c->nbrokers || tp->replication <= 0 || (size_t)tp->replication <= c->nbrokers)
            continue;
        kafka__problem(t, tp->replication_pos, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_REPLICATION,
                       "topic '%s' asks for replication factor %d but cluster '%s' has %zu "
                       "broker%s (described at %s:%u); Kafka cannot place the replicas, so lower "
                       "the replication factor or add brokers",
                       tp->name, tp->replication, c->name, c->nbrokers, c->nbrokers == 1 ? "" : "s",
                       c->pos.file ? c->pos.file : "?", c->pos.line);
    }
}
