/* tests/unit/test_db.c: the database service against a real PostgreSQL
 * that the harness starts in a temp directory (client: pg). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "db_pool.h"
#include "db_service.h"
#include "loop_wait.h"
#include "pg_harness.h"
#include "test.h"

extern const gr_migration_t test_db_migrations[];

static gr_pg_harness_t H;
static int harness_ok = -1;

static gr_pg_harness_t *pg(void)
{
    if (harness_ok < 0)
        harness_ok = gr_pg_harness_start(&H) == 0;
    return harness_ok ? &H : NULL;
}

/* ---- capturing results ------------------------------------------------------ */

#define MAXR 64
#define MAXC 8

typedef struct cap {
    int done;
    int code;
    char sqlstate[6];
    char message[512];
    int rows, cols;
    int64_t affected;
    char *v[MAXR][MAXC];
    int null[MAXR][MAXC];
    uint64_t at; /* when the callback ran */
} cap_t;

static void cap_free(cap_t *c)
{
    for (int r = 0; r < MAXR; r++)
        for (int k = 0; k < MAXC; k++)
            free(c->v[r][k]);
    memset(c, 0, sizeof *c);
}

static void on_cap(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    cap_t *c = ud;
    c->done = 1;
    c->at = gr_now_ms();
    if (err) {
        c->code = err->code;
        snprintf(c->sqlstate, sizeof c->sqlstate, "%s", err->sqlstate);
        snprintf(c->message, sizeof c->message, "%s", err->message);
        return;
    }
    c->rows = gr_db_result_rows(res);
    c->cols = gr_db_result_columns(res);
    c->affected = gr_db_result_affected(res);
    for (int r = 0; r < c->rows && r < MAXR; r++) {
        for (int k = 0; k < c->cols && k < MAXC; k++) {
            const char *s = gr_db_result_value(res, r, k);
            c->null[r][k] = s == NULL;
            c->v[r][k] = s ? strdup(s) : NULL;
        }
    }
}

static void on_done_cap(const gr_db_error_t *err, void *ud)
{
    cap_t *c = ud;
    c->done = 1;
    if (err) {
        c->code = err->code;
        snprintf(c->sqlstate, sizeof c->sqlstate, "%s", err->sqlstate);
        snprintf(c->message, sizeof c->message, "%s", err->message);
    }
}

static void wait_cap(cap_t *c)
{
    gr_test_run_until(&H.loop, &c->done, 20000);
}

/* Runs one query and waits for it. */
static void q(gr_db_t *db, cap_t *c, const char *sql, int n, const char *const *params)
{
    cap_free(c);
    gr_db_query(db, sql, n, params, on_cap, c);
    wait_cap(c);
}

/* A started service of client pg against the harness server. */
static gr_db_service_t *service(gr_db_division_t mode)
{
    gr_db_options_t o;
    gr_error_t err;
    gr_db_service_t *svc;
    gr_test_status_t w = {0};
    gr_db_options_init(&o);
    gr_db_options_set_connection(&o, NULL, H.conninfo, &err);
    o.division = mode;
    o.retry_min_ms = 50;
    o.retry_max_ms = 200;
    o.pool_max = 4;
    svc = gr_db_service_new_with(&H.loop, &o, NULL, H.log, NULL, &err);
    gr_db_options_free(&o);
    if (!svc)
        return NULL;
    gr_db_service_start(svc, gr_test_on_status, &w);
    gr_test_run_until(&H.loop, &w.done, 20000);
    if (w.status != 0) {
        fprintf(stderr, "service start: %s\n", w.message);
        gr_test_status_t s = {0};
        gr_db_service_stop(svc, gr_test_on_status, &s);
        gr_test_run_until(&H.loop, &s.done, 20000);
        gr_db_service_free(svc);
        return NULL;
    }
    return svc;
}

static void service_done(gr_db_service_t *svc)
{
    gr_test_status_t w = {0};
    gr_db_service_stop(svc, gr_test_on_status, &w);
    gr_test_run_until(&H.loop, &w.done, 20000);
    CHECK(w.done);
    gr_db_service_free(svc);
    gr_test_run_for(&H.loop, 10);
}

static gr_db_t *plugin(gr_db_service_t *svc, const char *id)
{
    gr_error_t err;
    gr_db_t *db = gr_db_service_plugin(svc, id, &err);
    if (!db)
        fprintf(stderr, "plugin %s: %s\n", id, err.message);
    return db;
}

/* ---- tests --------------------------------------------------------------------- */

