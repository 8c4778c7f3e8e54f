/* tests/unit/test_db_embedded.c: client embedded, the default: the host
 * makes and runs its own PostgreSQL under the state directory. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db_service.h"
#include "log.h"
#include "loop_wait.h"
#include "pg_cluster.h"
#include "pg_harness.h"
#include "test.h"

static uv_loop_t loop;
static gr_log_t *logger;

typedef struct cap {
    int done;
    int code;
    char value[600];
} cap_t;

static void on_cap(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    cap_t *c = ud;
    c->done = 1;
    c->code = err ? err->code : 0;
    snprintf(c->value, sizeof c->value, "%s",
             err ? err->message
                 : (gr_db_result_value(res, 0, 0) ? gr_db_result_value(res, 0, 0) : "(null)"));
}

static int query(gr_db_t *db, const char *sql, int n, const char *const *params, cap_t *c)
{
    memset(c, 0, sizeof *c);
    gr_db_query(db, sql, n, params, on_cap, c);
    gr_test_run_until(&loop, &c->done, 20000);
    return c->code;
}

/* Starts the default service (no config at all) on state_dir; the time it
 * took goes to *ms. */
static gr_db_service_t *start_default(const char *state_dir, uint64_t *ms, gr_test_status_t *w)
{
    gr_error_t err;
    uint64_t t0 = gr_now_ms();
    gr_db_service_t *svc = gr_db_service_new(&loop, NULL, state_dir, logger, NULL, &err);
    if (!svc) {
        snprintf(w->message, sizeof w->message, "%s", err.message);
        w->status = err.code;
        return NULL;
    }
    memset(w, 0, sizeof *w);
    gr_db_service_start(svc, gr_test_on_status, w);
    gr_test_run_until(&loop, &w->done, 120000);
    *ms = gr_now_ms() - t0;
    return svc;
}

static void stop_free(gr_db_service_t *svc)
{
    gr_test_status_t w = {0};
    gr_db_service_stop(svc, gr_test_on_status, &w);
    gr_test_run_until(&loop, &w.done, 60000);
    CHECK(w.done && w.status == 0);
    gr_db_service_free(svc);
    gr_test_run_for(&loop, 20);
}

static const gr_migration_t migrations[] = {
    {"001_visits", "CREATE TABLE visits (id serial PRIMARY KEY, who text NOT NULL)"}, {NULL, NULL}};

