/* greenroom/types.h: the handles the host gives a module, and the plain
 * structs a module fills in.
 *
 * Every handle is opaque.  Its first member is a pointer to the host's API
 * table (gr_host_api_t), which is how the inline functions in the service
 * headers reach the host without any global state in the module.  Handles
 * are owned by the host; each header says how long a borrowed one lives.
 */
#ifndef GREENROOM_TYPES_H
#define GREENROOM_TYPES_H

#include <stddef.h>
#include <stdint.h>

struct gr_host_api;

/* The layout every handle starts with. */
typedef struct gr__handle {
    const struct gr_host_api *api;
} gr__handle_t;

#define GR__API(handle) (((const gr__handle_t *)(const void *)(handle))->api)

typedef struct gr_context gr_context_t;             /* a module's services, see module.h */
typedef struct gr_log gr_log_t;                     /* log.h */
typedef struct gr_config gr_config_t;               /* config.h: one node of the tree */
typedef struct gr_router gr_router_t;               /* http.h */
typedef struct gr_http_request gr_http_request_t;   /* http.h */
typedef struct gr_scheduler gr_scheduler_t;         /* scheduler.h */
typedef struct gr_task gr_task_t;                   /* scheduler.h: one run of a task */
typedef struct gr_metrics gr_metrics_t;             /* metrics.h */
typedef struct gr_metric gr_metric_t;               /* metrics.h: a family or a series */
typedef struct gr_db gr_db_t;                       /* db.h (database service) */
typedef struct gr_db_tx gr_db_tx_t;                 /* db.h: a transaction */
typedef struct gr_db_stmt gr_db_stmt_t;             /* db.h: a prepared statement */
typedef struct gr_db_result gr_db_result_t;         /* db.h: rows, borrowed in a callback */
typedef struct gr_db_error gr_db_error_t;           /* db.h */
typedef struct gr_http_client gr_http_client_t;     /* http_client.h (outbound HTTP) */
typedef struct gr_http_call gr_http_call_t;         /* http_client.h: one outbound request */
typedef struct gr_http_response gr_http_response_t; /* http_client.h: borrowed in a callback */
typedef struct gr_github gr_github_t;               /* github.h: one GitHub integration */
typedef struct gr_github_request gr_github_request_t;   /* github.h */
typedef struct gr_github_graphql gr_github_graphql_t;   /* github.h */
typedef struct gr_github_response gr_github_response_t; /* github.h: borrowed in a callback */

/* ---- config schema: how a module declares its section ------------------ */

typedef enum gr_config_type {
    GR_CONFIG_ANY = 0,
    GR_CONFIG_STRING,
    GR_CONFIG_INT,
    GR_CONFIG_NUMBER,
    GR_CONFIG_BOOL,
    GR_CONFIG_OBJECT,   /* a map; `fields` lists its keys */
    GR_CONFIG_ARRAY,    /* a list; `items` describes one element */
    GR_CONFIG_DURATION  /* Backstage's {minutes: 30}, an ISO 8601 "PT30M", or milliseconds */
} gr_config_type_t;

enum {
    GR_CONFIG_REQUIRED = 1u << 0, /* missing key is an error */
    GR_CONFIG_SECRET = 1u << 1    /* value is redacted in logs and `config print --redact` */
};

/* One key of a config map.  A table of them ends with an entry whose key is
 * NULL.  The key "*" matches any key not listed (a map keyed by id, such as
 * catalog.providers.centralConfig.<providerId>).  An OBJECT whose `fields`
 * is NULL accepts any keys; the key of an `items` entry is ignored.
 * Defaults are YAML text ("30", "{seconds: 15}") and are written into the
 * tree, so the reader sees them as if the operator had set them. */
typedef struct gr_config_field {
    const char *key;
    gr_config_type_t type;
    unsigned flags;
    const char *default_value;
    const char *const *enum_values;        /* NULL-terminated, or NULL for any */
    const struct gr_config_field *fields;  /* OBJECT: the keys it may hold */
    const struct gr_config_field *items;   /* ARRAY: one entry describing an element */
    const char *description;
} gr_config_field_t;

/* ---- database migrations ---------------------------------------------- */

/* One numbered migration of a plugin's schema, compiled into the module.
 * Names sort in the order they apply ("001_create_entities").  An applied
 * migration is recorded with a checksum of its SQL; changing it afterwards
 * refuses start-up, so fix forward with a new migration instead. */
typedef struct gr_migration {
    const char *name;
    const char *sql;
} gr_migration_t;

/* ---- scheduling --------------------------------------------------------- */

typedef enum gr_task_scope {
    GR_TASK_LOCAL = 0, /* never overlaps itself on this host */
    GR_TASK_GLOBAL     /* one host at a time across the cluster (needs the database) */
} gr_task_scope_t;

typedef struct gr_schedule {
    uint64_t frequency_ms;     /* time between starts; 0 = only when triggered */
    uint64_t initial_delay_ms; /* wait before the first run */
    uint64_t timeout_ms;       /* a run longer than this is cancelled; 0 = none */
    double jitter;             /* 0..1: each wait is shortened by up to this fraction */
    gr_task_scope_t scope;
} gr_schedule_t;

#endif