TEST(options_parse_connection_strings)
{
    gr_db_options_t o;
    gr_error_t err;
    gr_db_options_init(&o);
    CHECK(o.client == GR_DB_CLIENT_EMBEDDED);
    CHECK(o.division == GR_DB_DIVISION_DATABASE);
    CHECK_STR(o.prefix, "backstage_plugin_");
    CHECK(gr_db_options_set_connection(
              &o, NULL, "postgresql://app:s3cret@db.example:6543/main?sslmode=require", &err) == 0);
    CHECK(o.client == GR_DB_CLIENT_PG);
    int found = 0;
    for (size_t i = 0; i < o.connection.keys.len; i++) {
        if (strcmp(o.connection.keys.items[i], "password") == 0) {
            CHECK_STR(o.connection.values.items[i], "s3cret");
            found++;
        }
        if (strcmp(o.connection.keys.items[i], "port") == 0) {
            CHECK_STR(o.connection.values.items[i], "6543");
            found++;
        }
        if (strcmp(o.connection.keys.items[i], "dbname") == 0) {
            CHECK_STR(o.connection.values.items[i], "main");
            found++;
        }
    }
    CHECK(found == 3);
    CHECK(gr_db_options_set_connection(&o, NULL, "host=x bogus=1", &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "bogus");
    CHECK_CONTAINS(err.message, "backend.database.connection");
    gr_db_options_free(&o);
}

TEST(query_round_trips_hostile_parameters)
{
    static const char *const hostile[] = {
        "it's",
        "''; DROP TABLE pg_class; --",
        "back\\slash \\\\ and \\x00 \\n",
        "\"double\" and $1 and $$dollar$$ and E'\\047'",
        "tab\there, newline\nthere, cr\r",
        "unicode: żółć, 日本語, emoji \xF0\x9F\x8E\x89",
        "",
        "SELECT 1; SELECT 2",
        "%s%n%d",
    };
    gr_db_service_t *svc;
    gr_db_t *db;
    cap_t c = {0};
    REQUIRE(pg());
    REQUIRE((svc = service(GR_DB_DIVISION_DATABASE)) != NULL);
    REQUIRE((db = plugin(svc, "hostile")) != NULL);
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        q(db, &c, "SELECT $1::text, length($1), $1 IS NULL", GR_DB_PARAMS(hostile[i]));
        CHECK(c.code == 0);
        CHECK_STR(c.v[0][0], hostile[i]);
        CHECK_STR(c.v[0][2], "f");
    }
    /* NULL is SQL NULL, not the text "NULL" or "". */
    q(db, &c, "SELECT $1::text IS NULL, $1::text", GR_DB_PARAMS(NULL));
    CHECK_STR(c.v[0][0], "t");
    CHECK(c.null[0][1]);
    /* Values stored and read back through a table are unchanged too. */
    q(db, &c, "CREATE TABLE h (v text)", 0, NULL);
    CHECK(c.code == 0);
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        q(db, &c, "INSERT INTO h VALUES ($1)", GR_DB_PARAMS(hostile[i]));
        CHECK(c.affected == 1);
    }
    q(db, &c, "SELECT count(*) FROM h WHERE v = ANY ($1::text[])",
      GR_DB_PARAMS("{\"it's\",\"''; DROP TABLE pg_class; --\"}"));
    CHECK_STR(c.v[0][0], "2");
    q(db, &c, "SELECT count(*) FROM pg_class", 0, NULL);
    CHECK(c.code == 0 && atoi(c.v[0][0]) > 100);
    cap_free(&c);
    service_done(svc);
}

/* The typed checks run inside the callback, where the result is valid. */
typedef struct typed {
    int done;
    int failures;
} typed_t;

#define TCHECK(t, cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            (t)->failures++;                                                                       \
        }                                                                                          \
    } while (0)

static void on_typed(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    typed_t *t = ud;
    int64_t i;
    double d;
    int b;
    t->done = 1;
    TCHECK(t, err == NULL);
    if (err)
        return;
    TCHECK(t, gr_db_result_rows(res) == 1);
    TCHECK(t, gr_db_result_columns(res) == 9);
    TCHECK(t, gr_db_result_column(res, "half") == 2);
    TCHECK(t, gr_db_result_column(res, "missing") == -1);
    TCHECK(t, strcmp(gr_db_result_column_name(res, 1), "min") == 0);
    TCHECK(t, gr_db_result_column_name(res, 99) == NULL);
    TCHECK(t, gr_db_result_int64(res, 0, 0, &i) == 0 && i == 42);
    TCHECK(t, gr_db_result_int64(res, 0, 1, &i) == 0 && i == INT64_MIN);
    TCHECK(t, gr_db_result_double(res, 0, 2, &d) == 0 && d == 2.5);
    TCHECK(t, gr_db_result_double(res, 0, 3, &d) == 0 && d != d);
    TCHECK(t, gr_db_result_bool(res, 0, 4, &b) == 0 && b == 1);
    TCHECK(t, gr_db_result_bool(res, 0, 5, &b) == 0 && b == 0);
    TCHECK(t, gr_db_result_int64(res, 0, 6, &i) == GR_ERR_NOT_FOUND);
    TCHECK(t, gr_db_result_is_null(res, 0, 6));
    TCHECK(t, gr_db_result_int64(res, 0, 7, &i) == GR_ERR_INVALID);
    TCHECK(t, gr_db_result_bool(res, 0, 7, &b) == GR_ERR_INVALID);
    TCHECK(t, gr_db_result_double(res, 0, 8, &d) == GR_ERR_INVALID);
    TCHECK(t, strcmp(gr_db_result_field(res, 0, "word"), "abc") == 0);
    TCHECK(t, gr_db_result_value(res, 1, 0) == NULL);
    TCHECK(t, gr_db_result_value(res, 0, -1) == NULL);
    TCHECK(t, gr_db_result_int64(res, 5, 0, &i) == GR_ERR_NOT_FOUND);
}

TEST(typed_accessors)
{
    gr_db_service_t *svc;
    gr_db_t *db;
    typed_t t = {0};
    REQUIRE(pg());
    REQUIRE((svc = service(GR_DB_DIVISION_DATABASE)) != NULL);
    REQUIRE((db = plugin(svc, "typed")) != NULL);
    gr_db_query(db,
                "SELECT 42::int8 AS answer, (-9223372036854775807 - 1)::int8 AS min, 2.5::float8 "
                "AS half, 'NaN'::float8 AS nan, true AS yes, false AS no, NULL::int AS nothing, "
                "'abc' AS word, ('1' || repeat('0', 400))::numeric AS huge",
                0, NULL, on_typed, &t);
    gr_test_run_until(&H.loop, &t.done, 10000);
    CHECK(t.done);
    CHECK(t.failures == 0);
    service_done(svc);
}

