/* modules/catalog-provider-central-config/source_github.c: a GitHub
 * repository read through the API (source: {type: github, repo: org/name,
 * branch}).
 *
 * This needs the host's shared GitHub client (auth, conditional requests,
 * rate limits), which is not part of the host yet, so every run fails with
 * a sentence saying so and pointing at the git source.  When the client
 * lands, fetch() will mirror the branch's tree into a directory under the
 * state directory (the tree API for paths and blob shas, the blob API only
 * for blobs whose sha changed, each request with its ETag), and the rest
 * of the provider reads that directory like any other source. */
#include <stdlib.h>
#include <string.h>

#include "config_source.h"

typedef struct gh_state {
    char *repo;
    char *branch;
} gh_state_t;

static int gh_init(cc_source_t *src, const gr_config_t *node, gr_error_t *err)
{
    const char *repo = gr_config_string(node, "repo", NULL);
    if (!repo || !strchr(repo, '/')) {
        char where[256];
        gr_config_where(node, where, sizeof where);
        return gr_error_set(err, GR_ERR_INVALID, "%s: a github source needs repo: <owner>/<name>",
                            where);
    }
    gh_state_t *st = gr_xcalloc(1, sizeof *st);
    st->repo = gr_xstrdup(repo);
    const char *branch = gr_config_string(node, "branch", NULL);
    st->branch = branch ? gr_xstrdup(branch) : NULL;
    src->state = st;
    return 0;
}

typedef struct gh_fetch {
    cc_source_t *src;
    cc_fetch_done_fn done;
    void *user_data;
} gh_fetch_t;

static void gh_refused(void *arg)
{
    gh_fetch_t *f = arg;
    gh_state_t *st = f->src->state;
    char *message = gr_xasprintf(
        "the github source is not available yet: it needs the host's GitHub client; meanwhile "
        "use {type: git, url: https://github.com/%s.git%s%s} (with a token in the URL for a "
        "private repository)",
        st->repo, st->branch ? ", branch: " : "", st->branch ? st->branch : "");
    f->done(f->src, GR_ERR_UNSUPPORTED, message, NULL, NULL, f->user_data);
    free(message);
    free(f);
}

static void gh_fetch(cc_source_t *src, uint64_t timeout_ms, cc_fetch_done_fn done, void *user_data)
{
    (void)timeout_ms;
    gh_fetch_t *f = gr_xcalloc(1, sizeof *f);
    *f = (gh_fetch_t){src, done, user_data};
    cc_defer(src->loop, gh_refused, f);
}

static void gh_cancel(cc_source_t *src)
{
    (void)src;
}

static char *gh_location_prefix(cc_source_t *src, const char *root)
{
    (void)root;
    gh_state_t *st = src->state;
    return gr_xasprintf("url:https://github.com/%s/blob/%s/", st->repo,
                        st->branch ? st->branch : "HEAD");
}

static void gh_describe(cc_source_t *src, struct json_object *obj)
{
    gh_state_t *st = src->state;
    json_object_object_add(obj, "type", json_object_new_string("github"));
    json_object_object_add(obj, "repo", json_object_new_string(st->repo));
    if (st->branch)
        json_object_object_add(obj, "branch", json_object_new_string(st->branch));
}

static void gh_free(cc_source_t *src)
{
    gh_state_t *st = src->state;
    if (!st)
        return;
    free(st->repo);
    free(st->branch);
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
