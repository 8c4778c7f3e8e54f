/* tests/unit/support/fake_github_repo.c: see fake_github_repo.h. */
#include "fake_github_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "loopback_server.h"
#include "util.h"

#define MODE_FILE "100644"
#define MODE_LINK "120000"

typedef struct fr_file {
    char *path;
    char *data;
    size_t len;
    const char *mode;
    char sha[41];
} fr_file_t;

typedef struct fr_commit {
    char sha[41];
    char tree[41];
    fr_file_t *files; /* sorted by path */
    size_t n;
} fr_commit_t;

struct gr_fake_repo {
    gr_ls_t *srv;
    char *owner_name;
    char *branch;
    char *repo_doc;
    char repo_etag[64];
    fr_file_t *wc; /* the working copy, sorted by path */
    size_t nwc;
    fr_commit_t *commits; /* the last one is the branch's head */
    size_t ncommits;
    gr_strvec_t refused;
    size_t truncate_over;
    gr_fake_hit_t *hits;
    size_t nhits, cap;
    void (*hook)(gr_fake_repo_t *fr, void *ud);
    void *hook_ud;
};

/* ---- hashes and encodings --------------------------------------------------------------- */

static void sha1_hex(const void *a, size_t alen, const void *b, size_t blen, char hex[41])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
    EVP_DigestUpdate(ctx, a, alen);
    if (b)
        EVP_DigestUpdate(ctx, b, blen);
    EVP_DigestFinal_ex(ctx, d, &dlen);
    EVP_MD_CTX_free(ctx);
    for (unsigned int i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static void blob_sha(const char *data, size_t len, char hex[41])
{
    char header[32];
    int n = snprintf(header, sizeof header, "blob %zu", len);
    sha1_hex(header, (size_t)n + 1, data, len, hex);
}

/* Base64 wrapped every 60 characters, each line ending in "\n", as
 * GitHub's blob API sends content. */
static char *base64_github(const unsigned char *p, size_t len)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    gr_buf_t b = {0};
    gr_buf_reserve(&b, len / 3 * 4 + len / 45 + 8);
    size_t col = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        char q[4] = {abc[v >> 18 & 63], abc[v >> 12 & 63], i + 1 < len ? abc[v >> 6 & 63] : '=',
                     i + 2 < len ? abc[v & 63] : '='};
        gr_buf_append(&b, q, 4);
        col += 4;
        if (col == 60) {
            gr_buf_puts(&b, "\n");
            col = 0;
        }
    }
    if (col)
        gr_buf_puts(&b, "\n");
    return b.data ? gr_buf_steal(&b) : gr_xstrdup("");
}

/* ---- the working copy and commits ---------------------------------------------------------- */

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const fr_file_t *)a)->path, ((const fr_file_t *)b)->path);
}

static void file_free(fr_file_t *f)
{
    free(f->path);
    free(f->data);
}

static fr_file_t *wc_find(gr_fake_repo_t *fr, const char *path)
{
    for (size_t i = 0; i < fr->nwc; i++)
        if (strcmp(fr->wc[i].path, path) == 0)
            return &fr->wc[i];
    return NULL;
}

static void put_mode(gr_fake_repo_t *fr, const char *path, const void *data, size_t len,
                     const char *mode)
{
    fr_file_t *f = wc_find(fr, path);
    if (!f) {
        fr->wc = gr_xrealloc(fr->wc, (fr->nwc + 1) * sizeof *fr->wc);
        f = &fr->wc[fr->nwc++];
        *f = (fr_file_t){.path = gr_xstrdup(path)};
    } else {
        free(f->data);
    }
    f->data = gr_xmalloc(len + 1);
    memcpy(f->data, data, len);
    f->data[len] = '\0';
    f->len = len;
    f->mode = mode;
    blob_sha(f->data, len, f->sha);
    qsort(fr->wc, fr->nwc, sizeof *fr->wc, cmp_file);
}

void gr_fake_repo_put(gr_fake_repo_t *fr, const char *path, const void *data, size_t len)
{
    put_mode(fr, path, data, len, MODE_FILE);
}

