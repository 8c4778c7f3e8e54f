/* core/github_auth.c: which credential a GitHub call uses, and keeping its
 * secret fresh: App JWTs (RS256, signed with OpenSSL), installation lookups
 * per account and installation-token exchanges.
 *
 * Signing a JWT costs about a millisecond of RSA and happens once per App
 * every nine minutes, so it runs on the loop rather than the thread pool. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "api_impl.h"
#include "github_internal.h"

#define JWT_BACKDATE_S 60  /* GitHub's clock may run behind ours */
#define JWT_LIFETIME_S 540 /* iat..exp spans 10 minutes, GitHub's maximum */
#define JWT_RENEW_BEFORE_MS 60000

/* ---- keys and JWTs ---------------------------------------------------------- */

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1; /* never prompt on a terminal: an encrypted key is refused */
}

EVP_PKEY *gh_key_load(const char *pem, gr_error_t *err)
{
    /* A key pasted into an environment variable often has "\n" sequences
     * instead of line breaks. */
    char *text = gr_xstrdup(pem);
    if (!strchr(text, '\n') && strstr(text, "\\n")) {
        char *w = text;
        for (const char *r = text; *r; r++) {
            if (r[0] == '\\' && r[1] == 'n') {
                *w++ = '\n';
                r++;
            } else {
                *w++ = *r;
            }
        }
        *w = '\0';
    }
    BIO *bio = BIO_new_mem_buf(text, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
    BIO_free(bio);
    free(text);
    ERR_clear_error();
    if (!key) {
        gr_error_set(err, GR_ERR_INVALID,
                     "not a PEM private key (or an encrypted one); paste the key GitHub "
                     "generated for the App, BEGIN and END lines included");
        return NULL;
    }
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(key);
        gr_error_set(err, GR_ERR_INVALID, "GitHub App keys are RSA; this key is not");
        return NULL;
    }
    return key;
}

static void append_b64url(gr_buf_t *out, const unsigned char *in, size_t len)
{
    size_t cap = 4 * ((len + 2) / 3) + 1;
    unsigned char *b64 = gr_xmalloc(cap);
    int n = EVP_EncodeBlock(b64, in, (int)len);
    while (n > 0 && b64[n - 1] == '=')
        n--;
    for (int i = 0; i < n; i++) {
        if (b64[i] == '+')
            b64[i] = '-';
        else if (b64[i] == '/')
            b64[i] = '_';
    }
    gr_buf_append(out, b64, (size_t)n);
    free(b64);
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

char *gh_jwt_mint(const gh_app_t *app, int64_t now_s, int64_t *exp_s, gr_error_t *err)
{
    static const char header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
    int64_t iat = now_s - JWT_BACKDATE_S;
    int64_t exp = now_s + JWT_LIFETIME_S;
    gr_buf_t payload = {0};
    gr_buf_printf(&payload, "{\"iat\":%lld,\"exp\":%lld,\"iss\":", (long long)iat, (long long)exp);
    /* A numeric App id goes as a number, a client id ("Iv1...") as a string. */
    if (all_digits(app->app_id))
        gr_buf_puts(&payload, app->app_id);
    else
        gr_buf_json_string(&payload, app->app_id);
    gr_buf_puts(&payload, "}");

    gr_buf_t jwt = {0};
    append_b64url(&jwt, (const unsigned char *)header, sizeof header - 1);
    gr_buf_puts(&jwt, ".");
    append_b64url(&jwt, (const unsigned char *)payload.data, payload.len);
    gr_buf_free(&payload);

    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t siglen = 0;
    unsigned char *sig = NULL;
    int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, app->key) == 1 &&
             EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)jwt.data, jwt.len) == 1;
    if (ok) {
        sig = gr_xmalloc(siglen);
        ok = EVP_DigestSign(md, sig, &siglen, (const unsigned char *)jwt.data, jwt.len) == 1;
    }
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    if (!ok) {
        free(sig);
        gr_buf_free(&jwt);
        gr_error_set(err, GR_ERR_INTERNAL, "GitHub App %s: OpenSSL could not sign the JWT",
                     app->app_id);
        return NULL;
    }
    gr_buf_puts(&jwt, ".");
    append_b64url(&jwt, sig, siglen);
    free(sig);
    *exp_s = exp;
    return gr_buf_steal(&jwt);
}