TEST(errors_carry_sqlstate_and_misuse_is_refused)
{
    gr_db_service_t *svc;
    gr_db_t *db;
    cap_t c = {0};
    REQUIRE(pg());
    REQUIRE((svc = service(GR_DB_DIVISION_DATABASE)) != NULL);
    REQUIRE((db = plugin(svc, "errors")) != NULL);
    q(db, &c, "SELEC 1", 0, NULL);
    CHECK(c.code == GR_ERR_INVALID);
    CHECK_STR(c.sqlstate, "42601");
    CHECK_CONTAINS(c.message, "syntax error");
    q(db, &c, "CREATE TABLE u (id int PRIMARY KEY)", 0, NULL);
    q(db, &c, "INSERT INTO u VALUES (1)", 0, NULL);
    q(db, &c, "INSERT INTO u VALUES (1)", 0, NULL);
    CHECK(c.code == GR_ERR_CONFLICT);
    CHECK_STR(c.sqlstate, "23505");
    CHECK_CONTAINS(c.message, "already exists");
    /* One call is one statement: a second one cannot ride along. */
    q(db, &c, "SELECT 1; DROP TABLE u", 0, NULL);
    CHECK(c.code == GR_ERR_INVALID);
    CHECK_STR(c.sqlstate, "42601");
    q(db, &c, "SELECT count(*) FROM u", 0, NULL);
    CHECK_STR(c.v[0][0], "1");
    /* Misuse fails through the callback, later, not by crashing. */
    cap_free(&c);
    gr_db_query(db, "SELECT $1", -1, NULL, on_cap, &c);
    CHECK(!c.done);
    wait_cap(&c);
    CHECK(c.code == GR_ERR_INVALID);
    q(db, &c, "SELECT $1", 2, NULL);
    CHECK(c.code == GR_ERR_INVALID);
    q(db, &c, "SELECT $1::int", GR_DB_PARAMS("not a number"));
    CHECK(c.code == GR_ERR_INVALID);
    CHECK_STR(c.sqlstate, "22P02");
    /* COPY cannot be smuggled through a query. */
    q(db, &c, "COPY u FROM STDIN", 0, NULL);
    CHECK(c.code != 0);
    q(db, &c, "SELECT 1", 0, NULL);
    CHECK(c.code == 0);
    cap_free(&c);
    service_done(svc);
}

typedef struct began {
    int done;
    gr_db_tx_t *tx;
} began_t;

static void on_begin(gr_db_tx_t *tx, const gr_db_error_t *err, void *ud)
{
    began_t *b = ud;
    b->done = 1;
    b->tx = err ? NULL : tx;
}

static gr_db_tx_t *begin(gr_db_t *db)
{
    began_t b = {0};
    gr_db_begin(db, on_begin, &b);
    gr_test_run_until(&H.loop, &b.done, 10000);
    return b.tx;
}

static void txq(gr_db_tx_t *tx, cap_t *c, const char *sql, int n, const char *const *params)
{
    cap_free(c);
    gr_db_tx_query(tx, sql, n, params, on_cap, c);
    wait_cap(c);
}

static int tx_end(gr_db_tx_t *tx, int commit, cap_t *c)
{
    cap_free(c);
    if (commit)
        gr_db_tx_commit(tx, on_done_cap, c);
    else
        gr_db_tx_rollback(tx, on_done_cap, c);
    wait_cap(c);
    return c->code;
}

TEST(transactions_commit_and_roll_back)
{
    gr_db_service_t *svc;
    gr_db_t *db;
    gr_db_tx_t *tx;
    cap_t c = {0}, other = {0};
    REQUIRE(pg());
    REQUIRE((svc = service(GR_DB_DIVISION_DATABASE)) != NULL);
    REQUIRE((db = plugin(svc, "tx")) != NULL);
    q(db, &c, "CREATE TABLE t (v text)", 0, NULL);
    REQUIRE(c.code == 0);

    REQUIRE((tx = begin(db)) != NULL);
    txq(tx, &c, "INSERT INTO t VALUES ($1)", GR_DB_PARAMS("rolled back"));
    CHECK(c.affected == 1);
    txq(tx, &c, "SELECT count(*) FROM t", 0, NULL);
    CHECK_STR(c.v[0][0], "1");
    /* Another connection does not see the uncommitted row. */
    q(db, &other, "SELECT count(*) FROM t", 0, NULL);
    CHECK_STR(other.v[0][0], "0");
    CHECK(tx_end(tx, 0, &c) == 0);
    q(db, &c, "SELECT count(*) FROM t", 0, NULL);
    CHECK_STR(c.v[0][0], "0");

    REQUIRE((tx = begin(db)) != NULL);
    txq(tx, &c, "INSERT INTO t VALUES ($1)", GR_DB_PARAMS("kept"));
    CHECK(tx_end(tx, 1, &c) == 0);
    q(db, &c, "SELECT v FROM t", 0, NULL);
    CHECK(c.rows == 1);
    CHECK_STR(c.v[0][0], "kept");

    /* A failed statement dooms the transaction: commit reports it. */
    REQUIRE((tx = begin(db)) != NULL);
    txq(tx, &c, "INSERT INTO t VALUES ($1)", GR_DB_PARAMS("doomed"));
    txq(tx, &c, "SELECT 1/0", 0, NULL);
    CHECK_STR(c.sqlstate, "22012");
    CHECK(tx_end(tx, 1, &c) != 0);
    CHECK_CONTAINS(c.message, "rolled back");
    CHECK_CONTAINS(c.message, "division by zero");
    q(db, &c, "SELECT count(*) FROM t", 0, NULL);
    CHECK_STR(c.v[0][0], "1");

    /* Queries queued before commit run first; after it they are refused. */
    REQUIRE((tx = begin(db)) != NULL);
    cap_t a = {0}, b = {0}, end = {0};
    gr_db_tx_query(tx, "INSERT INTO t VALUES ('queued')", 0, NULL, on_cap, &a);
    gr_db_tx_commit(tx, on_done_cap, &end);
    gr_db_tx_query(tx, "INSERT INTO t VALUES ('late')", 0, NULL, on_cap, &b);
    gr_test_run_until(&H.loop, &end.done, 10000);
    gr_test_run_until(&H.loop, &b.done, 10000);
    CHECK(a.done && a.code == 0);
    CHECK(end.code == 0);
    CHECK(b.code == GR_ERR_INVALID);
    q(db, &c, "SELECT count(*) FROM t", 0, NULL);
    CHECK_STR(c.v[0][0], "2");
    cap_free(&a);
    cap_free(&b);
    cap_free(&c);
    cap_free(&other);
    service_done(svc);
}

