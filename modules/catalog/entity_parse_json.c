/* modules/catalog/entity_parse_json.c: reading an entity JSON file.
 *
 * json-c builds the value but keeps no positions, so once it has accepted
 * the text a small scanner walks the same text and records where each
 * value starts, under the same field paths the YAML reader uses.  Columns
 * count characters, not bytes, as libyaml's do. */
#include <limits.h>
#include <string.h>

#include "catalog_internal.h"
#include "util.h"

#define CATALOG__JSON_MAX_DEPTH 200

typedef struct catalog__scan {
    const char *s;
    size_t len;
    size_t i;
    uint32_t line;
    uint32_t column;
    gr_buf_t path;
    catalog_posmap_t *positions;
} catalog__scan_t;

static void catalog__advance(catalog__scan_t *sc, size_t n)
{
    for (; n > 0 && sc->i < sc->len; n--, sc->i++) {
        unsigned char c = (unsigned char)sc->s[sc->i];
        if (c == '\n') {
            sc->line++;
            sc->column = 1;
        } else if ((c & 0xc0) != 0x80) {
            sc->column++;
        }
    }
}

static void catalog__skip_ws(catalog__scan_t *sc)
{
    while (sc->i < sc->len && strchr(" \t\r\n", sc->s[sc->i]) && sc->s[sc->i])
        catalog__advance(sc, 1);
}

static unsigned catalog__hex4(const char *p)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
    }
    return v;
}

static void catalog__put_utf8(gr_buf_t *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    gr_buf_append(b, u, n);
}

/* Reads a string literal at sc->i; appends its decoded text to out when
 * out is not NULL (keys are needed decoded, to match json-c's keys). */
static void catalog__scan_string(catalog__scan_t *sc, gr_buf_t *out)
{
    catalog__advance(sc, 1); /* the opening quote */
    while (sc->i < sc->len && sc->s[sc->i] != '"') {
        const char *p = sc->s + sc->i;
        if (*p != '\\') {
            if (out)
                gr_buf_append(out, p, 1);
            catalog__advance(sc, 1);
            continue;
        }
        if (sc->i + 1 >= sc->len)
            break;
        char e = p[1];
        if (e == 'u' && sc->i + 6 <= sc->len) {
            unsigned cp = catalog__hex4(p + 2);
            size_t used = 6;
            if (cp >= 0xd800 && cp < 0xdc00 && sc->i + 12 <= sc->len && p[6] == '\\' &&
                p[7] == 'u') {
                unsigned lo = catalog__hex4(p + 8);
                if (lo >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    used = 12;
                }
            }
            if (out)
                catalog__put_utf8(out, cp);
            catalog__advance(sc, used);
            continue;
        }
        if (out) {
            const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
            const char *hit = strchr(from, e);
            char c = hit && e ? to[hit - from] : e;
            gr_buf_append(out, &c, 1);
        }
        catalog__advance(sc, 2);
    }
    catalog__advance(sc, 1); /* the closing quote */
}

static void catalog__scan_value(catalog__scan_t *sc)
{
    catalog__posmap_add(sc->positions, sc->path.data ? sc->path.data : "", sc->path.len, sc->line,
                        sc->column);
    if (sc->i >= sc->len)
        return;
    char c = sc->s[sc->i];
    size_t base = sc->path.len;
    if (c == '{' || c == '[') {
        int is_map = c == '{';
        char close = is_map ? '}' : ']';
        size_t index = 0;
        catalog__advance(sc, 1);
        catalog__skip_ws(sc);
        while (sc->i < sc->len && sc->s[sc->i] != close) {
            if (base)
                gr_buf_append(&sc->path, ".", 1);
            if (is_map) {
                catalog__scan_string(sc, &sc->path);
                catalog__skip_ws(sc);
                catalog__advance(sc, 1); /* the colon */
                catalog__skip_ws(sc);
            } else {
                gr_buf_printf(&sc->path, "%zu", index++);
            }
            catalog__scan_value(sc);
            sc->path.len = base;
            if (sc->path.data)
                sc->path.data[base] = '\0';
            catalog__skip_ws(sc);
            if (sc->i < sc->len && sc->s[sc->i] == ',') {
                catalog__advance(sc, 1);
                catalog__skip_ws(sc);
            } else if (sc->i < sc->len && sc->s[sc->i] != close) {
                return; /* json-c accepted the text, so this cannot happen */
            }
        }
        catalog__advance(sc, 1);
        return;
    }
    if (c == '"') {
        catalog__scan_string(sc, NULL);
        return;
    }
    while (sc->i < sc->len && !strchr(",]} \t\r\n", sc->s[sc->i]))
        catalog__advance(sc, 1);
}

/* Line and column (1-based, columns in characters) of a byte offset. */
static void catalog__position_of(const char *s, size_t off, uint32_t *line, uint32_t *column)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < off; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') {
            (*line)++;
            *column = 1;
        } else if ((c & 0xc0) != 0x80) {
            (*column)++;
        }
    }
}

int catalog_file_parse_json(catalog_file_t *out, const char *path, const char *data, size_t len)
{
    *out = (catalog_file_t){.path = gr_xstrdup(path)};
    size_t start = 0;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        start = 3;
    while (start < len && strchr(" \t\r\n", data[start]) && data[start])
        start++;
    if (start == len)
        return 0; /* an empty file holds no entities */
    if (len - start > INT_MAX) {
        catalog__issues_add_at(&out->errors, "", 1, 1,
                               "the file is too large to be an entity (%zu bytes)", len);
        return GR_ERR_INVALID;
    }

    struct json_tokener *tok = json_tokener_new_ex(CATALOG__JSON_MAX_DEPTH);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    struct json_object *root = json_tokener_parse_ex(tok, data + start, (int)(len - start));
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = start + json_tokener_get_parse_end(tok);
    json_tokener_free(tok);

    uint32_t line, column;
    if (jerr != json_tokener_success) {
        json_object_put(root);
        catalog__position_of(data, end, &line, &column);
        if (jerr == json_tokener_continue)
            catalog__issues_add_at(&out->errors, "", line, column,
                                   "JSON syntax error: the document ends before it is complete");
        else
            catalog__issues_add_at(&out->errors, "", line, column, "JSON syntax error: %s",
                                   json_tokener_error_desc(jerr));
        return GR_ERR_INVALID;
    }
    size_t rest = end;
    while (rest < len && strchr(" \t\r\n", data[rest]) && data[rest])
        rest++;
    if (rest < len) {
        json_object_put(root);
        catalog__position_of(data, rest, &line, &column);
        catalog__issues_add_at(&out->errors, "", line, column,
                               "JSON syntax error: unexpected text after the document; a JSON "
                               "file holds one entity");
        return GR_ERR_INVALID;
    }
    catalog__position_of(data, start, &line, &column);
    if (!json_object_is_type(root, json_type_object)) {
        catalog__issues_add_at(&out->errors, "", line, column,
                               "expected an object at the document root, found %s",
                               catalog__json_type_phrase(root));
        json_object_put(root);
        return GR_ERR_INVALID;
    }
    catalog__scan_t sc = {
        .s = data,
        .len = len,
        .i = start,
        .line = line,
        .column = column,
        .positions = catalog__posmap_new(),
    };
    catalog__scan_value(&sc);
    gr_buf_free(&sc.path);
    catalog__file_add_doc(out, root, 0, line, column, sc.positions);
    return 0;
}
