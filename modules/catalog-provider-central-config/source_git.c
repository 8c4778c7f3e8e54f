/* modules/catalog-provider-central-config/source_git.c: any git remote as
 * the source (source: {type: git, url, branch}).
 *
 * A shallow clone is kept under the state directory, one per url and
 * branch, and brought up to date on each run: fetch the branch, reset the
 * work tree to it, remove anything else.  git runs as a child process
 * (uv_spawn) with its output collected through pipes, so the loop never
 * waits for it; a run past its timeout, or cancelled, kills the child. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog_internal.h"
#include "config_source.h"

extern char **environ;

typedef struct git_state {
    char *url;
    char *branch; /* NULL: the remote's default branch */
    char *dir;    /* the clone */
    /* The fetch in progress. */
    struct git_run *run;
} git_state_t;

typedef enum {
    STEP_STAT,
    STEP_REMOVE,
    STEP_CLONE,
    STEP_FETCH,
    STEP_RESET,
    STEP_CLEAN,
    STEP_REV
} step_t;

typedef struct git_run {
    cc_source_t *src;
    cc_fetch_done_fn done;
    void *user_data;
    step_t step;
    uv_timer_t timer;
    uv_fs_t stat_req;
    uv_process_t proc;
    uv_pipe_t out, err;
    gr_buf_t out_buf, err_buf;
    int handles_open; /* process and pipes of the current step */
    int64_t exit_status;
    int term_signal;
    int spawned;
    int result;    /* set when the run must end early: timeout or cancel */
    char *failure; /* message for result */
    int timer_open;
} git_run_t;

char *cc_redact_url(const char *url)
{
    const char *scheme = strstr(url, "://");
    const char *start = scheme ? scheme + 3 : url;
    const char *at = strchr(start, '@');
    const char *slash = strchr(start, '/');
    if (!at || (slash && slash < at))
        return gr_xstrdup(url);
    return gr_xasprintf("%.*s***%s", (int)(start - url), url, at);
}

static int git_init(cc_source_t *src, const gr_config_t *node, gr_error_t *err)
{
    char where[256];
    gr_config_where(node, where, sizeof where);
    const char *url = gr_config_string(node, "url", NULL);
    const char *branch = gr_config_string(node, "branch", NULL);
    if (!url || !*url)
        return gr_error_set(err, GR_ERR_INVALID,
                            "%s: a git source needs url: the repository to clone", where);
    /* Both end up on git's command line: refuse what git would read as an option. */
    if (url[0] == '-' || (branch && (branch[0] == '-' || !*branch)))
        return gr_error_set(err, GR_ERR_INVALID, "%s: url and branch must not start with '-'",
                            where);
    git_state_t *st = gr_xcalloc(1, sizeof *st);
    st->url = gr_xstrdup(url);
    st->branch = branch ? gr_xstrdup(branch) : NULL;
    /* One clone per url and branch: changing either starts a fresh one. */
    char *key = gr_xasprintf("%s#%s", url, branch ? branch : "");
    char hash[65];
    catalog__sha256_hex(key, strlen(key), hash);
    free(key);
    st->dir = gr_xasprintf("%s/git-%.16s", src->work_dir, hash);
    src->state = st;
    return 0;
}

/* ---- one child process ---------------------------------------------------------------- */

static void step_next(git_run_t *r);
static void step_start(git_run_t *r);

static void run_end(git_run_t *r, int status, const char *message, const char *revision);

static void timer_closed(uv_handle_t *h)
{
    git_run_t *r = h->data;
    free(r->failure);
    gr_buf_free(&r->out_buf);
    gr_buf_free(&r->err_buf);
    free(r);
}

static void child_handle_closed(uv_handle_t *h)
{
    git_run_t *r = h->data;
    if (--r->handles_open == 0)
        step_next(r);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = gr_xmalloc(suggested);
    buf->len = suggested;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    git_run_t *r = s->data;
    gr_buf_t *b = s == (uv_stream_t *)&r->out ? &r->out_buf : &r->err_buf;
    /* Output is only shown in messages: keep the first 64 KiB. */
    if (n > 0 && b->len < 65536)
        gr_buf_append(b, buf->base, (size_t)n);
    free(buf->base);
    if (n < 0)
        uv_close((uv_handle_t *)s, child_handle_closed);
}

static void on_exit_cb(uv_process_t *p, int64_t exit_status, int term_signal)
{
    git_run_t *r = p->data;
    r->exit_status = exit_status;
    r->term_signal = term_signal;
    uv_close((uv_handle_t *)p, child_handle_closed);
}

/* Runs args[0] (found on PATH) with args; the step continues in step_next
 * once the process has exited and both pipes are closed. */
