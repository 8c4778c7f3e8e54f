/* core/db_pool.h: a pool of non-blocking libpq connections on the loop.
 *
 * A pool is the gr_db_t a plugin gets: every query of greenroom/db.h enters
 * through it.  Connections are opened with PQconnectStartParams/
 * PQconnectPoll, queries are sent with PQsendQueryParams (or a prepared
 * statement, or COPY), and a uv_poll on PQsocket drives PQflush,
 * PQconsumeInput and PQgetResult; nothing waits on the loop thread.
 *
 * Queries wait in one FIFO queue for an idle connection; the pool grows up
 * to `max` connections while queries wait and keeps `min` open.  While the
 * server is unreachable the pool is down: queued and new queries fail at
 * once with GR_ERR_UNAVAILABLE, and one connection attempt is retried with
 * exponential back-off until it succeeds, which brings the pool back up.
 *
 * Every user callback runs from a libuv callback, never from inside the call
 * that queued the work.  Failures that are known at once (bad arguments,
 * pool down, shutting down) are delivered from an idle handle on the next
 * loop iteration. */
#ifndef GR_CORE_DB_POOL_H
#define GR_CORE_DB_POOL_H

#include <uv.h>

#include <greenroom/greenroom.h>

#include "util.h"

typedef struct gr_db_pool_opts {
    const char *name;            /* the plugin id (or "greenroom"), for messages */
    const char *const *keywords; /* libpq keywords, NULL-terminated; copied */
    const char *const *values;   /* their values; copied */
    int min, max;                /* connections kept open / at most */
    uint64_t retry_min_ms;       /* first reconnect delay (0: 100 ms) */
    uint64_t retry_max_ms;       /* longest reconnect delay (0: 5 s) */
} gr_db_pool_opts_t;

/* A pool that holds queries until gr_db_pool_open().  log is borrowed and
 * must outlive the pool. */
gr_db_t *gr_db_pool_new(uv_loop_t *loop, gr_log_t *log, const gr_db_pool_opts_t *opts);

/* Starts connecting; queries queued so far run once a connection is up. */
void gr_db_pool_open(gr_db_t *db);

/* Makes every queued and later query fail with code and message until
 * gr_db_pool_open() is called (the database could not be provisioned). */
void gr_db_pool_fail(gr_db_t *db, int code, const char *message);

/* True while the pool has a working connection to the server. */
int gr_db_pool_ready(const gr_db_t *db);

const char *gr_db_pool_name(const gr_db_t *db);

/* Host-only: runs sql, which may hold several statements and takes no
 * parameters (migrations), through the simple query protocol.  Exactly one
 * of db and tx is non-NULL. */
void gr_db_pool_script(gr_db_t *db, gr_db_tx_t *tx, const char *sql, gr_db_result_fn cb,
                       void *user_data);

/* Host-only: runs prefix followed by ident quoted with PQescapeIdentifier
 * ("CREATE SCHEMA IF NOT EXISTS ", "catalog"). */
void gr_db_pool_ident_command(gr_db_t *db, const char *prefix, const char *ident,
                              gr_db_result_fn cb, void *user_data);

/* Cancels queued queries (GR_ERR_CANCELED), drops open transactions, closes
 * every connection and frees the pool; cb (may be NULL) runs once all of it
 * is gone.  The handle must not be used after this call. */
void gr_db_pool_close(gr_db_t *db, void (*cb)(void *user_data), void *user_data);

/* Appends value in COPY's text format (NULL is \N); exposed for tests. */
void gr_db_copy_escape(gr_buf_t *out, const char *value);

/* Appends nrows rows of ncolumns values (text, NULL for SQL NULL) in COPY's
 * binary format, header and trailer included, each value converted as
 * types[column] (enum gr_db_copy_type) says.  0, or -1 with a sentence
 * naming the row, column and value in why; exposed for tests. */
int gr_db_copy_binary_encode(gr_buf_t *out, const int *types, size_t ncolumns,
                             const char *const *values, size_t nrows, char *why, size_t why_len);

/* Fills err; sqlstate may be NULL. */
__attribute__((format(printf, 4, 5))) void
gr_db_error_set(gr_db_error_t *err, int code, const char *sqlstate, const char *fmt, ...);

/* The gr_status_t that a SQLSTATE stands for. */
int gr_db_status_from_sqlstate(const char *sqlstate);

#endif
