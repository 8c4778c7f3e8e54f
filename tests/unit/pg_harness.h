/* tests/unit/pg_harness.h: a throwaway PostgreSQL server for tests.
 *
 * Runs core/pg_cluster.c (the same code as the host's embedded database)
 * in a fresh temp directory, with fsync off, on a loop the harness owns.
 * gr_pg_harness_stop() stops the server and removes the directory; an
 * atexit hook does the same for a test that failed half-way (and the
 * server's parent-death signal covers a crash).  Tests drive their own
 * handles on h->loop with gr_test_run_until() (loop_wait.h). */
#ifndef GR_TEST_PG_HARNESS_H
#define GR_TEST_PG_HARNESS_H

#include <uv.h>

#include "log.h"
#include "pg_cluster.h"

typedef struct gr_pg_harness {
    uv_loop_t loop;
    gr_log_t *log;
    char dir[256];      /* the temp directory (the cluster is in dir/postgres) */
    char conninfo[512]; /* a libpq connection string to database postgres */
    gr_pg_cluster_t *cluster;
    int started;
} gr_pg_harness_t;

/* Starts a server; 0, or -1 after printing why. */
int gr_pg_harness_start(gr_pg_harness_t *h);
/* Stops the server, removes the directory, closes the loop. */
void gr_pg_harness_stop(gr_pg_harness_t *h);

/* Blocking helpers for set-up and checks, only while the loop is not
 * running: runs sql (no parameters) in database `db` (NULL: postgres) and
 * returns the first value of the first row (malloc'd, "" when no rows), or
 * NULL after printing the error. */
char *gr_pg_harness_sql(gr_pg_harness_t *h, const char *db, const char *sql);

/* pg_ctl stop -m immediate as the server's user: the server dies at once,
 * as in a crash or an operator pulling it. 0 or -1. */
int gr_pg_harness_kill_server(gr_pg_harness_t *h);
/* Starts the stopped server again and waits until it accepts connections. */
int gr_pg_harness_restart(gr_pg_harness_t *h);

/* rm -rf of a directory tree; 0 or -1. */
int gr_pg_harness_rmtree(const char *path);

#endif
