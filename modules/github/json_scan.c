/* json_scan.c: checks that a text is one JSON object (RFC 8259) and finds
 * its top-level "action" string, without building a tree.
 *
 * Storing a webhook needs only that much; building json-c's tree of a
 * payload costs more than everything else on the intake path together, so
 * it is built only when a subscriber will read it. */
#include <stdint.h>
#include <string.h>

#include "github_internal.h"

typedef struct scan {
    const char *s, *end;
    int depth;
} scan_t;

static void ws(scan_t *sc)
{
    while (sc->s < sc->end && (*sc->s == ' ' || *sc->s == '\t' || *sc->s == '\n' || *sc->s == '\r'))
        sc->s++;
}

static int hex4(const char *p)
{
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return 1;
}

/* A byte a string's contents hold as it is: not '"', '\\' or a control
 * character. */
static inline int plain_byte(unsigned char c)
{
    return c >= 0x20 && c != '"' && c != '\\';
}

/* Skips the plain bytes of a string eight at a time: a word goes whole when
 * none of its bytes is below 0x20 or equal to '"' or '\\' (the usual
 * "has a byte less than n" tests, exact for n <= 0x80).  String contents
 * are most of a payload.  A test can also flag a byte after a flagged one
 * (a borrow carries up), never before: on a little-endian machine the
 * lowest flag is the first special byte. */
static const char *skip_plain(const char *s, const char *end)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    while (end - s >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
        uint64_t special = (((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) |
                            ((backslash - ones) & ~backslash)) &
                           high;
        if (special) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return s + (__builtin_ctzll(special) >> 3);
#else
            break;
#endif
        }
        s += 8;
    }
    while (s < end && plain_byte((unsigned char)*s))
        s++;
    return s;
}

/* A string at sc->s ('"'); on success start and len span its raw contents and
 * *escaped tells whether they hold a backslash escape. */
static int string(scan_t *sc, const char **start, size_t *len, int *escaped)
{
    sc->s++;
    const char *begin = sc->s;
    int esc = 0;
    while (sc->s < sc->end) {
        sc->s = skip_plain(sc->s, sc->end);
        if (sc->s >= sc->end)
            break;
        unsigned char c = (unsigned char)*sc->s;
        if (c == '"') {
            if (start) {
                *start = begin;
                *len = (size_t)(sc->s - begin);
                *escaped = esc;
            }
            sc->s++;
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            esc = 1;
            if (sc->end - sc->s < 2)
                return -1;
            char e = sc->s[1];
            if (e == 'u') {
                if (sc->end - sc->s < 6 || !hex4(sc->s + 2))
                    return -1;
                sc->s += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == '\0')
                return -1;
            sc->s += 2;
            continue;
        }
        sc->s++;
    }
    return -1;
}

static int digits(scan_t *sc)
{
    const char *b = sc->s;
    while (sc->s < sc->end && *sc->s >= '0' && *sc->s <= '9')
        sc->s++;
    return sc->s > b ? 0 : -1;
}

static int number(scan_t *sc)
{
    if (*sc->s == '-')
        sc->s++;
    if (sc->s >= sc->end)
        return -1;
    if (*sc->s == '0')
        sc->s++;
    else if (digits(sc) < 0)
        return -1;
    if (sc->s < sc->end && *sc->s == '.') {
        sc->s++;
        if (digits(sc) < 0)
            return -1;
    }
    if (sc->s < sc->end && (*sc->s == 'e' || *sc->s == 'E')) {
        sc->s++;
        if (sc->s < sc->end && (*sc->s == '+' || *sc->s == '-'))
            sc->s++;
        if (digits(sc) < 0)
            return -1;
    }
    return 0;
}

static int literal(scan_t *sc, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(sc->end - sc->s) < n || memcmp(sc->s, word, n) != 0)
        return -1;
    sc->s += n;
    return 0;
}

static int value(scan_t *sc, github_json_scan_t *out);

/* An object; at depth 1 (the payload itself) it notes "action". */
static int object(scan_t *sc, github_json_scan_t *out)
{
    sc->s++;
    ws(sc);
    if (sc->s < sc->end && *sc->s == '}') {
        sc->s++;
        return 0;
    }
    for (;;) {
        if (sc->s >= sc->end || *sc->s != '"')
            return -1;
        const char *key;
        size_t key_len;
        int key_esc;
        if (string(sc, &key, &key_len, &key_esc) < 0)
            return -1;
        ws(sc);
        if (sc->s >= sc->end || *sc->s != ':')
            return -1;
        sc->s++;
        ws(sc);
        int is_action =
            sc->depth == 1 && out && !key_esc && key_len == 6 && memcmp(key, "action", 6) == 0;
        if (is_action && sc->s < sc->end && *sc->s == '"') {
            if (string(sc, &out->action, &out->action_len, &out->action_escaped) < 0)
                return -1;
        } else {
            if (is_action) {
                /* A later "action" key wins, as in json-c's tree. */
                out->action = NULL;
                out->action_len = 0;
                out->action_escaped = 0;
            }
            if (value(sc, out) < 0)
                return -1;
        }
        ws(sc);
        if (sc->s >= sc->end)
            return -1;
        if (*sc->s == '}') {
            sc->s++;
            return 0;
        }
        if (*sc->s != ',')
            return -1;
        sc->s++;
        ws(sc);
    }
}

static int array(scan_t *sc, github_json_scan_t *out)
{
    sc->s++;
    ws(sc);
    if (sc->s < sc->end && *sc->s == ']') {
        sc->s++;
        return 0;
    }
    for (;;) {
        if (value(sc, out) < 0)
            return -1;
        ws(sc);
        if (sc->s >= sc->end)
            return -1;
        if (*sc->s == ']') {
            sc->s++;
            return 0;
        }
        if (*sc->s != ',')
            return -1;
        sc->s++;
        ws(sc);
    }
}

static int value(scan_t *sc, github_json_scan_t *out)
{
    if (sc->s >= sc->end)
        return -1;
    int rc;
    switch (*sc->s) {
    case '{':
    case '[':
        if (++sc->depth > GITHUB_JSON_DEPTH)
            return -1;
        rc = *sc->s == '{' ? object(sc, out) : array(sc, out);
        sc->depth--;
        return rc;
    case '"': return string(sc, NULL, NULL, NULL);
    case 't': return literal(sc, "true");
    case 'f': return literal(sc, "false");
    case 'n': return literal(sc, "null");
    default:
        if (*sc->s == '-' || (*sc->s >= '0' && *sc->s <= '9'))
            return number(sc);
        return -1;
    }
}

int github_json_scan(const char *text, size_t len, github_json_scan_t *out)
{
    memset(out, 0, sizeof *out);
    scan_t sc = {text, text + len, 0};
    ws(&sc);
    if (sc.s >= sc.end || *sc.s != '{')
        return -1;
    int rc = value(&sc, out);
    ws(&sc);
    if (rc < 0 || sc.s != sc.end) {
        out->error_offset = (size_t)(sc.s - text);
        return -1;
    }
    return 0;
}