void gr_fake_repo_put_str(gr_fake_repo_t *fr, const char *path, const char *text)
{
    put_mode(fr, path, text, strlen(text), MODE_FILE);
}

void gr_fake_repo_put_link(gr_fake_repo_t *fr, const char *path, const char *target)
{
    put_mode(fr, path, target, strlen(target), MODE_LINK);
}

void gr_fake_repo_remove(gr_fake_repo_t *fr, const char *path)
{
    fr_file_t *f = wc_find(fr, path);
    if (!f)
        return;
    file_free(f);
    size_t i = (size_t)(f - fr->wc);
    memmove(f, f + 1, (fr->nwc - i - 1) * sizeof *f);
    fr->nwc--;
}

void gr_fake_repo_clear(gr_fake_repo_t *fr)
{
    for (size_t i = 0; i < fr->nwc; i++)
        file_free(&fr->wc[i]);
    fr->nwc = 0;
}

/* The id of directory dir ("" or "a/b/") of a file list: a hash of its
 * entries, each "<mode> <type> <id> <name>", so any change below changes it. */
static void tree_sha(const fr_file_t *files, size_t n, const char *dir, char hex[41])
{
    size_t dlen = strlen(dir);
    gr_buf_t b = {0};
    gr_buf_puts(&b, "tree\n");
    const char *last_sub = NULL;
    size_t last_len = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(files[i].path, dir, dlen) != 0)
            continue;
        const char *rest = files[i].path + dlen;
        const char *slash = strchr(rest, '/');
        if (!slash) {
            gr_buf_printf(&b, "%s blob %s %s\n", files[i].mode, files[i].sha, rest);
            continue;
        }
        size_t sub_len = (size_t)(slash - rest);
        if (last_sub && sub_len == last_len && strncmp(rest, last_sub, sub_len) == 0)
            continue;
        last_sub = rest;
        last_len = sub_len;
        char *sub = gr_xasprintf("%s%.*s/", dir, (int)sub_len, rest);
        char sub_sha[41];
        tree_sha(files, n, sub, sub_sha);
        gr_buf_printf(&b, "040000 tree %s %.*s\n", sub_sha, (int)sub_len, rest);
        free(sub);
    }
    sha1_hex(b.data, b.len, NULL, 0, hex);
    gr_buf_free(&b);
}

const char *gr_fake_repo_commit(gr_fake_repo_t *fr)
{
    char tree[41];
    tree_sha(fr->wc, fr->nwc, "", tree);
    fr_commit_t *head = fr->ncommits ? &fr->commits[fr->ncommits - 1] : NULL;
    if (head && strcmp(head->tree, tree) == 0)
        return head->sha;
    fr->commits = gr_xrealloc(fr->commits, (fr->ncommits + 1) * sizeof *fr->commits);
    fr_commit_t *c = &fr->commits[fr->ncommits++];
    *c = (fr_commit_t){0};
    memcpy(c->tree, tree, sizeof tree);
    char *text = gr_xasprintf("commit\ntree %s\nparent %s\n", tree,
                              fr->ncommits > 1 ? fr->commits[fr->ncommits - 2].sha : "none");
    sha1_hex(text, strlen(text), NULL, 0, c->sha);
    free(text);
    c->n = fr->nwc;
    c->files = gr_xcalloc(fr->nwc + 1, sizeof *c->files);
    for (size_t i = 0; i < fr->nwc; i++) {
        c->files[i] = fr->wc[i];
        c->files[i].path = gr_xstrdup(fr->wc[i].path);
        c->files[i].data = gr_xmalloc(fr->wc[i].len + 1);
        memcpy(c->files[i].data, fr->wc[i].data, fr->wc[i].len + 1);
    }
    return c->sha;
}

const char *gr_fake_repo_blob_sha(const gr_fake_repo_t *fr, const char *path)
{
    if (!fr->ncommits)
        return NULL;
    const fr_commit_t *c = &fr->commits[fr->ncommits - 1];
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->files[i].path, path) == 0)
            return c->files[i].sha;
    return NULL;
}

/* ---- answers -------------------------------------------------------------------------------- */

