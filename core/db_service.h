/* core/db_service.h: the database service the host runs for its plugins.
 *
 * Config, in Backstage's shape (backend.database):
 *
 *   client: embedded | pg        default embedded
 *   connection: "postgres://..." | "host=... user=..." |
 *               {host, port, user, password, database, sslmode}      (pg)
 *   pluginDivisionMode: database | schema                 default database
 *   prefix: backstage_plugin_     database mode: a plugin's database is prefix + pluginId
 *   plugin: {<pluginId>: {connection: ...}}   per-plugin server/credentials
 *   pool: {min: 1, max: 10}       connections per plugin
 *   binDir: /usr/lib/postgresql/15/bin        embedded: the server binaries
 *
 * `embedded` runs a private cluster under <state_dir>/postgres (see
 * pg_cluster.h) on a unix socket, as the unprivileged `postgres` user when
 * the host is root.  Each plugin gets its own pool (gr_db_t, application_name
 * "greenroom:<pluginId>") reaching only its own database (`database` mode:
 * created if missing) or schema (`schema` mode: one database, the schema
 * created if missing and the only entry of search_path).  The host's own
 * tables (the cluster-safe scheduler's leases) live in the same way under
 * the reserved id "greenroom".
 *
 * Order of calls in the host:
 *   svc = gr_db_service_new(...)              reads the config, no I/O
 *   gr_db_service_start(svc, cb, ud)          embedded: initdb/start; then
 *                                             checks it can reach the server
 *   for each plugin: gr_db_service_migrate(svc, id, desc->migrations, cb, ud)
 *                    ctx->db = gr_db_service_plugin(svc, id, &err)
 *   ... gr_db_service_ready(svc) for /readyz ...
 *   after every plugin's shutdown: gr_db_service_stop(svc, cb, ud)
 *   gr_db_service_free(svc)                   after stop's callback
 *
 * Every callback runs on the loop thread, later than the call that asked
 * for it; none of these functions block.  Passwords are added to the log's
 * secrets and never written by this unit. */
#ifndef GR_CORE_DB_SERVICE_H
#define GR_CORE_DB_SERVICE_H

#include <uv.h>

#include <greenroom/greenroom.h>

#include "util.h"

typedef struct gr_db_service gr_db_service_t;

/* status is 0 or a negative gr_status_t; err is NULL on success. */
typedef void (*gr_db_service_cb)(void *user_data, int status, const gr_error_t *err);

typedef enum { GR_DB_CLIENT_EMBEDDED = 0, GR_DB_CLIENT_PG } gr_db_client_t;
typedef enum { GR_DB_DIVISION_DATABASE = 0, GR_DB_DIVISION_SCHEMA } gr_db_division_t;

/* libpq keyword/value pairs. */
typedef struct gr_db_params {
    gr_strvec_t keys;
    gr_strvec_t values;
} gr_db_params_t;

typedef struct gr_db_plugin_conf {
    char *plugin_id;
    gr_db_params_t connection;
} gr_db_plugin_conf_t;

/* The parsed backend.database section. */
typedef struct gr_db_options {
    gr_db_client_t client;
    gr_db_division_t division;
    char *prefix;
    int pool_min, pool_max;
    gr_db_params_t connection; /* client pg */
    gr_db_plugin_conf_t *plugins;
    size_t nplugins;
    char *bin_dir;         /* embedded; NULL to search */
    int ephemeral;         /* embedded, tests only: no fsync */
    uint64_t retry_min_ms; /* reconnect back-off; 0: 100 ms */
    uint64_t retry_max_ms; /* 0: 5 s */
} gr_db_options_t;

void gr_db_options_init(gr_db_options_t *o); /* the defaults: embedded, database mode */
void gr_db_options_free(gr_db_options_t *o);
/* Reads a backend.database node (NULL: defaults) into o, which must have
 * been initialised.  Errors name the file:line:col and the key. */
int gr_db_options_parse(gr_db_options_t *o, const gr_config_t *node, gr_error_t *err);
/* Sets the connection of the base (plugin_id NULL) or of one plugin from a
 * libpq connection string or URI; client becomes pg for the base. */
int gr_db_options_set_connection(gr_db_options_t *o, const char *plugin_id, const char *conninfo,
                                 gr_error_t *err);

/* Parses the config and prepares the service.  state_dir holds the embedded
 * cluster (<state_dir>/postgres).  log is borrowed and outlives the service;
 * metrics may be NULL. */
gr_db_service_t *gr_db_service_new(uv_loop_t *loop, const gr_config_t *database_config,
                                   const char *state_dir, gr_log_t *log, gr_metrics_t *metrics,
                                   gr_error_t *err);
/* The same from options (copied). */
gr_db_service_t *gr_db_service_new_with(uv_loop_t *loop, const gr_db_options_t *opts,
                                        const char *state_dir, gr_log_t *log, gr_metrics_t *metrics,
                                        gr_error_t *err);

/* Embedded: creates and starts the cluster.  Then provisions and connects
 * the host's own database; cb gets an error when the server cannot be
 * reached (with libpq's reason) or the cluster cannot be started. */
void gr_db_service_start(gr_db_service_t *svc, gr_db_service_cb cb, void *user_data);

/* The plugin's handle (created on first call, then the same one), for
 * gr_context_t.db.  Its database or schema is created in the background;
 * queries sent meanwhile wait for it.  NULL and err filled for an invalid
 * or reserved id. */
gr_db_t *gr_db_service_plugin(gr_db_service_t *svc, const char *plugin_id, gr_error_t *err);

/* The host's own handle (reserved id "greenroom"), for host-internal tables
 * such as the cluster-safe scheduler's leases.  Valid after start. */
gr_db_t *gr_db_service_host(gr_db_service_t *svc);

/* Applies the plugin's migrations ({NULL, NULL}-terminated; NULL for none)
 * in one transaction under an advisory lock, recording each in the
 * plugin's greenroom_migrations table with its SHA-256 (plugin_id
 * GR_DB_HOST_ID migrates the host's own database).  Applied ones are
 * skipped; one whose SQL changed since refuses, naming it.  cb gets 0 or the
 * error (the transaction is rolled back). */
void gr_db_service_migrate(gr_db_service_t *svc, const char *plugin_id,
                           const gr_migration_t *migrations, gr_db_service_cb cb, void *user_data);

/* True while the server (embedded or not) answers and every plugin's pool
 * is connected. */
int gr_db_service_ready(const gr_db_service_t *svc);

/* A sentence for the readiness body when not ready ("" when ready). */
const char *gr_db_service_status(const gr_db_service_t *svc);

/* Closes every pool (queued queries end with GR_ERR_CANCELED), then stops
 * the embedded server; cb runs when all of it is done. */
void gr_db_service_stop(gr_db_service_t *svc, gr_db_service_cb cb, void *user_data);

/* Frees the service; call after stop's callback (the embedded cluster's
 * last handle is closed by the loop's next iteration). */
void gr_db_service_free(gr_db_service_t *svc);

/* The embedded cluster, or NULL with client pg (tests, benchmarks). */
struct gr_pg_cluster *gr_db_service_cluster(gr_db_service_t *svc);

/* The reserved id of the host's own database. */
#define GR_DB_HOST_ID "greenroom"

#endif