TEST(embedded_default_from_empty_then_existing_state_dir)
{
    char dir[] = "/tmp/greenroom-embedded-XXXXXX";
    char state[300];
    uint64_t first_ms, second_ms;
    gr_test_status_t w;
    cap_t c;
    gr_db_service_t *svc;
    gr_db_t *db;
    gr_error_t err;
    REQUIRE(mkdtemp(dir) != NULL);
    /* mkdtemp makes it 0700; the server's user must be able to pass it. */
    REQUIRE(chmod(dir, 0711) == 0);
    /* The state directory does not exist yet: the host creates it. */
    snprintf(state, sizeof state, "%s/state", dir);

    svc = start_default(state, &first_ms, &w);
    REQUIRE(svc != NULL);
    CHECK(w.status == 0);
    if (w.status)
        fprintf(stderr, "start: %s\n", w.message);
    fprintf(stderr, "embedded start from an empty state dir: %llu ms\n",
            (unsigned long long)first_ms);
    CHECK(gr_pg_cluster_running(gr_db_service_cluster(svc)));
    CHECK(gr_db_service_ready(svc));
    {
        gr_test_status_t m = {0};
        gr_db_service_migrate(svc, "visits", migrations, gr_test_on_status, &m);
        gr_test_run_until(&loop, &m.done, 20000);
        CHECK(m.status == 0);
    }
    REQUIRE((db = gr_db_service_plugin(svc, "visits", &err)) != NULL);
    CHECK(query(db, "INSERT INTO visits (who) VALUES ($1) RETURNING who", GR_DB_PARAMS("first"),
                &c) == 0);
    CHECK_STR(c.value, "first");
    /* Only the unix socket: no TCP listener. */
    CHECK(query(db, "SELECT current_setting('listen_addresses')", 0, NULL, &c) == 0);
    CHECK_STR(c.value, "");
    /* Tuned for bulk loads (see pg_cluster.c). */
    CHECK(query(db, "SELECT current_setting('wal_buffers')", 0, NULL, &c) == 0);
    CHECK_STR(c.value, "16MB");
    CHECK(query(db, "SELECT current_setting('wal_init_zero')", 0, NULL, &c) == 0);
    CHECK_STR(c.value, "off");
    if (geteuid() == 0) {
        /* The server does not run as root. */
        char path[64], buf[256] = "";
        FILE *f;
        snprintf(path, sizeof path, "/proc/%d/status",
                 gr_pg_cluster_pid(gr_db_service_cluster(svc)));
        f = fopen(path, "r");
        REQUIRE(f != NULL);
        while (fgets(buf, sizeof buf, f) && strncmp(buf, "Uid:", 4) != 0)
            ;
        fclose(f);
        CHECK(strncmp(buf, "Uid:", 4) == 0 && atoi(buf + 4) != 0);
        /* The recorded PID is the server itself, not a wrapper. */
        snprintf(path, sizeof path, "/proc/%d/comm", gr_pg_cluster_pid(gr_db_service_cluster(svc)));
        f = fopen(path, "r");
        REQUIRE(f != NULL);
        CHECK(fgets(buf, sizeof buf, f) != NULL);
        fclose(f);
        CHECK_CONTAINS(buf, "postgres");
    }
    stop_free(svc);

    /* Again from the existing directory: no initdb, the data is there. */
    svc = start_default(state, &second_ms, &w);
    REQUIRE(svc != NULL);
    CHECK(w.status == 0);
    fprintf(stderr, "embedded start from an existing state dir: %llu ms\n",
            (unsigned long long)second_ms);
    {
        gr_test_status_t m = {0};
        gr_db_service_migrate(svc, "visits", migrations, gr_test_on_status, &m);
        gr_test_run_until(&loop, &m.done, 20000);
        CHECK(m.status == 0);
    }
    REQUIRE((db = gr_db_service_plugin(svc, "visits", &err)) != NULL);
    CHECK(query(db, "SELECT string_agg(who, ',') FROM visits", 0, NULL, &c) == 0);
    CHECK_STR(c.value, "first");

    /* The server dies: readiness flips, the host restarts it, and the
     * plugin's pool comes back by itself. */
    {
        gr_pg_cluster_t *cl = gr_db_service_cluster(svc);
        char cmd[1024];
        uint64_t t0;
        int old_pid = gr_pg_cluster_pid(cl);
        snprintf(cmd, sizeof cmd, "%s%s/pg_ctl stop -D %s -m immediate -w >/dev/null 2>&1",
                 geteuid() == 0 ? "setpriv --reuid=postgres --regid=postgres --init-groups " : "",
                 gr_pg_cluster_bin_dir(cl), gr_pg_cluster_data_dir(cl));
        CHECK(system(cmd) == 0);
        t0 = gr_now_ms();
        while (gr_db_service_ready(svc) && gr_now_ms() - t0 < 5000)
            gr_test_run_for(&loop, 10);
        CHECK(!gr_db_service_ready(svc));
        CHECK(query(db, "SELECT 1", 0, NULL, &c) == GR_ERR_UNAVAILABLE);
        t0 = gr_now_ms();
        while (!gr_db_service_ready(svc) && gr_now_ms() - t0 < 20000)
            gr_test_run_for(&loop, 20);
        CHECK(gr_db_service_ready(svc));
        CHECK(gr_pg_cluster_restarts(cl) == 1);
        CHECK(gr_pg_cluster_pid(cl) != old_pid && gr_pg_cluster_pid(cl) > 0);
        CHECK(query(db, "SELECT count(*) FROM visits", 0, NULL, &c) == 0);
        CHECK_STR(c.value, "1");
    }
    stop_free(svc);
    CHECK(gr_pg_harness_rmtree(dir) == 0);
}