TEST(prepared_statements)
{
    gr_db_service_t *svc;
    gr_db_t *db;
    gr_db_stmt_t *stmt;
    gr_error_t err;
    gr_db_tx_t *tx;
    cap_t c = {0};
    REQUIRE(pg());
    REQUIRE((svc = service(GR_DB_DIVISION_DATABASE)) != NULL);
    REQUIRE((db = plugin(svc, "prep")) != NULL);
    CHECK(gr_db_prepare(db, NULL, &err) == NULL);
    REQUIRE((stmt = gr_db_prepare(db, "SELECT $1::int * 2, $2::text", &err)) != NULL);
    for (int i = 0; i < 5; i++) {
        char n[8];
        snprintf(n, sizeof n, "%d", i);
        cap_free(&c);
        gr_db_execute(db, stmt, GR_DB_PARAMS(n, "x'y"), on_cap, &c);
        wait_cap(&c);
        CHECK(c.code == 0);
        CHECK(c.rows == 1 && atoi(c.v[0][0]) == 2 * i);
        CHECK_STR(c.v[0][1], "x'y");
    }
    REQUIRE((tx = begin(db)) != NULL);
    cap_free(&c);
    gr_db_tx_execute(tx, stmt, GR_DB_PARAMS("21", NULL), on_cap, &c);
    wait_cap(&c);
    CHECK_STR(c.v[0][0], "42");
    CHECK(c.null[0][1]);
    CHECK(tx_end(tx, 1, &c) == 0);
    /* A statement that does not parse fails on use, with the server's reason. */
    REQUIRE((stmt = gr_db_prepare(db, "SELEKT", &err)) != NULL);
    cap_free(&c);
    gr_db_execute(db, stmt, 0, NULL, on_cap, &c);
    wait_cap(&c);
    CHECK_STR(c.sqlstate, "42601");
    cap_free(&c);
    service_done(svc);
}

TEST(copy_loads_rows)
{
    gr_db_service_t *svc;
    gr_db_t *db;
    cap_t c = {0};
    enum { N = 2000 };
    static const char *vals[N * 3];
    static char ids[N][12];
    const char *cols[] = {"id", "body", "note"};
    REQUIRE(pg());
    REQUIRE((svc = service(GR_DB_DIVISION_DATABASE)) != NULL);
    REQUIRE((db = plugin(svc, "bulk")) != NULL);
    q(db, &c, "CREATE TABLE items (id int PRIMARY KEY, body text, note text)", 0, NULL);
    REQUIRE(c.code == 0);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "%d", i);
        vals[i * 3] = ids[i];
        vals[i * 3 + 1] = i % 2 ? "tab\there\nnew line \\N not null \\ back\r" : "plain";
        vals[i * 3 + 2] = i % 3 ? NULL : "ünïcödé";
    }
    cap_free(&c);
    gr_db_copy(db, "items", cols, 3, vals, N, on_cap, &c);
    wait_cap(&c);
    CHECK(c.code == 0);
    CHECK(c.affected == N);
    q(db, &c, "SELECT count(*), count(note), sum(id) FROM items", 0, NULL);
    CHECK_STR(c.v[0][0], "2000");
    CHECK_STR(c.v[0][1], "667");
    CHECK_STR(c.v[0][2], "1999000");
    q(db, &c, "SELECT body FROM items WHERE id = 1", 0, NULL);
    CHECK_STR(c.v[0][0], "tab\there\nnew line \\N not null \\ back\r");
    /* Names are plain identifiers only. */
    cap_free(&c);
    gr_db_copy(db, "items; DROP TABLE items", cols, 3, vals, 1, on_cap, &c);
    wait_cap(&c);
    CHECK(c.code == GR_ERR_INVALID);
    /* A duplicate key fails the whole COPY. */
    cap_free(&c);
    gr_db_copy(db, "items", cols, 3, vals, 1, on_cap, &c);
    wait_cap(&c);
    CHECK(c.code == GR_ERR_CONFLICT);
    q(db, &c, "SELECT count(*) FROM items", 0, NULL);
    CHECK_STR(c.v[0][0], "2000");
    cap_free(&c);
    service_done(svc);
}