static void respond(gr_fake_repo_t *fr, gr_ls_request_t *req, int status, const char *extra,
                    const char *content_type, const char *body)
{
    fr->hits[fr->nhits - 1].status = status;
    char *headers = gr_xasprintf("Content-Type: %s\r\nX-RateLimit-Limit: 5000\r\n"
                                 "X-RateLimit-Remaining: 4999\r\nX-RateLimit-Resource: core\r\n%s",
                                 content_type, extra ? extra : "");
    gr_ls_respond(req, status, headers, body, body ? strlen(body) : 0);
    free(headers);
}

static void respond_json(gr_fake_repo_t *fr, gr_ls_request_t *req, int status, json_object *o,
                         const char *extra)
{
    respond(
        fr, req, status, extra, "application/json; charset=utf-8",
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

static void respond_error(gr_fake_repo_t *fr, gr_ls_request_t *req, int status, const char *message,
                          const char *doc)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "message", json_object_new_string(message));
    json_object_object_add(o, "documentation_url", json_object_new_string(doc));
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    json_object_object_add(o, "status", json_object_new_string(code));
    respond_json(fr, req, status, o, NULL);
}

static const fr_commit_t *commit_by_ref(const gr_fake_repo_t *fr, const char *ref)
{
    if (!fr->ncommits)
        return NULL;
    if (strcmp(ref, fr->branch) == 0 || strcmp(ref, "HEAD") == 0)
        return &fr->commits[fr->ncommits - 1];
    for (size_t i = 0; i < fr->ncommits; i++)
        if (strcmp(fr->commits[i].sha, ref) == 0)
            return &fr->commits[i];
    return NULL;
}

/* The commit and directory ("" or "a/b/", new) whose tree id is sha. */
static const fr_commit_t *find_tree(const gr_fake_repo_t *fr, const char *sha, char **dir)
{
    for (size_t k = fr->ncommits; k-- > 0;) {
        const fr_commit_t *c = &fr->commits[k];
        if (strcmp(c->sha, sha) == 0 || strcmp(c->tree, sha) == 0) {
            *dir = gr_xstrdup("");
            return c;
        }
        for (size_t i = 0; i < c->n; i++) {
            /* Every directory is a prefix of some file's path. */
            for (const char *s = strchr(c->files[i].path, '/'); s; s = strchr(s + 1, '/')) {
                char *d = gr_xstrndup(c->files[i].path, (size_t)(s - c->files[i].path) + 1);
                char hex[41];
                tree_sha(c->files, c->n, d, hex);
                if (strcmp(hex, sha) == 0) {
                    *dir = d;
                    return c;
                }
                free(d);
            }
        }
    }
    return NULL;
}

static void add_entry(json_object *list, const char *path, const char *mode, const char *type,
                      const char *sha, const fr_file_t *file)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "path", json_object_new_string(path));
    json_object_object_add(e, "mode", json_object_new_string(mode));
    json_object_object_add(e, "type", json_object_new_string(type));
    json_object_object_add(e, "sha", json_object_new_string(sha));
    if (file)
        json_object_object_add(e, "size", json_object_new_int64((int64_t)file->len));
    json_object_array_add(list, e);
}

/* The entries of dir, named relative to base, depth first in path order
 * (GitHub's order for a recursive listing). */
static void list_dir(const fr_commit_t *c, const char *dir, const char *base, int recursive,
                     json_object *list)
{
    size_t dlen = strlen(dir), blen = strlen(base);
    const char *last_sub = NULL;
    size_t last_len = 0;
    for (size_t i = 0; i < c->n; i++) {
        const fr_file_t *f = &c->files[i];
        if (strncmp(f->path, dir, dlen) != 0)
            continue;
        const char *rest = f->path + dlen;
        const char *slash = strchr(rest, '/');
        if (!slash) {
            add_entry(list, f->path + blen, f->mode, "blob", f->sha, f);
            continue;
        }
        size_t sub_len = (size_t)(slash - rest);
        if (last_sub && sub_len == last_len && strncmp(rest, last_sub, sub_len) == 0)
            continue;
        last_sub = rest;
        last_len = sub_len;
        char *sub = gr_xasprintf("%s%.*s/", dir, (int)sub_len, rest);
        char hex[41];
        tree_sha(c->files, c->n, sub, hex);
        char *name = gr_xstrndup(sub + blen, strlen(sub) - blen - 1);
        add_entry(list, name, "040000", "tree", hex, NULL);
        free(name);
        if (recursive)
            list_dir(c, sub, base, 1, list);
        free(sub);
    }
}