/* ---- credentials --------------------------------------------------------------- */

gh_cred_t *gh_cred_new(gr_github_t *gh, gh_cred_kind_t kind, const char *identity)
{
    gh_cred_t *cred = gr_xcalloc(1, sizeof *cred);
    cred->gh = gh;
    cred->kind = kind;
    cred->identity = gr_xstrdup(identity);
    cred->next = gh->creds;
    gh->creds = cred;
    return cred;
}

gh_cred_t *gh_cred_installation(gr_github_t *gh, gh_app_t *app, int64_t installation_id)
{
    for (gh_cred_t *cred = gh->creds; cred; cred = cred->next)
        if (cred->kind == GH_CRED_INSTALLATION && cred->app == app &&
            cred->installation_id == installation_id)
            return cred;
    char *id = gr_xasprintf("installation:%lld", (long long)installation_id);
    gh_cred_t *cred = gh_cred_new(gh, GH_CRED_INSTALLATION, id);
    free(id);
    cred->app = app;
    cred->installation_id = installation_id;
    return cred;
}

void gh_cred_free(gh_cred_t *cred)
{
    while (cred->rates) {
        gh_rate_t *r = cred->rates;
        cred->rates = r->next;
        free(r->resource);
        free(r);
    }
    free(cred->identity);
    free(cred->secret);
    free(cred);
}

void gh_auth_invalidate(gh_cred_t *cred)
{
    free(cred->secret);
    cred->secret = NULL;
    cred->expires_ms = 0;
}

/* ---- installation lookups ------------------------------------------------------- */

static int account_name_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return 0;
    return 1;
}

