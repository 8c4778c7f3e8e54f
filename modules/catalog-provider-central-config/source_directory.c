/* modules/catalog-provider-central-config/source_directory.c: a local
 * directory as the source (source: {type: directory, path: ...}).  Nothing
 * to fetch: each run reads the directory as it is. */
#include <stdlib.h>
#include <string.h>

#include "config_source.h"

typedef struct dir_state {
    char *path; /* absolute */
} dir_state_t;

static int dir_init(cc_source_t *src, const gr_config_t *node, gr_error_t *err)
{
    const char *path = gr_config_string(node, "path", NULL);
    if (!path || !*path) {
        char where[256];
        gr_config_where(node, where, sizeof where);
        return gr_error_set(err, GR_ERR_INVALID,
                            "%s: a directory source needs path: the directory to read", where);
    }
    dir_state_t *st = gr_xcalloc(1, sizeof *st);
    st->path = cc_config_path(gr_config_get(node, "path"), path);
    /* Trailing slashes would double up in location refs. */
    size_t n = strlen(st->path);
    while (n > 1 && st->path[n - 1] == '/')
        st->path[--n] = '\0';
    src->state = st;
    return 0;
}

typedef struct dir_fetch {
    cc_source_t *src;
    cc_fetch_done_fn done;
    void *user_data;
} dir_fetch_t;

static void dir_fetched(void *arg)
{
    dir_fetch_t *f = arg;
    dir_state_t *st = f->src->state;
    /* Whether the directory exists is the scan's to find out, off the loop. */
    f->done(f->src, 0, NULL, st->path, NULL, f->user_data);
    free(f);
}

static void dir_fetch(cc_source_t *src, uint64_t timeout_ms, cc_fetch_done_fn done, void *user_data)
{
    (void)timeout_ms;
    dir_fetch_t *f = gr_xcalloc(1, sizeof *f);
    *f = (dir_fetch_t){src, done, user_data};
    gr_loop_defer(src->loop, dir_fetched, f);
}

static void dir_cancel(cc_source_t *src)
{
    (void)src;
}

static char *dir_location_prefix(cc_source_t *src, const char *root)
{
    (void)src;
    return gr_xasprintf("file:%s/", root);
}

static void dir_describe(cc_source_t *src, struct json_object *obj)
{
    dir_state_t *st = src->state;
    json_object_object_add(obj, "type", json_object_new_string("directory"));
    json_object_object_add(obj, "path", json_object_new_string(st->path));
}

static void dir_free(cc_source_t *src)
{
    dir_state_t *st = src->state;
    if (st)
        free(st->path);
    free(st);
    src->state = NULL;
}

const cc_source_ops_t cc_source_directory = {
    .type = "directory",
    .init = dir_init,
    .fetch = dir_fetch,
    .cancel = dir_cancel,
    .location_prefix = dir_location_prefix,
    .describe = dir_describe,
    .free = dir_free,
};