static void answer_tree(gr_fake_repo_t *fr, gr_ls_request_t *req, const char *rest)
{
    char *sha = gr_xstrndup(rest, strcspn(rest, "?"));
    /* GitHub lists recursively for any value of the parameter. */
    const char *query = strchr(rest, '?');
    const char *r = query ? strstr(query, "recursive=") : NULL;
    int recursive = r && r[10] && r[10] != '&';
    char *dir = NULL;
    const fr_commit_t *c = find_tree(fr, sha, &dir);
    if (!c) {
        respond_error(fr, req, 404, "Not Found",
                      "https://docs.github.com/rest/git/trees#get-a-tree");
        free(sha);
        return;
    }
    json_object *list = json_object_new_array();
    list_dir(c, dir, dir, recursive, list);
    int truncated = 0;
    if (recursive && fr->truncate_over && json_object_array_length(list) > fr->truncate_over) {
        json_object_array_del_idx(list, fr->truncate_over,
                                  json_object_array_length(list) - fr->truncate_over);
        truncated = 1;
    }
    char hex[41];
    tree_sha(c->files, c->n, dir, hex);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "sha", json_object_new_string(hex));
    char *url =
        gr_xasprintf("%s/repos/%s/git/trees/%s", gr_ls_base_url(fr->srv), fr->owner_name, hex);
    json_object_object_add(o, "url", json_object_new_string(url));
    free(url);
    json_object_object_add(o, "tree", list);
    json_object_object_add(o, "truncated", json_object_new_boolean(truncated));
    respond_json(fr, req, 200, o, NULL);
    free(dir);
    free(sha);
}

static void answer_blob(gr_fake_repo_t *fr, gr_ls_request_t *req, const char *sha)
{
    for (size_t k = 0; k < fr->ncommits; k++) {
        const fr_commit_t *c = &fr->commits[k];
        for (size_t i = 0; i < c->n; i++) {
            const fr_file_t *f = &c->files[i];
            if (strcmp(f->sha, sha) != 0)
                continue;
            json_object *o = json_object_new_object();
            json_object_object_add(o, "sha", json_object_new_string(f->sha));
            json_object_object_add(o, "node_id", json_object_new_string("B_kwDOfake"));
            json_object_object_add(o, "size", json_object_new_int64((int64_t)f->len));
            char *url = gr_xasprintf("%s/repos/%s/git/blobs/%s", gr_ls_base_url(fr->srv),
                                     fr->owner_name, f->sha);
            json_object_object_add(o, "url", json_object_new_string(url));
            free(url);
            char *content = base64_github((const unsigned char *)f->data, f->len);
            json_object_object_add(o, "content", json_object_new_string(content));
            free(content);
            json_object_object_add(o, "encoding", json_object_new_string("base64"));
            respond_json(fr, req, 200, o, NULL);
            return;
        }
    }
    respond_error(fr, req, 404, "Not Found", "https://docs.github.com/rest/git/blobs#get-a-blob");
}

static char *percent_decode(const char *s)
{
    gr_buf_t b = {0};
    for (; *s; s++) {
        unsigned int v;
        if (s[0] == '%' && s[1] && s[2] && sscanf(s + 1, "%2x", &v) == 1) {
            char c = (char)v;
            gr_buf_append(&b, &c, 1);
            s += 2;
        } else {
            gr_buf_append(&b, s, 1);
        }
    }
    return b.data ? gr_buf_steal(&b) : gr_xstrdup("");
}