TEST(copy_binary_loads_rows_of_each_type)
{
    gr_db_service_t *svc;
    gr_db_t *db;
    gr_db_tx_t *tx;
    cap_t c = {0};
    /* Enough rows for several megabytes: libpq's buffer must drain between
     * chunks, and every row must still arrive. */
    enum { N = 60000 };
    static const char *vals[N * 6];
    static char ids[N][12], big[N][24], uids[N][40];
    const char *cols[] = {"id", "uid", "body", "n", "flag", "note"};
    const int types[] = {GR_DB_COPY_INT4, GR_DB_COPY_UUID, GR_DB_COPY_TEXT,
                         GR_DB_COPY_INT8, GR_DB_COPY_BOOL, GR_DB_COPY_TEXT};
    REQUIRE(pg());
    REQUIRE((svc = service(GR_DB_DIVISION_DATABASE)) != NULL);
    REQUIRE((db = plugin(svc, "bulkbin")) != NULL);
    q(db, &c,
      "CREATE TABLE items (id int PRIMARY KEY, uid uuid, body text, n bigint, flag boolean, "
      "note text)",
      0, NULL);
    REQUIRE(c.code == 0);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "%d", i - 5);
        snprintf(big[i], sizeof big[i], "%lld", (long long)i * 4000000000LL);
        snprintf(uids[i], sizeof uids[i], "%08X-0000-8000-8000-%012d", i, i);
        vals[i * 6] = ids[i];
        vals[i * 6 + 1] = uids[i];
        vals[i * 6 + 2] = i % 2 ? "tab\there\nnew line \\N not null \\ back\r" : "ünïcödé";
        vals[i * 6 + 3] = big[i];
        vals[i * 6 + 4] = i % 2 ? "t" : "false";
        vals[i * 6 + 5] = i % 3 ? NULL : "";
    }
    cap_free(&c);
    gr_db_copy_binary(db, "items", cols, types, 6, vals, N, on_cap, &c);
    wait_cap(&c);
    CHECK(c.code == 0);
    CHECK(c.affected == N);
    q(db, &c,
      "SELECT count(*), count(note), sum(id), sum(n), count(*) FILTER (WHERE flag) FROM items", 0,
      NULL);
    CHECK_STR(c.v[0][0], "60000");
    CHECK_STR(c.v[0][1], "20000");
    CHECK_STR(c.v[0][2], "1799670000");
    CHECK_STR(c.v[0][3], "7199880000000000000");
    CHECK_STR(c.v[0][4], "30000");
    q(db, &c, "SELECT body, uid, note IS NULL, note FROM items WHERE id IN (-5, -4) ORDER BY id", 0,
      NULL);
    CHECK_STR(c.v[0][0], "ünïcödé");
    CHECK_STR(c.v[0][1], "00000000-0000-8000-8000-000000000000");
    CHECK_STR(c.v[0][2], "f");
    CHECK_STR(c.v[0][3], "");
    CHECK_STR(c.v[1][0], "tab\there\nnew line \\N not null \\ back\r");
    CHECK_STR(c.v[1][1], "00000001-0000-8000-8000-000000000001");
    CHECK_STR(c.v[1][2], "t");

    /* A value that is not of its column's type is refused before anything
     * is sent, naming the row and the column. */
    const char *bad[] = {"1000000", "not-a-uuid", "x", "1", "t", NULL};
    cap_free(&c);
    gr_db_copy_binary(db, "items", cols, types, 6, bad, 1, on_cap, &c);
    wait_cap(&c);
    CHECK(c.code == GR_ERR_INVALID);
    CHECK_CONTAINS(c.message, "row 1, column 2");
    const char *bad_int[] = {"12x", uids[0], "x", "1", "t", NULL};
    cap_free(&c);
    gr_db_copy_binary(db, "items", cols, types, 6, bad_int, 1, on_cap, &c);
    wait_cap(&c);
    CHECK(c.code == GR_ERR_INVALID);
    CHECK_CONTAINS(c.message, "is not an integer");
    /* Types that do not match the table's: the server refuses the COPY. */
    const int wrong[] = {GR_DB_COPY_INT8, GR_DB_COPY_UUID, GR_DB_COPY_TEXT,
                         GR_DB_COPY_INT8, GR_DB_COPY_BOOL, GR_DB_COPY_TEXT};
    const char *row[] = {"1000001", uids[1], "x", "1", "t", NULL};
    cap_free(&c);
    gr_db_copy_binary(db, "items", cols, wrong, 6, row, 1, on_cap, &c);
    wait_cap(&c);
    CHECK(c.code != 0);
    q(db, &c, "SELECT count(*) FROM items", 0, NULL);
    CHECK_STR(c.v[0][0], "60000");

    /* Refused inside a transaction, the COPY fails the transaction as a
     * statement the server refused would. */
    REQUIRE((tx = begin(db)) != NULL);
    txq(tx, &c, "INSERT INTO items (id) VALUES (2000000)", 0, NULL);
    CHECK(c.code == 0);
    cap_free(&c);
    gr_db_tx_copy_binary(tx, "items", cols, types, 6, bad, 1, on_cap, &c);
    wait_cap(&c);
    CHECK(c.code == GR_ERR_INVALID);
    CHECK(tx_end(tx, 1, &c) != 0);
    CHECK_CONTAINS(c.message, "not a uuid");
    q(db, &c, "SELECT count(*) FROM items WHERE id = 2000000", 0, NULL);
    CHECK_STR(c.v[0][0], "0");
    cap_free(&c);
    service_done(svc);
}

TEST(copy_binary_format)
{
    gr_buf_t b = {0};
    char why[128];
    const int types[] = {GR_DB_COPY_TEXT, GR_DB_COPY_INT4};
    const char *vals[] = {"ab", "-2", NULL, "7"};
    REQUIRE(gr_db_copy_binary_encode(&b, types, 2, vals, 2, why, sizeof why) == 0);
    /* One line per part of the format. */
    /* clang-format off */
    static const unsigned char want[] = {
        'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0, /* signature */
        0, 0, 0, 0, 0, 0, 0, 0,                                  /* flags, extension */
        0, 2, 0, 0, 0, 2, 'a', 'b', 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xfe,
        0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 4, 0, 0, 0, 7,
        0xff, 0xff /* trailer */};
    /* clang-format on */
    CHECK(b.len == sizeof want);
    CHECK(b.len == sizeof want && memcmp(b.data, want, sizeof want) == 0);
    gr_buf_free(&b);
    const int uuid[] = {GR_DB_COPY_UUID};
    const char *short_uuid[] = {"0000000-0000-8000-8000-000000000000"};
    CHECK(gr_db_copy_binary_encode(&b, uuid, 1, short_uuid, 1, why, sizeof why) != 0);
    CHECK_CONTAINS(why, "is not a uuid");
    gr_buf_free(&b);
}

TEST(copy_escape_format)
{
    gr_buf_t b = {0};
    gr_db_copy_escape(&b, "a\tb\\c\nd\re");
    gr_buf_append(&b, "|", 1);
    gr_db_copy_escape(&b, NULL);
    CHECK_STR(b.data, "a\\tb\\\\c\\nd\\re|\\N");
    gr_buf_free(&b);
}

