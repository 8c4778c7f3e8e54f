/* bench/db_bench.c: the database service's figures, in one run.
 *
 *   1. start-up of the embedded cluster from an empty state directory
 *      (initdb + start) and from the existing one (start only);
 *   2. on that server, pgbench -S (select one account by key) against the
 *      same statement sent through a plugin's pool, with as many pool
 *      connections as pgbench clients: prepared (-M prepared vs
 *      gr_db_execute) and unprepared (-M extended vs gr_db_query).
 *
 * Usage: db_bench [clients=8] [seconds=5] [scale=10]
 * Prints one line per figure and the pool/pgbench ratios. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db_service.h"
#include "log.h"
#include "loop_wait.h"
#include "pg_cluster.h"

static uv_loop_t loop;
static gr_log_t *logger;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static gr_db_service_t *start(const gr_db_options_t *o, const char *state, uint64_t *ms)
{
    gr_error_t err;
    gr_test_status_t w = {0};
    uint64_t t0 = gr_now_ms();
    gr_db_service_t *svc = gr_db_service_new_with(&loop, o, state, logger, NULL, &err);
    if (!svc) {
        fprintf(stderr, "db_bench: %s\n", err.message);
        exit(1);
    }
    gr_db_service_start(svc, gr_test_on_status, &w);
    gr_test_run_until(&loop, &w.done, 300000);
    if (w.status) {
        fprintf(stderr, "db_bench: start failed: %s\n", w.message);
        exit(1);
    }
    *ms = gr_now_ms() - t0;
    return svc;
}

static void stop(gr_db_service_t *svc)
{
    gr_test_status_t w = {0};
    gr_db_service_stop(svc, gr_test_on_status, &w);
    gr_test_run_until(&loop, &w.done, 60000);
    gr_db_service_free(svc);
    uv_run(&loop, UV_RUN_NOWAIT);
}

/* ---- the pool side -------------------------------------------------------- */

typedef struct load {
    gr_db_t *db;
    gr_db_stmt_t *stmt; /* NULL: unprepared */
    int accounts;
    int running;
    int inflight;
    uint64_t done, errors;
    char last_error[512];
} load_t;

static void send_one(load_t *l);

static void on_row(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    load_t *l = ud;
    l->inflight--;
    if (err || gr_db_result_rows(res) != 1) {
        l->errors++;
        if (err)
            snprintf(l->last_error, sizeof l->last_error, "%s", err->message);
    } else {
        l->done++;
    }
    if (l->running)
        send_one(l);
}

static void send_one(load_t *l)
{
    char aid[16];
    snprintf(aid, sizeof aid, "%d", 1 + rand() % l->accounts);
    l->inflight++;
    if (l->stmt)
        gr_db_execute(l->db, l->stmt, GR_DB_PARAMS(aid), on_row, l);
    else
        gr_db_query(l->db, "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
                    GR_DB_PARAMS(aid), on_row, l);
}

static double pool_qps(gr_db_t *db, gr_db_stmt_t *stmt, int clients, int seconds, int accounts)
{
    load_t l = {0};
    uint64_t t0;
    double qps;
    l.db = db;
    l.stmt = stmt;
    l.accounts = accounts;
    l.running = 1;
    /* Two per connection keep every connection busy: while one answer is
     * handled the next query already waits in the queue. */
    for (int i = 0; i < 2 * clients; i++)
        send_one(&l);
    t0 = gr_now_ms();
    gr_test_run_for(&loop, (uint64_t)seconds * 1000);
    qps = (double)l.done * 1000.0 / (double)(gr_now_ms() - t0);
    l.running = 0;
    while (l.inflight > 0)
        uv_run(&loop, UV_RUN_ONCE);
    if (l.errors)
        fprintf(stderr, "db_bench: %llu errors, last: %s\n", (unsigned long long)l.errors,
                l.last_error);
    return qps;
}

/* ---- the pgbench side ---------------------------------------------------- */

static double pgbench_tps(const char *bin, const char *sock, const char *db, const char *mode,
                          int clients, int seconds)
{
    char cmd[1024], line[512];
    double tps = -1;
    FILE *p;
    snprintf(cmd, sizeof cmd, "%s/pgbench -n -S -M %s -c %d -j 1 -T %d -h %s -U postgres %s 2>&1",
             bin, mode, clients, seconds, sock, db);
    p = popen(cmd, "r");
    if (!p)
        return -1;
    while (fgets(line, sizeof line, p)) {
        const char *t = strstr(line, "tps = ");
        if (t && strstr(line, "without initial connection time"))
            tps = atof(t + 6);
    }
    pclose(p);
    return tps;
}

