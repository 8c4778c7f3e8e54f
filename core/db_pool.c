/* core/db_pool.c: connections, the query queue, transactions, prepared
 * statements, COPY and results (see db_pool.h). */
#include "db_pool.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_impl.h"

#define GR_DB_MAX_PARAMS 65535
#define GR_DB_COPY_CHUNK (64 * 1024)

typedef enum {
    OP_QUERY,  /* one statement with parameters, or a prepared statement */
    OP_SCRIPT, /* host-only: several statements, no parameters */
    OP_BEGIN,
    OP_END, /* COMMIT or ROLLBACK */
    OP_COPY
} op_kind_t;

typedef enum {
    STEP_SEND = 0,
    STEP_PREPARE,   /* a prepared statement's PQsendPrepare is in flight */
    STEP_WAIT,      /* the statement was sent; waiting for its results */
    STEP_COPY_DATA, /* the server accepts COPY data */
    STEP_COPY_END   /* data sent; PQputCopyEnd did not fit yet */
} op_step_t;

typedef struct gr_db_op {
    struct gr_db_op *next;
    op_kind_t kind;
    op_step_t step;
    gr_db_tx_t *tx;
    char *sql; /* QUERY/SCRIPT: the statement; COPY: the table */
    const gr_db_stmt_t *stmt;
    int nparams;
    char **params;
    char **columns; /* COPY */
    size_t ncolumns;
    gr_buf_t data; /* COPY rows in text or binary format */
    int binary;    /* COPY: data is in the binary format */
    size_t sent;
    int commit; /* END */
    gr_db_result_fn result_cb;
    gr_db_tx_fn tx_cb;
    gr_db_done_fn done_cb;
    void *user_data;
    PGresult *res;     /* the last result */
    PGresult *failed;  /* the first error result */
    gr_db_error_t err; /* a failure decided by the pool itself */
} gr_db_op_t;

typedef struct op_queue {
    gr_db_op_t *head, *tail;
    size_t len;
} op_queue_t;

typedef enum { CONN_CONNECTING, CONN_IDLE, CONN_BUSY, CONN_DEAD } conn_state_t;

typedef struct gr_db_conn {
    struct gr_db_conn *next;
    gr_db_t *pool;
    PGconn *pg;
    uv_poll_t *poll;
    int fd;
    int events;
    conn_state_t state;
    gr_db_op_t *op;
    gr_db_tx_t *tx;          /* the transaction this connection is pinned to */
    unsigned char *prepared; /* per statement index: prepared on this connection */
    size_t nprepared;
} gr_db_conn_t;

typedef enum {
    POOL_WAITING, /* not opened yet, or the first connection is on its way: queries queue */
    POOL_UP,
    POOL_DOWN,   /* the server is unreachable: fail fast, retry with back-off */
    POOL_FAILED, /* provisioning failed: fail fast with its error */
    POOL_CLOSING
} pool_state_t;

struct gr_db_stmt {
    gr_db_t *pool;
    size_t index;
    char *sql;
    char name[32];
};

struct gr_db_tx {
    const gr_host_api_t *api;
    gr_db_t *pool;
    gr_db_conn_t *conn; /* NULL once the connection was lost */
    op_queue_t queue;
    int ending; /* commit or rollback was asked for */
    int failed; /* a statement failed: the server aborted the transaction */
    int lost;
    gr_db_error_t first; /* the first failure */
    struct gr_db_tx *next_live;
};

struct gr_db_result {
    const gr_host_api_t *api;
    PGresult *res;
};

struct gr_db {
    const gr_host_api_t *api;
    uv_loop_t *loop;
    gr_log_t *log;
    char *name;
    char **keywords; /* NULL-terminated */
    char **values;
    int min, max;
    pool_state_t state;
    int opened;
    int fail_code;
    char fail_msg[400];
    gr_db_conn_t *conns;
    int nconns;
    int nconnecting;
    gr_db_conn_t *dead;  /* finished connections, freed from the idle callback */
    op_queue_t queue;    /* waiting for a connection */
    op_queue_t deferred; /* failures delivered from the idle callback */
    gr_db_tx_t *txs;     /* live transactions */
    gr_db_stmt_t **stmts;
    size_t nstmts;
    uv_idle_t idle;
    uv_timer_t retry;
    uint64_t retry_ms, retry_min_ms, retry_max_ms;
    int handles_open;
    int finishing;
    void (*close_cb)(void *);
    void *close_ud;
};

static void conn_next(gr_db_conn_t *conn);
static void conn_open(gr_db_t *pool);
static void conn_broken(gr_db_conn_t *conn, const char *why);
static void pool_dispatch(gr_db_t *pool);

/* ---- errors ---------------------------------------------------------------- */

