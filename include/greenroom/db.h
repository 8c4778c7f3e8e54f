/* greenroom/db.h: the plugin's PostgreSQL database.
 *
 * ctx->db reaches the plugin's own database (pluginDivisionMode: database)
 * or its own schema (pluginDivisionMode: schema); a plugin never sees another
 * plugin's tables.  The handle lives until the plugin's shutdown returns.
 *
 * Every call returns at once; its callback runs later on the loop thread,
 * exactly once, also on failure, and never from inside the call itself.
 * SQL is always a constant text with $1..$n placeholders: values travel
 * separately, as text parameters (NULL for SQL NULL), so no value can change
 * what a statement does.  One call runs one statement.
 *
 *     static void on_rows(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
 *     {
 *         if (err) { ... err->message, err->sqlstate ...; return; }
 *         for (int i = 0; i < gr_db_result_rows(res); i++)
 *             use(gr_db_result_value(res, i, 0));
 *     }
 *     gr_db_query(ctx->db, "SELECT name FROM entities WHERE kind = $1",
 *                 GR_DB_PARAMS(kind), on_rows, state);
 *
 * Queries wait in a first-in first-out queue for a free connection of the
 * plugin's pool.  While the database is unreachable, calls fail at once
 * with GR_ERR_UNAVAILABLE instead of waiting; the pool reconnects by itself.
 *
 * Schema changes belong in migrations (gr_module_descriptor_t.migrations,
 * from migrations/NNN_name.sql), which the host applies before init.
 */
#ifndef GREENROOM_DB_H
#define GREENROOM_DB_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <greenroom/api.h>

/* What went wrong.  code is a gr_status_t: GR_ERR_UNAVAILABLE (no database
 * connection), GR_ERR_CONFLICT (unique violation, serialization failure,
 * deadlock), GR_ERR_INVALID (bad SQL, bad parameter value, misuse of this
 * API), GR_ERR_CANCELED (the host is shutting down), GR_ERR_INTERNAL. */
struct gr_db_error {
    int code;
    char sqlstate[6];  /* PostgreSQL's five-character SQLSTATE, "" when not from the server */
    char message[512]; /* the server's message with its detail, or ours */
};

/* Counts the arguments and passes them as a parameter array:
 * gr_db_query(db, "... $1 ... $2", GR_DB_PARAMS(a, b), cb, ud). */
#define GR_DB_PARAMS(...)                                                                          \
    (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)),                      \
        (const char *const[])                                                                      \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }

/* ---- queries ------------------------------------------------------------- */

/* Runs one statement with nparams text parameters (params[i] is $i+1; NULL
 * is SQL NULL).  The strings are copied: they may be freed on return. */
static inline void gr_db_query(gr_db_t *db, const char *sql, int nparams, const char *const *params,
                               gr_db_result_fn cb, void *user_data)
{
    GR__API(db)->db_query(db, NULL, NULL, sql, nparams, params, cb, user_data);
}

/* A statement prepared once per connection, on first use, and executed
 * with gr_db_execute(): saves the server re-planning a hot query.  The
 * handle belongs to db.  NULL (and err filled) when sql is NULL. */
static inline gr_db_stmt_t *gr_db_prepare(gr_db_t *db, const char *sql, gr_error_t *err)
{
    return GR__API(db)->db_prepare(db, sql, err);
}

static inline void gr_db_execute(gr_db_t *db, const gr_db_stmt_t *stmt, int nparams,
                                 const char *const *params, gr_db_result_fn cb, void *user_data)
{
    GR__API(db)->db_query(db, NULL, stmt, NULL, nparams, params, cb, user_data);
}

/* Bulk load: COPY table (columns) FROM STDIN.  values holds nrows rows of
 * ncolumns text values each, row after row (NULL is SQL NULL); they are
 * copied.  table and columns are plain names ([A-Za-z_][A-Za-z0-9_]*).
 * gr_db_result_affected() gives the number of rows loaded. */
