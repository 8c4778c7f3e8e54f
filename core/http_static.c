/* core/http_static.c: the web UI's files, served from one directory.
 *
 * Resolving and reading a file touches the disk, so it runs on the libuv
 * thread pool; the answer goes out from the loop.  A path is served only
 * when, after realpath() has resolved every symlink, it still lies inside
 * the root: dot segments are refused outright (whether sent plainly or as
 * %2e%2e), and a symlink pointing outside the root is a 404.  A path that
 * does not exist and whose last segment has no dot gets the root's
 * index.html, so a single-page app's client-side routes load. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_impl.h"
#include "http_internal.h"

/* The UI's bundles are a few megabytes; anything far larger in the web
 * directory is a mistake we should not load into memory per request. */
#define GR_STATIC_MAX_FILE (64u * 1024u * 1024u)

typedef struct static_work {
    uv_work_t work;
    gr_http_request_t *req; /* not touched on the pool */
    char *root;
    char *path;
    /* Results, filled on the pool. */
    int status;
    char message[320];
    gr_buf_t body;
    const char *content_type;
    int is_index;
} static_work_t;

const char *gr_http_content_type(const char *name)
{
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"json", "application/json; charset=utf-8"},
        {"map", "application/json; charset=utf-8"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"ico", "image/x-icon"},
        {"txt", "text/plain; charset=utf-8"},
        {"wasm", "application/wasm"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
    };
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strrchr(base, '.');
    if (dot) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    }
    return "application/octet-stream";
}

/* True when a decoded path has a "." or ".." segment. */
static int gr__has_dot_segment(const char *path)
{
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return 1;
        p += len;
    }
    return 0;
}

static int gr__inside(const char *resolved, const char *root)
{
    size_t n = strlen(root);
    if (strncmp(resolved, root, n) != 0)
        return 0;
    /* A root of "/" ends with the separator itself. */
    return resolved[n] == '\0' || resolved[n] == '/' || (n > 0 && root[n - 1] == '/');
}

/* Resolves candidate to a regular file inside root (a directory means its
 * index.html).  Returns the resolved path (caller frees) or NULL, with
 * *refused set when the path exists but leads outside the root. */
static char *gr__resolve(const char *root, const char *candidate, int *is_index, int *refused)
{
    char *resolved = realpath(candidate, NULL);
    if (resolved && !gr__inside(resolved, root))
        *refused = 1;
    if (!resolved || *refused) {
        free(resolved);
        return NULL;
    }
    struct stat st;
    if (stat(resolved, &st) < 0) {
        free(resolved);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        char *index = gr_xasprintf("%s/index.html", resolved);
        free(resolved);
        resolved = realpath(index, NULL);
        free(index);
        if (resolved && !gr__inside(resolved, root))
            *refused = 1;
        if (!resolved || *refused || stat(resolved, &st) < 0) {
            free(resolved);
            return NULL;
        }
        *is_index = 1;
    }
    if (!S_ISREG(st.st_mode)) {
        free(resolved);
        return NULL;
    }
    return resolved;
}

/* Reads a regular file into w->body; fills w->status on failure. */
static void gr__read_file(static_work_t *w, const char *file)
{
    /* O_NONBLOCK so a FIFO swapped in after the check cannot hang the pool. */
    int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        w->status = 404;
        snprintf(w->message, sizeof w->message, "no file at %.200s", w->path);
        if (fd >= 0)
            close(fd);
        return;
    }
    if ((uint64_t)st.st_size > GR_STATIC_MAX_FILE) {
        w->status = 500;
        snprintf(w->message, sizeof w->message,
                 "the file for %.200s is larger than the %u bytes the server serves", w->path,
                 GR_STATIC_MAX_FILE);
        close(fd);
        return;
    }
    gr_buf_reserve(&w->body, (size_t)st.st_size);
    for (;;) {
        gr_buf_reserve(&w->body, 65536);
        ssize_t n = read(fd, w->body.data + w->body.len, w->body.cap - w->body.len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            w->status = 500;
            snprintf(w->message, sizeof w->message, "reading the file for %.200s failed: %s",
                     w->path, strerror(errno));
            close(fd);
            return;
        }
        if (n == 0)
            break;
        w->body.len += (size_t)n;
        w->body.data[w->body.len] = '\0';
        if (w->body.len > GR_STATIC_MAX_FILE) {
            w->status = 500;
            snprintf(w->message, sizeof w->message, "the file for %.200s grew while read", w->path);
            close(fd);
            return;
        }
    }
    close(fd);
    w->status = 200;
}

static void on_static_work(uv_work_t *work)
{
    static_work_t *w = work->data;
    w->status = 404;
    snprintf(w->message, sizeof w->message, "no file at %.200s", w->path);
    if (gr__has_dot_segment(w->path))
        return;
    char *candidate = gr_xasprintf("%s%s", w->root, w->path);
    int refused = 0;
    char *file = gr__resolve(w->root, candidate, &w->is_index, &refused);
    free(candidate);
    if (!file) {
        const char *last = strrchr(w->path, '/');
        last = last ? last + 1 : w->path;
        if (refused || strchr(last, '.'))
            return;
        /* A client-side route of the single-page app. */
        char *index = gr_xasprintf("%s/index.html", w->root);
        file = gr__resolve(w->root, index, &w->is_index, &refused);
        free(index);
        if (!file)
            return;
        w->is_index = 1;
    }
    w->content_type = gr_http_content_type(file);
    gr__read_file(w, file);
    free(file);
}

static void on_static_done(uv_work_t *work, int status)
{
    static_work_t *w = work->data;
    gr_http_request_t *req = w->req;
    if (status < 0) {
        gr__http_respond_error(req, 503, "the server is shutting down");
    } else if (w->status == 200) {
        gr__http_set_header(req, "X-Content-Type-Options", "nosniff");
        /* index.html names the hashed bundles of the current build, so it
         * must be revalidated; the bundles themselves may be cached. */
        if (w->is_index || strncmp(w->content_type, "text/html", 9) == 0)
            gr__http_set_header(req, "Cache-Control", "no-cache");
        gr_http_respond_buf(req, 200, w->content_type, &w->body);
    } else {
        gr__http_respond_error(req, w->status, w->message);
    }
    gr_buf_free(&w->body);
    free(w->root);
    free(w->path);
    free(w);
}

void gr_http_static_serve(uv_loop_t *loop, const char *root, gr_http_request_t *req)
{
    static_work_t *w = gr_xcalloc(1, sizeof *w);
    w->work.data = w;
    w->req = req;
    w->root = gr_xstrdup(root);
    w->path = gr_xstrdup(req->path);
    int rc = uv_queue_work(loop, &w->work, on_static_work, on_static_done);
    if (rc < 0) {
        free(w->root);
        free(w->path);
        free(w);
        gr__http_respond_error(req, 500, "could not queue the static file read");
    }
}