void gr_db_error_set(gr_db_error_t *err, int code, const char *sqlstate, const char *fmt, ...)
{
    va_list ap;
    err->code = code;
    snprintf(err->sqlstate, sizeof err->sqlstate, "%s", sqlstate ? sqlstate : "");
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

int gr_db_status_from_sqlstate(const char *s)
{
    if (!s || strlen(s) != 5)
        return GR_ERR_INTERNAL;
    if (strncmp(s, "08", 2) == 0 || strncmp(s, "53", 2) == 0 || strcmp(s, "57P01") == 0 ||
        strcmp(s, "57P02") == 0 || strcmp(s, "57P03") == 0)
        return GR_ERR_UNAVAILABLE;
    if (strncmp(s, "23", 2) == 0 || strncmp(s, "40", 2) == 0 || strcmp(s, "55P03") == 0)
        return GR_ERR_CONFLICT;
    if (strcmp(s, "57014") == 0)
        return GR_ERR_CANCELED;
    if (strncmp(s, "42", 2) == 0 || strncmp(s, "22", 2) == 0 || strncmp(s, "0A", 2) == 0 ||
        strncmp(s, "25", 2) == 0 || strncmp(s, "2B", 2) == 0 || strncmp(s, "3D", 2) == 0 ||
        strncmp(s, "3F", 2) == 0 || strncmp(s, "P0", 2) == 0)
        return GR_ERR_INVALID;
    return GR_ERR_INTERNAL;
}

/* libpq messages span lines and end with a newline; a log line must not. */
static void chomp(char *s)
{
    char *w = s;
    size_t n;
    for (const char *r = s; *r; r++) {
        char c = (*r == '\n' || *r == '\t' || *r == '\r') ? ' ' : *r;
        if (c == ' ' && (w == s || w[-1] == ' '))
            continue;
        *w++ = c;
    }
    *w = '\0';
    n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = '\0';
}

static void error_from_result(gr_db_error_t *err, const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    if (!primary)
        primary = PQresultErrorMessage(res);
    if (detail)
        gr_db_error_set(err, gr_db_status_from_sqlstate(state), state, "%s (%s)", primary, detail);
    else
        gr_db_error_set(err, gr_db_status_from_sqlstate(state), state, "%s", primary);
    chomp(err->message);
}

/* ---- operations ---------------------------------------------------------- */

static void queue_push(op_queue_t *q, gr_db_op_t *op)
{
    op->next = NULL;
    if (q->tail)
        q->tail->next = op;
    else
        q->head = op;
    q->tail = op;
    q->len++;
}

static gr_db_op_t *queue_pop(op_queue_t *q)
{
    gr_db_op_t *op = q->head;
    if (op) {
        q->head = op->next;
        if (!q->head)
            q->tail = NULL;
        q->len--;
        op->next = NULL;
    }
    return op;
}

static gr_db_op_t *op_new(op_kind_t kind, void *user_data)
{
    gr_db_op_t *op = gr_xcalloc(1, sizeof *op);
    op->kind = kind;
    op->user_data = user_data;
    return op;
}

static void op_free(gr_db_op_t *op)
{
    free(op->sql);
    free(op->params); /* one block with its strings (copy_params) */
    for (size_t i = 0; i < op->ncolumns; i++)
        free(op->columns[i]);
    free(op->columns);
    gr_buf_free(&op->data);
    PQclear(op->res);
    PQclear(op->failed);
    free(op);
}

static void tx_free(gr_db_tx_t *tx)
{
    gr_db_tx_t **p = &tx->pool->txs;
    while (*p && *p != tx)
        p = &(*p)->next_live;
    if (*p)
        *p = tx->next_live;
    free(tx);
}

/* Runs the user's callback for a finished operation and frees it.  err is
 * NULL on success, when res holds the final result. */
static void op_deliver(gr_db_op_t *op, PGresult *res, const gr_db_error_t *err)
{
    switch (op->kind) {
    case OP_QUERY:
    case OP_SCRIPT:
    case OP_COPY:
        if (op->result_cb) {
            gr_db_result_t r = {&gr__host_api, res};
            op->result_cb(err ? NULL : &r, err, op->user_data);
        }
        break;
    case OP_BEGIN:
        /* A successful BEGIN is delivered by conn_op_done, which owns the tx. */
        if (op->tx_cb)
            op->tx_cb(NULL, err, op->user_data);
        break;
    case OP_END: {
        gr_db_tx_t *tx = op->tx; /* NULL when the transaction was ended twice */
        if (op->done_cb)
            op->done_cb(err, op->user_data);
        if (tx)
            tx_free(tx);
        break;
    }
    }
    op_free(op);
}

static void on_idle(uv_idle_t *idle);

/* The idle handle delivers deferred callbacks and frees dead connections. */
static void pool_kick_idle(gr_db_t *pool)
{
    uv_idle_start(&pool->idle, on_idle);
}

/* Queues a failure to be delivered from the idle callback.  A rollback of
 * a lost transaction is a success: the server dropped it already. */
static void op_defer(gr_db_t *pool, gr_db_op_t *op, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void op_defer(gr_db_t *pool, gr_db_op_t *op, int code, const char *fmt, ...)
{
    va_list ap;
    op->err.code = code;
    op->err.sqlstate[0] = '\0';
    va_start(ap, fmt);
    vsnprintf(op->err.message, sizeof op->err.message, fmt, ap);
    va_end(ap);
    if (op->kind == OP_END && !op->commit && op->tx && op->tx->lost)
        op->err.code = GR_OK;
    queue_push(&pool->deferred, op);
    pool_kick_idle(pool);
}

static void fail_queue(gr_db_t *pool, op_queue_t *q, int code, const char *message)
{
    gr_db_op_t *op;
    while ((op = queue_pop(q)))
        op_defer(pool, op, code, "%s", message);
}

/* ---- connections ---------------------------------------------------------- */

static void on_poll_closed(uv_handle_t *h)
{
    gr_db_t *pool = h->data;
    free(h);
    pool->handles_open--;
    if (pool->state == POOL_CLOSING)
        pool_kick_idle(pool);
}

static void conn_drop_poll(gr_db_conn_t *conn)
{
    if (conn->poll) {
        uv_poll_stop(conn->poll);
        conn->poll->data = conn->pool;
        uv_close((uv_handle_t *)conn->poll, on_poll_closed);
        conn->poll = NULL;
        conn->fd = -1;
        conn->events = 0;
    }
}

static void on_poll(uv_poll_t *h, int status, int events);

/* Watches the connection's socket for `events`, following libpq when it
 * opened a new socket (it does when it tries the next host address). */
static int conn_watch(gr_db_conn_t *conn, int events)
{
    int fd = PQsocket(conn->pg);
    if (fd < 0)
        return -1;
    if (conn->poll && conn->fd != fd)
        conn_drop_poll(conn);
    if (!conn->poll) {
        conn->poll = gr_xcalloc(1, sizeof *conn->poll);
        if (uv_poll_init(conn->pool->loop, conn->poll, fd) != 0) {
            free(conn->poll);
            conn->poll = NULL;
            return -1;
        }
        conn->pool->handles_open++;
        conn->poll->data = conn;
        conn->fd = fd;
        conn->events = 0;
    }
    if (conn->events != events) {
        if (uv_poll_start(conn->poll, events, on_poll) != 0)
            return -1;
        conn->events = events;
    }
    return 0;
}

/* Closes the connection; its memory is freed from the idle callback, so a
 * caller further up the stack may still look at conn->state. */
static void conn_destroy(gr_db_conn_t *conn)
{
    gr_db_t *pool = conn->pool;
    gr_db_conn_t **p = &pool->conns;
    if (conn->state == CONN_DEAD)
        return;
    if (conn->state == CONN_CONNECTING)
        pool->nconnecting--;
    conn_drop_poll(conn);
    PQfinish(conn->pg);
    conn->pg = NULL;
    conn->state = CONN_DEAD;
    while (*p && *p != conn)
        p = &(*p)->next;
    if (*p)
        *p = conn->next;
    pool->nconns--;
    conn->next = pool->dead;
    pool->dead = conn;
    pool_kick_idle(pool);
}

static void on_notice(void *arg, const char *message)
{
    gr_db_t *pool = arg;
    if (gr_log_enabled(pool->log, GR_LOG_DEBUG)) {
        char *m = gr_xstrdup(message);
        chomp(m);
        gr_log_debug(pool->log, "database %s: %s", pool->name, m);
        free(m);
    }
}

static void pool_set_down(gr_db_t *pool, const char *why);
static void pool_conn_up(gr_db_t *pool);

static void conn_connect_step(gr_db_conn_t *conn)
{
    gr_db_t *pool = conn->pool;
    switch (PQconnectPoll(conn->pg)) {
    case PGRES_POLLING_READING:
        if (conn_watch(conn, UV_READABLE) == 0)
            return;
        break;
    case PGRES_POLLING_WRITING:
        if (conn_watch(conn, UV_WRITABLE) == 0)
            return;
        break;
    case PGRES_POLLING_OK:
        if (PQsetnonblocking(conn->pg, 1) != 0 || conn_watch(conn, UV_READABLE) != 0)
            break;
        conn->state = CONN_IDLE;
        pool->nconnecting--;
        PQsetNoticeProcessor(conn->pg, on_notice, pool);
        pool_conn_up(pool);
        conn_next(conn);
        return;
    default: break;
    }
    {
        char why[400];
        snprintf(why, sizeof why, "%s", PQerrorMessage(conn->pg));
        chomp(why);
        conn_destroy(conn);
        pool_set_down(pool, why[0] ? why : "connection failed");
    }
}

static void conn_open(gr_db_t *pool)
{
    gr_db_conn_t *conn = gr_xcalloc(1, sizeof *conn);
    conn->pool = pool;
    conn->fd = -1;
    conn->state = CONN_CONNECTING;
    conn->pg = PQconnectStartParams((const char *const *)pool->keywords,
                                    (const char *const *)pool->values, 0);
    if (!conn->pg) {
        fprintf(stderr, "greenroom: out of memory opening a database connection\n");
        abort();
    }
    conn->next = pool->conns;
    pool->conns = conn;
    pool->nconns++;
    pool->nconnecting++;
    /* libpq's protocol: act as if PQconnectPoll had asked to wait for
     * writing.  A connection that failed at once has no socket. */
    if (PQstatus(conn->pg) == CONNECTION_BAD || conn_watch(conn, UV_WRITABLE) != 0) {
        char why[400];
        snprintf(why, sizeof why, "%s", PQerrorMessage(conn->pg));
        chomp(why);
        conn_destroy(conn);
        pool_set_down(pool, why[0] ? why : "connection failed");
    }
}

static int is_plain_ident(const char *s)
{
    size_t n = 0;
    if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return n <= 63;
}

/* Appends the quoted identifier; 0 or -1 when libpq refused it. */
static int append_ident(gr_buf_t *b, PGconn *pg, const char *name)
{
    char *q = PQescapeIdentifier(pg, name, strlen(name));
    if (!q)
        return -1;
    gr_buf_puts(b, q);
    PQfreemem(q);
    return 0;
}

static int conn_is_prepared(const gr_db_conn_t *conn, const gr_db_stmt_t *stmt)
{
    return stmt->index < conn->nprepared && conn->prepared[stmt->index];
}

static void conn_mark_prepared(gr_db_conn_t *conn, const gr_db_stmt_t *stmt)
{
    if (stmt->index >= conn->nprepared) {
        size_t n = stmt->index + 8;
        conn->prepared = gr_xrealloc(conn->prepared, n);
        memset(conn->prepared + conn->nprepared, 0, n - conn->nprepared);
        conn->nprepared = n;
    }
    conn->prepared[stmt->index] = 1;
}

/* Sends the operation's next command; 0, or -1 when the connection failed. */
static int op_send(gr_db_conn_t *conn, gr_db_op_t *op)
{
    PGconn *pg = conn->pg;
    const char *const *params = (const char *const *)op->params;
    int ok = 0;
    switch (op->kind) {
    case OP_QUERY:
        if (op->stmt && !conn_is_prepared(conn, op->stmt)) {
            op->step = STEP_PREPARE;
            ok = PQsendPrepare(pg, op->stmt->name, op->stmt->sql, 0, NULL);
        } else if (op->stmt) {
            op->step = STEP_WAIT;
            ok = PQsendQueryPrepared(pg, op->stmt->name, op->nparams, params, NULL, NULL, 0);
        } else {
            op->step = STEP_WAIT;
            ok = PQsendQueryParams(pg, op->sql, op->nparams, NULL, params, NULL, NULL, 0);
        }
        break;
    case OP_SCRIPT:
        op->step = STEP_WAIT;
        if (op->ncolumns == 1) {
            /* A utility command naming an object (CREATE DATABASE, CREATE
             * SCHEMA) cannot take it as a parameter: the name is quoted by
             * libpq, the one place where text is pasted into SQL. */
            gr_buf_t cmd = {0};
            gr_buf_puts(&cmd, op->sql);
            ok = append_ident(&cmd, pg, op->columns[0]) == 0 && PQsendQuery(pg, cmd.data);
            gr_buf_free(&cmd);
        } else {
            ok = PQsendQuery(pg, op->sql);
        }
        break;
    case OP_BEGIN:
        op->step = STEP_WAIT;
        ok = PQsendQuery(pg, "BEGIN");
        break;
    case OP_END:
        op->step = STEP_WAIT;
        ok = PQsendQuery(pg, op->commit && !op->tx->failed ? "COMMIT" : "ROLLBACK");
        break;
    case OP_COPY: {
        /* COPY cannot take its table as a parameter: the names were checked
         * to be plain identifiers and are quoted by libpq. */
        gr_buf_t cmd = {0};
        int bad = 0;
        gr_buf_puts(&cmd, "COPY ");
        bad |= append_ident(&cmd, pg, op->sql);
        gr_buf_puts(&cmd, " (");
        for (size_t i = 0; i < op->ncolumns; i++) {
            if (i)
                gr_buf_puts(&cmd, ", ");
            bad |= append_ident(&cmd, pg, op->columns[i]);
        }
        gr_buf_puts(&cmd, op->binary ? ") FROM STDIN (FORMAT binary)" : ") FROM STDIN");
        op->step = STEP_WAIT;
        ok = !bad && PQsendQuery(pg, cmd.data);
        gr_buf_free(&cmd);
        break;
    }
    }
    return ok ? 0 : -1;
}

/* Pushes pending output; 0 when all of it left, 1 when the socket is full,
 * -1 on a broken connection. */
static int conn_flush(gr_db_conn_t *conn, int want_more_write)
{
    int r = PQflush(conn->pg);
    if (r < 0)
        return -1;
    if (conn_watch(conn, (r == 1 || want_more_write) ? (UV_READABLE | UV_WRITABLE) : UV_READABLE) !=
        0)
        return -1;
    return r;
}

/* Feeds COPY data; 0 when it is all handed over (or must wait for the
 * socket), -1 on failure.  A chunk goes in only once libpq has sent the
 * previous one: its output buffer would otherwise grow to the whole load,
 * and each partial send moves what is left of it to the front, which made
 * a load of tens of megabytes quadratic in memmove on the loop. */
static int copy_pump(gr_db_conn_t *conn, gr_db_op_t *op)
{
    while (op->step == STEP_COPY_DATA && op->sent < op->data.len) {
        size_t n = op->data.len - op->sent;
        int r;
        if (n > GR_DB_COPY_CHUNK)
            n = GR_DB_COPY_CHUNK;
        r = PQputCopyData(conn->pg, op->data.data + op->sent, (int)n);
        if (r < 0)
            return -1;
        if (r == 0)
            return conn_flush(conn, 1) < 0 ? -1 : 0;
        op->sent += n;
        r = conn_flush(conn, 1);
        if (r != 0)
            return r < 0 ? -1 : 0;
    }
    if (op->step == STEP_COPY_DATA)
        op->step = STEP_COPY_END;
    if (op->step == STEP_COPY_END) {
        int r = PQputCopyEnd(conn->pg, NULL);
        if (r < 0)
            return -1;
        if (r == 0)
            return conn_flush(conn, 1) < 0 ? -1 : 0;
        op->step = STEP_WAIT;
    }
    return conn_flush(conn, 0) < 0 ? -1 : 0;
}

static void conn_start(gr_db_conn_t *conn, gr_db_op_t *op)
{
    conn->op = op;
    conn->state = CONN_BUSY;
    if (op_send(conn, op) != 0 || conn_flush(conn, 0) < 0) {
        char why[400];
        snprintf(why, sizeof why, "%s", PQerrorMessage(conn->pg));
        chomp(why);
        conn_broken(conn, why[0] ? why : "could not send the query");
    }
}

static void tx_record_failure(gr_db_tx_t *tx, const gr_db_error_t *err)
{
    if (!tx->failed) {
        tx->failed = 1;
        tx->first = *err;
    }
}

/* The operation on conn has all its results. */
static void conn_op_done(gr_db_conn_t *conn)
{
    gr_db_t *pool = conn->pool;
    gr_db_op_t *op = conn->op;
    gr_db_error_t err;
    int failed = op->failed != NULL;
    int broken = PQstatus(conn->pg) == CONNECTION_BAD;

    if (failed)
        error_from_result(&err, op->failed);

    if (op->kind == OP_QUERY && op->step == STEP_PREPARE && !failed && !broken) {
        conn_mark_prepared(conn, op->stmt);
        PQclear(op->res);
        op->res = NULL;
        conn_start(conn, op);
        return;
    }

    conn->op = NULL;
    conn->state = CONN_IDLE;
    if (broken) {
        /* The server went away while answering (an administrator shutdown
         * answers with an error first).  The connection is unusable. */
        char why[400];
        gr_db_tx_t *tx = conn->tx;
        snprintf(why, sizeof why, "%s", PQerrorMessage(conn->pg));
        chomp(why);
        if (!failed || err.code != GR_ERR_UNAVAILABLE)
            gr_db_error_set(&err, GR_ERR_UNAVAILABLE, failed ? err.sqlstate : NULL,
                            "database connection lost: %s", why[0] ? why : "closed");
        conn->tx = NULL;
        if (tx) {
            tx->conn = NULL;
            tx->lost = 1;
            fail_queue(pool, &tx->queue, GR_ERR_UNAVAILABLE,
                       "database connection lost during the transaction; it was rolled back");
        }
        conn_destroy(conn);
        pool_set_down(pool, err.message);
        op->err = err;
        if (op->kind == OP_END && !op->commit)
            op->err.code = GR_OK;
        else if (op->kind == OP_END)
            gr_db_error_set(&op->err, GR_ERR_UNAVAILABLE, NULL,
                            "database connection lost while committing; the outcome is unknown");
        queue_push(&pool->deferred, op);
        pool_kick_idle(pool);
        return;
    }

    switch (op->kind) {
    case OP_BEGIN:
        if (!failed) {
            gr_db_tx_t *tx = gr_xcalloc(1, sizeof *tx);
            tx->api = &gr__host_api;
            tx->pool = pool;
            tx->conn = conn;
            tx->next_live = pool->txs;
            pool->txs = tx;
            conn->tx = tx;
            if (op->tx_cb)
                op->tx_cb(tx, NULL, op->user_data);
            op_free(op);
        } else {
            op_deliver(op, NULL, &err);
        }
        break;
    case OP_END: {
        gr_db_tx_t *tx = op->tx;
        const char *status = op->res ? PQcmdStatus(op->res) : "";
        conn->tx = NULL;
        tx->conn = NULL;
        if (!failed && op->commit && (tx->failed || strcmp(status, "ROLLBACK") == 0)) {
            failed = 1;
            if (tx->failed)
                gr_db_error_set(&err, tx->first.code, tx->first.sqlstate,
                                "transaction rolled back because a statement in it failed: %s",
                                tx->first.message);
            else
                gr_db_error_set(&err, GR_ERR_CONFLICT, NULL,
                                "transaction rolled back by the server");
        }
        op_deliver(op, NULL, failed ? &err : NULL);
        break;
    }
    default:
        if (failed && op->tx)
            tx_record_failure(op->tx, &err);
        op_deliver(op, op->res, failed ? &err : NULL);
        break;
    }
    /* The callback may have closed the pool or queued more work. */
    if (conn->state == CONN_IDLE)
        conn_next(conn);
}

/* Reads what arrived and finishes the operation when its last result came. */
static void conn_read_results(gr_db_conn_t *conn)
{
    gr_db_op_t *op = conn->op;
    while (conn->state == CONN_BUSY && !PQisBusy(conn->pg)) {
        PGresult *r = PQgetResult(conn->pg);
        ExecStatusType st;
        if (!r) {
            conn_op_done(conn);
            return;
        }
        st = PQresultStatus(r);
        if (st == PGRES_COPY_IN) {
            PQclear(r);
            if (op->kind != OP_COPY) {
                /* Only gr_db_copy may feed COPY data; refuse anything else. */
                PQputCopyEnd(conn->pg, "greenroom: COPY FROM STDIN is only allowed via gr_db_copy");
                conn_flush(conn, 0);
                continue;
            }
            if (op->step != STEP_COPY_END)
                op->step = STEP_COPY_DATA;
            if (copy_pump(conn, op) != 0) {
                conn_broken(conn, "could not send COPY data");
                return;
            }
            /* While libpq is in COPY mode every PQgetResult answers
             * COPY_IN again: wait for the socket until the end is sent. */
            if (op->step != STEP_WAIT)
                return;
            continue;
        }
        if (st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
            /* COPY TO STDOUT is not offered; the server is told so by
             * dropping the connection, the only way out of that mode. */
            PQclear(r);
            conn_broken(conn, "COPY TO STDOUT is not supported; select the rows instead");
            return;
        }
        if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE || st == PGRES_NONFATAL_ERROR) {
            if (!op->failed)
                op->failed = r;
            else
                PQclear(r);
        } else {
            PQclear(op->res);
            op->res = r;
        }
    }
}

static void conn_busy_io(gr_db_conn_t *conn, int events)
{
    gr_db_op_t *op = conn->op;
    if (events & UV_WRITABLE) {
        if (op->step == STEP_COPY_DATA || op->step == STEP_COPY_END) {
            if (copy_pump(conn, op) != 0) {
                conn_broken(conn, "could not send COPY data");
                return;
            }
        } else if (conn_flush(conn, 0) < 0) {
            conn_broken(conn, PQerrorMessage(conn->pg));
            return;
        }
    }
    if (events & UV_READABLE) {
        if (!PQconsumeInput(conn->pg)) {
            /* Results that arrived before the end still count: an
             * administrator shutdown sends its error, then closes. */
            conn_read_results(conn);
            if (conn->state == CONN_BUSY)
                conn_broken(conn, PQerrorMessage(conn->pg));
            return;
        }
    }
    conn_read_results(conn);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    gr_db_conn_t *conn = h->data;
    if (status < 0)
        events = UV_READABLE | UV_WRITABLE; /* let libpq find out what failed */
    switch (conn->state) {
    case CONN_CONNECTING: conn_connect_step(conn); break;
    case CONN_IDLE:
        /* An idle connection only hears from the server when it is going
         * away (or for notices): notice that now, not at the next query. */
        if (!PQconsumeInput(conn->pg) || PQstatus(conn->pg) == CONNECTION_BAD) {
            conn_broken(conn, PQerrorMessage(conn->pg));
            return;
        }
        {
            PGnotify *n;
            while ((n = PQnotifies(conn->pg)))
                PQfreemem(n);
        }
        break;
    case CONN_BUSY: conn_busy_io(conn, events); break;
    case CONN_DEAD: break;
    }
}

/* The connection failed: its operation and its transaction fail, and the
 * pool goes down until a new connection succeeds. */
static void conn_broken(gr_db_conn_t *conn, const char *why)
{
    gr_db_t *pool = conn->pool;
    gr_db_op_t *op = conn->op;
    gr_db_tx_t *tx = conn->tx;
    char msg[400];
    snprintf(msg, sizeof msg, "%s", why && why[0] ? why : "connection closed");
    chomp(msg);
    conn->op = NULL;
    conn->tx = NULL;
    if (tx) {
        tx->conn = NULL;
        tx->lost = 1;
        fail_queue(pool, &tx->queue, GR_ERR_UNAVAILABLE,
                   "database connection lost during the transaction; it was rolled back");
    }
    if (op) {
        if (op->kind == OP_END && op->commit)
            op_defer(pool, op, GR_ERR_UNAVAILABLE,
                     "database connection lost while committing; the outcome is unknown");
        else
            op_defer(pool, op, GR_ERR_UNAVAILABLE, "database connection lost: %s", msg);
    }
    conn_destroy(conn);
    pool_set_down(pool, msg);
}

/* An idle connection picks its next operation: its transaction's, or the
 * pool queue's. */
static void conn_next(gr_db_conn_t *conn)
{
    gr_db_t *pool = conn->pool;
    gr_db_op_t *op;
    if (conn->state != CONN_IDLE || pool->state == POOL_CLOSING)
        return;
    if (conn->tx) {
        if ((op = queue_pop(&conn->tx->queue)))
            conn_start(conn, op);
        return;
    }
    if (pool->state == POOL_UP && (op = queue_pop(&pool->queue)))
        conn_start(conn, op);
}

/* ---- pool state ------------------------------------------------------------ */

static void on_retry(uv_timer_t *t)
{
    gr_db_t *pool = t->data;
    if (pool->state == POOL_DOWN && pool->nconnecting == 0)
        conn_open(pool);
}

static void pool_set_down(gr_db_t *pool, const char *why)
{
    gr_db_conn_t *c, *next;
    if (pool->state == POOL_CLOSING || pool->state == POOL_FAILED)
        return;
    if (pool->state != POOL_DOWN) {
        gr_log_warn(pool->log, "database unavailable for %s: %s; reconnecting", pool->name, why);
        pool->retry_ms = pool->retry_min_ms;
    }
    pool->state = POOL_DOWN;
    snprintf(pool->fail_msg, sizeof pool->fail_msg, "database unavailable: %s", why);
    fail_queue(pool, &pool->queue, GR_ERR_UNAVAILABLE, pool->fail_msg);
    /* Idle connections most likely died with the server; drop them rather
     * than hand the next query to a dead socket. */
    for (c = pool->conns; c; c = next) {
        next = c->next;
        if (c->state == CONN_IDLE && !c->tx)
            conn_destroy(c);
    }
    if (!uv_is_active((uv_handle_t *)&pool->retry)) {
        uv_timer_start(&pool->retry, on_retry, pool->retry_ms, 0);
        pool->retry_ms *= 2;
        if (pool->retry_ms > pool->retry_max_ms)
            pool->retry_ms = pool->retry_max_ms;
    }
}

static void pool_conn_up(gr_db_t *pool)
{
    if (pool->state == POOL_CLOSING)
        return;
    if (pool->state == POOL_DOWN)
        gr_log_info(pool->log, "database available again for %s", pool->name);
    pool->state = POOL_UP;
    pool->retry_ms = pool->retry_min_ms;
    uv_timer_stop(&pool->retry);
    pool_dispatch(pool);
}

static void pool_dispatch(gr_db_t *pool)
{
    gr_db_conn_t *c;
    gr_db_conn_t *next;
    /* A failing send destroys connections (they move to pool->dead, still
     * readable), so take each next pointer first and re-check the state. */
    for (c = pool->conns; c && pool->queue.len && pool->state == POOL_UP; c = next) {
        next = c->next;
        if (c->state == CONN_IDLE && !c->tx)
            conn_next(c);
    }
    if (!pool->opened || pool->state == POOL_DOWN || pool->state == POOL_FAILED ||
        pool->state == POOL_CLOSING)
        return;
    /* Grow while queries wait, and keep the minimum open. */
    while (pool->nconns < pool->max &&
           ((size_t)pool->nconnecting < pool->queue.len || pool->nconns < pool->min)) {
        conn_open(pool);
        if (pool->state != POOL_UP && pool->state != POOL_WAITING)
            return;
    }
}

/* ---- the pool ---------------------------------------------------------------- */

static char **copy_nt(const char *const *src)
{
    size_t n = 0;
    char **out;
    while (src && src[n])
        n++;
    out = gr_xcalloc(n + 1, sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = gr_xstrdup(src[i]);
    return out;
}

static void free_nt(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

gr_db_t *gr_db_pool_new(uv_loop_t *loop, gr_log_t *log, const gr_db_pool_opts_t *opts)
{
    gr_db_t *pool = gr_xcalloc(1, sizeof *pool);
    pool->api = &gr__host_api;
    pool->loop = loop;
    pool->log = log;
    pool->name = gr_xstrdup(opts->name ? opts->name : "database");
    pool->keywords = copy_nt(opts->keywords);
    pool->values = copy_nt(opts->values);
    pool->max = opts->max > 0 ? opts->max : 10;
    pool->min = opts->min < 0 ? 0 : (opts->min > pool->max ? pool->max : opts->min);
    pool->retry_min_ms = opts->retry_min_ms ? opts->retry_min_ms : 100;
    pool->retry_max_ms = opts->retry_max_ms ? opts->retry_max_ms : 5000;
    pool->retry_ms = pool->retry_min_ms;
    pool->state = POOL_WAITING;
    uv_idle_init(loop, &pool->idle);
    pool->idle.data = pool;
    uv_timer_init(loop, &pool->retry);
    pool->retry.data = pool;
    pool->handles_open = 2;
    return pool;
}

void gr_db_pool_open(gr_db_t *pool)
{
    if (pool->state == POOL_CLOSING)
        return;
    pool->opened = 1;
    if (pool->state == POOL_FAILED)
        pool->state = POOL_WAITING;
    if (pool->nconns == 0 && pool->state != POOL_DOWN)
        conn_open(pool);
    pool_dispatch(pool);
}

void gr_db_pool_fail(gr_db_t *pool, int code, const char *message)
{
    if (pool->state == POOL_CLOSING)
        return;
    pool->state = POOL_FAILED;
    pool->opened = 0;
    pool->fail_code = code;
    snprintf(pool->fail_msg, sizeof pool->fail_msg, "%s", message);
    fail_queue(pool, &pool->queue, code, message);
}

int gr_db_pool_ready(const gr_db_t *pool)
{
    return pool->state == POOL_UP;
}

const char *gr_db_pool_name(const gr_db_t *pool)
{
    return pool->name;
}

static void pool_finish(gr_db_t *pool)
{
    void (*cb)(void *) = pool->close_cb;
    void *ud = pool->close_ud;
    while (pool->txs) {
        gr_db_tx_t *tx = pool->txs;
        pool->txs = tx->next_live;
        free(tx);
    }
    for (size_t i = 0; i < pool->nstmts; i++) {
        free(pool->stmts[i]->sql);
        free(pool->stmts[i]);
    }
    free(pool->stmts);
    free_nt(pool->keywords);
    free_nt(pool->values);
    free(pool->name);
    free(pool);
    if (cb)
        cb(ud);
}

static void on_pool_handle_closed(uv_handle_t *h)
{
    gr_db_t *pool = h->data;
    if (--pool->handles_open == 0)
        pool_finish(pool);
}

static void on_idle(uv_idle_t *idle)
{
    gr_db_t *pool = idle->data;
    op_queue_t batch = pool->deferred;
    gr_db_op_t *op;

    memset(&pool->deferred, 0, sizeof pool->deferred);
    while ((op = queue_pop(&batch)))
        op_deliver(op, NULL, op->err.code ? &op->err : NULL);
    while (pool->dead) {
        gr_db_conn_t *c = pool->dead;
        pool->dead = c->next;
        free(c->prepared);
        free(c);
    }
    if (pool->deferred.len)
        return;
    uv_idle_stop(idle);
    /* Close the pool's own handles once the connections' are gone. */
    if (pool->state == POOL_CLOSING && !pool->finishing && pool->handles_open == 2) {
        pool->finishing = 1;
        uv_close((uv_handle_t *)&pool->idle, on_pool_handle_closed);
        uv_close((uv_handle_t *)&pool->retry, on_pool_handle_closed);
    }
}

void gr_db_pool_close(gr_db_t *pool, void (*cb)(void *user_data), void *user_data)
{
    gr_db_conn_t *c;
    gr_db_tx_t *tx;
    if (pool->state == POOL_CLOSING)
        return;
    pool->state = POOL_CLOSING;
    pool->close_cb = cb;
    pool->close_ud = user_data;
    uv_timer_stop(&pool->retry);
    fail_queue(pool, &pool->queue, GR_ERR_CANCELED, "the host is shutting down");
    for (tx = pool->txs; tx; tx = tx->next_live) {
        tx->lost = 1;
        fail_queue(pool, &tx->queue, GR_ERR_CANCELED, "the host is shutting down");
    }
    while ((c = pool->conns)) {
        gr_db_op_t *op = c->op;
        c->op = NULL;
        if (op)
            op_defer(pool, op, GR_ERR_CANCELED, "the host is shutting down");
        conn_destroy(c);
    }
    uv_idle_start(&pool->idle, on_idle);
}

/* ---- the API entries ------------------------------------------------------- */

static void submit(gr_db_t *pool, gr_db_tx_t *tx, gr_db_op_t *op)
{
    if (pool->state == POOL_CLOSING) {
        op_defer(pool, op, GR_ERR_CANCELED, "the host is shutting down");
        return;
    }
    if (tx) {
        op->tx = tx;
        if (tx->ending) {
            op_defer(pool, op, GR_ERR_INVALID,
                     "the transaction was already committed or rolled back");
        } else if (tx->lost) {
            op_defer(pool, op, GR_ERR_UNAVAILABLE,
                     "database connection lost during the transaction; it was rolled back");
        } else {
            queue_push(&tx->queue, op);
            if (tx->conn)
                conn_next(tx->conn);
        }
        return;
    }
    if (pool->state == POOL_DOWN || pool->state == POOL_FAILED) {
        op_defer(pool, op, pool->state == POOL_DOWN ? GR_ERR_UNAVAILABLE : pool->fail_code, "%s",
                 pool->fail_msg);
        return;
    }
    queue_push(&pool->queue, op);
    pool_dispatch(pool);
}

/* The parameters kept for sending (a statement may wait in the queue, or
 * be prepared first): the pointers and the strings in one allocation, as a
 * batch insert has hundreds of them. */
static char **copy_params(int n, const char *const *params)
{
    size_t bytes = ((size_t)n + 1) * sizeof(char *);
    for (int i = 0; i < n; i++)
        if (params[i])
            bytes += strlen(params[i]) + 1;
    char **out = gr_xmalloc(bytes);
    char *text = (char *)(out + n + 1);
    for (int i = 0; i < n; i++) {
        if (!params[i]) {
            out[i] = NULL;
            continue;
        }
        size_t len = strlen(params[i]) + 1;
        memcpy(text, params[i], len);
        out[i] = text;
        text += len;
    }
    out[n] = NULL;
    return out;
}

void gr__db_query(gr_db_t *db, gr_db_tx_t *tx, const gr_db_stmt_t *stmt, const char *sql,
                  int nparams, const char *const *params, gr_db_result_fn cb, void *user_data)
{
    gr_db_t *pool = db ? db : tx->pool;
    gr_db_op_t *op = op_new(OP_QUERY, user_data);
    op->result_cb = cb;
    if ((stmt == NULL) == (sql == NULL)) {
        op_defer(pool, op, GR_ERR_INVALID, "a query needs either SQL text or a prepared statement");
        return;
    }
    if (nparams < 0 || nparams > GR_DB_MAX_PARAMS || (nparams > 0 && !params)) {
        op_defer(pool, op, GR_ERR_INVALID, "a query takes 0 to %d parameters, got %d",
                 GR_DB_MAX_PARAMS, nparams);
        return;
    }
    if (stmt && stmt->pool != pool) {
        op_defer(pool, op, GR_ERR_INVALID,
                 "the prepared statement belongs to another plugin's database");
        return;
    }
    op->sql = sql ? gr_xstrdup(sql) : NULL;
    op->stmt = stmt;
    op->nparams = nparams;
    op->params = copy_params(nparams, params);
    submit(pool, tx, op);
}

gr_db_stmt_t *gr__db_prepare(gr_db_t *db, const char *sql, gr_error_t *err)
{
    gr_db_stmt_t *stmt;
    if (!sql || !*sql) {
        gr_error_set(err, GR_ERR_INVALID, "gr_db_prepare needs the statement's SQL");
        return NULL;
    }
    stmt = gr_xcalloc(1, sizeof *stmt);
    stmt->pool = db;
    stmt->index = db->nstmts;
    stmt->sql = gr_xstrdup(sql);
    snprintf(stmt->name, sizeof stmt->name, "gr_stmt_%zu", stmt->index);
    db->stmts = gr_xrealloc(db->stmts, (db->nstmts + 1) * sizeof *db->stmts);
    db->stmts[db->nstmts++] = stmt;
    return stmt;
}

void gr_db_copy_escape(gr_buf_t *out, const char *value)
{
    if (!value) {
        gr_buf_append(out, "\\N", 2);
        return;
    }
    /* Runs without a special byte are copied whole: a bulk load escapes
     * tens of megabytes on the loop thread, and byte-wise appends cost ten
     * times more than the scan. */
    for (;;) {
        size_t run = strcspn(value, "\\\n\r\t");
        gr_buf_append(out, value, run);
        value += run;
        switch (*value) {
        case '\0': return;
        case '\\': gr_buf_append(out, "\\\\", 2); break;
        case '\n': gr_buf_append(out, "\\n", 2); break;
        case '\r': gr_buf_append(out, "\\r", 2); break;
        default: gr_buf_append(out, "\\t", 2); break;
        }
        value++;
    }
}

/* Fails a COPY before it reaches the server: cb hears it on a later loop
 * turn, and the transaction it belongs to fails with it, as it would had
 * the server refused the statement. */
static void copy_refuse(gr_db_t *pool, gr_db_tx_t *tx, gr_db_op_t *op, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void copy_refuse(gr_db_t *pool, gr_db_tx_t *tx, gr_db_op_t *op, const char *fmt, ...)
{
    char msg[sizeof op->err.message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    op_defer(pool, op, GR_ERR_INVALID, "%s", msg);
    if (tx)
        tx_record_failure(tx, &op->err);
}

/* A COPY operation for table (columns), or NULL when a name is not plain
 * (refused). */
static gr_db_op_t *copy_op_new(gr_db_t *pool, gr_db_tx_t *tx, const char *what, const char *table,
                               const char *const *columns, size_t ncolumns,
                               const char *const *values, size_t nrows, gr_db_result_fn cb,
                               void *user_data)
{
    gr_db_op_t *op = op_new(OP_COPY, user_data);
    op->result_cb = cb;
    if (!is_plain_ident(table)) {
        copy_refuse(pool, tx, op, "%s: table '%s' is not a plain name", what,
                    table ? table : "(null)");
        return NULL;
    }
    if (ncolumns == 0 || !columns || (nrows > 0 && !values)) {
        copy_refuse(pool, tx, op, "%s needs at least one column and the values", what);
        return NULL;
    }
    for (size_t i = 0; i < ncolumns; i++) {
        if (!is_plain_ident(columns[i])) {
            copy_refuse(pool, tx, op, "%s: column '%s' is not a plain name", what,
                        columns[i] ? columns[i] : "(null)");
            return NULL;
        }
    }
    op->sql = gr_xstrdup(table);
    op->columns = gr_xcalloc(ncolumns, sizeof *op->columns);
    op->ncolumns = ncolumns;
    for (size_t i = 0; i < ncolumns; i++)
        op->columns[i] = gr_xstrdup(columns[i]);
    return op;
}

void gr__db_copy(gr_db_t *db, gr_db_tx_t *tx, const char *table, const char *const *columns,
                 size_t ncolumns, const char *const *values, size_t nrows, gr_db_result_fn cb,
                 void *user_data)
{
    gr_db_t *pool = db ? db : tx->pool;
    gr_db_op_t *op =
        copy_op_new(pool, tx, "gr_db_copy", table, columns, ncolumns, values, nrows, cb, user_data);
    if (!op)
        return;
    /* One allocation for the usual case (few bytes need escaping). */
    size_t bytes = 0;
    for (size_t i = 0; i < nrows * ncolumns; i++)
        bytes += (values[i] ? strlen(values[i]) : 2) + 1;
    gr_buf_reserve(&op->data, bytes + bytes / 64);
    for (size_t r = 0; r < nrows; r++) {
        for (size_t c = 0; c < ncolumns; c++) {
            if (c)
                gr_buf_append(&op->data, "\t", 1);
            gr_db_copy_escape(&op->data, values[r * ncolumns + c]);
        }
        gr_buf_append(&op->data, "\n", 1);
    }
    submit(pool, tx, op);
}

static void put_be16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (24 - 8 * i));
}

/* Appends value (not NULL) as a field of type `type`: its length, then
 * its binary form.  -1 when it does not parse as that type. */
static int copy_binary_field(gr_buf_t *out, int type, const char *value)
{
    unsigned char field[4 + 16];
    switch (type) {
    case GR_DB_COPY_TEXT: {
        size_t len = strlen(value);
        if (len > INT32_MAX)
            return -1;
        put_be32(field, (uint32_t)len);
        gr_buf_append(out, field, 4);
        gr_buf_append(out, value, len);
        return 0;
    }
    case GR_DB_COPY_UUID: {
        /* 8-4-4-4-12 hex digits, as PostgreSQL writes them. */
        static const unsigned char dashes[] = {8, 13, 18, 23};
        size_t d = 0, k = 0;
        put_be32(field, 16);
        for (size_t i = 0; i < 36; i++) {
            if (d < 4 && i == dashes[d]) {
                if (value[i] != '-')
                    return -1;
                d++;
                continue;
            }
            int hi = gr_hex_value(value[i]);
            int lo = hi < 0 ? -1 : gr_hex_value(value[++i]);
            if (hi < 0 || lo < 0)
                return -1;
            field[4 + k++] = (unsigned char)(hi << 4 | lo);
        }
        if (value[36] != '\0')
            return -1;
        gr_buf_append(out, field, sizeof field);
        return 0;
    }
    case GR_DB_COPY_INT4:
    case GR_DB_COPY_INT8: {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end)
            return -1;
        if (type == GR_DB_COPY_INT4) {
            if (v < INT32_MIN || v > INT32_MAX)
                return -1;
            put_be32(field, 4);
            put_be32(field + 4, (uint32_t)(int32_t)v);
            gr_buf_append(out, field, 8);
        } else {
            unsigned char b[12];
            put_be32(b, 8);
            put_be32(b + 4, (uint32_t)((uint64_t)v >> 32));
            put_be32(b + 8, (uint32_t)(uint64_t)v);
            gr_buf_append(out, b, sizeof b);
        }
        return 0;
    }
    case GR_DB_COPY_BOOL: {
        int t = strcmp(value, "t") == 0 || strcmp(value, "true") == 0;
        if (!t && strcmp(value, "f") != 0 && strcmp(value, "false") != 0)
            return -1;
        put_be32(field, 1);
        field[4] = (unsigned char)t;
        gr_buf_append(out, field, 5);
        return 0;
    }
    default: return -1;
    }
}

static const char *copy_type_name(int type)
{
    switch (type) {
    case GR_DB_COPY_UUID: return "a uuid";
    case GR_DB_COPY_INT4: return "an integer";
    case GR_DB_COPY_INT8: return "a bigint";
    case GR_DB_COPY_BOOL: return "a boolean";
    default: return "text";
    }
}

int gr_db_copy_binary_encode(gr_buf_t *out, const int *types, size_t ncolumns,
                             const char *const *values, size_t nrows, char *why, size_t why_len)
{
    /* The signature, then flags (no OIDs) and the header extension's
     * length, both zero. */
    static const unsigned char header[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n'};
    unsigned char word[4];
    size_t bytes = sizeof header + 2 + 4 * nrows * ncolumns;
    if (ncolumns > INT16_MAX) {
        snprintf(why, why_len, "at most %d columns", INT16_MAX);
        return -1;
    }
    for (size_t i = 0; i < nrows * ncolumns; i++)
        if (values[i])
            bytes += types[i % ncolumns] == GR_DB_COPY_TEXT ? strlen(values[i]) : 16;
    gr_buf_reserve(out, bytes + 2 * nrows);
    gr_buf_append(out, header, sizeof header);
    for (size_t r = 0; r < nrows; r++) {
        put_be16(word, (uint16_t)ncolumns);
        gr_buf_append(out, word, 2);
        for (size_t c = 0; c < ncolumns; c++) {
            const char *v = values[r * ncolumns + c];
            if (!v) {
                put_be32(word, UINT32_MAX); /* -1: NULL */
                gr_buf_append(out, word, 4);
            } else if (copy_binary_field(out, types[c], v) != 0) {
                snprintf(why, why_len, "row %zu, column %zu: '%.60s' is not %s", r + 1, c + 1, v,
                         copy_type_name(types[c]));
                return -1;
            }
        }
    }
    put_be16(word, UINT16_MAX); /* the trailer, -1 */
    gr_buf_append(out, word, 2);
    return 0;
}

void gr__db_copy_binary(gr_db_t *db, gr_db_tx_t *tx, const char *table, const char *const *columns,
                        const int *types, size_t ncolumns, const char *const *values, size_t nrows,
                        gr_db_result_fn cb, void *user_data)
{
    gr_db_t *pool = db ? db : tx->pool;
    gr_db_op_t *op = copy_op_new(pool, tx, "gr_db_copy_binary", table, columns, ncolumns, values,
                                 nrows, cb, user_data);
    if (!op)
        return;
    char why[160];
    if (!types) {
        copy_refuse(pool, tx, op, "gr_db_copy_binary needs the columns' types");
        return;
    }
    if (gr_db_copy_binary_encode(&op->data, types, ncolumns, values, nrows, why, sizeof why) != 0) {
        copy_refuse(pool, tx, op, "gr_db_copy_binary into %s: %s", table, why);
        return;
    }
    op->binary = 1;
    submit(pool, tx, op);
}

void gr_db_pool_script(gr_db_t *db, gr_db_tx_t *tx, const char *sql, gr_db_result_fn cb,
                       void *user_data)
{
    gr_db_t *pool = db ? db : tx->pool;
    gr_db_op_t *op = op_new(OP_SCRIPT, user_data);
    op->result_cb = cb;
    op->sql = gr_xstrdup(sql);
    submit(pool, tx, op);
}

void gr_db_pool_ident_command(gr_db_t *db, const char *prefix, const char *ident,
                              gr_db_result_fn cb, void *user_data)
{
    gr_db_op_t *op = op_new(OP_SCRIPT, user_data);
    op->result_cb = cb;
    op->sql = gr_xstrdup(prefix);
    op->columns = gr_xcalloc(1, sizeof *op->columns);
    op->columns[0] = gr_xstrdup(ident);
    op->ncolumns = 1;
    submit(db, NULL, op);
}

void gr__db_begin(gr_db_t *db, gr_db_tx_fn cb, void *user_data)
{
    gr_db_op_t *op = op_new(OP_BEGIN, user_data);
    op->tx_cb = cb;
    submit(db, NULL, op);
}

void gr__db_tx_end(gr_db_tx_t *tx, int commit, gr_db_done_fn cb, void *user_data)
{
    gr_db_t *pool = tx->pool;
    gr_db_op_t *op = op_new(OP_END, user_data);
    op->done_cb = cb;
    op->commit = commit;
    op->tx = tx;
    if (tx->ending) {
        /* Ending twice would free the transaction twice: refuse the second
         * without touching the transaction. */
        op->tx = NULL;
        op_defer(pool, op, GR_ERR_INVALID, "the transaction was already ended");
        return;
    }
    tx->ending = 1;
    if (pool->state == POOL_CLOSING) {
        op_defer(pool, op, GR_ERR_CANCELED, "the host is shutting down");
    } else if (tx->lost) {
        op_defer(pool, op, GR_ERR_UNAVAILABLE,
                 "database connection lost during the transaction; it was rolled back");
    } else {
        queue_push(&tx->queue, op);
        if (tx->conn)
            conn_next(tx->conn);
    }
}

int gr__db_result_rows(const gr_db_result_t *res)
{
    return res && res->res ? PQntuples(res->res) : 0;
}

int gr__db_result_columns(const gr_db_result_t *res)
{
    return res && res->res ? PQnfields(res->res) : 0;
}

const char *gr__db_result_column_name(const gr_db_result_t *res, int col)
{
    if (col < 0 || col >= gr__db_result_columns(res))
        return NULL;
    return PQfname(res->res, col);
}

int gr__db_result_column(const gr_db_result_t *res, const char *name)
{
    int n = gr__db_result_columns(res);
    for (int i = 0; name && i < n; i++)
        if (strcmp(PQfname(res->res, i), name) == 0)
            return i;
    return -1;
}

const char *gr__db_result_value(const gr_db_result_t *res, int row, int col)
{
    if (row < 0 || row >= gr__db_result_rows(res) || col < 0 || col >= gr__db_result_columns(res))
        return NULL;
    if (PQgetisnull(res->res, row, col))
        return NULL;
    return PQgetvalue(res->res, row, col);
}

int64_t gr__db_result_affected(const gr_db_result_t *res)
{
    const char *s = res && res->res ? PQcmdTuples(res->res) : "";
    return *s ? (int64_t)strtoll(s, NULL, 10) : 0;
}