static gh_owner_t *owner_get(gr_github_t *gh, const char *name)
{
    for (gh_owner_t *o = gh->owners; o; o = o->next)
        if (strcasecmp(o->owner, name) == 0)
            return o;
    gh_owner_t *o = gr_xcalloc(1, sizeof *o);
    o->gh = gh;
    o->owner = gr_xstrdup(name);
    for (char *p = o->owner; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    o->next = gh->owners;
    gh->owners = o;
    return o;
}

void gh_owner_free_all(gr_github_t *gh)
{
    while (gh->owners) {
        gh_owner_t *o = gh->owners;
        gh->owners = o->next;
        free(o->owner);
        free(o->repo);
        free(o);
    }
}

static void lookup_send(gh_owner_t *o);

static void on_lookup_done(const gr_github_response_t *res, const gr_error_t *err, void *ud)
{
    gh_owner_t *o = ud;
    gr_github_t *gh = o->gh;
    if (res && gr__github_response_status(res) == 404) {
        /* Not installed there: try the next place, then the next App. */
        if (o->step < 2) {
            o->step++;
        } else {
            o->app_index++;
            o->step = o->repo ? 0 : 1;
        }
        if (o->app_index < gh->napps) {
            lookup_send(o);
            return;
        }
        o->looking_up = 0;
        if (gh->default_cred->kind == GH_CRED_TOKEN) {
            gh_log(gh->client, GR_LOG_INFO,
                   "GitHub %s: no App installation for account '%s'; using the token", gh->host,
                   o->owner);
            o->cred = gh->default_cred;
            gh_queue_resume_all(&o->waiters);
            return;
        }
        gr_error_t e;
        gr_error_set(&e, GR_ERR_NOT_FOUND,
                     "GitHub %s: the configured App%s not installed for account '%s'; install "
                     "it there or configure a token",
                     gh->host, gh->napps > 1 ? "s are" : " is", o->owner);
        gh_queue_fail_all(&o->waiters, &e);
        return;
    }
    o->looking_up = 0;
    if (err) {
        /* Not remembered: the next call for this account asks again. */
        gr_error_t e;
        gr_error_set(&e, err->code, "GitHub %s: finding the App installation for '%s': %s",
                     gh->host, o->owner, err->message);
        gh_queue_fail_all(&o->waiters, &e);
        return;
    }
    json_object *j = gr__github_response_json(res), *id;
    int64_t installation = 0;
    if (j && json_object_object_get_ex(j, "id", &id))
        installation = json_object_get_int64(id);
    if (installation <= 0) {
        gr_error_t e;
        gr_error_set(&e, GR_ERR_INVALID,
                     "GitHub %s: the installation of account '%s' came without an id", gh->host,
                     o->owner);
        gh_queue_fail_all(&o->waiters, &e);
        return;
    }
    o->cred = gh_cred_installation(gh, &gh->apps[o->app_index], installation);
    gh_log(gh->client, GR_LOG_DEBUG, "GitHub %s: account '%s' uses App %s installation %lld",
           gh->host, o->owner, gh->apps[o->app_index].app_id, (long long)installation);
    gh_queue_resume_all(&o->waiters);
}

static void lookup_send(gh_owner_t *o)
{
    gr_github_t *gh = o->gh;
    char *path = o->step == 0   ? gr_xasprintf("/repos/%s/%s/installation", o->owner, o->repo)
                 : o->step == 1 ? gr_xasprintf("/orgs/%s/installation", o->owner)
                                : gr_xasprintf("/users/%s/installation", o->owner);
    gh_op_t *op = gh_op_new(gh, "GET", path);
    free(path);
    op->cred = gh->apps[o->app_index].jwt;
    op->cred_resolved = 1;
    op->internal = 1;
    op->no_cache = 1;
    gh_op_start(op, on_lookup_done, o);
}

int gh_auth_resolve(gh_op_t *op, gr_error_t *err)
{
    gr_github_t *gh = op->gh;
    if (op->cred)
        return 0;
    if (gh->napps == 0) {
        op->cred = gh->default_cred;
        return 0;
    }
    if (!op->owner) {
        for (size_t i = 0; i < gh->napps; i++) {
            if (gh->apps[i].installation_id) {
                op->cred = gh_cred_installation(gh, &gh->apps[i], gh->apps[i].installation_id);
                return 0;
            }
        }
        if (gh->default_cred->kind == GH_CRED_TOKEN) {
            op->cred = gh->default_cred;
            return 0;
        }
        return gr_error_set(err, GR_ERR_INVALID,
                            "GitHub %s %s: %s uses GitHub App auth, which needs the account "
                            "the call is for: set the request's owner or use a "
                            "/repos/{owner}/{repo}/... path",
                            op->method, op->path_for_log, gh->host);
    }
    if (!account_name_ok(op->owner) || (op->repo && !account_name_ok(op->repo)))
        return gr_error_set(err, GR_ERR_INVALID, "GitHub %s %s: '%s' is not an account name",
                            op->method, op->path_for_log, op->owner);
    if (gh->napps == 1 && gh->apps[0].installation_id) {
        op->cred = gh_cred_installation(gh, &gh->apps[0], gh->apps[0].installation_id);
        return 0;
    }
    gh_owner_t *o = owner_get(gh, op->owner);
    if (o->cred) {
        op->cred = o->cred;
        return 0;
    }
    gh_queue_push(&o->waiters, op);
    if (!o->looking_up) {
        o->looking_up = 1;
        o->app_index = 0;
        free(o->repo);
        o->repo = op->repo ? gr_xstrdup(op->repo) : NULL;
        o->step = o->repo ? 0 : 1;
        lookup_send(o);
    }
    return 1;
}

/* ---- installation tokens ------------------------------------------------------------ */

static int64_t parse_time_utc(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!end)
        return 0;
    return (int64_t)timegm(&tm);
}