static inline void gr_db_copy(gr_db_t *db, const char *table, const char *const *columns,
                              size_t ncolumns, const char *const *values, size_t nrows,
                              gr_db_result_fn cb, void *user_data)
{
    GR__API(db)->db_copy(db, NULL, table, columns, ncolumns, values, nrows, cb, user_data);
}

/* Bulk load in COPY's binary format: as gr_db_copy, but each value travels
 * in its column type's binary form, which the server stores without
 * parsing text (for rows of a uuid and a few short texts, about 40% less
 * server time).  Values are still given as text; types[i] says what column
 * i holds, and the host converts each value, refusing the whole call
 * (GR_ERR_INVALID, before anything reaches the server) when one does not
 * read as its type.  The server checks that the types match the table's.
 * On a host older than this SDK the same rows go in the text format. */
enum gr_db_copy_type {
    GR_DB_COPY_TEXT = 0, /* text, varchar: the bytes as they are */
    GR_DB_COPY_UUID,     /* uuid: 8-4-4-4-12 hex digits */
    GR_DB_COPY_INT4,     /* integer: decimal text */
    GR_DB_COPY_INT8,     /* bigint: decimal text */
    GR_DB_COPY_BOOL      /* boolean: "t", "true", "f" or "false" */
};

static inline void gr_db_copy_binary(gr_db_t *db, const char *table, const char *const *columns,
                                     const int *types, size_t ncolumns, const char *const *values,
                                     size_t nrows, gr_db_result_fn cb, void *user_data)
{
    if (!GR_API_HAS(GR__API(db), db_copy_binary)) {
        gr_db_copy(db, table, columns, ncolumns, values, nrows, cb, user_data);
        return;
    }
    GR__API(db)->db_copy_binary(db, NULL, table, columns, types, ncolumns, values, nrows, cb,
                                user_data);
}

/* ---- transactions -------------------------------------------------------- */

/* Takes a connection out of the pool, sends BEGIN and hands cb a transaction
 * (or NULL and an error).  Statements sent through the transaction run in
 * order on that connection.  End it with gr_db_tx_commit() or
 * gr_db_tx_rollback(): the connection is held until then.  The handle is
 * invalid once the commit or rollback callback has run. */
static inline void gr_db_begin(gr_db_t *db, gr_db_tx_fn cb, void *user_data)
{
    GR__API(db)->db_begin(db, cb, user_data);
}

static inline void gr_db_tx_query(gr_db_tx_t *tx, const char *sql, int nparams,
                                  const char *const *params, gr_db_result_fn cb, void *user_data)
{
    GR__API(tx)->db_query(NULL, tx, NULL, sql, nparams, params, cb, user_data);
}

static inline void gr_db_tx_execute(gr_db_tx_t *tx, const gr_db_stmt_t *stmt, int nparams,
                                    const char *const *params, gr_db_result_fn cb, void *user_data)
{
    GR__API(tx)->db_query(NULL, tx, stmt, NULL, nparams, params, cb, user_data);
}

static inline void gr_db_tx_copy(gr_db_tx_t *tx, const char *table, const char *const *columns,
                                 size_t ncolumns, const char *const *values, size_t nrows,
                                 gr_db_result_fn cb, void *user_data)
{
    GR__API(tx)->db_copy(NULL, tx, table, columns, ncolumns, values, nrows, cb, user_data);
}

static inline void gr_db_tx_copy_binary(gr_db_tx_t *tx, const char *table,
                                        const char *const *columns, const int *types,
                                        size_t ncolumns, const char *const *values, size_t nrows,
                                        gr_db_result_fn cb, void *user_data)
{
    if (!GR_API_HAS(GR__API(tx), db_copy_binary)) {
        gr_db_tx_copy(tx, table, columns, ncolumns, values, nrows, cb, user_data);
        return;
    }
    GR__API(tx)->db_copy_binary(NULL, tx, table, columns, types, ncolumns, values, nrows, cb,
                                user_data);
}