static void spawn_child(git_run_t *r, const char *const *args)
{
    gr_buf_reset(&r->out_buf);
    gr_buf_reset(&r->err_buf);
    r->exit_status = 0;
    r->term_signal = 0;

    gr_strvec_t env = {0};
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, "GIT_TERMINAL_PROMPT=", 20) != 0 && strncmp(*e, "LC_ALL=", 7) != 0)
            gr_strvec_push(&env, *e);
    /* Never wait for a password on a terminal; messages in English. */
    gr_strvec_push(&env, "GIT_TERMINAL_PROMPT=0");
    gr_strvec_push(&env, "LC_ALL=C");
    gr_strvec_push_owned(&env, NULL);

    uv_loop_t *loop = r->src->loop;
    uv_pipe_init(loop, &r->out, 0);
    uv_pipe_init(loop, &r->err, 0);
    r->out.data = r->err.data = r->proc.data = r;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&r->out},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&r->err},
    };
    uv_process_options_t opts = {
        .exit_cb = on_exit_cb,
        .file = args[0],
        .args = (char **)args,
        .env = env.items,
        .stdio_count = 3,
        .stdio = stdio,
    };
    int rc = uv_spawn(loop, &r->proc, &opts);
    gr_strvec_free(&env);
    r->handles_open = 2;
    if (rc != 0) {
        /* The process handle needs closing even when spawn failed. */
        r->handles_open = 3;
        r->spawned = 0;
        r->exit_status = -1;
        gr_buf_printf(&r->err_buf, "cannot run %s: %s", args[0], uv_strerror(rc));
        uv_close((uv_handle_t *)&r->proc, child_handle_closed);
        uv_close((uv_handle_t *)&r->out, child_handle_closed);
        uv_close((uv_handle_t *)&r->err, child_handle_closed);
        return;
    }
    r->spawned = 1;
    r->handles_open = 3;
    uv_read_start((uv_stream_t *)&r->out, alloc_cb, on_read);
    uv_read_start((uv_stream_t *)&r->err, alloc_cb, on_read);
}

/* ---- the steps -------------------------------------------------------------------------- */

static void on_stat(uv_fs_t *req)
{
    git_run_t *r = req->data;
    int exists = req->result == 0;
    uv_fs_req_cleanup(req);
    if (r->result) {
        run_end(r, r->result, r->failure, NULL);
        return;
    }
    r->step = exists ? STEP_FETCH : STEP_REMOVE;
    step_start(r);
}

/* The last lines of git's error output, for the status. */
static char *git_message(git_run_t *r, const char *what)
{
    char *text = r->err_buf.data ? r->err_buf.data : "";
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = '\0';
    const char *tail = n > 400 ? text + n - 400 : text;
    for (char *p = (char *)tail; *p; p++)
        if (*p == '\n')
            *p = ' ';
    if (r->term_signal)
        return gr_xasprintf("%s: git was killed by signal %d %s", what, r->term_signal, tail);
    return gr_xasprintf("%s failed (exit %lld): %s", what, (long long)r->exit_status,
                        *tail ? tail : "no message");
}

static void step_start(git_run_t *r)
{
    git_state_t *st = r->src->state;
    const char *branch_ref = st->branch ? st->branch : "HEAD";
    if (r->step == STEP_STAT) {
        /* Is there a clone already? */
        char *dotgit = gr_xasprintf("%s/.git", st->dir);
        r->stat_req.data = r;
        uv_fs_stat(r->src->loop, &r->stat_req, dotgit, on_stat);
        free(dotgit);
    } else if (r->step == STEP_REMOVE) {
        /* A clone that never finished leaves a directory git refuses to clone into. */
        const char *args[] = {"rm", "-rf", "--", st->dir, NULL};
        spawn_child(r, args);
    } else if (r->step == STEP_CLONE) {
        const char *with_branch[] = {
            "git",       "clone",    "--quiet",  "--depth", "1",     "--single-branch",
            "--no-tags", "--branch", st->branch, "--",      st->url, st->dir,
            NULL};
        const char *without[] = {"git",       "clone", "--quiet", "--depth", "1", "--single-branch",
                                 "--no-tags", "--",    st->url,   st->dir,   NULL};
        spawn_child(r, st->branch ? with_branch : without);
    } else if (r->step == STEP_FETCH) {
        const char *args[] = {"git", "-C",        st->dir,  "fetch",    "--quiet", "--depth",
                              "1",   "--no-tags", "origin", branch_ref, NULL};
        spawn_child(r, args);
    } else if (r->step == STEP_RESET) {
        const char *args[] = {"git",     "-C",     st->dir,      "reset",
                              "--quiet", "--hard", "FETCH_HEAD", NULL};
        spawn_child(r, args);
    } else if (r->step == STEP_CLEAN) {
        const char *args[] = {"git", "-C", st->dir, "clean", "-q", "-f", "-f", "-d", "-x", NULL};
        spawn_child(r, args);
    } else if (r->step == STEP_REV) {
        const char *args[] = {"git", "-C", st->dir, "rev-parse", "HEAD", NULL};
        spawn_child(r, args);
    }
}

