/* tests/unit/pg_harness.c: see pg_harness.h. */
#include "pg_harness.h"

#include <errno.h>
#include <ftw.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop_wait.h"
#include "util.h"

#define GR_HARNESS_MAX 4

static gr_pg_harness_t *live[GR_HARNESS_MAX];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int gr_pg_harness_rmtree(const char *path)
{
    if (access(path, F_OK) != 0)
        return 0;
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

/* A test that returned early or exited still stops its server. */
static void harness_atexit(void)
{
    for (int i = 0; i < GR_HARNESS_MAX; i++) {
        gr_pg_harness_t *h = live[i];
        int pid;
        if (!h)
            continue;
        pid = h->cluster ? gr_pg_cluster_pid(h->cluster) : 0;
        if (pid > 0) {
            kill(pid, SIGQUIT);
            waitpid(pid, NULL, 0);
        }
        gr_pg_harness_rmtree(h->dir);
        live[i] = NULL;
    }
}

static void track(gr_pg_harness_t *h, int on)
{
    static int registered;
    if (!registered) {
        atexit(harness_atexit);
        registered = 1;
    }
    for (int i = 0; i < GR_HARNESS_MAX; i++) {
        if (on && !live[i]) {
            live[i] = h;
            return;
        }
        if (!on && live[i] == h) {
            live[i] = NULL;
            return;
        }
    }
}

int gr_pg_harness_start(gr_pg_harness_t *h)
{
    gr_pg_cluster_opts_t o = {0};
    gr_test_status_t w = {0};
    char base[300];
    memset(h, 0, sizeof *h);
    snprintf(h->dir, sizeof h->dir, "/tmp/greenroom-test-XXXXXX");
    if (!mkdtemp(h->dir)) {
        perror("mkdtemp");
        return -1;
    }
    uv_loop_init(&h->loop);
    h->log = gr_log_root_new(stderr, GR_LOG_WARN, GR_LOG_FORMAT_PRETTY);
    snprintf(base, sizeof base, "%s/postgres", h->dir);
    o.base_dir = base;
    o.ephemeral = 1;
    h->cluster = gr_pg_cluster_new(&h->loop, h->log, &o);
    track(h, 1);
    gr_pg_cluster_start(h->cluster, gr_test_on_status, &w);
    if (!gr_test_run_until(&h->loop, &w.done, 120000) || w.status != 0) {
        fprintf(stderr, "pg_harness: cannot start PostgreSQL: %s\n",
                w.done ? w.message : "timed out");
        return -1;
    }
    h->started = 1;
    snprintf(h->conninfo, sizeof h->conninfo, "%s", gr_pg_cluster_conninfo(h->cluster));
    return 0;
}

static void walk_close(uv_handle_t *handle, void *arg)
{
    (void)arg;
    if (!uv_is_closing(handle))
        uv_close(handle, NULL);
}

void gr_pg_harness_stop(gr_pg_harness_t *h)
{
    gr_test_status_t w = {0};
    if (!h->cluster)
        return;
    gr_pg_cluster_stop(h->cluster, gr_test_on_status, &w);
    gr_test_run_until(&h->loop, &w.done, 60000);
    gr_pg_cluster_free(h->cluster);
    h->cluster = NULL;
    uv_run(&h->loop, UV_RUN_NOWAIT);
    /* Anything a failed test left open must not keep the loop from closing. */
    uv_walk(&h->loop, walk_close, NULL);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&h->loop) != 0)
        fprintf(stderr, "pg_harness: loop still has handles\n");
    gr_pg_harness_rmtree(h->dir);
    gr_log_free(h->log);
    h->log = NULL;
    track(h, 0);
}

char *gr_pg_harness_sql(gr_pg_harness_t *h, const char *db, const char *sql)
{
    char *ci = gr_xasprintf("%s dbname=%s", h->conninfo, db ? db : "postgres");
    PGconn *c = PQconnectdb(ci);
    PGresult *r;
    char *out = NULL;
    free(ci);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pg_harness: connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, NULL, NULL);
    r = PQexec(c, sql);
    if (PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK) {
        out = gr_xstrdup(PQntuples(r) > 0 && PQnfields(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    } else {
        fprintf(stderr, "pg_harness: %s: %s", sql, PQresultErrorMessage(r));
    }
    PQclear(r);
    PQfinish(c);
    return out;
}

int gr_pg_harness_kill_server(gr_pg_harness_t *h)
{
    char cmd[1024];
    int rc;
    if (geteuid() == 0)
        snprintf(cmd, sizeof cmd,
                 "setpriv --reuid=postgres --regid=postgres --init-groups %s/pg_ctl stop -D %s "
                 "-m immediate -w >/dev/null 2>&1",
                 gr_pg_cluster_bin_dir(h->cluster), gr_pg_cluster_data_dir(h->cluster));
    else
        snprintf(cmd, sizeof cmd, "%s/pg_ctl stop -D %s -m immediate -w >/dev/null 2>&1",
                 gr_pg_cluster_bin_dir(h->cluster), gr_pg_cluster_data_dir(h->cluster));
    rc = system(cmd);
    return rc == 0 ? 0 : -1;
}

int gr_pg_harness_restart(gr_pg_harness_t *h)
{
    gr_test_status_t w = {0};
    /* Let the exit of the killed server reach the cluster first. */
    for (int i = 0; i < 100 && gr_pg_cluster_pid(h->cluster) > 0; i++)
        gr_test_run_for(&h->loop, 20);
    gr_pg_cluster_start(h->cluster, gr_test_on_status, &w);
    if (!gr_test_run_until(&h->loop, &w.done, 60000) || w.status != 0) {
        fprintf(stderr, "pg_harness: restart failed: %s\n", w.message);
        return -1;
    }
    return 0;
}