/* Commits after the statements already sent.  When one of them failed, the
 * server has aborted the transaction: it is rolled back and cb gets an
 * error carrying the first failure. */
static inline void gr_db_tx_commit(gr_db_tx_t *tx, gr_db_done_fn cb, void *user_data)
{
    GR__API(tx)->db_tx_end(tx, 1, cb, user_data);
}

/* Rolls back; cb gets no error when the connection was lost meanwhile, as
 * the server has dropped the transaction anyway.  cb may be NULL. */
static inline void gr_db_tx_rollback(gr_db_tx_t *tx, gr_db_done_fn cb, void *user_data)
{
    GR__API(tx)->db_tx_end(tx, 0, cb, user_data);
}

/* ---- results: borrowed, valid only during the callback -------------------- */

static inline int gr_db_result_rows(const gr_db_result_t *res)
{
    return GR__API(res)->db_result_rows(res);
}

static inline int gr_db_result_columns(const gr_db_result_t *res)
{
    return GR__API(res)->db_result_columns(res);
}

/* The column's name, or NULL when col is out of range. */
static inline const char *gr_db_result_column_name(const gr_db_result_t *res, int col)
{
    return GR__API(res)->db_result_column_name(res, col);
}

/* The index of the column called name, or -1. */
static inline int gr_db_result_column(const gr_db_result_t *res, const char *name)
{
    return GR__API(res)->db_result_column(res, name);
}

/* The value as PostgreSQL's text output ("t"/"f" for booleans), or NULL for
 * SQL NULL and for a row or column out of range. */
static inline const char *gr_db_result_value(const gr_db_result_t *res, int row, int col)
{
    return GR__API(res)->db_result_value(res, row, col);
}

static inline int gr_db_result_is_null(const gr_db_result_t *res, int row, int col)
{
    return gr_db_result_value(res, row, col) == NULL;
}

/* The value of the column called name in row, or NULL. */
static inline const char *gr_db_result_field(const gr_db_result_t *res, int row, const char *name)
{
    return gr_db_result_value(res, row, gr_db_result_column(res, name));
}

/* Rows inserted, updated, deleted or copied by the statement; 0 for others. */
static inline int64_t gr_db_result_affected(const gr_db_result_t *res)
{
    return GR__API(res)->db_result_affected(res);
}

/* Typed accessors: 0 and *out set, GR_ERR_NOT_FOUND for SQL NULL (or out of
 * range), GR_ERR_INVALID when the text is not of that type. */
static inline int gr_db_result_int64(const gr_db_result_t *res, int row, int col, int64_t *out)
{
    const char *s = gr_db_result_value(res, row, col);
    char *end;
    long long v;
    if (!s)
        return GR_ERR_NOT_FOUND;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return GR_ERR_INVALID;
    *out = (int64_t)v;
    return 0;
}

static inline int gr_db_result_double(const gr_db_result_t *res, int row, int col, double *out)
{
    const char *s = gr_db_result_value(res, row, col);
    char *end;
    double v;
    if (!s)
        return GR_ERR_NOT_FOUND;
    errno = 0;
    v = strtod(s, &end);
    /* Underflow to a tiny value is fine; overflow is not a usable double. */
    if (end == s || *end || (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL)))
        return GR_ERR_INVALID;
    *out = v;
    return 0;
}

static inline int gr_db_result_bool(const gr_db_result_t *res, int row, int col, int *out)
{
    const char *s = gr_db_result_value(res, row, col);
    if (!s)
        return GR_ERR_NOT_FOUND;
    if (strcmp(s, "t") == 0 || strcmp(s, "true") == 0)
        *out = 1;
    else if (strcmp(s, "f") == 0 || strcmp(s, "false") == 0)
        *out = 0;
    else
        return GR_ERR_INVALID;
    return 0;
}

#endif
