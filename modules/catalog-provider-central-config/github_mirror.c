/* modules/catalog-provider-central-config/github_mirror.c: the blocking
 * half of the github source: GitHub's tree and blob answers, the mirror
 * directory and its manifest (see config_source.h for the layout).
 * Everything here runs on the thread pool and calls nothing of the host. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "config_source.h"

#define MANIFEST_NAME "manifest.json"
#define STUB_PREFIX "stub:"

/* ---- GitHub's answers --------------------------------------------------------------- */

/* A path from a tree that stays inside the mirror: relative, no empty,
 * "." or ".." segment, no ".git" (git refuses one; the scan skips it). */
static int safe_path(const char *path, size_t len)
{
    if (len == 0 || strlen(path) != len)
        return 0;
    const char *seg = path;
    for (;;) {
        size_t n = strcspn(seg, "/");
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && strncmp(seg, "..", 2) == 0) ||
            (n == 4 && strncmp(seg, ".git", 4) == 0))
            return 0;
        if (!seg[n])
            return 1;
        seg += n + 1;
    }
}

static int hex_sha(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n != 40 && n != 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static const char *json_str(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static struct json_object *parse_json(const char *text, size_t len)
{
    json_tokener *tok = json_tokener_new();
    struct json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

int cc_mirror_tree_parse(const char *json, size_t len, const char *prefix, int keep_trees,
                         cc_mirror_tree_t *out, gr_error_t *err)
{
    struct json_object *root = parse_json(json, len);
    struct json_object *list;
    if (!root || !json_object_object_get_ex(root, "tree", &list) ||
        !json_object_is_type(list, json_type_array)) {
        json_object_put(root);
        return gr_error_set(err, GR_ERR_INVALID,
                            "GitHub's tree answer has no \"tree\" list (is the API base URL "
                            "right?)");
    }
    struct json_object *t;
    if (json_object_object_get_ex(root, "truncated", &t) && json_object_get_boolean(t))
        out->truncated = 1;
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        struct json_object *item = json_object_array_get_idx(list, i);
        const char *type = json_str(item, "type");
        const char *mode = json_str(item, "mode");
        const char *sha = json_str(item, "sha");
        struct json_object *pv;
        if (!json_object_object_get_ex(item, "path", &pv) || !type || !hex_sha(sha)) {
            out->skipped++;
            continue;
        }
        int is_tree = strcmp(type, "tree") == 0;
        /* Only regular files (100644, 100755): a link's blob is its target's
         * name, and a submodule ("commit") has no blob here. */
        int is_file = strcmp(type, "blob") == 0 && mode &&
                      (strcmp(mode, "100644") == 0 || strcmp(mode, "100755") == 0);
        if (is_tree && !keep_trees)
            continue;
        const char *path = json_object_get_string(pv);
        if ((!is_tree && !is_file) || !safe_path(path, (size_t)json_object_get_string_len(pv))) {
            out->skipped++;
            continue;
        }
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 64;
            out->entries = gr_xrealloc(out->entries, out->cap * sizeof *out->entries);
        }
        cc_mirror_entry_t *e = &out->entries[out->n++];
        *e = (cc_mirror_entry_t){0};
        e->path = gr_xasprintf("%s%s", prefix ? prefix : "", path);
        snprintf(e->sha, sizeof e->sha, "%s", sha);
        struct json_object *size;
        if (json_object_object_get_ex(item, "size", &size))
            e->size = (uint64_t)json_object_get_int64(size);
        e->is_tree = (unsigned char)is_tree;
        e->same_sha = SIZE_MAX;
    }
    json_object_put(root);
    return 0;
}

void cc_mirror_tree_free(cc_mirror_tree_t *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->entries[i].path);
    free(t->entries);
    *t = (cc_mirror_tree_t){0};
}

