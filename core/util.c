#include "util.h"

#include <greenroom/error.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

static void gr__oom(size_t n)
{
    fprintf(stderr, "greenroom: out of memory allocating %zu bytes\n", n);
    abort();
}

void *gr_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        gr__oom(n);
    return p;
}

void *gr_xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p)
        gr__oom(count * n);
    return p;
}

void *gr_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        gr__oom(n);
    return q;
}

char *gr_xstrdup(const char *s)
{
    return gr_xstrndup(s, strlen(s));
}

char *gr_xstrndup(const char *s, size_t n)
{
    char *p = gr_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *gr_xasprintf(const char *fmt, ...)
{
    gr_buf_t b = {0};
    va_list ap;
    va_start(ap, fmt);
    gr_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return gr_buf_steal(&b);
}

void gr_buf_reserve(gr_buf_t *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = gr_xrealloc(b->data, cap);
    b->cap = cap;
}

void gr_buf_append(gr_buf_t *b, const void *data, size_t len)
{
    gr_buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void gr_buf_puts(gr_buf_t *b, const char *s)
{
    gr_buf_append(b, s, strlen(s));
}

void gr_buf_vprintf(gr_buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    gr_buf_reserve(b, 64);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    if (n >= 0 && (size_t)n >= b->cap - b->len) {
        gr_buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
    }
    va_end(ap2);
    if (n > 0)
        b->len += (size_t)n;
}

void gr_buf_printf(gr_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gr_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void gr_buf_json_string(gr_buf_t *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    gr_buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': gr_buf_append(b, "\\\"", 2); break;
        case '\\': gr_buf_append(b, "\\\\", 2); break;
        case '\n': gr_buf_append(b, "\\n", 2); break;
        case '\r': gr_buf_append(b, "\\r", 2); break;
        case '\t': gr_buf_append(b, "\\t", 2); break;
        default:
            if (*p < 0x20) {
                char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
                gr_buf_append(b, esc, 6);
            } else {
                gr_buf_append(b, p, 1);
            }
        }
    }
    gr_buf_append(b, "\"", 1);
}

void gr_buf_reset(gr_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void gr_buf_free(gr_buf_t *b)
{
    free(b->data);
    *b = (gr_buf_t){0};
}

char *gr_buf_steal(gr_buf_t *b)
{
    char *p = b->data ? b->data : gr_xstrdup("");
    *b = (gr_buf_t){0};
    return p;
}

void gr_strvec_push_owned(gr_strvec_t *v, char *s)
{
    if (v->len == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->items = gr_xrealloc(v->items, v->cap * sizeof *v->items);
    }
    v->items[v->len++] = s;
}

void gr_strvec_push(gr_strvec_t *v, const char *s)
{
    gr_strvec_push_owned(v, gr_xstrdup(s));
}

void gr_strvec_pushf(gr_strvec_t *v, const char *fmt, ...)
{
    gr_buf_t b = {0};
    va_list ap;
    va_start(ap, fmt);
    gr_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    gr_strvec_push_owned(v, gr_buf_steal(&b));
}

int gr_strvec_contains(const gr_strvec_t *v, const char *s)
{
    for (size_t i = 0; i < v->len; i++)
        if (strcmp(v->items[i], s) == 0)
            return 1;
    return 0;
}

void gr_strvec_free(gr_strvec_t *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(v->items[i]);
    free(v->items);
    *v = (gr_strvec_t){0};
}

int gr_file_read(const char *path, size_t max_bytes, char **out, size_t *len, int *os_error)
{
    *out = NULL;
    *len = 0;
    *os_error = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        *os_error = errno;
        return GR_ERR_IO;
    }
    gr_buf_t b = {0};
    char chunk[16384];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (max_bytes && b.len + n > max_bytes) {
            rc = GR_ERR_INVALID;
            break;
        }
        gr_buf_append(&b, chunk, n);
    }
    if (rc == 0 && ferror(f)) {
        *os_error = errno;
        rc = GR_ERR_IO;
    }
    fclose(f);
    if (rc != 0) {
        gr_buf_free(&b);
        return rc;
    }
    *len = b.len;
    *out = gr_buf_steal(&b);
    return 0;
}

typedef struct gr__deferred {
    uv_timer_t timer;
    void (*fn)(void *arg);
    void *arg;
} gr__deferred_t;

static void gr__deferred_closed(uv_handle_t *h)
{
    free(h->data);
}

static void gr__deferred_fire(uv_timer_t *t)
{
    gr__deferred_t *d = t->data;
    d->fn(d->arg);
    uv_close((uv_handle_t *)&d->timer, gr__deferred_closed);
}

void gr_loop_defer(uv_loop_t *loop, void (*fn)(void *arg), void *arg)
{
    gr__deferred_t *d = gr_xcalloc(1, sizeof *d);
    d->fn = fn;
    d->arg = arg;
    uv_timer_init(loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, gr__deferred_fire, 0, 0);
}

uint64_t gr_hash_update(uint64_t hash, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        hash = (hash ^ p[i]) * 1099511628211ull;
    return hash;
}

uint64_t gr_hash_string(const char *s)
{
    uint64_t hash = GR_HASH_INIT;
    for (; *s; s++)
        hash = (hash ^ (unsigned char)*s) * 1099511628211ull;
    return hash;
}

int gr_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int gr__base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

char *gr_base64_decode(const char *text, size_t len, size_t *out_len)
{
    char *out = gr_xmalloc(len / 4 * 3 + 4);
    size_t n = 0, symbols = 0, pad = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n' || c == '\r' || c == ' ' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = gr__base64_value(c);
        if (v < 0 || pad)
            goto invalid;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        symbols++;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (char)(acc >> bits & 0xff);
        }
    }
    if (symbols % 4 == 1 || pad > 2 || (pad && (symbols + pad) % 4 != 0) ||
        (acc & ((1u << bits) - 1)) != 0)
        goto invalid;
    out[n] = '\0';
    if (out_len)
        *out_len = n;
    return out;
invalid:
    free(out);
    return NULL;
}

int gr_id_is_valid(const char *id)
{
    const char *p = id;
    if (!p || !(*p >= 'a' && *p <= 'z'))
        return 0;
    for (p++; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            continue;
        /* A dash must sit between two alphanumerics. */
        if (*p == '-' && p[1] && p[1] != '-' && p[-1] != '-')
            continue;
        return 0;
    }
    return 1;
}

uint64_t gr_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
