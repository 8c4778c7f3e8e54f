/* modules/kafka-topology/kafka_restore.c: a finished topology rebuilt
 * element by element from a stored copy, so the plugin can serve the model
 * of the last sync after a restart without reading the source again.
 *
 * The elements arrive in their original order with their original
 * indexes, so the rebuilt arrays match the stored ones exactly and the
 * graph export gives the same text.  Indexes are only checked at the end:
 * a stored model is consistent unless the database was edited by hand. */
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"

kafka_topology_t *kafka_restore_new(const kafka_options_t *opts)
{
    return kafka_topology_new(opts);
}

static const char *kafka__dup(kafka_topology_t *t, const char *s)
{
    return kafka__strdup(&t->impl->arena, s);
}

/* Positions name a handful of files many thousands of times: each name is
 * kept once. */
static kafka_pos_t kafka__pos_copy(kafka_topology_t *t, kafka_pos_t pos)
{
    if (!pos.file)
        return pos;
    kafka__impl_t *im = t->impl;
    size_t idx;
    if (kafka__map_get(&im->intern_map, pos.file, 0, &idx)) {
        pos.file = idx != KAFKA_NONE ? t->files[idx].path : NULL;
        if (pos.file)
            return pos;
    }
    /* Not a restored file (a directory that could not be listed): a copy
     * of its own, remembered for the next position naming it. */
    const char *copy = kafka__dup(t, pos.file);
    kafka__map_put(&im->intern_map, copy, 0, KAFKA_NONE);
    pos.file = copy;
    return pos;
}

void kafka_restore_file(kafka_topology_t *t, const kafka_file_t *file)
{
    kafka__impl_t *im = t->impl;
    KAFKA__GROW(t->files, t->nfiles, im->outfiles_cap);
    size_t idx = t->nfiles++;
    t->files[idx] = (kafka_file_t){kafka__dup(t, file->path), file->format};
    kafka__map_put(&im->intern_map, t->files[idx].path, 0, idx);
}

void kafka_restore_cluster(kafka_topology_t *t, const kafka_cluster_t *cluster)
{
    size_t idx = kafka__cluster(t, cluster->name, kafka__pos_copy(t, cluster->pos));
    kafka_cluster_t *c = &t->clusters[idx];
    c->declared = cluster->declared;
    c->bootstrap = kafka__dup(t, cluster->bootstrap);
    for (size_t i = 0; i < cluster->nbrokers; i++)
        kafka__cluster_add_broker(t, idx, cluster->brokers[i].id, cluster->brokers[i].host,
                                  cluster->brokers[i].rack);
}

static int kafka__entry_cmp(const void *a, const void *b)
{
    return strcmp(((const kafka_config_entry_t *)a)->key, ((const kafka_config_entry_t *)b)->key);
}

void kafka_restore_topic(kafka_topology_t *t, const kafka_topic_t *topic)
{
    kafka__impl_t *im = t->impl;
    size_t ncfg = topic->nconfig;
    kafka_config_entry_t *cfg = ncfg ? kafka__alloc(&im->arena, ncfg * sizeof *cfg) : NULL;
    for (size_t i = 0; i < ncfg; i++) {
        cfg[i].key = kafka__dup(t, topic->config[i].key);
        cfg[i].value = kafka__dup(t, topic->config[i].value);
    }
    /* The model promises config sorted by key, whatever order it was stored in. */
    if (ncfg > 1)
        qsort(cfg, ncfg, sizeof *cfg, kafka__entry_cmp);
    KAFKA__GROW(t->topics, t->ntopics, im->topics_cap);
    size_t idx = t->ntopics++;
    t->topics[idx] = (kafka_topic_t){
        .name = kafka__dup(t, topic->name),
        .cluster = topic->cluster,
        .partitions = topic->partitions,
        .replication = topic->replication,
        .config = cfg,
        .nconfig = ncfg,
        .project = kafka__dup(t, topic->project),
        .data_type = kafka__dup(t, topic->data_type),
        .format = topic->format,
        .pos = kafka__pos_copy(t, topic->pos),
        .replication_pos = kafka__pos_copy(t, topic->replication_pos),
    };
    if (topic->cluster < t->nclusters)
        kafka__map_put(&im->topic_map, t->topics[idx].name, (uint32_t)topic->cluster, idx);
}

void kafka_restore_principal(kafka_topology_t *t, const kafka_principal_t *principal)
{
    kafka__impl_t *im = t->impl;
    KAFKA__GROW(t->principals, t->nprincipals, im->principals_cap);
    size_t idx = t->nprincipals++;
    t->principals[idx] = (kafka_principal_t){
        .name = kafka__dup(t, principal->name),
        .principal = kafka__dup(t, principal->principal),
        .kind = principal->kind,
        .declared = principal->declared,
        .pos = kafka__pos_copy(t, principal->pos),
    };
    kafka__map_put(&im->principal_map, t->principals[idx].name, 0, idx);
}

