/* core/pg_cluster.h: a private PostgreSQL cluster run by the host.
 *
 * The one implementation of "initdb, then run postgres as an unprivileged
 * user": the database service uses it for `client: embedded`, and the test
 * harness uses it for throwaway servers.
 *
 * Layout under base_dir (created if missing):
 *   data/          the cluster (initdb writes data.initdb/ and renames it
 *                  when complete, so a half-made cluster is never used)
 *   run/           the unix socket; the server listens on nothing else
 *   postgres.log   initdb's and the server's output
 *
 * PostgreSQL refuses to run as root.  When the host's effective uid is 0 the
 * server runs as `user` (Debian's `postgres` account by default): the child
 * execs `setpriv --reuid --regid --init-groups` straight into initdb or
 * postgres, so the PID libuv records is the server's own, and base_dir is
 * chowned to that user.  setpriv also sets a parent-death signal (SIGINT:
 * fast shutdown), so a host that dies without stopping the server does not
 * leave it running.  Without setpriv, libuv switches the uid itself.
 *
 * Everything runs off the loop thread or asynchronously: directory checks in
 * the libuv thread pool, initdb and postgres as uv_spawn children, readiness
 * by non-blocking libpq connection attempts on a timer.  When the server
 * dies on its own it is restarted with back-off (when `restart` is set). */
#ifndef GR_CORE_PG_CLUSTER_H
#define GR_CORE_PG_CLUSTER_H

#include <uv.h>

#include <greenroom/greenroom.h>

typedef struct gr_pg_cluster gr_pg_cluster_t;

typedef struct gr_pg_cluster_opts {
    const char *base_dir;      /* required */
    const char *bin_dir;       /* NULL: the newest /usr/lib/postgresql/<major>/bin */
    const char *search_root;   /* NULL: /usr/lib/postgresql (tests point it elsewhere) */
    const char *user;          /* the server's account when running as root; NULL: postgres */
    int port;                  /* names the socket file; 0: 5432 */
    int ephemeral;             /* throwaway data (tests): no fsync anywhere */
    int restart;               /* restart the server when it exits unasked */
    uint64_t start_timeout_ms; /* 0: 60 s */
} gr_pg_cluster_opts_t;

/* status is 0 or a negative gr_status_t; err is NULL on success. */
typedef void (*gr_pg_cluster_cb)(void *user_data, int status, const gr_error_t *err);

/* log is borrowed and must outlive the cluster. */
gr_pg_cluster_t *gr_pg_cluster_new(uv_loop_t *loop, gr_log_t *log,
                                   const gr_pg_cluster_opts_t *opts);

/* Creates the cluster when base_dir has none, starts the server and calls
 * cb once it accepts connections (or failed to). */
void gr_pg_cluster_start(gr_pg_cluster_t *c, gr_pg_cluster_cb cb, void *user_data);

/* Fast shutdown (SIGINT; SIGQUIT after 30 s, SIGKILL after 10 s more); cb
 * runs when the server has exited.  Also cancels a start in progress. */
void gr_pg_cluster_stop(gr_pg_cluster_t *c, gr_pg_cluster_cb cb, void *user_data);

/* Closes the cluster's handles and frees it once the loop has run their
 * close callbacks.  Stop it first. */
void gr_pg_cluster_free(gr_pg_cluster_t *c);

/* True while the server accepts connections. */
int gr_pg_cluster_running(const gr_pg_cluster_t *c);
/* The server's PID, or 0. */
int gr_pg_cluster_pid(const gr_pg_cluster_t *c);
/* How many times the server was restarted after exiting unasked. */
int gr_pg_cluster_restarts(const gr_pg_cluster_t *c);

/* Where to connect, valid after a successful start: the socket directory,
 * the port, and "host=<dir> port=<n> user=postgres dbname=postgres". */
const char *gr_pg_cluster_socket_dir(const gr_pg_cluster_t *c);
int gr_pg_cluster_port(const gr_pg_cluster_t *c);
const char *gr_pg_cluster_conninfo(const gr_pg_cluster_t *c);
const char *gr_pg_cluster_bin_dir(const gr_pg_cluster_t *c);
const char *gr_pg_cluster_data_dir(const gr_pg_cluster_t *c);

/* The superuser initdb creates; connections use it over the socket. */
#define GR_PG_CLUSTER_SUPERUSER "postgres"

#endif