static int migrate(gr_db_service_t *svc, const char *id, const gr_migration_t *m, char *msg,
                   size_t len)
{
    gr_test_status_t w = {0};
    gr_db_service_migrate(svc, id, m, gr_test_on_status, &w);
    CHECK(!w.done);
    gr_test_run_until(&H.loop, &w.done, 20000);
    if (msg)
        snprintf(msg, len, "%s", w.message);
    return w.done ? w.status : GR_ERR_TIMEOUT;
}

TEST(migrations_apply_once_and_refuse_changes)
{
    gr_db_service_t *svc;
    gr_db_t *db;
    cap_t c = {0};
    char msg[512];
    REQUIRE(pg());
    REQUIRE((svc = service(GR_DB_DIVISION_DATABASE)) != NULL);
    /* The compiled .sql files, generated by greenroom_module_migrations(). */
    CHECK_STR(test_db_migrations[0].name, "001_create_notes");
    CHECK_STR(test_db_migrations[1].name, "002_add_tags");
    CHECK(test_db_migrations[2].name == NULL);
    CHECK_CONTAINS(test_db_migrations[0].sql, "it''s \"quoted\" \\ here");

    CHECK(migrate(svc, "notes", test_db_migrations, msg, sizeof msg) == 0);
    REQUIRE((db = plugin(svc, "notes")) != NULL);
    q(db, &c, "INSERT INTO notes (tags) VALUES ('{a,b}') RETURNING body", 0, NULL);
    CHECK_STR(c.v[0][0], "it's \"quoted\" \\ here");
    q(db, &c, "SELECT name, length(checksum) FROM greenroom_migrations ORDER BY name", 0, NULL);
    CHECK(c.rows == 2);
    CHECK_STR(c.v[0][0], "001_create_notes");
    CHECK_STR(c.v[0][1], "64");
    q(db, &c, "SELECT applied_at FROM greenroom_migrations ORDER BY name", 0, NULL);
    char *first_applied = c.v[0][0] ? strdup(c.v[0][0]) : NULL;

    /* Again: nothing applies (CREATE TABLE notes would fail if it did). */
    CHECK(migrate(svc, "notes", test_db_migrations, msg, sizeof msg) == 0);
    q(db, &c, "SELECT applied_at FROM greenroom_migrations ORDER BY name", 0, NULL);
    CHECK_STR(c.v[0][0], first_applied);
    free(first_applied);

    /* A new migration applies on top. */
    gr_migration_t more[] = {test_db_migrations[0],
                             test_db_migrations[1],
                             {"003_add_title", "ALTER TABLE notes ADD COLUMN title text"},
                             {NULL, NULL}};
    CHECK(migrate(svc, "notes", more, msg, sizeof msg) == 0);
    q(db, &c, "SELECT count(*) FROM greenroom_migrations", 0, NULL);
    CHECK_STR(c.v[0][0], "3");

    /* An applied migration whose SQL changed refuses, naming it. */
    gr_migration_t changed[] = {test_db_migrations[0],
                                {"002_add_tags", "ALTER TABLE notes ADD COLUMN other int"},
                                {NULL, NULL}};
    CHECK(migrate(svc, "notes", changed, msg, sizeof msg) == GR_ERR_CONFLICT);
    CHECK_CONTAINS(msg, "002_add_tags");
    CHECK_CONTAINS(msg, "changed");

    /* A failing migration rolls back everything it did, and names itself. */
    gr_migration_t bad[] = {test_db_migrations[0],
                            test_db_migrations[1],
                            more[2],
                            {"004_ok", "CREATE TABLE fine (x int)"},
                            {"005_broken", "CREATE TABLE broken (x nosuchtype)"},
                            {NULL, NULL}};
    CHECK(migrate(svc, "notes", bad, msg, sizeof msg) != 0);
    CHECK_CONTAINS(msg, "005_broken");
    q(db, &c, "SELECT to_regclass('fine') IS NULL, count(*) FROM greenroom_migrations", 0, NULL);
    CHECK_STR(c.v[0][0], "t");
    CHECK_STR(c.v[0][1], "3");

    /* Names must sort in the order they apply. */
    gr_migration_t unordered[] = {{"002_b", "SELECT 1"}, {"001_a", "SELECT 1"}, {NULL, NULL}};
    CHECK(migrate(svc, "notes", unordered, msg, sizeof msg) == GR_ERR_INVALID);
    CHECK_CONTAINS(msg, "001_a");
    cap_free(&c);
    service_done(svc);
}

TEST(two_services_migrate_concurrently)
{
    gr_db_service_t *a, *b;
    gr_test_status_t wa = {0}, wb = {0};
    cap_t c = {0};
    /* Not idempotent on its own: the advisory lock must serialise the two. */
    static const gr_migration_t m[] = {
        {"001_race", "CREATE TABLE race (id int); SELECT pg_sleep(0.3);"},
        {"002_race_row", "INSERT INTO race VALUES (1)"},
        {NULL, NULL}};
    REQUIRE(pg());
    REQUIRE((a = service(GR_DB_DIVISION_SCHEMA)) != NULL);
    REQUIRE((b = service(GR_DB_DIVISION_SCHEMA)) != NULL);
    gr_db_service_migrate(a, "race", m, gr_test_on_status, &wa);
    gr_db_service_migrate(b, "race", m, gr_test_on_status, &wb);
    gr_test_run_until(&H.loop, &wa.done, 20000);
    gr_test_run_until(&H.loop, &wb.done, 20000);
    CHECK(wa.status == 0);
    CHECK(wb.status == 0);
    if (wa.status || wb.status)
        fprintf(stderr, "a: %s\nb: %s\n", wa.message, wb.message);
    q(gr_db_service_plugin(a, "race", NULL), &c,
      "SELECT (SELECT count(*) FROM race), (SELECT count(*) FROM greenroom_migrations)", 0, NULL);
    CHECK_STR(c.v[0][0], "1");
    CHECK_STR(c.v[0][1], "2");
    cap_free(&c);
    service_done(a);
    service_done(b);
}

