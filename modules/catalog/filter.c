/* modules/catalog/filter.c: Backstage's entity filters, parsed and turned
 * into SQL text.  The text comes only from the fixed fragments below and
 * "$n" placeholders; every key and value travels as a parameter. */
#include <stdlib.h>
#include <string.h>

#include "catalog_plugin.h"

void catalog_sql_append(catalog_sql_t *q, const char *fixed_text)
{
    gr_buf_puts(&q->text, fixed_text);
}

void catalog_sql_param(catalog_sql_t *q, const char *value)
{
    /* NULL parameters are kept as NULL entries: strvec copies strings. */
    if (value)
        gr_strvec_push(&q->params, value);
    else
        gr_strvec_push_owned(&q->params, NULL);
    gr_buf_printf(&q->text, "$%zu", q->params.len);
}

void catalog_sql_free(catalog_sql_t *q)
{
    gr_buf_free(&q->text);
    gr_strvec_free(&q->params);
}

void catalog_filter_free(catalog_filter_t *f)
{
    for (size_t i = 0; i < f->n; i++) {
        catalog_filter_set_t *set = &f->sets[i];
        for (size_t j = 0; j < set->n; j++) {
            free(set->conds[j].key);
            gr_strvec_free(&set->conds[j].values);
        }
        free(set->conds);
    }
    free(f->sets);
    *f = (catalog_filter_t){0};
}

static char *trimmed(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return gr_xstrndup(s, len);
}

/* One ?filter= string: statements separated by commas; the same key twice
 * means any of its values. */
static int parse_set(catalog_filter_set_t *set, const char *text, gr_error_t *err)
{
    const char *p = text;
    while (1) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char *statement = trimmed(p, len);
        if (*statement) {
            char *eq = strchr(statement, '=');
            char *key = eq ? trimmed(statement, (size_t)(eq - statement)) : gr_xstrdup(statement);
            if (!*key) {
                gr_error_set(err, GR_ERR_INVALID,
                             "Invalid filter, '%s' is not a valid statement (expected a string on "
                             "the form a=b or a= or a)",
                             statement);
                free(key);
                free(statement);
                return GR_ERR_INVALID;
            }
            char *lower_key = catalog_lower(key);
            free(key);
            catalog_filter_cond_t *cond = NULL;
            for (size_t i = 0; i < set->n && !cond; i++)
                if (strcmp(set->conds[i].key, lower_key) == 0)
                    cond = &set->conds[i];
            if (!cond) {
                set->conds = gr_xrealloc(set->conds, (set->n + 1) * sizeof *set->conds);
                cond = &set->conds[set->n++];
                *cond = (catalog_filter_cond_t){.key = lower_key};
            } else {
                free(lower_key);
            }
            if (eq) {
                char *value = trimmed(eq + 1, strlen(eq + 1));
                gr_strvec_push_owned(&cond->values, catalog_lower(value));
                free(value);
            }
        }
        free(statement);
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

int catalog_filter_parse(catalog_filter_t *out, const char *const *strings, size_t n,
                         gr_error_t *err)
{
    *out = (catalog_filter_t){0};
    for (size_t i = 0; i < n; i++) {
        catalog_filter_set_t set = {0};
        int rc = parse_set(&set, strings[i], err);
        if (rc == 0 && set.n == 0)
            continue;
        out->sets = gr_xrealloc(out->sets, (out->n + 1) * sizeof *out->sets);
        out->sets[out->n++] = set;
        if (rc != 0) {
            catalog_filter_free(out);
            return rc;
        }
    }
    return 0;
}

void catalog_sql_filter(catalog_sql_t *q, const catalog_filter_t *f, const char *uid_column)
{
    if (f->n == 0) {
        catalog_sql_append(q, "TRUE");
        return;
    }
    catalog_sql_append(q, "(");
    for (size_t i = 0; i < f->n; i++) {
        const catalog_filter_set_t *set = &f->sets[i];
        catalog_sql_append(q, i ? " OR (" : "(");
        for (size_t j = 0; j < set->n; j++) {
            const catalog_filter_cond_t *c = &set->conds[j];
            if (j)
                catalog_sql_append(q, " AND ");
            catalog_sql_append(q, uid_column);
            catalog_sql_append(q, " IN (SELECT entity_uid FROM search WHERE key = ");
            catalog_sql_param(q, c->key);
            if (c->values.len == 1) {
                catalog_sql_append(q, " AND value = ");
                catalog_sql_param(q, c->values.items[0]);
            } else if (c->values.len > 1) {
                catalog_sql_append(q, " AND value IN (");
                for (size_t k = 0; k < c->values.len; k++) {
                    if (k)
                        catalog_sql_append(q, ", ");
                    catalog_sql_param(q, c->values.items[k]);
                }
                catalog_sql_append(q, ")");
            }
            catalog_sql_append(q, ")");
        }
        catalog_sql_append(q, ")");
    }
    catalog_sql_append(q, ")");
}

char *catalog_like_contains(const char *term)
{
    gr_buf_t b = {0};
    gr_buf_puts(&b, "%");
    for (const char *p = term; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            gr_buf_append(&b, "\\", 1);
        char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
        gr_buf_append(&b, &c, 1);
    }
    gr_buf_puts(&b, "%");
    return gr_buf_steal(&b);
}
