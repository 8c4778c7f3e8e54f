/* payload.c: from a signed body to a parsed payload.
 *
 * Checking the signature and parsing JSON cost time in proportion to the
 * body, and bodies reach 25 MB, so a large one is handled on the thread
 * pool.  The work function touches no host handle: it reads the body (which
 * the request keeps alive until it is answered) and calls the host's
 * signature check, which only reads configuration. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "github_internal.h"

/* The decoded value of the form field `payload`, or NULL. */
static char *form_payload(const char *body, size_t len, size_t *out_len)
{
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *field_end = amp ? amp : end;
        if ((size_t)(field_end - p) >= 8 && memcmp(p, "payload=", 8) == 0) {
            char *out = gr_xmalloc((size_t)(field_end - p) + 1);
            size_t n = 0;
            for (const char *c = p + 8; c < field_end; c++) {
                if (*c == '+') {
                    out[n++] = ' ';
                } else if (*c == '%' && field_end - c >= 3 && gr_hex_value(c[1]) >= 0 &&
                           gr_hex_value(c[2]) >= 0) {
                    out[n++] = (char)(gr_hex_value(c[1]) << 4 | gr_hex_value(c[2]));
                    c += 2;
                } else {
                    out[n++] = *c;
                }
            }
            out[n] = '\0';
            *out_len = n;
            return out;
        }
        p = field_end + 1;
    }
    return NULL;
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF) and
 * no NUL: what a PostgreSQL text column in a UTF-8 database accepts.
 * Payloads are mostly ASCII, which is checked eight bytes at a time. */
static int utf8_valid(const unsigned char *s, size_t len)
{
    const uint64_t high = 0x8080808080808080u, low = 0x0101010101010101u;
    size_t i = 0;
    while (i < len) {
        while (len - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            /* Stop at a byte with its high bit set, or a zero byte. */
            if ((w & high) || ((w - low) & ~w & high))
                break;
            i += 8;
        }
        if (i >= len)
            break;
        unsigned char c = s[i];
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned min;
        unsigned cp;
        if ((c & 0xe0) == 0xc0) {
            n = 1, min = 0x80, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, min = 0x800, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return 0;
        }
        if (len - i <= n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* Everything after the optional signature check; runs on either thread. */
static void payload_run(gr_http_client_t *http, github_payload_t *p)
{
    if (p->signature) {
        p->verify_status = gr_github_webhook_verify(http, p->body, p->len, p->signature);
        if (p->verify_status != 0)
            return;
    }
    p->json_text = p->body;
    p->json_len = p->len;
    /* GitHub's form encoding sends one field, payload=<JSON>; a body under
     * a form content type that is plain JSON is taken as it is. */
    if (p->form_encoded && p->len >= 8 && memcmp(p->body, "payload=", 8) == 0) {
        p->decoded = form_payload(p->body, p->len, &p->json_len);
        if (!p->decoded) {
            snprintf(p->error, sizeof p->error,
                     "the form-encoded body has no 'payload' field (set the webhook's content "
                     "type to application/json)");
            return;
        }
        p->json_text = p->decoded;
    }
    if (!utf8_valid((const unsigned char *)p->json_text, p->json_len)) {
        snprintf(p->error, sizeof p->error, "the payload is not valid UTF-8 text");
        return;
    }
    github_json_scan_t scan;
    if (github_json_scan(p->json_text, p->json_len, &scan) < 0) {
        snprintf(p->error, sizeof p->error,
                 "the payload is not a JSON object (malformed at byte %zu of %zu)",
                 scan.error_offset, p->json_len);
        return;
    }
    p->valid = 1;
    if (scan.action && !scan.action_escaped)
        p->action = gr_xstrndup(scan.action, scan.action_len);
    if (!p->want_tree && !(scan.action && scan.action_escaped))
        return;
    /* The text is valid JSON, so json-c fails only past its own limits; the
     * delivery is stored all the same, and a subscriber's retry reports it. */
    json_tokener *tok = json_tokener_new_ex(GITHUB_JSON_DEPTH);
    struct json_object *obj = NULL;
    if (p->json_len <= (size_t)INT32_MAX)
        obj = json_tokener_parse_ex(tok, p->json_text, (int)p->json_len);
    if (obj && json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(obj);
        obj = NULL;
    }
    json_tokener_free(tok);
    if (!obj) {
        snprintf(p->error, sizeof p->error, "json-c could not parse the payload");
        return;
    }
    struct json_object *action;
    if (!p->action && json_object_object_get_ex(obj, "action", &action) &&
        json_object_is_type(action, json_type_string))
        p->action = gr_xstrdup(json_object_get_string(action));
    if (p->want_tree)
        p->json = obj;
    else
        json_object_put(obj);
}

typedef struct payload_job {
    github_plugin_t *gh;
    gr_http_client_t *http;
    github_payload_t *p;
    github_payload_cb cb;
    void *user_data;
} payload_job_t;

static void payload_work(void *user_data)
{
    payload_job_t *job = user_data;
    payload_run(job->http, job->p);
}

static void payload_done(void *user_data, int status)
{
    payload_job_t *job = user_data;
    if (status != 0)
        job->p->verify_status = GR_ERR_CANCELED; /* the work never ran */
    job->cb(job->p, job->user_data);
    free(job);
}

int github_payload_process(github_plugin_t *gh, github_payload_t *p, github_payload_cb cb,
                           void *user_data, gr_error_t *err)
{
    if (p->len <= GITHUB_INLINE_BYTES) {
        payload_run(gh->ctx->http, p);
        cb(p, user_data);
        return 0;
    }
    payload_job_t *job = gr_xcalloc(1, sizeof *job);
    *job = (payload_job_t){gh, gh->ctx->http, p, cb, user_data};
    int rc = gr_work_submit(gh->ctx, payload_work, payload_done, job, err);
    if (rc != 0)
        free(job);
    return rc;
}

void github_payload_clear(github_payload_t *p)
{
    free(p->decoded);
    free(p->action);
    json_object_put(p->json);
    p->decoded = NULL;
    p->action = NULL;
    p->json = NULL;
}