void cc_git_blob_sha1(const void *data, size_t len, char hex[41])
{
    char header[32];
    int hlen = snprintf(header, sizeof header, "blob %zu", len);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        abort();
    EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
    /* The header's NUL is part of what git hashes. */
    EVP_DigestUpdate(ctx, header, (size_t)hlen + 1);
    EVP_DigestUpdate(ctx, data, len);
    EVP_DigestFinal_ex(ctx, digest, &dlen);
    EVP_MD_CTX_free(ctx);
    for (unsigned int i = 0; i < dlen && i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    hex[40] = '\0';
}

/* ---- placeholders ------------------------------------------------------------------ */

/* dir/target with "." and ".." resolved; a target starting with '/' is
 * read from the root, as the scan does.  NULL when it leaves the root. */
static char *resolve_relative(const char *file, const char *target, size_t tlen)
{
    gr_strvec_t segs = {0};
    char *joined;
    if (target[0] == '/') {
        joined = gr_xstrndup(target, tlen);
    } else {
        const char *slash = strrchr(file, '/');
        joined = slash ? gr_xasprintf("%.*s/%.*s", (int)(slash - file), file, (int)tlen, target)
                       : gr_xstrndup(target, tlen);
    }
    char *save = NULL;
    int ok = 1;
    for (char *s = strtok_r(joined, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
        if (strcmp(s, ".") == 0)
            continue;
        if (strcmp(s, "..") == 0) {
            if (segs.len == 0) {
                ok = 0;
                break;
            }
            free(segs.items[--segs.len]);
            continue;
        }
        gr_strvec_push(&segs, s);
    }
    free(joined);
    char *out = NULL;
    if (ok && segs.len) {
        gr_buf_t b = {0};
        for (size_t i = 0; i < segs.len; i++) {
            if (i)
                gr_buf_puts(&b, "/");
            gr_buf_puts(&b, segs.items[i]);
        }
        out = gr_buf_steal(&b);
    }
    gr_strvec_free(&segs);
    return out;
}

void cc_placeholder_targets(const char *file, const char *data, size_t len, gr_strvec_t *out)
{
    static const char *const kinds[] = {"$text", "$json", "$yaml", "$openapi", "$asyncapi", NULL};
    for (size_t i = 0; i < len; i++) {
        if (data[i] != '$' || (i > 0 && !strchr(" \t\n\r\"'{,", data[i - 1])))
            continue;
        size_t j = 0;
        for (const char *const *k = kinds; *k && !j; k++) {
            size_t kn = strlen(*k);
            if (i + kn <= len && memcmp(data + i, *k, kn) == 0)
                j = i + kn;
        }
        if (!j)
            continue;
        /* The key's closing quote, then ':' and the value, quoted or plain. */
        if (j < len && (data[j] == '"' || data[j] == '\''))
            j++;
        while (j < len && (data[j] == ' ' || data[j] == '\t'))
            j++;
        if (j >= len || data[j] != ':')
            continue;
        j++;
        while (j < len && (data[j] == ' ' || data[j] == '\t'))
            j++;
        size_t start = j, end;
        if (j < len && (data[j] == '"' || data[j] == '\'')) {
            char q = data[j];
            start = ++j;
            while (j < len && data[j] != q && data[j] != '\n')
                j++;
            end = j;
        } else {
            while (j < len && !strchr("\n\r,}]", data[j]) &&
                   !(data[j] == '#' && j > start && (data[j - 1] == ' ' || data[j - 1] == '\t')))
                j++;
            end = j;
            while (end > start && (data[end - 1] == ' ' || data[end - 1] == '\t'))
                end--;
        }
        if (end == start || memchr(data + start, '\0', end - start))
            continue;
        char *target = gr_xstrndup(data + start, end - start);
        if (!strstr(target, "://")) {
            char *path = resolve_relative(file, target, strlen(target));
            if (path)
                gr_strvec_push_owned(out, path);
        }
        free(target);
        i = j > i ? j - 1 : i;
    }
}

/* ---- files ------------------------------------------------------------------------ */

/* Creates dir and its parents (mode 0755); 0 or -errno. */
static int mkdir_p(const char *dir)
{
    char *p = gr_xstrdup(dir);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                rc = -errno;
                break;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    free(p);
    return rc;
}

static char *manifest_path(const cc_mirror_t *m)
{
    return gr_xasprintf("%s/" MANIFEST_NAME, m->dir);
}

static char *tmp_dir(const cc_mirror_t *m)
{
    return gr_xasprintf("%s/tmp", m->dir);
}

/* Writes data (or, when data is NULL, a sparse file of len bytes) to
 * root/path through a temporary file, so the path never holds half a file. */
static int write_file(const cc_mirror_t *m, size_t index, const char *path, const void *data,
                      size_t len, gr_error_t *err)
{
    char *tmp = gr_xasprintf("%s/tmp/%zu", m->dir, index);
    char *dest = gr_xasprintf("%s/%s", m->root, path);
    int rc = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = gr_error_set(err, GR_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (data) {
        for (size_t done = 0; done < len;) {
            ssize_t n = write(fd, (const char *)data + done, len - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                rc = gr_error_set(err, GR_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
                break;
            }
            done += (size_t)n;
        }
    } else if (ftruncate(fd, (off_t)len) != 0) {
        rc = gr_error_set(err, GR_ERR_IO, "cannot size %s: %s", tmp, strerror(errno));
    }
    if (close(fd) != 0 && rc == 0)
        rc = gr_error_set(err, GR_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    if (rc == 0) {
        char *parent = gr_xstrdup(dest);
        *strrchr(parent, '/') = '\0';
        int mk = mkdir_p(parent);
        free(parent);
        if (mk != 0)
            rc = gr_error_set(err, GR_ERR_IO, "cannot create the directory of %s: %s", dest,
                              strerror(-mk));
        else if (rename(tmp, dest) != 0)
            rc = gr_error_set(err, GR_ERR_IO, "cannot write %s: %s", dest, strerror(errno));
    }
    if (rc != 0)
        unlink(tmp);
out:
    free(tmp);
    free(dest);
    return rc;
}

static const cc_mirror_entry_t *find(const cc_mirror_tree_t *t, const char *path)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(t->entries[mid].path, path);
        if (c == 0)
            return &t->entries[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Removes, below root/rel, every file keep() refuses and every directory
 * left empty; counts the files removed. */
static void prune(const cc_mirror_t *m, const char *rel,
                  int (*keep)(const cc_mirror_t *m, const char *path), size_t *removed)
{
    char *dir_path = *rel ? gr_xasprintf("%s/%s", m->root, rel) : gr_xstrdup(m->root);
    DIR *dir = opendir(dir_path);
    if (!dir) {
        free(dir_path);
        return;
    }
    gr_strvec_t names = {0};
    for (struct dirent *d; (d = readdir(dir));)
        if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
            gr_strvec_push(&names, d->d_name);
    closedir(dir);
    for (size_t i = 0; i < names.len; i++) {
        char *child =
            *rel ? gr_xasprintf("%s/%s", rel, names.items[i]) : gr_xstrdup(names.items[i]);
        char *full = gr_xasprintf("%s/%s", m->root, child);
        struct stat st;
        if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
            prune(m, child, keep, removed);
            /* Fails, as it should, while the directory still holds files. */
            rmdir(full);
        } else if (!keep(m, child) && unlink(full) == 0) {
            (*removed)++;
        }
        free(full);
        free(child);
    }
    gr_strvec_free(&names);
    free(dir_path);
}

/* Empties dir/tmp of what a run that stopped half way left there. */
static void clear_tmp(const cc_mirror_t *m)
{
    char *tmp = tmp_dir(m);
    DIR *dir = opendir(tmp);
    if (dir) {
        for (struct dirent *d; (d = readdir(dir));) {
            if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
                continue;
            char *f = gr_xasprintf("%s/%s", tmp, d->d_name);
            unlink(f);
            free(f);
        }
        closedir(dir);
    }
    free(tmp);
}

/* ---- the manifest ---------------------------------------------------------------------- */

static struct json_object *manifest_read(const cc_mirror_t *m)
{
    char *path = manifest_path(m);
    struct json_object *o = json_object_from_file(path);
    free(path);
    if (o && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    return o;
}

static int manifest_write(const cc_mirror_t *m, const char *commit, struct json_object *files,
                          gr_error_t *err)
{
    struct json_object *doc = json_object_new_object();
    if (commit)
        json_object_object_add(doc, "commit", json_object_new_string(commit));
    json_object_object_add(doc, "files", json_object_get(files));
    const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE);
    char *path = manifest_path(m);
    char *tmp = gr_xasprintf("%s.tmp", path);
    int rc = 0;
    FILE *f = fopen(tmp, "we");
    int ok = f && fputs(text, f) != EOF;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok) {
        rc = gr_error_set(err, GR_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    } else if (rename(tmp, path) != 0) {
        rc = gr_error_set(err, GR_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    free(path);
    json_object_put(doc);
    return rc;
}

/* What the manifest says of path ("sha" or "stub:sha"), or NULL. */
static const char *manifest_value(const cc_mirror_t *m, const char *path)
{
    struct json_object *files;
    if (!m->manifest || !json_object_object_get_ex(m->manifest, "files", &files))
        return NULL;
    return json_str(files, path);
}

/* "sha", or "stub:sha" for a file mirrored as its sparse stand-in (new). */
static char *expected_value(const cc_mirror_entry_t *e)
{
    return gr_xasprintf("%s%s", e->oversized ? STUB_PREFIX : "", e->sha);
}

/* Whether root/path already holds this entry: the manifest vouches for
 * its blob and the file is there with the blob's size. */
static int present(const cc_mirror_t *m, const cc_mirror_entry_t *e)
{
    const char *have = manifest_value(m, e->path);
    char *want = expected_value(e);
    int same = have && strcmp(have, want) == 0;
    free(want);
    if (!same)
        return 0;
    char *full = gr_xasprintf("%s/%s", m->root, e->path);
    struct stat st;
    int ok = lstat(full, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == e->size;
    free(full);
    return ok;
}

char *cc_mirror_commit(const cc_mirror_t *m, gr_error_t *err)
{
    int rc = mkdir_p(m->root);
    if (rc != 0) {
        gr_error_set(err, GR_ERR_IO, "cannot create the mirror directory %s: %s", m->root,
                     strerror(-rc));
        return NULL;
    }
    char *tmp = tmp_dir(m);
    rc = mkdir_p(tmp);
    free(tmp);
    if (rc != 0) {
        gr_error_set(err, GR_ERR_IO, "cannot create %s/tmp: %s", m->dir, strerror(-rc));
        return NULL;
    }
    struct json_object *doc = manifest_read(m);
    const char *commit = json_str(doc, "commit");
    char *out = commit ? gr_xstrdup(commit) : NULL;
    json_object_put(doc);
    return out;
}

/* ---- the steps ------------------------------------------------------------------------ */

static int cmp_entry_path(const void *a, const void *b)
{
    return strcmp(((const cc_mirror_entry_t *)a)->path, ((const cc_mirror_entry_t *)b)->path);
}

static int cmp_fetch_sha(const void *a, const void *b, void *arg)
{
    const cc_mirror_tree_t *t = arg;
    size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
    int c = strcmp(t->entries[ia].sha, t->entries[ib].sha);
    return c ? c : (ia < ib ? -1 : ia > ib);
}

/* Entries marked fetch that share a blob: only the first is fetched, the
 * others are chained to it (same_sha) and written from the same answer.
 * Sets m->to_fetch. */
static void group_by_sha(cc_mirror_t *m)
{
    size_t n = 0;
    size_t *idx = gr_xcalloc(m->tree.n + 1, sizeof *idx);
    for (size_t i = 0; i < m->tree.n; i++)
        if (m->tree.entries[i].fetch)
            idx[n++] = i;
    qsort_r(idx, n, sizeof *idx, cmp_fetch_sha, &m->tree);
    m->to_fetch = 0;
    for (size_t i = 0; i < n;) {
        cc_mirror_entry_t *first = &m->tree.entries[idx[i]];
        m->to_fetch++;
        size_t j = i + 1;
        cc_mirror_entry_t *prev = first;
        while (j < n && strcmp(m->tree.entries[idx[j]].sha, first->sha) == 0) {
            cc_mirror_entry_t *e = &m->tree.entries[idx[j]];
            e->fetch = 0;
            prev->same_sha = idx[j];
            prev = e;
            j++;
        }
        i = j;
    }
    free(idx);
}

/* Marks e wanted: ready when already present, else to fetch, except an
 * oversized file, which gets its stand-in now. */
static int want(cc_mirror_t *m, cc_mirror_entry_t *e, cc_want_t why, gr_error_t *err)
{
    e->wanted = (unsigned char)why;
    e->same_sha = SIZE_MAX;
    e->oversized = e->size > m->select->max_file_bytes;
    e->ready = (unsigned char)present(m, e);
    if (e->ready)
        return 0;
    if (e->oversized) {
        /* The scan reports the file as too large from its size alone,
         * which this stand-in has, without fetching megabytes for it. */
        int rc = write_file(m, (size_t)(e - m->tree.entries), e->path, NULL, (size_t)e->size, err);
        e->ready = rc == 0;
        return rc;
    }
    e->fetch = 1;
    return 0;
}

static int keep_for_plan(const cc_mirror_t *m, const char *path)
{
    const cc_mirror_entry_t *e = find(&m->tree, path);
    if (!e || e->is_tree)
        return 0;
    if (e->wanted)
        return 1;
    /* Not selected, but still the same blob: a placeholder may name it. */
    const char *have = manifest_value(m, path);
    return have && strcmp(have, e->sha) == 0;
}

static int keep_wanted(const cc_mirror_t *m, const char *path)
{
    const cc_mirror_entry_t *e = find(&m->tree, path);
    return e && !e->is_tree && e->wanted;
}

int cc_mirror_plan(cc_mirror_t *m, gr_error_t *err)
{
    qsort(m->tree.entries, m->tree.n, sizeof *m->tree.entries, cmp_entry_path);
    json_object_put(m->manifest);
    m->manifest = manifest_read(m);
    clear_tmp(m);
    m->removed = 0;
    for (size_t i = 0; i < m->tree.n; i++) {
        cc_mirror_entry_t *e = &m->tree.entries[i];
        e->fetch = 0;
        e->ready = 0;
        e->wanted = CC_WANT_NONE;
        if (!e->is_tree && cc_selection_matches(m->select, e->path) &&
            want(m, e, CC_WANT_MATCHED, err) != 0)
            return err->code;
    }
    group_by_sha(m);
    prune(m, "", keep_for_plan, &m->removed);

    /* From here until cc_mirror_finish the manifest lists only files that
     * already hold the new commit's content, and no commit. */
    struct json_object *files = json_object_new_object();
    for (size_t i = 0; i < m->tree.n; i++) {
        const cc_mirror_entry_t *e = &m->tree.entries[i];
        if (e->is_tree)
            continue;
        char *value = e->ready ? expected_value(e) : NULL;
        const char *have = manifest_value(m, e->path);
        if (value)
            json_object_object_add(files, e->path, json_object_new_string(value));
        else if (!e->wanted && have && strcmp(have, e->sha) == 0)
            json_object_object_add(files, e->path, json_object_new_string(have));
        free(value);
    }
    int rc = manifest_write(m, NULL, files, err);
    json_object_put(files);
    return rc;
}

int cc_mirror_store_blob(cc_mirror_t *m, size_t index, const char *json, size_t len,
                         gr_error_t *err)
{
    const cc_mirror_entry_t *e = &m->tree.entries[index];
    struct json_object *blob = parse_json(json, len);
    const char *content = json_str(blob, "content");
    const char *encoding = json_str(blob, "encoding");
    if (!content) {
        json_object_put(blob);
        return gr_error_set(err, GR_ERR_INVALID, "%s: GitHub's blob answer has no content",
                            e->path);
    }
    size_t n = 0;
    char *data = NULL;
    if (!encoding || strcmp(encoding, "base64") == 0)
        data = gr_base64_decode(content, strlen(content), &n);
    else if (strcmp(encoding, "utf-8") == 0)
        data = gr_xstrdup(content), n = strlen(content);
    json_object_put(blob);
    if (!data)
        return gr_error_set(err, GR_ERR_INVALID, "%s: GitHub's blob content is not valid %s",
                            e->path, encoding ? encoding : "base64");
    int rc = 0;
    if ((uint64_t)n != e->size) {
        rc = gr_error_set(err, GR_ERR_INVALID,
                          "%s: blob %.12s decoded to %zu bytes, the tree says %llu", e->path,
                          e->sha, n, (unsigned long long)e->size);
    } else if (strlen(e->sha) == 40) {
        char got[41];
        cc_git_blob_sha1(data, n, got);
        if (strcmp(got, e->sha) != 0)
            rc = gr_error_set(err, GR_ERR_INVALID,
                              "%s: the content GitHub sent for blob %.12s hashes to %.12s", e->path,
                              e->sha, got);
    }
    for (size_t k = index; rc == 0 && k != SIZE_MAX; k = m->tree.entries[k].same_sha)
        rc = write_file(m, k, m->tree.entries[k].path, data, n, err);
    free(data);
    return rc;
}

static char *read_small(const char *path, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *data = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= max) {
        data = gr_xmalloc((size_t)st.st_size + 1);
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t r = read(fd, data + got, (size_t)st.st_size - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        data[got] = '\0';
        *len = got;
    }
    close(fd);
    return data;
}

void cc_mirror_discover(cc_mirror_t *m)
{
    gr_strvec_t targets = {0};
    for (size_t i = 0; i < m->tree.n; i++) {
        cc_mirror_entry_t *e = &m->tree.entries[i];
        e->fetch = 0;
        if (e->wanted != CC_WANT_MATCHED || e->oversized)
            continue;
        char *full = gr_xasprintf("%s/%s", m->root, e->path);
        size_t len = 0;
        char *data = read_small(full, m->select->max_file_bytes, &len);
        free(full);
        if (data)
            cc_placeholder_targets(e->path, data, len, &targets);
        free(data);
    }
    for (size_t i = 0; i < targets.len; i++) {
        cc_mirror_entry_t *e = (cc_mirror_entry_t *)find(&m->tree, targets.items[i]);
        gr_error_t err = {0};
        /* A stand-in that cannot be written shows up as the scan's
         * "cannot read" for that placeholder. */
        if (e && !e->is_tree && e->wanted == CC_WANT_NONE)
            want(m, e, CC_WANT_REFERENCED, &err);
    }
    gr_strvec_free(&targets);
    group_by_sha(m);
}

int cc_mirror_finish(cc_mirror_t *m, const char *commit, gr_error_t *err)
{
    prune(m, "", keep_wanted, &m->removed);
    clear_tmp(m);
    struct json_object *files = json_object_new_object();
    for (size_t i = 0; i < m->tree.n; i++) {
        const cc_mirror_entry_t *e = &m->tree.entries[i];
        if (e->is_tree || !e->wanted)
            continue;
        char *value = expected_value(e);
        json_object_object_add(files, e->path, json_object_new_string(value));
        free(value);
    }
    int rc = manifest_write(m, commit, files, err);
    json_object_put(files);
    return rc;
}

void cc_mirror_free(cc_mirror_t *m)
{
    cc_mirror_tree_free(&m->tree);
    json_object_put(m->manifest);
    free(m->dir);
    free(m->root);
    *m = (cc_mirror_t){0};
}