static void step_next(git_run_t *r)
{
    if (r->result) {
        run_end(r, r->result, r->failure, NULL);
        return;
    }
    int ok = r->exit_status == 0 && r->term_signal == 0;
    switch (r->step) {
    case STEP_STAT: /* on_stat goes on by itself */ return;
    case STEP_REMOVE:
        if (!ok) {
            char *m = git_message(r, "clearing the old clone");
            run_end(r, GR_ERR_IO, m, NULL);
            free(m);
            return;
        }
        r->step = STEP_CLONE;
        step_start(r);
        return;
    case STEP_CLONE:
    case STEP_FETCH:
    case STEP_RESET:
    case STEP_CLEAN:
        if (!ok) {
            static const char *const what[] = {"",          "",          "git clone",
                                               "git fetch", "git reset", "git clean"};
            char *m = git_message(r, what[r->step]);
            run_end(r, GR_ERR_UNAVAILABLE, m, NULL);
            free(m);
            return;
        }
        r->step = r->step == STEP_FETCH   ? STEP_RESET
                  : r->step == STEP_RESET ? STEP_CLEAN
                                          : STEP_REV;
        step_start(r);
        return;
    case STEP_REV: {
        if (!ok) {
            char *m = git_message(r, "git rev-parse");
            run_end(r, GR_ERR_UNAVAILABLE, m, NULL);
            free(m);
            return;
        }
        char *rev = r->out_buf.data ? r->out_buf.data : "";
        size_t n = strlen(rev);
        while (n && (rev[n - 1] == '\n' || rev[n - 1] == ' '))
            rev[--n] = '\0';
        run_end(r, 0, NULL, rev);
        return;
    }
    }
}

static void run_end(git_run_t *r, int status, const char *message, const char *revision)
{
    git_state_t *st = r->src->state;
    st->run = NULL;
    uv_timer_stop(&r->timer);
    r->done(r->src, status, message, status == 0 ? st->dir : NULL, revision, r->user_data);
    uv_close((uv_handle_t *)&r->timer, timer_closed);
}

/* Ends the run early: kill the child; the step's callbacks then finish it. */
static void abort_run(git_run_t *r, int status, const char *message)
{
    if (r->result)
        return;
    r->result = status;
    r->failure = gr_xstrdup(message);
    if (r->handles_open && r->spawned && !uv_is_closing((uv_handle_t *)&r->proc))
        uv_process_kill(&r->proc, SIGKILL);
}

static void on_timeout(uv_timer_t *t)
{
    git_run_t *r = t->data;
    abort_run(r, GR_ERR_TIMEOUT, "git took longer than the schedule's timeout and was stopped");
}

static void git_fetch(cc_source_t *src, uint64_t timeout_ms, cc_fetch_done_fn done, void *user_data)
{
    git_state_t *st = src->state;
    git_run_t *r = gr_xcalloc(1, sizeof *r);
    r->src = src;
    r->done = done;
    r->user_data = user_data;
    st->run = r;
    uv_timer_init(src->loop, &r->timer);
    r->timer.data = r;
    if (timeout_ms)
        uv_timer_start(&r->timer, on_timeout, timeout_ms, 0);
    r->step = STEP_STAT;
    step_start(r);
}

static void git_cancel(cc_source_t *src)
{
    git_state_t *st = src->state;
    if (st && st->run)
        abort_run(st->run, GR_ERR_CANCELED, "the sync was cancelled");
}

static char *git_location_prefix(cc_source_t *src, const char *root)
{
    git_state_t *st = src->state;
    if (strncmp(st->url, "https://", 8) == 0 || strncmp(st->url, "http://", 7) == 0) {
        /* Hosted repositories: the file's page, as Backstage's url locations. */
        const char *scheme = strstr(st->url, "://") + 3;
        const char *at = strchr(scheme, '@');
        const char *slash = strchr(scheme, '/');
        const char *host = at && (!slash || at < slash) ? at + 1 : scheme;
        size_t n = strlen(host);
        if (n > 4 && strcmp(host + n - 4, ".git") == 0)
            n -= 4;
        return gr_xasprintf("url:%.*s%.*s/blob/%s/", (int)(scheme - st->url), st->url, (int)n, host,
                            st->branch ? st->branch : "HEAD");
    }
    return gr_xasprintf("file:%s/", root);
}

static void git_describe(cc_source_t *src, struct json_object *obj)
{
    git_state_t *st = src->state;
    char *url = cc_redact_url(st->url);
    json_object_object_add(obj, "type", json_object_new_string("git"));
    json_object_object_add(obj, "url", json_object_new_string(url));
    if (st->branch)
        json_object_object_add(obj, "branch", json_object_new_string(st->branch));
    free(url);
}

static void git_free(cc_source_t *src)
{
    git_state_t *st = src->state;
    if (!st)
        return;
    free(st->url);
    free(st->branch);
    free(st->dir);
    free(st);
    src->state = NULL;
}

const cc_source_ops_t cc_source_git = {
    .type = "git",
    .init = git_init,
    .fetch = git_fetch,
    .cancel = git_cancel,
    .location_prefix = git_location_prefix,
    .describe = git_describe,
    .free = git_free,
};