static void on_exchange_done(const gr_github_response_t *res, const gr_error_t *err, void *ud)
{
    gh_cred_t *cred = ud;
    gr_github_t *gh = cred->gh;
    cred->refreshing = 0;
    gr_error_t e;
    if (err) {
        gr_error_set(&e, err->code, "GitHub App %s: no token for installation %lld: %s",
                     cred->app->app_id, (long long)cred->installation_id, err->message);
        gh_queue_fail_all(&cred->token_waiters, &e);
        return;
    }
    json_object *j = gr__github_response_json(res), *token = NULL, *expires = NULL;
    int64_t expires_s = 0;
    if (j && json_object_object_get_ex(j, "token", &token) &&
        json_object_object_get_ex(j, "expires_at", &expires))
        expires_s = parse_time_utc(json_object_get_string(expires));
    if (!token || !json_object_get_string_len(token) || expires_s <= 0) {
        gr_error_set(&e, GR_ERR_INVALID,
                     "GitHub App %s: the token answer for installation %lld lacks token or "
                     "expires_at",
                     cred->app->app_id, (long long)cred->installation_id);
        gh_queue_fail_all(&cred->token_waiters, &e);
        return;
    }
    free(cred->secret);
    cred->secret = gr_xstrdup(json_object_get_string(token));
    cred->expires_ms = expires_s * 1000;
    cred->fetched_ms = gh_wall_ms();
    gh_log(gh->client, GR_LOG_INFO,
           "GitHub App %s: new token for installation %lld, valid for %lld s", cred->app->app_id,
           (long long)cred->installation_id,
           (long long)((cred->expires_ms - cred->fetched_ms) / 1000));
    /* The calls that waited use this token even if it is already inside
     * the refresh margin; otherwise a short-lived token would send them
     * round for another exchange forever. */
    for (gh_op_t *op = cred->token_waiters.head; op; op = op->q_next)
        op->token_fresh = 1;
    gh_queue_resume_all(&cred->token_waiters);
}

/* Whether an installation token may still be sent.  It is renewed the
 * refresh margin before it expires, but never sooner than halfway through
 * its life. */
static int token_usable(const gh_cred_t *cred, uint64_t margin_ms)
{
    if (!cred->secret)
        return 0;
    int64_t now = gh_wall_ms();
    int64_t margin = (int64_t)margin_ms;
    int64_t half_life = (cred->expires_ms - cred->fetched_ms) / 2;
    if (half_life < margin)
        margin = half_life;
    return now < cred->expires_ms - margin;
}

int gh_auth_ready(gh_op_t *op, gr_error_t *err)
{
    gh_cred_t *cred = op->cred;
    gr_github_client_t *c = op->gh->client;
    switch (cred->kind) {
    case GH_CRED_ANONYMOUS:
    case GH_CRED_TOKEN: return 0;
    case GH_CRED_APP: {
        int64_t now = gh_wall_ms();
        if (cred->secret && now < cred->expires_ms - JWT_RENEW_BEFORE_MS)
            return 0;
        int64_t exp_s;
        char *jwt = gh_jwt_mint(cred->app, now / 1000, &exp_s, err);
        if (!jwt)
            return err->code;
        free(cred->secret);
        cred->secret = jwt;
        cred->expires_ms = exp_s * 1000;
        cred->fetched_ms = now;
        return 0;
    }
    case GH_CRED_INSTALLATION:
        if (token_usable(cred, c->refresh_margin_ms) ||
            (op->token_fresh && cred->secret && gh_wall_ms() < cred->expires_ms))
            return 0;
        gh_queue_push(&cred->token_waiters, op);
        if (!cred->refreshing) {
            cred->refreshing = 1;
            char *path = gr_xasprintf("/app/installations/%lld/access_tokens",
                                      (long long)cred->installation_id);
            gh_op_t *x = gh_op_new(op->gh, "POST", path);
            free(path);
            x->cred = cred->app->jwt;
            x->cred_resolved = 1;
            x->internal = 1;
            x->no_cache = 1;
            gh_op_start(x, on_exchange_done, cred);
        }
        return 1;
    }
    return gr_error_set(err, GR_ERR_INTERNAL, "GitHub: unknown credential kind");
}

void gh_auth_fail_waiters(gr_github_t *gh, const gr_error_t *err)
{
    for (gh_cred_t *cred = gh->creds; cred; cred = cred->next)
        gh_queue_fail_all(&cred->token_waiters, err);
    for (gh_owner_t *o = gh->owners; o; o = o->next)
        gh_queue_fail_all(&o->waiters, err);
}
