/* modules/kafka-topology/kafka_topology_api.h: the kafka-topology plugin's
 * "kafka-topology.listener" extension point, the one header a module
 * includes to follow the topology (the catalog mapping module does).
 *
 * A module lists the point in its descriptor, which makes it init before
 * the kafka-topology plugin, and in its init starts listening:
 *
 *     static const char *const uses[] = {KAFKA_TOPOLOGY_LISTENER_POINT, NULL};
 *     ...
 *     const kafka_topology_api_t *api =
 *         gr_extension_point_get(ctx, KAFKA_TOPOLOGY_LISTENER_POINT);
 *     kafka_listener_t *l = kafka_topology_listen(api, on_snapshot, state, err);
 *
 * on_snapshot then runs on the loop each time the plugin has a new model:
 * after loading the stored one at start, after each successful sync, and
 * after another host's sync was stored.  The snapshot is borrowed for the
 * callback; kafka_snapshot_hold() keeps it (for work on the thread pool,
 * where the model may be read but not changed) until
 * kafka_snapshot_release().  Call kafka_topology_unlisten() in shutdown:
 * the plugin's state lives until every listener has gone.
 *
 * Everything here runs on the loop thread. */
#ifndef KAFKA_TOPOLOGY_API_H
#define KAFKA_TOPOLOGY_API_H

#include <stddef.h>
#include <stdint.h>

#include <greenroom/greenroom.h>

#include "kafka_model.h"

struct json_object;

#define KAFKA_TOPOLOGY_LISTENER_POINT "kafka-topology.listener"
#define KAFKA_TOPOLOGY_API_VERSION 1u

/* One model of the topology, as stored by a sync. */
typedef struct kafka_snapshot {
    const kafka_topology_t *topology; /* finished and read-only */
    uint64_t generation;              /* the stored sync it comes from; grows by one per sync */
    /* Backstage location ref prefix of its files ("file:/srv/topology/",
     * "url:https://github.com/o/r/blob/main/"); a file's location is the
     * prefix followed by its path.  NULL when unknown. */
    const char *location_prefix;
} kafka_snapshot_t;

/* kafkaTopology.catalogMapping, as configured. */
typedef struct kafka_catalog_mapping {
    int enabled;
    const char *owner; /* the spec.owner of every topic's Resource entity */
} kafka_catalog_mapping_t;

/* mapping is borrowed for the callback, as the snapshot is. */
typedef void (*kafka_snapshot_fn)(const kafka_snapshot_t *snapshot,
                                  const kafka_catalog_mapping_t *mapping, void *user_data);

typedef struct kafka_listener kafka_listener_t;

typedef struct kafka_topology_api {
    uint32_t version; /* KAFKA_TOPOLOGY_API_VERSION */
    uint32_t size;    /* sizeof(kafka_topology_api_t) in the plugin */
    void *plugin;     /* the plugin's own state: pass the api, never this */

    kafka_listener_t *(*listen)(const struct kafka_topology_api *api, kafka_snapshot_fn fn,
                                void *user_data, gr_error_t *err);
    void (*unlisten)(kafka_listener_t *listener);
    const kafka_snapshot_t *(*hold)(const kafka_snapshot_t *snapshot);
    void (*release)(const kafka_snapshot_t *snapshot);
    /* Replaces what GET /api/kafka-topology/status shows under
     * "catalogMapping" (copied; NULL clears it). */
    void (*report)(kafka_listener_t *listener, struct json_object *status);
} kafka_topology_api_t;

/* Starts calling fn with every new model.  Call it from init: a listener
 * inits before the plugin, so it sees the first model (the stored one, or
 * the first sync's).  NULL with err filled on an API version this module
 * does not speak. */
static inline kafka_listener_t *kafka_topology_listen(const kafka_topology_api_t *api,
                                                      kafka_snapshot_fn fn, void *user_data,
                                                      gr_error_t *err)
{
    if (!api || api->version != KAFKA_TOPOLOGY_API_VERSION) {
        gr_error_set(err, GR_ERR_UNSUPPORTED,
                     "the kafka-topology listener API is version %u; this module needs %u",
                     api ? api->version : 0u, KAFKA_TOPOLOGY_API_VERSION);
        return NULL;
    }
    return api->listen(api, fn, user_data, err);
}

static inline void kafka_topology_unlisten(const kafka_topology_api_t *api,
                                           kafka_listener_t *listener)
{
    if (listener)
        api->unlisten(listener);
}

static inline const kafka_snapshot_t *kafka_snapshot_hold(const kafka_topology_api_t *api,
                                                          const kafka_snapshot_t *snapshot)
{
    return api->hold(snapshot);
}

static inline void kafka_snapshot_release(const kafka_topology_api_t *api,
                                          const kafka_snapshot_t *snapshot)
{
    if (snapshot)
        api->release(snapshot);
}

static inline void kafka_topology_report_status(const kafka_topology_api_t *api,
                                                kafka_listener_t *listener,
                                                struct json_object *status)
{
    api->report(listener, status);
}

#endif