static void on_ping(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    (void)res;
    (void)err;
    *(int *)ud = 1;
}

static void wait_ready(gr_db_t *db)
{
    int done = 0;
    gr_db_query(db, "SELECT 1", 0, NULL, on_ping, &done);
    gr_test_run_until(&loop, &done, 30000);
}

int main(int argc, char **argv)
{
    int clients = argc > 1 ? atoi(argv[1]) : 8;
    int seconds = argc > 2 ? atoi(argv[2]) : 5;
    int scale = argc > 3 ? atoi(argv[3]) : 10;
    char dir[] = "/tmp/greenroom-bench-XXXXXX";
    char state[300], cmd[1024];
    uint64_t empty_ms, existing_ms;
    gr_db_options_t o;
    gr_db_service_t *svc;
    gr_pg_cluster_t *cl;
    gr_db_t *db;
    gr_error_t err;
    double pool_prep, pool_plain, bench_prep, bench_plain;

    uv_loop_init(&loop);
    logger = gr_log_root_new(stderr, GR_LOG_WARN, GR_LOG_FORMAT_PRETTY);
    if (!mkdtemp(dir) || chmod(dir, 0711) != 0) {
        perror("db_bench: temp dir");
        return 1;
    }
    snprintf(state, sizeof state, "%s/state", dir);
    gr_db_options_init(&o);
    o.pool_min = clients;
    o.pool_max = clients;

    svc = start(&o, state, &empty_ms);
    stop(svc);
    svc = start(&o, state, &existing_ms);
    printf("embedded start-up, empty state dir:    %6llu ms (initdb + start)\n",
           (unsigned long long)empty_ms);
    printf("embedded start-up, existing state dir: %6llu ms\n", (unsigned long long)existing_ms);
    fflush(stdout);

    cl = gr_db_service_cluster(svc);
    db = gr_db_service_plugin(svc, "bench", &err);
    wait_ready(db);
    snprintf(cmd, sizeof cmd,
             "%s/pgbench -i -q -s %d -h %s -U postgres backstage_plugin_bench >/dev/null 2>&1",
             gr_pg_cluster_bin_dir(cl), scale, gr_pg_cluster_socket_dir(cl));
    if (system(cmd) != 0) {
        fprintf(stderr, "db_bench: pgbench -i failed\n");
        return 1;
    }

    gr_db_stmt_t *stmt =
        gr_db_prepare(db, "SELECT abalance FROM pgbench_accounts WHERE aid = $1", &err);
    /* Warm both sides' caches before measuring. */
    pool_qps(db, stmt, clients, 1, 100000 * scale);
    pgbench_tps(gr_pg_cluster_bin_dir(cl), gr_pg_cluster_socket_dir(cl), "backstage_plugin_bench",
                "prepared", clients, 1);

    bench_prep = pgbench_tps(gr_pg_cluster_bin_dir(cl), gr_pg_cluster_socket_dir(cl),
                             "backstage_plugin_bench", "prepared", clients, seconds);
    pool_prep = pool_qps(db, stmt, clients, seconds, 100000 * scale);
    bench_plain = pgbench_tps(gr_pg_cluster_bin_dir(cl), gr_pg_cluster_socket_dir(cl),
                              "backstage_plugin_bench", "extended", clients, seconds);
    pool_plain = pool_qps(db, NULL, clients, seconds, 100000 * scale);

    printf("clients/connections: %d, %d s each, scale %d, unix socket\n", clients, seconds, scale);
    printf(
        "prepared:   pgbench -S -M prepared %9.0f q/s | pool gr_db_execute %9.0f q/s | %5.1f%%\n",
        bench_prep, pool_prep, 100.0 * pool_prep / bench_prep);
    printf(
        "unprepared: pgbench -S -M extended %9.0f q/s | pool gr_db_query   %9.0f q/s | %5.1f%%\n",
        bench_plain, pool_plain, 100.0 * pool_plain / bench_plain);

    stop(svc);
    gr_db_options_free(&o);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    gr_log_free(logger);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