static void check_isolation(gr_db_division_t mode)
{
    gr_db_service_t *svc;
    gr_db_t *alpha, *beta;
    cap_t c = {0};
    REQUIRE((svc = service(mode)) != NULL);
    REQUIRE((alpha = plugin(svc, "iso-alpha")) != NULL);
    REQUIRE((beta = plugin(svc, "iso-beta")) != NULL);
    CHECK(gr_db_service_plugin(svc, "iso-alpha", NULL) == alpha);
    q(alpha, &c, "CREATE TABLE secrets (v text)", 0, NULL);
    CHECK(c.code == 0);
    q(alpha, &c, "INSERT INTO secrets VALUES ('alpha only')", 0, NULL);
    q(beta, &c, "SELECT v FROM secrets", 0, NULL);
    CHECK_STR(c.sqlstate, "42P01"); /* beta has no such table */
    q(beta, &c, "CREATE TABLE secrets (v text)", 0, NULL);
    CHECK(c.code == 0); /* its own, separate one */
    q(beta, &c, "SELECT count(*) FROM secrets", 0, NULL);
    CHECK_STR(c.v[0][0], "0");
    q(alpha, &c, "SELECT current_database(), current_schema(), current_setting('application_name')",
      0, NULL);
    if (mode == GR_DB_DIVISION_DATABASE) {
        CHECK_STR(c.v[0][0], "backstage_plugin_iso-alpha");
        CHECK_STR(c.v[0][1], "public");
    } else {
        CHECK_STR(c.v[0][0], "postgres");
        CHECK_STR(c.v[0][1], "iso-alpha");
    }
    CHECK_STR(c.v[0][2], "greenroom:iso-alpha");
    /* pg_stat_activity tells whose connection is whose. */
    q(beta, &c,
      "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'greenroom:iso-alpha'", 0,
      NULL);
    CHECK(c.v[0][0] && atoi(c.v[0][0]) >= 1);
    /* Reserved and invalid ids are refused. */
    gr_error_t err;
    CHECK(gr_db_service_plugin(svc, "greenroom", &err) == NULL);
    CHECK(gr_db_service_plugin(svc, "Bad Id", &err) == NULL);
    CHECK(gr_db_service_host(svc) != NULL);
    q(gr_db_service_host(svc), &c, "SELECT current_setting('application_name')", 0, NULL);
    CHECK_STR(c.v[0][0], "greenroom:greenroom");
    CHECK(gr_db_service_ready(svc));
    cap_free(&c);
    service_done(svc);
}

TEST(division_mode_database)
{
    REQUIRE(pg());
    check_isolation(GR_DB_DIVISION_DATABASE);
    char *n = gr_pg_harness_sql(&H, NULL,
                                "SELECT count(*) FROM pg_database WHERE datname LIKE "
                                "'backstage_plugin_iso-%'");
    CHECK_STR(n, "2");
    free(n);
}

TEST(division_mode_schema)
{
    REQUIRE(pg());
    check_isolation(GR_DB_DIVISION_SCHEMA);
    char *n = gr_pg_harness_sql(&H, NULL,
                                "SELECT count(*) FROM pg_namespace WHERE nspname IN "
                                "('iso-alpha', 'iso-beta', 'greenroom')");
    CHECK_STR(n, "3");
    free(n);
}

TEST(plugin_connection_override)
{
    gr_db_options_t o;
    gr_error_t err;
    gr_db_service_t *svc;
    gr_test_status_t w = {0};
    cap_t c = {0};
    char *ci;
    REQUIRE(pg());
    char *made = gr_pg_harness_sql(&H, NULL, "CREATE DATABASE own_db");
    REQUIRE(made != NULL);
    free(made);
    gr_db_options_init(&o);
    gr_db_options_set_connection(&o, NULL, H.conninfo, &err);
    ci = gr_xasprintf("%s dbname=own_db", H.conninfo);
    CHECK(gr_db_options_set_connection(&o, "special", ci, &err) == 0);
    free(ci);
    svc = gr_db_service_new_with(&H.loop, &o, NULL, H.log, NULL, &err);
    gr_db_options_free(&o);
    REQUIRE(svc != NULL);
    gr_db_service_start(svc, gr_test_on_status, &w);
    gr_test_run_until(&H.loop, &w.done, 20000);
    REQUIRE(w.status == 0);
    q(plugin(svc, "special"), &c, "SELECT current_database()", 0, NULL);
    CHECK_STR(c.v[0][0], "own_db");
    q(plugin(svc, "ordinary"), &c, "SELECT current_database()", 0, NULL);
    CHECK_STR(c.v[0][0], "backstage_plugin_ordinary");
    cap_free(&c);
    service_done(svc);
}

/* A stream of queries, one in flight at a time, that records what happened. */
typedef struct stream {
    gr_db_t *db;
    int running;
    int ok, unavailable, other;
    uint64_t slowest_failure_ms;
    uint64_t sent_at;
    char last_error[512];
} stream_t;

static void stream_next(stream_t *s);

static void on_stream(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    stream_t *s = ud;
    uint64_t took = gr_now_ms() - s->sent_at;
    (void)res;
    if (!err) {
        s->ok++;
    } else if (err->code == GR_ERR_UNAVAILABLE) {
        s->unavailable++;
        if (took > s->slowest_failure_ms)
            s->slowest_failure_ms = took;
        snprintf(s->last_error, sizeof s->last_error, "%s", err->message);
    } else {
        s->other++;
        snprintf(s->last_error, sizeof s->last_error, "%s", err->message);
    }
    if (s->running)
        stream_next(s);
}

