/* modules/catalog-provider-central-config/source_github.c: a GitHub
 * repository read through the API (source: {type: github, repo: owner/name,
 * branch, host}).
 *
 * Every request goes through the host's shared GitHub client, which adds
 * the integration's credentials (token or App), waits out rate limits and
 * answers a repeated GET from its ETag cache when GitHub says 304.  A run:
 *
 *   1. the branch: as configured, else the repository's default branch
 *      (GET /repos/{o}/{r}, once per process);
 *   2. its commit: GET /repos/{o}/{r}/commits/{branch} asking for the sha
 *      alone, a conditional request, so a run that finds the commit it
 *      mirrored last costs GitHub's 304 and nothing else;
 *   3. the commit's tree: GET .../git/trees/{sha}?recursive=1, or, when
 *      GitHub truncates that listing, one directory at a time;
 *   4. the blobs the owner reads (its selection: include globs, and
 *      the files their placeholders name) whose sha is not already in the
 *      mirror: GET .../git/blobs/{sha}, at most GH_MAX_ACTIVE at once;
 *   5. the mirror directory (github_mirror.c) then holds exactly those
 *      files, and the scan reads it like any other directory.
 *
 * GitHub's answers are parsed, decoded and written on the thread pool;
 * the loop only sends requests and moves results along. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_source.h"

/* Requests and pool items in flight at once for one run. */
#define GH_MAX_ACTIVE 8
#define GH_SHA_MEDIA_TYPE "application/vnd.github.sha"

typedef struct gh_state {
    char *repo;            /* owner/name */
    char *branch;          /* configured, or NULL */
    char *host;            /* configured, or NULL for github.com */
    char *default_branch;  /* the repository's, once asked */
    gr_github_t *gh;       /* the integration, when the host has a GitHub client */
    char *mirror_dir;      /* <state>/central-config/<id>/github */
    char *mirror_root;     /* mirror_dir/tree: the root the scan reads */
    int loaded;            /* mirrored_commit was read from the manifest */
    char *mirrored_commit; /* what tree/ holds completely, or NULL */
    struct gh_run *run;
} gh_state_t;

typedef enum gh_phase {
    PH_LOAD,
    PH_REPO,
    PH_COMMIT,
    PH_TREE,
    PH_PLAN,
    PH_BLOBS,
    PH_DISCOVER,
    PH_REFERENCED,
    PH_FINISH
} gh_phase_t;

typedef enum gh_item_kind {
    ITEM_TREE,       /* recursive listing of the commit */
    ITEM_TREE_LEVEL, /* one directory, when the recursive listing was truncated */
    ITEM_BLOB
} gh_item_kind_t;

typedef struct gh_item {
    gh_item_kind_t kind;
    char *sha;
    char *prefix; /* ITEM_TREE_LEVEL: "dir/" of its entries */
    size_t index; /* ITEM_BLOB: the tree entry */
} gh_item_t;

typedef struct gh_run {
    cc_source_t *src;
    cc_fetch_done_fn done;
    void *user_data;
    uv_timer_t timer;
    uint64_t started_ms;
    gh_phase_t phase;
    int status; /* the first failure */
    char *message;
    int stopping;
    int outstanding; /* requests and pool items not yet back */
    int active;      /* of those, the ones the concurrency bound counts */
    char *branch;
    char *commit;
    int from_cache; /* the commit came from a 304 */
    cc_mirror_t mirror;
    gh_item_t *queue;
    size_t qhead, qlen, qcap;
    size_t blobs, trees;
    uint64_t bytes;
} gh_run_t;

/* One request and the pool item that digests its answer. */
typedef struct gh_call {
    gh_run_t *run;
    gh_item_t item;
    char *body;
    size_t len;
    cc_mirror_tree_t level;
    gr_error_t err;
} gh_call_t;

/* ---- config ---------------------------------------------------------------------------- */

