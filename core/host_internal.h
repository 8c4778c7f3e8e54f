/* core/host_internal.h: the host's structs, shared by host.c (life cycle),
 * host_context.c (the services a module calls) and host_routes.c (health,
 * metadata, metrics).  Nothing outside those files includes this. */
#ifndef GR_CORE_HOST_INTERNAL_H
#define GR_CORE_HOST_INTERNAL_H

#include <uv.h>

#include "config_tree.h"
#include "db_service.h"
#include "github_client.h"
#include "http_client.h"
#include "host.h"
#include "http_server.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "scheduler.h"
#include "work.h"

typedef enum gr_slot_state {
    GR_SLOT_LOADED = 0,
    GR_SLOT_REGISTERED,
    GR_SLOT_INITIALIZED,
    GR_SLOT_FAILED,
    GR_SLOT_STOPPED
} gr_slot_state_t;

/* A config document and the number of slots still reading from it: after a
 * reload, a module that kept its old section keeps the old tree alive. */
typedef struct gr_doc_ref {
    gr_config_doc_t *doc;
    int refs;
} gr_doc_ref_t;

typedef struct gr_hook {
    gr_hook_fn fn;
    void *user_data;
} gr_hook_t;

typedef struct gr_hook_list {
    gr_hook_t *items;
    size_t len;
    size_t cap;
} gr_hook_list_t;

/* One loaded plugin or module.  ctx comes first so a gr_context_t * handed
 * to a module converts back to its slot. */
typedef struct gr_slot {
    gr_context_t ctx;
    struct gr_host *host;
    gr_module_file_t file;
    gr_slot_state_t state;
    char *failure;        /* why init failed, for health and metadata */
    int in_register;      /* extension points may only be provided now */
    int healthy;          /* as last reported by gr_health_report */
    char *health_message;
    gr_doc_ref_t *config_ref;
} gr_slot_t;

typedef struct gr_extension_point {
    char *name;
    const void *impl;
    gr_slot_t *owner;
} gr_extension_point_t;

struct gr_host {
    uv_loop_t loop;
    const gr_host_options_t *options;
    gr_log_t *log;
    gr_doc_ref_t *config;

    gr_slot_t *slots;
    size_t nslots;
    size_t *order; /* init order, indexes into slots */

    gr_extension_point_t *points;
    size_t npoints;

    gr_route_table_t *routes;
    gr_router_t *host_router;
    gr_strvec_t mounts; /* names taken by gr_router_mount */
    gr_http_server_t *http;
    gr_metrics_t *metrics;
    gr_scheduler_host_t *scheduler;
    gr_work_pool_t *work;
    gr_db_service_t *db;  /* NULL with backend.database.client: none */
    gr_http_client_t *http_client;
    gr_github_client_t *github;
    size_t migrate_index; /* start-up: the next slot (in order) to migrate */

    gr_hook_list_t started_hooks;
    gr_hook_list_t shutdown_hooks;

    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t tick;            /* loop-lag gauge and systemd watchdog */
    uint64_t tick_interval_ms;
    uint64_t tick_expected_ms;
    uint64_t watchdog_ms;
    gr_metric_t *loop_lag;

    gr_host_phase_t phase;
    int exit_code;
    uint64_t start_ms;
    char *unhealthy; /* the last answer of gr_host_unhealthy() */

    /* backend.* settings */
    char *listen_host;
    int listen_port;
    gr_http_limits_t limits;
    uint64_t shutdown_timeout_ms;
};

static inline gr_slot_t *gr_slot_from_context(gr_context_t *ctx) { return (gr_slot_t *)ctx; }

void gr_host_routes_mount(gr_host_t *host);
void gr_hook_list_run(gr_hook_list_t *list);
void gr_hook_list_free(gr_hook_list_t *list);

#endif
