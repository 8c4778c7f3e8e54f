/* tests/unit/support/octokit_fixture.c: see octokit_fixture.h. */
#include "octokit_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

json_object *gr_fixture_load(const char *path)
{
    json_object *j = json_object_from_file(path);
    if (!j || !json_object_is_type(j, json_type_array)) {
        fprintf(stderr, "fixture %s: not a readable JSON array\n", path);
        json_object_put(j);
        return NULL;
    }
    return j;
}

json_object *gr_fixture_find(json_object *fixture, const char *method, const char *target)
{
    size_t n = json_object_array_length(fixture);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(fixture, i);
        json_object *m, *p;
        if (json_object_object_get_ex(e, "method", &m) &&
            json_object_object_get_ex(e, "path", &p) &&
            strcasecmp(json_object_get_string(m), method) == 0 &&
            strcmp(json_object_get_string(p), target) == 0)
            return e;
    }
    return NULL;
}

char *gr_fixture_body(json_object *entry)
{
    json_object *r;
    if (!json_object_object_get_ex(entry, "response", &r))
        return gr_xstrdup("");
    if (json_object_is_type(r, json_type_string))
        return gr_xstrdup(json_object_get_string(r));
    return gr_xstrdup(
        json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Replaces every "https://api.github.com" with base. */
static void append_rewritten(gr_buf_t *out, const char *s, const char *base)
{
    static const char origin[] = "https://api.github.com";
    const char *p;
    while ((p = strstr(s, origin)) != NULL) {
        gr_buf_append(out, s, (size_t)(p - s));
        gr_buf_puts(out, base);
        s = p + sizeof origin - 1;
    }
    gr_buf_puts(out, s);
}

static int header_overridden(const char *extra, const char *name)
{
    if (!extra)
        return 0;
    size_t n = strlen(name);
    for (const char *line = extra; *line;) {
        if (strncasecmp(line, name, n) == 0 && line[n] == ':')
            return 1;
        const char *nl = strstr(line, "\r\n");
        if (!nl)
            break;
        line = nl + 2;
    }
    return 0;
}

void gr_fixture_respond(gr_ls_request_t *req, json_object *entry, const char *base_url,
                        const char *extra_headers)
{
    json_object *status, *headers;
    int code =
        json_object_object_get_ex(entry, "status", &status) ? json_object_get_int(status) : 200;
    gr_buf_t hdr = {0};
    if (json_object_object_get_ex(entry, "headers", &headers)) {
        json_object_object_foreach(headers, name, value)
        {
            if (strcasecmp(name, "content-length") == 0 || strcasecmp(name, "connection") == 0 ||
                strcasecmp(name, "transfer-encoding") == 0 ||
                header_overridden(extra_headers, name))
                continue;
            gr_buf_printf(&hdr, "%s: ", name);
            append_rewritten(&hdr, json_object_get_string(value), base_url);
            gr_buf_puts(&hdr, "\r\n");
        }
    }
    if (extra_headers)
        gr_buf_puts(&hdr, extra_headers);
    char *body = gr_fixture_body(entry);
    gr_ls_respond(req, code, hdr.data, body, strlen(body));
    free(body);
    gr_buf_free(&hdr);
}
