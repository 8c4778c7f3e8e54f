/* core/config_subst.c: substitutions in a merged config tree.
 *
 * In any scalar: ${VAR} is the environment variable VAR (an error when it is
 * unset), ${VAR:-default} falls back to `default` when VAR is unset or empty
 * (as the shell does), and $${ writes a literal "${".  Backstage's template
 * syntax ${{ ... }} is left alone.
 *
 * A map whose one key is $env or $file is replaced by a string: the
 * environment variable it names (an error when unset: a secret that silently
 * reads as missing is hard to diagnose), or the contents of the file it names
 * (relative to the config file that names it, one trailing newline dropped).
 * Both are marked secret.  Backstage's $include and $value are refused with a
 * clear message rather than read as ordinary keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_node.h"

static int gr__is_name(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}

static int gr__expand(gr_config_t *node, gr_error_t *err)
{
    const char *s = node->text;
    if (!strchr(s, '$'))
        return 0;
    gr_buf_t out = {0};
    gr_buf_puts(&out, "");
    size_t i = 0;
    while (s[i]) {
        if (s[i] != '$') {
            gr_buf_append(&out, &s[i++], 1);
            continue;
        }
        if (s[i + 1] == '$' && s[i + 2] == '{') {
            gr_buf_puts(&out, "${");
            i += 3;
            continue;
        }
        if (s[i + 1] != '{' || s[i + 2] == '{') {
            gr_buf_append(&out, &s[i++], 1);
            continue;
        }
        const char *inner = s + i + 2;
        const char *close = strchr(inner, '}');
        if (!close) {
            gr_buf_free(&out);
            return gr_config_node_fail(err, GR_ERR_INVALID, node,
                                       "'${' has no closing '}' (write '$${' for a literal "
                                       "'${')");
        }
        size_t inner_len = (size_t)(close - inner);
        const char *sep = strstr(inner, ":-");
        if (sep && sep > close)
            sep = NULL;
        size_t name_len = sep ? (size_t)(sep - inner) : inner_len;
        if (!gr__is_name(inner, name_len)) {
            gr_buf_free(&out);
            return gr_config_node_fail(
                err, GR_ERR_INVALID, node,
                "'${%.*s}' does not name an environment variable (use ${NAME} or "
                "${NAME:-default}; write '$${' for a literal '${')",
                (int)inner_len, inner);
        }
        char *name = gr_xstrndup(inner, name_len);
        const char *value = getenv(name);
        if (sep && (!value || !*value)) {
            gr_buf_append(&out, sep + 2, (size_t)(close - (sep + 2)));
        } else if (value) {
            gr_buf_puts(&out, value);
        } else {
            gr_config_node_fail(err, GR_ERR_INVALID, node,
                                "environment variable '%s' is not set (write ${%s:-default} "
                                "to give it a default)",
                                name, name);
            free(name);
            gr_buf_free(&out);
            return GR_ERR_INVALID;
        }
        free(name);
        i = (size_t)(close - s) + 1;
    }
    free(node->text);
    node->text = gr_buf_steal(&out);
    return 0;
}

static int gr__read_secret_file(gr_config_t *node, const char *path, gr_error_t *err)
{
    char *full;
    const char *slash = strrchr(node->file ? node->file : "", '/');
    if (path[0] == '/' || !slash)
        full = gr_xstrdup(path);
    else
        full = gr_xasprintf("%.*s/%s", (int)(slash - node->file), node->file, path);

    gr_buf_t b = {0};
    int saved = 0;
    int failed = gr_file_read(full, 0, &b.data, &b.len, &saved) != 0;
    b.cap = b.data ? b.len + 1 : 0;
    if (failed) {
        gr_config_node_fail(err, GR_ERR_IO, node, "cannot read $file '%s' (resolved to '%s'): %s",
                            path, full, strerror(saved));
        free(full);
        gr_buf_free(&b);
        return GR_ERR_IO;
    }
    if (b.len && memchr(b.data, '\0', b.len)) {
        gr_config_node_fail(err, GR_ERR_INVALID, node,
                            "$file '%s' holds a NUL byte; a config value must be text", full);
        free(full);
        gr_buf_free(&b);
        return GR_ERR_INVALID;
    }
    free(full);
    /* Files written by editors and `echo` end with a newline nobody means. */
    if (b.len && b.data[b.len - 1] == '\n') {
        b.data[--b.len] = '\0';
        if (b.len && b.data[b.len - 1] == '\r')
            b.data[--b.len] = '\0';
    }
    char *text = gr_buf_steal(&b);
    gr_config_node_reset(node, GR_NODE_SCALAR);
    node->text = text;
    node->quoted = 1;
    node->secret = 1;
    return 0;
}

static int gr__directive(gr_config_t *node, gr_error_t *err)
{
    const gr_config_t *d = NULL;
    for (size_t i = 0; i < node->len && !d; i++) {
        const char *k = node->items[i]->key;
        if (strcmp(k, "$env") == 0 || strcmp(k, "$file") == 0 || strcmp(k, "$include") == 0 ||
            strcmp(k, "$value") == 0)
            d = node->items[i];
    }
    if (strcmp(d->key, "$include") == 0 || strcmp(d->key, "$value") == 0)
        return gr_config_node_fail(err, GR_ERR_UNSUPPORTED, node,
                                   "'%s' is not supported; use $file for a secret or merge "
                                   "several files with -c",
                                   d->key);
    if (node->len != 1) {
        const char *other = node->items[0] == d ? node->items[1]->key : node->items[0]->key;
        return gr_config_node_fail(err, GR_ERR_INVALID, node,
                                   "'%s' must be the only key of its map, but '%s' is there too",
                                   d->key, other);
    }
    if (d->kind != GR_NODE_SCALAR || !*d->text)
        return gr_config_node_fail(err, GR_ERR_INVALID, node, "'%s' needs a %s, got %s", d->key,
                                   strcmp(d->key, "$env") == 0 ? "variable name" : "file path",
                                   d->kind == GR_NODE_SCALAR ? "''"
                                   : d->kind == GR_NODE_NULL ? "null"
                                   : d->kind == GR_NODE_MAP  ? "a map"
                                                             : "a list");
    char *arg = gr_xstrdup(d->text);
    int rc = 0;
    if (strcmp(d->key, "$env") == 0) {
        const char *value = getenv(arg);
        if (!value) {
            rc = gr_config_node_fail(err, GR_ERR_INVALID, node,
                                     "environment variable '%s' (from $env) is not set", arg);
        } else {
            gr_config_node_reset(node, GR_NODE_SCALAR);
            node->text = gr_xstrdup(value);
            node->quoted = 1;
            node->secret = 1;
        }
    } else {
        rc = gr__read_secret_file(node, arg, err);
    }
    free(arg);
    return rc;
}

int gr_config_subst(gr_config_t *node, gr_error_t *err)
{
    switch (node->kind) {
    case GR_NODE_SCALAR: return gr__expand(node, err);
    case GR_NODE_MAP:
        if (gr_config_node_is_directive(node))
            return gr__directive(node, err);
        /* fall through */
    case GR_NODE_SEQ:
        for (size_t i = 0; i < node->len; i++) {
            int rc = gr_config_subst(node->items[i], err);
            if (rc < 0)
                return rc;
        }
        return 0;
    case GR_NODE_NULL: return 0;
    }
    return 0;
}