static void answer_commit(gr_fake_repo_t *fr, gr_ls_request_t *req, const char *rest)
{
    char *ref = percent_decode(rest);
    const fr_commit_t *c = commit_by_ref(fr, ref);
    if (!c) {
        char *msg = gr_xasprintf("No commit found for SHA: %s", ref);
        respond_error(fr, req, 422, msg,
                      "https://docs.github.com/rest/commits/commits#get-a-commit");
        free(msg);
        free(ref);
        return;
    }
    free(ref);
    const char *accept = gr_ls_header(req, "Accept");
    if (accept && strstr(accept, "application/vnd.github.sha")) {
        char *etag = gr_xasprintf("\"%s\"", c->sha);
        const char *inm = gr_ls_header(req, "If-None-Match");
        char *extra = gr_xasprintf("ETag: %s\r\n", etag);
        if (inm && strcmp(inm, etag) == 0)
            respond(fr, req, 304, extra, "application/vnd.github.sha; charset=utf-8", NULL);
        else
            respond(fr, req, 200, extra, "application/vnd.github.sha; charset=utf-8", c->sha);
        free(extra);
        free(etag);
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "sha", json_object_new_string(c->sha));
    json_object *commit = json_object_new_object(), *tree = json_object_new_object();
    json_object_object_add(tree, "sha", json_object_new_string(c->tree));
    json_object_object_add(commit, "tree", tree);
    json_object_object_add(o, "commit", commit);
    respond_json(fr, req, 200, o, NULL);
}

static void answer_repo(gr_fake_repo_t *fr, gr_ls_request_t *req)
{
    const char *inm = gr_ls_header(req, "If-None-Match");
    char *extra = gr_xasprintf("ETag: %s\r\n", fr->repo_etag);
    if (inm && strcmp(inm, fr->repo_etag) == 0)
        respond(fr, req, 304, extra, "application/json; charset=utf-8", NULL);
    else
        respond(fr, req, 200, extra, "application/json; charset=utf-8", fr->repo_doc);
    free(extra);
}

static void dispatch(gr_ls_request_t *req, void *ud)
{
    gr_fake_repo_t *fr = ud;
    if (fr->hook)
        fr->hook(fr, fr->hook_ud);
    if (fr->nhits == fr->cap) {
        fr->cap = fr->cap ? fr->cap * 2 : 32;
        fr->hits = gr_xrealloc(fr->hits, fr->cap * sizeof *fr->hits);
    }
    const char *accept = gr_ls_header(req, "Accept");
    const char *inm = gr_ls_header(req, "If-None-Match");
    const char *auth = gr_ls_header(req, "Authorization");
    fr->hits[fr->nhits++] = (gr_fake_hit_t){
        gr_xstrdup(req->method),    gr_xstrdup(req->target),      gr_xstrdup(accept ? accept : ""),
        gr_xstrdup(inm ? inm : ""), gr_xstrdup(auth ? auth : ""), 0};
    for (size_t i = 0; auth && i < fr->refused.len; i++)
        if (strncmp(auth, "token ", 6) == 0 && strcmp(auth + 6, fr->refused.items[i]) == 0) {
            respond_error(fr, req, 401, "Bad credentials", "https://docs.github.com/rest");
            return;
        }
    char *prefix = gr_xasprintf("/repos/%s", fr->owner_name);
    size_t plen = strlen(prefix);
    /* GitHub Enterprise serves the same API under /api/v3. */
    const char *t = req->target;
    if (strncmp(t, "/api/v3/", 8) == 0)
        t += 7;
    int ours = strncasecmp(t, prefix, plen) == 0 && (t[plen] == '\0' || strchr("/?", t[plen]));
    free(prefix);
    if (strcmp(req->method, "GET") != 0 || !ours) {
        respond_error(fr, req, 404, "Not Found",
                      "https://docs.github.com/rest/repos/repos#get-a-repository");
        return;
    }
    const char *rest = t + plen;
    if (*rest == '\0' || *rest == '?')
        answer_repo(fr, req);
    else if (strncmp(rest, "/commits/", 9) == 0)
        answer_commit(fr, req, rest + 9);
    else if (strncmp(rest, "/git/trees/", 11) == 0)
        answer_tree(fr, req, rest + 11);
    else if (strncmp(rest, "/git/blobs/", 11) == 0)
        answer_blob(fr, req, rest + 11);
    else
        respond_error(fr, req, 404, "Not Found", "https://docs.github.com/rest");
}