static int valid_repo(const char *repo)
{
    const char *slash = strchr(repo, '/');
    if (!slash || slash == repo || !slash[1] || strchr(slash + 1, '/'))
        return 0;
    for (const char *p = repo; p < slash; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            return 0;
    if (strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0)
        return 0;
    for (const char *p = slash + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return 0;
    return 1;
}

static int valid_branch(const char *b)
{
    if (!*b || b[0] == '-' || strstr(b, ".."))
        return 0;
    for (const unsigned char *p = (const unsigned char *)b; *p; p++)
        if (*p < 0x20 || *p == 0x7f || strchr(" ~^:?*[\\", *p))
            return 0;
    return 1;
}

static int gh_init(cc_source_t *src, const gr_config_t *node, gr_error_t *err)
{
    char where[256];
    gr_config_where(node, where, sizeof where);
    const char *repo = gr_config_string(node, "repo", NULL);
    const char *branch = gr_config_string(node, "branch", NULL);
    const char *host = gr_config_string(node, "host", NULL);
    if (!repo || !valid_repo(repo))
        return gr_error_set(err, GR_ERR_INVALID,
                            "%s: a github source needs repo: <owner>/<name> (as in "
                            "https://github.com/<owner>/<name>)%s%s%s",
                            where, repo ? ", not '" : "", repo ? repo : "", repo ? "'" : "");
    if (branch && !valid_branch(branch))
        return gr_error_set(err, GR_ERR_INVALID, "%s: '%s' is not a valid branch name", where,
                            branch);
    gr_github_t *gh = NULL;
    if (src->ctx->http) {
        gr_error_t gerr = {0};
        gh = gr_github_get(src->ctx->http, host, &gerr);
        /* A host without a GitHub client fails each run instead, saying so. */
        if (!gh && gerr.code != GR_ERR_UNSUPPORTED)
            return gr_error_set(err, gerr.code, "%s: %s", where, gerr.message);
    }
    gh_state_t *st = gr_xcalloc(1, sizeof *st);
    st->repo = gr_xstrdup(repo);
    st->branch = branch ? gr_xstrdup(branch) : NULL;
    st->host = host ? gr_xstrdup(host) : NULL;
    st->gh = gh;
    st->mirror_dir = gr_xasprintf("%s/github", src->work_dir);
    st->mirror_root = gr_xasprintf("%s/tree", st->mirror_dir);
    src->state = st;
    return 0;
}

/* ---- the end of a run ---------------------------------------------------------------- */

static void run_closed(uv_handle_t *h)
{
    gh_run_t *run = h->data;
    cc_source_t *src = run->src;
    gh_state_t *st = src->state;
    st->run = NULL;
    run->done(src, run->status, run->message, run->status == 0 ? st->mirror_root : NULL,
              run->status == 0 ? run->commit : NULL, run->user_data);
    for (size_t i = run->qhead; i < run->qlen; i++) {
        free(run->queue[i].sha);
        free(run->queue[i].prefix);
    }
    free(run->queue);
    cc_mirror_free(&run->mirror);
    free(run->branch);
    free(run->commit);
    free(run->message);
    free(run);
}

/* Ends the run once nothing it started is still out: done runs from the
 * timer's close callback, so never from inside fetch() itself. */
static void maybe_end(gh_run_t *run)
{
    if (run->outstanding > 0 || uv_is_closing((uv_handle_t *)&run->timer))
        return;
    uv_timer_stop(&run->timer);
    uv_close((uv_handle_t *)&run->timer, run_closed);
}

/* Records the first failure and starts nothing new. */
static void fail(gh_run_t *run, int status, const char *message)
{
    if (!run->status) {
        run->status = status ? status : GR_ERR_INTERNAL;
        run->message = gr_xstrdup(message);
    }
    run->stopping = 1;
}

/* What a failed request asked for, to add the hint that fits. */
typedef enum gh_asked {
    ASKED_OBJECT, /* a tree or a blob */
    ASKED_REPO,
    ASKED_COMMIT
} gh_asked_t;

static void fail_github(gh_run_t *run, const gr_github_response_t *res, const gr_error_t *err,
                        gh_asked_t asked)
{
    gh_state_t *st = run->src->state;
    int status = res ? gr_github_response_status(res) : 0;
    const char *host = st->host ? st->host : "github.com";
    char *msg;
    if (status == 401)
        msg = gr_xasprintf("%s (the credentials of integrations.github host %s were refused)",
                           err->message, host);
    else if (status == 404 && asked != ASKED_OBJECT)
        msg = gr_xasprintf("%s (does %s exist on %s, and may the credentials of "
                           "integrations.github host %s read it?)",
                           err->message, st->repo, host, host);
    else if (status == 422 && asked == ASKED_COMMIT)
        msg =
            gr_xasprintf("%s (is there a branch '%s' in %s?)", err->message, run->branch, st->repo);
    else
        msg = gr_xstrdup(err->message);
    fail(run, err->code, msg);
    free(msg);
}

/* ---- the request queue ------------------------------------------------------------------ */

static void advance(gh_run_t *run);

static void enqueue(gh_run_t *run, gh_item_kind_t kind, const char *sha, const char *prefix,
                    size_t index)
{
    if (run->qlen == run->qcap) {
        /* Items before qhead are done: reuse their room first. */
        if (run->qhead) {
            memmove(run->queue, run->queue + run->qhead,
                    (run->qlen - run->qhead) * sizeof *run->queue);
            run->qlen -= run->qhead;
            run->qhead = 0;
        }
        if (run->qlen == run->qcap) {
            run->qcap = run->qcap ? run->qcap * 2 : 64;
            run->queue = gr_xrealloc(run->queue, run->qcap * sizeof *run->queue);
        }
    }
    run->queue[run->qlen++] =
        (gh_item_t){kind, gr_xstrdup(sha), prefix ? gr_xstrdup(prefix) : NULL, index};
}

static void call_free(gh_call_t *call)
{
    free(call->item.sha);
    free(call->item.prefix);
    free(call->body);
    cc_mirror_tree_free(&call->level);
    free(call);
}

static void call_work(void *arg)
{
    gh_call_t *call = arg;
    gh_run_t *run = call->run;
    if (call->item.kind == ITEM_BLOB)
        cc_mirror_store_blob(&run->mirror, call->item.index, call->body, call->len, &call->err);
    else
        cc_mirror_tree_parse(call->body, call->len, call->item.prefix ? call->item.prefix : "",
                             call->item.kind == ITEM_TREE_LEVEL, &call->level, &call->err);
}

/* A tree listing arrived: its files join the run's tree; in a walk, its
 * directories are listed next. */
static void merge_tree(gh_run_t *run, gh_call_t *call)
{
    gr_context_t *ctx = run->src->ctx;
    cc_mirror_tree_t *tree = &run->mirror.tree;
    if (call->item.kind == ITEM_TREE && call->level.truncated) {
        gr_log_info(ctx->log,
                    "%s: GitHub truncated the recursive tree of %.12s; listing it one "
                    "directory at a time",
                    run->src->label, run->commit);
        enqueue(run, ITEM_TREE_LEVEL, run->commit, "", 0);
        return;
    }
    if (call->level.truncated) {
        char *msg = gr_xasprintf("GitHub truncated the listing of directory '%s' in %s@%.12s: it "
                                 "has more entries than the API lists",
                                 *call->item.prefix ? call->item.prefix : "/",
                                 ((gh_state_t *)run->src->state)->repo, run->commit);
        fail(run, GR_ERR_UNSUPPORTED, msg);
        free(msg);
        return;
    }
    tree->skipped += call->level.skipped;
    for (size_t i = 0; i < call->level.n; i++) {
        cc_mirror_entry_t *e = &call->level.entries[i];
        if (e->is_tree) {
            char *prefix = gr_xasprintf("%s/", e->path);
            enqueue(run, ITEM_TREE_LEVEL, e->sha, prefix, 0);
            free(prefix);
            free(e->path);
            continue;
        }
        if (tree->n == tree->cap) {
            tree->cap = tree->cap ? tree->cap * 2 : 256;
            tree->entries = gr_xrealloc(tree->entries, tree->cap * sizeof *tree->entries);
        }
        tree->entries[tree->n++] = *e;
    }
    /* The entries (and their paths) moved over or were freed above. */
    call->level.n = 0;
}

static void call_done(void *arg, int status)
{
    gh_call_t *call = arg;
    gh_run_t *run = call->run;
    run->outstanding--;
    run->active--;
    if (status != 0)
        fail(run, status, "the sync was cancelled (the host is shutting down)");
    else if (call->err.code)
        fail(run, call->err.code, call->err.message);
    else if (!run->stopping && call->item.kind != ITEM_BLOB)
        merge_tree(run, call);
    call_free(call);
    advance(run);
}

static void on_answer(const gr_github_response_t *res, const gr_error_t *err, void *ud)
{
    gh_call_t *call = ud;
    gh_run_t *run = call->run;
    if (err || run->stopping) {
        if (err)
            fail_github(run, res, err, ASKED_OBJECT);
        run->outstanding--;
        run->active--;
        call_free(call);
        advance(run);
        return;
    }
    /* Copied, so the pool can parse it after this callback returns. */
    size_t len;
    const char *body = gr_github_response_body(res, &len);
    call->body = gr_xstrndup(body, len);
    call->len = len;
    if (call->item.kind == ITEM_BLOB) {
        run->blobs++;
        run->bytes += len;
    } else {
        run->trees++;
    }
    gr_error_t werr = {0};
    if (gr_work_submit(run->src->ctx, call_work, call_done, call, &werr) != 0) {
        fail(run, werr.code, werr.message);
        run->outstanding--;
        run->active--;
        call_free(call);
        advance(run);
    }
}

static void send_item(gh_run_t *run, gh_item_t item)
{
    gh_state_t *st = run->src->state;
    gh_call_t *call = gr_xcalloc(1, sizeof *call);
    call->run = run;
    call->item = item;
    char *path = item.kind == ITEM_BLOB
                     ? gr_xasprintf("/repos/%s/git/blobs/%s", st->repo, item.sha)
                     : gr_xasprintf("/repos/%s/git/trees/%s%s", st->repo, item.sha,
                                    item.kind == ITEM_TREE ? "?recursive=1" : "");
    /* Trees and blobs are named by their content: they never change, and
     * are only asked for when the mirror lacks them, so an ETag would only
     * crowd the cache. */
    gr_github_request_t req = {.path = path, .no_cache = 1};
    run->outstanding++;
    run->active++;
    gr_github_request(st->gh, &req, on_answer, call);
    free(path);
}

/* ---- the phases -------------------------------------------------------------------------- */

static void phase_complete(gh_run_t *run);

/* Sends what the bound allows; moves to the next phase once the queue is
 * empty and everything sent is back; ends the run after a failure. */
static void advance(gh_run_t *run)
{
    if (run->stopping) {
        maybe_end(run);
        return;
    }
    while (run->qhead < run->qlen && run->active < GH_MAX_ACTIVE && !run->stopping)
        send_item(run, run->queue[run->qhead++]);
    if (!run->stopping && run->qhead == run->qlen && run->outstanding == 0)
        phase_complete(run);
    else if (run->stopping)
        maybe_end(run);
}

typedef void (*pool_fn)(gh_run_t *run);

typedef struct pool_step {
    gh_run_t *run;
    pool_fn work;
    pool_fn done;
    char *commit; /* PH_LOAD's result */
    gr_error_t err;
} pool_step_t;

static void step_work(void *arg)
{
    pool_step_t *ps = arg;
    gh_run_t *run = ps->run;
    switch (run->phase) {
    case PH_LOAD: ps->commit = cc_mirror_commit(&run->mirror, &ps->err); break;
    case PH_PLAN: cc_mirror_plan(&run->mirror, &ps->err); break;
    case PH_DISCOVER: cc_mirror_discover(&run->mirror); break;
    case PH_FINISH: cc_mirror_finish(&run->mirror, run->commit, &ps->err); break;
    default: break;
    }
}

static void after_load(gh_run_t *run, char *commit);
static void queue_fetches(gh_run_t *run);
static void after_finish(gh_run_t *run);

static void step_done(void *arg, int status)
{
    pool_step_t *ps = arg;
    gh_run_t *run = ps->run;
    run->outstanding--;
    if (status != 0)
        fail(run, status, "the sync was cancelled (the host is shutting down)");
    else if (ps->err.code)
        fail(run, ps->err.code, ps->err.message);
    if (run->stopping) {
        free(ps->commit);
        free(ps);
        maybe_end(run);
        return;
    }
    char *commit = ps->commit;
    free(ps);
    switch (run->phase) {
    case PH_LOAD: after_load(run, commit); break;
    case PH_PLAN:
    case PH_DISCOVER: queue_fetches(run); break;
    case PH_FINISH: after_finish(run); break;
    default: break;
    }
}

static void run_on_pool(gh_run_t *run, gh_phase_t phase)
{
    run->phase = phase;
    pool_step_t *ps = gr_xcalloc(1, sizeof *ps);
    ps->run = run;
    gr_error_t err = {0};
    run->outstanding++;
    if (gr_work_submit(run->src->ctx, step_work, step_done, ps, &err) != 0) {
        run->outstanding--;
        free(ps);
        fail(run, err.code, err.message);
        maybe_end(run);
    }
}

static void request_commit(gh_run_t *run);

static void on_repo(const gr_github_response_t *res, const gr_error_t *err, void *ud)
{
    gh_run_t *run = ud;
    gh_state_t *st = run->src->state;
    run->outstanding--;
    if (err) {
        fail_github(run, res, err, ASKED_REPO);
    } else if (!run->stopping) {
        struct json_object *repo = gr_github_response_json(res), *v;
        const char *branch = NULL;
        if (repo && json_object_object_get_ex(repo, "default_branch", &v) &&
            json_object_is_type(v, json_type_string))
            branch = json_object_get_string(v);
        if (!branch || !*branch) {
            char *msg = gr_xasprintf("GitHub GET /repos/%s: the answer names no default_branch; "
                                     "set source.branch",
                                     st->repo);
            fail(run, GR_ERR_INVALID, msg);
            free(msg);
        } else {
            free(st->default_branch);
            st->default_branch = gr_xstrdup(branch);
            run->branch = gr_xstrdup(branch);
        }
    }
    if (run->stopping)
        maybe_end(run);
    else
        request_commit(run);
}

static int is_hex_sha(const char *s, size_t n)
{
    if (n != 40 && n != 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static void on_commit(const gr_github_response_t *res, const gr_error_t *err, void *ud)
{
    gh_run_t *run = ud;
    gh_state_t *st = run->src->state;
    gr_context_t *ctx = run->src->ctx;
    run->outstanding--;
    if (err) {
        /* A default branch renamed since it was asked: ask again next time. */
        if (!st->branch) {
            free(st->default_branch);
            st->default_branch = NULL;
        }
        fail_github(run, res, err, ASKED_COMMIT);
        maybe_end(run);
        return;
    }
    if (run->stopping) {
        maybe_end(run);
        return;
    }
    size_t len;
    const char *body = gr_github_response_body(res, &len);
    while (len && (body[len - 1] == '\n' || body[len - 1] == '\r' || body[len - 1] == ' '))
        len--;
    if (is_hex_sha(body, len)) {
        run->commit = gr_xstrndup(body, len);
    } else {
        /* A server that ignored the sha media type sent the whole commit. */
        struct json_object *c = gr_github_response_json(res), *v;
        if (c && json_object_object_get_ex(c, "sha", &v) &&
            is_hex_sha(json_object_get_string(v), (size_t)json_object_get_string_len(v)))
            run->commit = gr_xstrdup(json_object_get_string(v));
    }
    if (!run->commit) {
        char *msg = gr_xasprintf("GitHub GET /repos/%s/commits/%s: the answer is not a commit sha",
                                 st->repo, run->branch);
        fail(run, GR_ERR_INVALID, msg);
        free(msg);
        maybe_end(run);
        return;
    }
    run->from_cache = gr_github_response_cached(res);
    if (st->mirrored_commit && strcmp(st->mirrored_commit, run->commit) == 0) {
        gr_log_debug(ctx->log, "%s: %s@%s is still %.12s%s; the mirror is current", run->src->label,
                     st->repo, run->branch, run->commit,
                     run->from_cache ? " (304, answered from the cache)" : "");
        maybe_end(run);
        return;
    }
    run->phase = PH_TREE;
    enqueue(run, ITEM_TREE, run->commit, NULL, 0);
    advance(run);
}

static void append_ref(gr_buf_t *b, const char *ref)
{
    for (const unsigned char *p = (const unsigned char *)ref; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p))
            gr_buf_append(b, p, 1);
        else
            gr_buf_printf(b, "%%%02X", *p);
    }
}

static void request_commit(gh_run_t *run)
{
    gh_state_t *st = run->src->state;
    run->phase = PH_COMMIT;
    gr_buf_t path = {0};
    gr_buf_printf(&path, "/repos/%s/commits/", st->repo);
    append_ref(&path, run->branch);
    gr_github_request_t req = {.path = path.data, .accept = GH_SHA_MEDIA_TYPE};
    run->outstanding++;
    gr_github_request(st->gh, &req, on_commit, run);
    gr_buf_free(&path);
}

static void after_load(gh_run_t *run, char *commit)
{
    gh_state_t *st = run->src->state;
    st->loaded = 1;
    free(st->mirrored_commit);
    st->mirrored_commit = commit;
    const char *branch = st->branch ? st->branch : st->default_branch;
    if (branch) {
        run->branch = gr_xstrdup(branch);
        request_commit(run);
        return;
    }
    run->phase = PH_REPO;
    char *path = gr_xasprintf("/repos/%s", st->repo);
    gr_github_request_t req = {.path = path};
    run->outstanding++;
    gr_github_request(st->gh, &req, on_repo, run);
    free(path);
}

/* After the plan or the placeholder pass: fetch the blobs it marked. */
static void queue_fetches(gh_run_t *run)
{
    cc_mirror_tree_t *tree = &run->mirror.tree;
    gr_log_debug(run->src->ctx->log, "%s: %zu %s blobs to fetch", run->src->label,
                 run->mirror.to_fetch, run->phase == PH_PLAN ? "selected" : "referenced");
    run->phase = run->phase == PH_PLAN ? PH_BLOBS : PH_REFERENCED;
    for (size_t i = 0; i < tree->n; i++)
        if (tree->entries[i].fetch)
            enqueue(run, ITEM_BLOB, tree->entries[i].sha, NULL, i);
    advance(run);
}

static void after_finish(gh_run_t *run)
{
    gh_state_t *st = run->src->state;
    gr_context_t *ctx = run->src->ctx;
    free(st->mirrored_commit);
    st->mirrored_commit = gr_xstrdup(run->commit);
    size_t files = 0;
    for (size_t i = 0; i < run->mirror.tree.n; i++)
        files += run->mirror.tree.entries[i].wanted != CC_WANT_NONE;
    gr_log_info(ctx->log,
                "%s: mirrored %s@%s at %.12s: %zu of %zu files, %zu blobs fetched "
                "(%llu bytes), %zu files removed, %zu trees listed, %llu ms",
                run->src->label, st->repo, run->branch, run->commit, files, run->mirror.tree.n,
                run->blobs, (unsigned long long)run->bytes, run->mirror.removed, run->trees,
                (unsigned long long)(gr_now_ms() - run->started_ms));
    if (run->mirror.tree.skipped)
        gr_log_debug(ctx->log, "%s: %zu tree entries (symbolic links, submodules) not mirrored",
                     run->src->label, run->mirror.tree.skipped);
    maybe_end(run);
}

static void phase_complete(gh_run_t *run)
{
    gh_state_t *st = run->src->state;
    switch (run->phase) {
    case PH_TREE:
        /* The plan rewrites the manifest without a commit until the end. */
        free(st->mirrored_commit);
        st->mirrored_commit = NULL;
        run_on_pool(run, PH_PLAN);
        break;
    case PH_BLOBS: run_on_pool(run, PH_DISCOVER); break;
    case PH_REFERENCED: run_on_pool(run, PH_FINISH); break;
    default: break;
    }
}

/* ---- the source's operations ------------------------------------------------------------ */

static void on_timeout(uv_timer_t *t)
{
    gh_run_t *run = t->data;
    fail(run, GR_ERR_TIMEOUT,
         "fetching from GitHub took longer than the schedule's timeout and was stopped");
    maybe_end(run);
}

static void gh_fetch(cc_source_t *src, uint64_t timeout_ms, cc_fetch_done_fn done, void *user_data)
{
    gh_state_t *st = src->state;
    gh_run_t *run = gr_xcalloc(1, sizeof *run);
    run->src = src;
    run->done = done;
    run->user_data = user_data;
    run->started_ms = gr_now_ms();
    run->mirror.dir = gr_xstrdup(st->mirror_dir);
    run->mirror.root = gr_xstrdup(st->mirror_root);
    run->mirror.select = src->select;
    st->run = run;
    uv_timer_init(src->loop, &run->timer);
    run->timer.data = run;
    if (timeout_ms)
        uv_timer_start(&run->timer, on_timeout, timeout_ms, 0);
    if (!st->gh) {
        gr_error_t err = {0};
        st->gh = src->ctx->http ? gr_github_get(src->ctx->http, st->host, &err) : NULL;
        if (!st->gh) {
            fail(run, err.code ? err.code : GR_ERR_UNSUPPORTED,
                 err.code ? err.message : "this host has no outbound HTTP client");
            maybe_end(run);
            return;
        }
    }
    if (st->loaded) {
        after_load(run, st->mirrored_commit ? gr_xstrdup(st->mirrored_commit) : NULL);
        return;
    }
    run_on_pool(run, PH_LOAD);
}

static void gh_cancel(cc_source_t *src)
{
    gh_state_t *st = src->state;
    /* A run whose end is already under way keeps its outcome. */
    if (!st || !st->run || uv_is_closing((uv_handle_t *)&st->run->timer))
        return;
    fail(st->run, GR_ERR_CANCELED, "the sync was cancelled");
    maybe_end(st->run);
}

static const char *branch_of(const gh_state_t *st)
{
    return st->branch ? st->branch : st->default_branch;
}

static char *gh_location_prefix(cc_source_t *src, const char *root)
{
    (void)root;
    gh_state_t *st = src->state;
    const char *branch = branch_of(st);
    return gr_xasprintf("url:https://%s/%s/blob/%s/", st->host ? st->host : "github.com", st->repo,
                        branch ? branch : "HEAD");
}

static void gh_describe(cc_source_t *src, struct json_object *obj)
{
    gh_state_t *st = src->state;
    json_object_object_add(obj, "type", json_object_new_string("github"));
    json_object_object_add(obj, "host", json_object_new_string(st->host ? st->host : "github.com"));
    json_object_object_add(obj, "repo", json_object_new_string(st->repo));
    if (branch_of(st))
        json_object_object_add(obj, "branch", json_object_new_string(branch_of(st)));
}

static void gh_free(cc_source_t *src)
{
    gh_state_t *st = src->state;
    if (!st)
        return;
    free(st->repo);
    free(st->branch);
    free(st->host);
    free(st->default_branch);
    free(st->mirrored_commit);
    free(st->mirror_dir);
    free(st->mirror_root);
    free(st);
    src->state = NULL;
}

const cc_source_ops_t cc_source_github = {
    .type = "github",
    .init = gh_init,
    .fetch = gh_fetch,
    .cancel = gh_cancel,
    .location_prefix = gh_location_prefix,
    .describe = gh_describe,
    .free = gh_free,
};
