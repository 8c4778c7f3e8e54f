/* modules/catalog-kafka-topology/kafka_mapping.h: the Kafka topology as
 * catalog entities (mapping.c, pure: no host calls, safe on worker threads,
 * unit-tested in tests/kafka/).
 *
 * Each defined topic becomes a Resource of type kafka-topic:
 *
 *   metadata.namespace  the topic's cluster, made a Backstage namespace
 *                       (lower case, [a-z0-9-], at most 63 characters), so
 *                       one topic name on two clusters is two entities;
 *   metadata.name       the topic name made a Backstage name (characters
 *                       outside [A-Za-z0-9._-] become '-', no leading or
 *                       trailing punctuation, at most 63 characters; a name
 *                       that had to be shortened or that two topics share
 *                       ends in '-' and 8 hex digits of the full name's
 *                       SHA-256);
 *   metadata.title      the full topic name;
 *   annotations         greenroom.dev/kafka-cluster, greenroom.dev/kafka-topic
 *                       (the full name) and greenroom.dev/kafka-source
 *                       ("file:line" of its definition);
 *   spec.owner          the configured owner;
 *   spec.dependencyOf   the catalog Components that produce to or consume
 *                       from it, from which the catalog derives the
 *                       Components' dependsOn relations.
 *
 * A producer or consumer matches a Component when the Component lists it in
 * its greenroom.dev/kafka-principal annotation (comma-separated), or when
 * the Component's name equals the service's name (any case; for a
 * principal such as "User:billing" the part after the last ':' counts
 * too).  Services that match nothing are counted, not emitted. */
#ifndef KAFKA_MAPPING_H
#define KAFKA_MAPPING_H

#include <stddef.h>
#include <stdint.h>

#include "kafka_model.h"
#include "util.h"

struct json_object;

#define KM_ANNOTATION_PRINCIPAL "greenroom.dev/kafka-principal"
#define KM_ANNOTATION_CLUSTER "greenroom.dev/kafka-cluster"
#define KM_ANNOTATION_TOPIC "greenroom.dev/kafka-topic"
#define KM_ANNOTATION_SOURCE "greenroom.dev/kafka-source"

/* The catalog's Components, for matching services. */
typedef struct km_component {
    char *ref;        /* "component:default/billing" */
    char *name;       /* lower case */
    char *principals; /* the annotation's value, or NULL */
} km_component_t;

typedef struct km_components {
    km_component_t *items;
    size_t len, cap;
} km_components_t;

/* Copies the strings; principals may be NULL. */
void km_components_add(km_components_t *c, const char *ref, const char *name,
                       const char *principals);
void km_components_free(km_components_t *c);
/* Adds the Components of a JSON array of entities as the catalog reads
 * them (kind, metadata.name, metadata.namespace and metadata.annotations
 * are enough): ref made canonical, the principal annotation when it is a
 * string.  Entities without a kind or name are skipped. */
void km_components_from_entities(km_components_t *c, struct json_object *entities);

/* One entity to hand to the catalog. */
typedef struct km_entity {
    struct json_object *entity; /* owned until handed over */
    char *location;             /* location_prefix + file, or NULL */
    char *path;
    uint32_t line;
} km_entity_t;

typedef struct km_result {
    km_entity_t *entities;
    size_t nentities;
    size_t relations;      /* dependencyOf refs emitted */
    size_t services;       /* producers and consumers with an edge to a defined topic */
    size_t matched;        /* of which matched at least one Component */
    gr_strvec_t unmatched; /* names of the others, in model order */
} km_result_t;

/* Maps every defined topic of t.  location_prefix may be NULL. */
void km_build(const kafka_topology_t *t, const char *location_prefix, const km_components_t *comps,
              const char *owner, km_result_t *out);
void km_result_free(km_result_t *r);

/* A Backstage namespace for a cluster name, into out (64 bytes). */
void km_namespace(const char *cluster, char out[64]);
/* A Backstage name for a topic name, into out (64 bytes); 1 when it had to
 * be shortened (the caller then makes it unique with a hash). */
int km_name(const char *topic, char out[64]);

#endif