static void stream_next(stream_t *s)
{
    s->sent_at = gr_now_ms();
    gr_db_query(s->db, "SELECT $1::int + 1", GR_DB_PARAMS("41"), on_stream, s);
}

TEST(outage_fails_fast_then_recovers)
{
    gr_db_service_t *svc;
    stream_t s = {0};
    uint64_t t0;
    REQUIRE(pg());
    REQUIRE((svc = service(GR_DB_DIVISION_DATABASE)) != NULL);
    REQUIRE((s.db = plugin(svc, "outage")) != NULL);
    s.running = 1;
    stream_next(&s);
    /* The plugin's database is created on first use, which takes a while on
     * a loaded machine: wait for the stream to flow before the outage. */
    t0 = gr_now_ms();
    while (s.ok <= 10 && gr_now_ms() - t0 < 20000)
        gr_test_run_for(&H.loop, 20);
    CHECK(s.ok > 10);
    CHECK(s.unavailable == 0);
    CHECK(gr_db_service_ready(svc));

    /* The server dies mid-stream. */
    REQUIRE(gr_pg_harness_kill_server(&H) == 0);
    int ok_before = s.ok;
    t0 = gr_now_ms();
    while (gr_db_service_ready(svc) && gr_now_ms() - t0 < 5000)
        gr_test_run_for(&H.loop, 10);
    CHECK(!gr_db_service_ready(svc));
    gr_test_run_for(&H.loop, 500);
    CHECK(s.unavailable > 5);
    CHECK(s.ok <= ok_before + 1); /* at most the answer already on its way */
    /* Failing fast: while down a query fails at once, it never hangs. */
    CHECK(s.slowest_failure_ms < 1000);
    CHECK(s.other == 0);
    CHECK_CONTAINS(s.last_error, "unavailable");
    CHECK(!gr_db_service_ready(svc));

    /* The server returns: the pool reconnects by itself. */
    REQUIRE(gr_pg_harness_restart(&H) == 0);
    t0 = gr_now_ms();
    while (!gr_db_service_ready(svc) && gr_now_ms() - t0 < 10000)
        gr_test_run_for(&H.loop, 10);
    CHECK(gr_db_service_ready(svc));
    int ok_after = s.ok;
    gr_test_run_for(&H.loop, 300);
    CHECK(s.ok > ok_after + 10);
    s.running = 0;
    gr_test_run_for(&H.loop, 50);
    service_done(svc);
}

TEST(transaction_survives_nothing_when_server_dies)
{
    gr_db_service_t *svc;
    gr_db_t *db;
    gr_db_tx_t *tx;
    cap_t c = {0};
    REQUIRE(pg());
    REQUIRE((svc = service(GR_DB_DIVISION_DATABASE)) != NULL);
    REQUIRE((db = plugin(svc, "txdeath")) != NULL);
    REQUIRE((tx = begin(db)) != NULL);
    REQUIRE(gr_pg_harness_kill_server(&H) == 0);
    gr_test_run_for(&H.loop, 200);
    txq(tx, &c, "SELECT 1", 0, NULL);
    CHECK(c.code == GR_ERR_UNAVAILABLE);
    CHECK(tx_end(tx, 1, &c) == GR_ERR_UNAVAILABLE);
    REQUIRE(gr_pg_harness_restart(&H) == 0);
    cap_free(&c);
    service_done(svc);
}

TEST(stop_cancels_queued_queries)
{
    gr_db_service_t *svc;
    gr_db_t *db;
    cap_t c[8];
    gr_test_status_t w = {0};
    REQUIRE(pg());
    REQUIRE((svc = service(GR_DB_DIVISION_DATABASE)) != NULL);
    REQUIRE((db = plugin(svc, "stopping")) != NULL);
    memset(c, 0, sizeof c);
    for (int i = 0; i < 8; i++)
        gr_db_query(db, "SELECT pg_sleep(5)", 0, NULL, on_cap, &c[i]);
    gr_test_run_for(&H.loop, 100);
    uint64_t t0 = gr_now_ms();
    gr_db_service_stop(svc, gr_test_on_status, &w);
    gr_test_run_until(&H.loop, &w.done, 10000);
    CHECK(w.done);
    CHECK(gr_now_ms() - t0 < 2000);
    gr_test_run_for(&H.loop, 10);
    for (int i = 0; i < 8; i++)
        CHECK(c[i].done && c[i].code == GR_ERR_CANCELED);
    gr_db_service_free(svc);
}

TEST(zz_stop_harness)
{
    if (harness_ok == 1)
        gr_pg_harness_stop(&H);
    harness_ok = -1;
}

TEST_MAIN(TEST_ENTRY(options_parse_connection_strings),
          TEST_ENTRY(query_round_trips_hostile_parameters), TEST_ENTRY(typed_accessors),
          TEST_ENTRY(errors_carry_sqlstate_and_misuse_is_refused),
          TEST_ENTRY(transactions_commit_and_roll_back), TEST_ENTRY(prepared_statements),
          TEST_ENTRY(copy_loads_rows), TEST_ENTRY(copy_binary_loads_rows_of_each_type),
          TEST_ENTRY(copy_binary_format), TEST_ENTRY(copy_escape_format),
          TEST_ENTRY(migrations_apply_once_and_refuse_changes),
          TEST_ENTRY(two_services_migrate_concurrently), TEST_ENTRY(division_mode_database),
          TEST_ENTRY(division_mode_schema), TEST_ENTRY(plugin_connection_override),
          TEST_ENTRY(outage_fails_fast_then_recovers),
          TEST_ENTRY(transaction_survives_nothing_when_server_dies),
          TEST_ENTRY(stop_cancels_queued_queries), TEST_ENTRY(zz_stop_harness))
