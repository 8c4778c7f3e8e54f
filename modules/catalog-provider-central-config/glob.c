/* modules/catalog-provider-central-config/glob.c: path globs with "**",
 * the include and exclude lists of the modules reading a config repository.
 * As in a shell, wildcards do not match a name starting with '.', so
 * "**" does not descend into .github/ unless a pattern names it. */
#include <stdlib.h>
#include <string.h>

#include "config_source.h"

/* One "[...]" class at p (just after '['); sets *end past the ']' and
 * returns 1 when c is in it.  A class without its ']' matches a literal
 * '[' (end stays at p). */
static int class_match(const char *p, char c, const char **end)
{
    int negate = *p == '!' || *p == '^';
    const char *q = p + negate;
    int hit = 0;
    /* A ']' right after the '[' is a member, not the end. */
    for (int first = 1; *q && (first || *q != ']'); first = 0) {
        if (q[1] == '-' && q[2] && q[2] != ']') {
            hit |= c >= q[0] && c <= q[2];
            q += 3;
        } else {
            hit |= c == *q;
            q++;
        }
    }
    if (*q != ']') {
        *end = NULL;
        return c == '[';
    }
    *end = q + 1;
    return hit != negate;
}

static int match(const char *p, const char *s, int segment_start)
{
    while (*p) {
        if (p[0] == '*' && p[1] == '*' && segment_start && (p[2] == '/' || p[2] == '\0')) {
            if (p[2] == '\0') {
                /* A trailing "**" takes the rest, unless a hidden segment. */
                for (const char *t = s; t; t = strchr(t, '/'), t = t ? t + 1 : t)
                    if (*t == '.')
                        return 0;
                return 1;
            }
            /* "**" then "/": zero or more whole segments, none of them hidden. */
            for (const char *t = s;;) {
                if (match(p + 3, t, 1))
                    return 1;
                if (*t == '.')
                    return 0;
                t = strchr(t, '/');
                if (!t)
                    return 0;
                t++;
            }
        }
        switch (*p) {
        case '*':
            /* As in a shell, a wildcard does not match a leading '.'. */
            if (segment_start && *s == '.')
                return 0;
            while (*p == '*')
                p++;
            for (const char *t = s;; t++) {
                if (match(p, t, 0))
                    return 1;
                if (!*t || *t == '/')
                    return 0;
            }
        case '?':
            if (!*s || *s == '/' || (segment_start && *s == '.'))
                return 0;
            p++;
            s++;
            break;
        case '[': {
            const char *end;
            if (!*s || *s == '/')
                return 0;
            int hit = class_match(p + 1, *s, &end);
            if (!hit)
                return 0;
            p = end ? end : p + 1;
            s++;
            break;
        }
        default:
            if (*p != *s)
                return 0;
            p++;
            s++;
        }
        segment_start = p[-1] == '/';
    }
    return *s == '\0';
}

/* Expands the first "{a,b}" group and matches each alternative. */
static int match_braces(const char *pattern, const char *path)
{
    const char *open = strchr(pattern, '{');
    if (!open)
        return match(pattern, path, 1);
    int depth = 0;
    const char *close = NULL;
    for (const char *q = open; *q && !close; q++) {
        if (*q == '{')
            depth++;
        else if (*q == '}' && --depth == 0)
            close = q;
    }
    if (!close)
        return match(pattern, path, 1);
    const char *alt = open + 1;
    depth = 0;
    for (const char *q = alt;; q++) {
        if (*q == '{')
            depth++;
        else if (*q == '}' && depth)
            depth--;
        else if ((*q == ',' && depth == 0) || q == close) {
            char *expanded = gr_xasprintf("%.*s%.*s%s", (int)(open - pattern), pattern,
                                          (int)(q - alt), alt, close + 1);
            int hit = match_braces(expanded, path);
            free(expanded);
            if (hit)
                return 1;
            if (q == close)
                return 0;
            alt = q + 1;
        }
    }
}

int cc_glob_match(const char *pattern, const char *path)
{
    /* "./x" and "/x" in a pattern both mean x under the root. */
    while (pattern[0] == '.' && pattern[1] == '/')
        pattern += 2;
    while (pattern[0] == '/')
        pattern++;
    return match_braces(pattern, path);
}

int cc_globs_match(const gr_strvec_t *globs, const char *path)
{
    for (size_t i = 0; i < globs->len; i++)
        if (cc_glob_match(globs->items[i], path))
            return 1;
    return 0;
}

void cc_selection_free(cc_selection_t *s)
{
    gr_strvec_free(&s->include);
    gr_strvec_free(&s->exclude);
    *s = (cc_selection_t){0};
}

int cc_selection_matches(const cc_selection_t *s, const char *path)
{
    return !cc_globs_match(&s->exclude, path) && cc_globs_match(&s->include, path);
}