void kafka_restore_connector(kafka_topology_t *t, const kafka_connector_t *connector)
{
    kafka__impl_t *im = t->impl;
    KAFKA__GROW(t->connectors, t->nconnectors, im->connectors_cap);
    size_t idx = t->nconnectors++;
    t->connectors[idx] = (kafka_connector_t){
        .name = kafka__dup(t, connector->name),
        .principal = connector->principal,
        .class_name = kafka__dup(t, connector->class_name),
        .pos = kafka__pos_copy(t, connector->pos),
    };
    kafka__map_put(&im->connector_map, t->connectors[idx].name, 0, idx);
}

void kafka_restore_streams_app(kafka_topology_t *t, const kafka_streams_app_t *app)
{
    kafka__streams_app_add(t, app->application_id, app->principal, kafka__pos_copy(t, app->pos));
}

void kafka_restore_ref(kafka_topology_t *t, const kafka_ref_t *ref)
{
    kafka__ref_add(t, ref->owner_kind, ref->owner, ref->access, ref->pattern, ref->topic,
                   ref->cluster, kafka__pos_copy(t, ref->pos));
}

void kafka_restore_edge(kafka_topology_t *t, const kafka_edge_t *edge)
{
    kafka__impl_t *im = t->impl;
    KAFKA__GROW(t->edges, t->nedges, im->edges_cap);
    t->edges[t->nedges++] = (kafka_edge_t){
        .from_kind = edge->from_kind,
        .from = edge->from,
        .access = edge->access,
        .topic = edge->topic,
        /* Set from the topic at finish when it is defined, as parsing does. */
        .topic_name = edge->topic == KAFKA_NONE ? kafka__dup(t, edge->topic_name) : NULL,
        .cluster = edge->cluster,
        .pos = kafka__pos_copy(t, edge->pos),
    };
}

void kafka_restore_problem(kafka_topology_t *t, const kafka_problem_t *problem)
{
    kafka__impl_t *im = t->impl;
    KAFKA__GROW(t->problems, t->nproblems, im->problems_cap);
    t->problems[t->nproblems++] = (kafka_problem_t){
        .pos = kafka__pos_copy(t, problem->pos),
        .severity = problem->severity,
        .check = kafka__dup(t, problem->check ? problem->check : ""),
        .message = kafka__dup(t, problem->message ? problem->message : ""),
    };
}

static size_t kafka__owners(const kafka_topology_t *t, kafka_node_kind_t kind)
{
    return kind == KAFKA_NODE_PRINCIPAL ? t->nprincipals : t->nconnectors;
}

/* 0, or GR_ERR_INVALID naming the first element that points nowhere. */
static int kafka__check(const kafka_topology_t *t, gr_error_t *err)
{
    for (size_t i = 0; i < t->ntopics; i++)
        if (t->topics[i].cluster >= t->nclusters || !t->topics[i].name)
            return gr_error_set(err, GR_ERR_INVALID,
                                "kafka-topology: stored topic %zu names cluster %zu of %zu", i,
                                t->topics[i].cluster, t->nclusters);
    for (size_t i = 0; i < t->nconnectors; i++)
        if (t->connectors[i].principal != KAFKA_NONE &&
            t->connectors[i].principal >= t->nprincipals)
            return gr_error_set(err, GR_ERR_INVALID,
                                "kafka-topology: stored connector '%s' names principal %zu of %zu",
                                t->connectors[i].name, t->connectors[i].principal, t->nprincipals);
    for (size_t i = 0; i < t->nstreams_apps; i++)
        if (t->streams_apps[i].principal >= t->nprincipals)
            return gr_error_set(err, GR_ERR_INVALID,
                                "kafka-topology: stored streams app %zu names principal %zu of %zu",
                                i, t->streams_apps[i].principal, t->nprincipals);
    for (size_t i = 0; i < t->nrefs; i++) {
        const kafka_ref_t *r = &t->refs[i];
        if (r->owner >= kafka__owners(t, r->owner_kind) ||
            (r->cluster != KAFKA_NONE && r->cluster >= t->nclusters) || !r->topic)
            return gr_error_set(err, GR_ERR_INVALID,
                                "kafka-topology: stored right %zu points at no owner or cluster",
                                i);
    }
    for (size_t i = 0; i < t->nedges; i++) {
        const kafka_edge_t *e = &t->edges[i];
        if (e->from >= kafka__owners(t, e->from_kind) || e->cluster >= t->nclusters ||
            (e->topic != KAFKA_NONE && e->topic >= t->ntopics) ||
            (e->topic == KAFKA_NONE && !e->topic_name))
            return gr_error_set(err, GR_ERR_INVALID,
                                "kafka-topology: stored edge %zu points at no owner, cluster or "
                                "topic",
                                i);
    }
    return 0;
}

int kafka_restore_finish(kafka_topology_t *t, gr_error_t *err)
{
    kafka__impl_t *im = t->impl;
    if (im->finished)
        return 0;
    im->finished = 1;
    int rc = kafka__check(t, err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < t->nedges; i++)
        if (t->edges[i].topic != KAFKA_NONE)
            t->edges[i].topic_name = t->topics[t->edges[i].topic].name;
    kafka__group_refs(t);
    return 0;
}