TEST(missing_server_binaries_name_the_package)
{
    char dir[] = "/tmp/greenroom-nobin-XXXXXX";
    char base[300];
    gr_pg_cluster_opts_t o = {0};
    gr_pg_cluster_t *c;
    gr_test_status_t w = {0};
    REQUIRE(mkdtemp(dir) != NULL);
    snprintf(base, sizeof base, "%s/postgres", dir);
    o.base_dir = base;
    o.search_root = dir; /* holds no <major>/bin */
    c = gr_pg_cluster_new(&loop, logger, &o);
    gr_pg_cluster_start(c, gr_test_on_status, &w);
    gr_test_run_until(&loop, &w.done, 10000);
    CHECK(w.status == GR_ERR_NOT_FOUND);
    CHECK_CONTAINS(w.message, "install the Debian package postgresql");
    gr_pg_cluster_free(c);

    /* A configured binDir without a server says so. */
    gr_db_options_t opts;
    gr_error_t err;
    gr_db_service_t *svc;
    gr_db_options_init(&opts);
    opts.bin_dir = gr_xstrdup(dir);
    svc = gr_db_service_new_with(&loop, &opts, dir, logger, NULL, &err);
    gr_db_options_free(&opts);
    REQUIRE(svc != NULL);
    memset(&w, 0, sizeof w);
    gr_db_service_start(svc, gr_test_on_status, &w);
    gr_test_run_until(&loop, &w.done, 10000);
    CHECK(w.status == GR_ERR_NOT_FOUND);
    CHECK_CONTAINS(w.message, "binDir");
    stop_free(svc);
    gr_test_run_for(&loop, 20);
    CHECK(gr_pg_harness_rmtree(dir) == 0);
}

TEST(server_stops_when_its_host_dies)
{
    char dir[] = "/tmp/greenroom-orphan-XXXXXX";
    int fds[2];
    pid_t child;
    int server_pid = 0;
    REQUIRE(mkdtemp(dir) != NULL);
    REQUIRE(pipe(fds) == 0);
    child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        /* A host that starts its cluster and then dies without stopping it. */
        uv_loop_t l;
        char base[300];
        gr_pg_cluster_opts_t o = {0};
        gr_test_status_t w = {0};
        gr_pg_cluster_t *c;
        uv_loop_init(&l);
        snprintf(base, sizeof base, "%s/postgres", dir);
        o.base_dir = base;
        o.ephemeral = 1;
        c = gr_pg_cluster_new(&l, logger, &o);
        gr_pg_cluster_start(c, gr_test_on_status, &w);
        while (!w.done)
            uv_run(&l, UV_RUN_ONCE);
        server_pid = w.status == 0 ? gr_pg_cluster_pid(c) : -1;
        if (write(fds[1], &server_pid, sizeof server_pid) != sizeof server_pid)
            _exit(2);
        _exit(0);
    }
    close(fds[1]);
    CHECK(read(fds[0], &server_pid, sizeof server_pid) == sizeof server_pid);
    close(fds[0]);
    waitpid(child, NULL, 0);
    REQUIRE(server_pid > 0);
    uint64_t t0 = gr_now_ms();
    while (kill(server_pid, 0) == 0 && gr_now_ms() - t0 < 15000)
        usleep(50000);
    CHECK(kill(server_pid, 0) != 0);
    if (kill(server_pid, 0) == 0)
        kill(server_pid, SIGQUIT);
    usleep(200000);
    CHECK(gr_pg_harness_rmtree(dir) == 0);
}

static void setup(void)
{
    uv_loop_init(&loop);
    logger = gr_log_root_new(stderr, GR_LOG_WARN, GR_LOG_FORMAT_PRETTY);
}

TEST(zz_teardown)
{
    gr_test_run_for(&loop, 20);
    CHECK(uv_loop_close(&loop) == 0);
    gr_log_free(logger);
}

TEST(aa_setup)
{
    setup();
}

TEST_MAIN(TEST_ENTRY(aa_setup), TEST_ENTRY(embedded_default_from_empty_then_existing_state_dir),
          TEST_ENTRY(missing_server_binaries_name_the_package),
          TEST_ENTRY(server_stops_when_its_host_dies), TEST_ENTRY(zz_teardown))