/* ---- set-up -------------------------------------------------------------------------------- */

gr_fake_repo_t *gr_fake_repo_new(uv_loop_t *loop, const char *owner_name, const char *branch,
                                 const char *repo_document)
{
    gr_fake_repo_t *fr = gr_xcalloc(1, sizeof *fr);
    fr->owner_name = gr_xstrdup(owner_name);
    fr->branch = gr_xstrdup(branch);
    json_object *doc = repo_document ? json_object_from_file(repo_document) : NULL;
    if (repo_document && !doc) {
        fprintf(stderr, "fake github: %s is not readable JSON\n", repo_document);
        gr_fake_repo_free(fr);
        return NULL;
    }
    if (!doc)
        doc = json_object_new_object();
    const char *slash = strchr(owner_name, '/');
    json_object_object_add(doc, "name", json_object_new_string(slash ? slash + 1 : owner_name));
    json_object_object_add(doc, "full_name", json_object_new_string(owner_name));
    json_object_object_add(doc, "default_branch", json_object_new_string(branch));
    fr->repo_doc = gr_xstrdup(json_object_to_json_string_ext(
        doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(doc);
    char hex[41];
    sha1_hex(fr->repo_doc, strlen(fr->repo_doc), NULL, 0, hex);
    snprintf(fr->repo_etag, sizeof fr->repo_etag, "W/\"%s\"", hex);
    fr->srv = gr_ls_start(loop, dispatch, fr);
    if (!fr->srv) {
        gr_fake_repo_free(fr);
        return NULL;
    }
    return fr;
}

const char *gr_fake_repo_url(const gr_fake_repo_t *fr)
{
    return gr_ls_base_url(fr->srv);
}

void gr_fake_repo_refuse_token(gr_fake_repo_t *fr, const char *token)
{
    gr_strvec_push(&fr->refused, token);
}

void gr_fake_repo_truncate_over(gr_fake_repo_t *fr, size_t max)
{
    fr->truncate_over = max;
}

size_t gr_fake_repo_hits(const gr_fake_repo_t *fr)
{
    return fr->nhits;
}

const gr_fake_hit_t *gr_fake_repo_hit(const gr_fake_repo_t *fr, size_t i)
{
    return i < fr->nhits ? &fr->hits[i] : NULL;
}

size_t gr_fake_repo_count(const gr_fake_repo_t *fr, const char *prefix)
{
    char *full = prefix[0] == '+' ? gr_xasprintf("/repos/%s%s", fr->owner_name, prefix + 1)
                                  : gr_xstrdup(prefix);
    size_t n = 0;
    for (size_t i = 0; i < fr->nhits; i++)
        n += strncmp(fr->hits[i].target, full, strlen(full)) == 0;
    free(full);
    return n;
}

void gr_fake_repo_forget_hits(gr_fake_repo_t *fr)
{
    for (size_t i = 0; i < fr->nhits; i++) {
        gr_fake_hit_t *h = &fr->hits[i];
        free(h->method);
        free(h->target);
        free(h->accept);
        free(h->if_none_match);
        free(h->authorization);
    }
    fr->nhits = 0;
}

void gr_fake_repo_on_request(gr_fake_repo_t *fr, void (*fn)(gr_fake_repo_t *fr, void *ud), void *ud)
{
    fr->hook = fn;
    fr->hook_ud = ud;
}

void gr_fake_repo_free(gr_fake_repo_t *fr)
{
    if (!fr)
        return;
    if (fr->srv)
        gr_ls_stop(fr->srv);
    gr_fake_repo_forget_hits(fr);
    free(fr->hits);
    gr_fake_repo_clear(fr);
    free(fr->wc);
    for (size_t k = 0; k < fr->ncommits; k++) {
        for (size_t i = 0; i < fr->commits[k].n; i++)
            file_free(&fr->commits[k].files[i]);
        free(fr->commits[k].files);
    }
    free(fr->commits);
    gr_strvec_free(&fr->refused);
    free(fr->owner_name);
    free(fr->branch);
    free(fr->repo_doc);
    free(fr);
}
