/* Unit tests for core/github_webhook.c: X-Hub-Signature-256 checks against
 * GitHub's published test vector (read from the shared testdata) and the
 * secrets of integrations.github, reached through the HTTP client as a
 * module reaches them. */
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <uv.h>

#include "api_impl.h"
#include "config_tree.h"
#include "github_client.h"
#include "http_client.h"
#include "log.h"
#include "test.h"

typedef struct wfx {
    uv_loop_t loop;
    gr_log_t *log;
    gr_http_client_t *http;
    gr_github_client_t *gh;
    gr_config_doc_t *doc;
} wfx_t;

static int wfx_setup(wfx_t *fx, const char *yaml)
{
    memset(fx, 0, sizeof *fx);
    uv_loop_init(&fx->loop);
    fx->log = gr_log_root_new(stderr, GR_LOG_ERROR, GR_LOG_FORMAT_PRETTY);
    fx->http = gr_http_client_new(&fx->loop, fx->log, NULL, NULL);
    gr_error_t err = {0};
    fx->doc = gr_config_doc_parse("inline.yaml", yaml, strlen(yaml), &err);
    if (!fx->doc)
        return -1;
    fx->gh = gr_github_client_new(&fx->loop, fx->log, NULL, fx->http,
                                  gr_config_get(gr_config_doc_root(fx->doc), "integrations.github"),
                                  NULL, &err);
    if (!fx->gh)
        fprintf(stderr, "github client: %s\n", err.message);
    return fx->gh ? 0 : -1;
}

static void wfx_teardown(wfx_t *fx)
{
    if (fx->gh)
        gr_github_client_free(fx->gh);
    gr_http_client_free(fx->http);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&fx->loop) == 0);
    gr_config_doc_free(fx->doc);
    gr_log_free(fx->log);
}

static char *sign(const char *secret, const void *body, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), body, len, md, &n);
    char *out = malloc(7 + 2 * n + 1);
    strcpy(out, "sha256=");
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 7 + 2 * i, "%02x", md[i]);
    return out;
}

TEST(github_docs_vector_verifies)
{
    struct json_object *v =
        json_object_from_file(GR_TEST_TESTDATA "/webhooks/signature/github-docs-test-vector.json");
    REQUIRE(v);
    struct json_object *o;
    REQUIRE(json_object_object_get_ex(v, "secret", &o));
    const char *secret = json_object_get_string(o);
    REQUIRE(json_object_object_get_ex(v, "payload", &o));
    const char *payload = json_object_get_string(o);
    REQUIRE(json_object_object_get_ex(v, "x_hub_signature_256", &o));
    const char *header = json_object_get_string(o);

    /* Our reference HMAC agrees with GitHub's published answer... */
    char *ours = sign(secret, payload, strlen(payload));
    CHECK_STR(ours, header);
    free(ours);

    /* ...and so does the host, with the secret in integrations.github. */
    char *yaml = gr_xasprintf("integrations:\n  github:\n    - host: github.com\n"
                              "      webhookSecret: \"%s\"\n",
                              secret);
    wfx_t fx;
    REQUIRE(wfx_setup(&fx, yaml) == 0);
    free(yaml);
    CHECK(gr_github_webhook_verify(fx.http, payload, strlen(payload), header) == 0);
    /* Upper-case hex digits are the same number. */
    char upper[128];
    snprintf(upper, sizeof upper, "%s", header);
    for (char *c = upper + 7; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    CHECK(gr_github_webhook_verify(fx.http, payload, strlen(payload), upper) == 0);
    /* One byte more or less of body, and the signature no longer holds. */
    CHECK(gr_github_webhook_verify(fx.http, payload, strlen(payload) - 1, header) ==
          GR_ERR_INVALID);
    CHECK(gr_github_webhook_verify(fx.http, "Hello, World!\n", 14, header) == GR_ERR_INVALID);
    wfx_teardown(&fx);
    json_object_put(v);
}

TEST(wrong_missing_truncated_and_malformed_signatures_fail)
{
    wfx_t fx;
    REQUIRE(wfx_setup(&fx, "integrations:\n  github:\n    - host: github.com\n"
                           "      webhookSecret: s3cret\n") == 0);
    const char body[] = "{\"zen\":\"Keep it logically awesome.\"}";
    char *good = sign("s3cret", body, sizeof body - 1);
    char *other = sign("not-the-secret", body, sizeof body - 1);
    CHECK(gr_github_webhook_verify(fx.http, body, sizeof body - 1, good) == 0);
    CHECK(gr_github_webhook_verify(fx.http, body, sizeof body - 1, other) == GR_ERR_INVALID);
    CHECK(gr_github_webhook_verify(fx.http, body, sizeof body - 1, NULL) == GR_ERR_INVALID);
    CHECK(gr_github_webhook_verify(fx.http, body, sizeof body - 1, "") == GR_ERR_INVALID);

    char buf[160];
    snprintf(buf, sizeof buf, "%.*s", (int)strlen(good) - 1, good); /* one digit short */
    CHECK(gr_github_webhook_verify(fx.http, body, sizeof body - 1, buf) == GR_ERR_INVALID);
    snprintf(buf, sizeof buf, "%.20s", good);
    CHECK(gr_github_webhook_verify(fx.http, body, sizeof body - 1, buf) == GR_ERR_INVALID);
    snprintf(buf, sizeof buf, "%s0", good); /* one digit too many */
    CHECK(gr_github_webhook_verify(fx.http, body, sizeof body - 1, buf) == GR_ERR_INVALID);
    snprintf(buf, sizeof buf, "sha1=%s", good + 7);
    CHECK(gr_github_webhook_verify(fx.http, body, sizeof body - 1, buf) == GR_ERR_INVALID);
    snprintf(buf, sizeof buf, "%s", good + 7); /* no "sha256=" */
    CHECK(gr_github_webhook_verify(fx.http, body, sizeof body - 1, buf) == GR_ERR_INVALID);
    snprintf(buf, sizeof buf, "%s", good);
    buf[10] = 'g'; /* not hex */
    CHECK(gr_github_webhook_verify(fx.http, body, sizeof body - 1, buf) == GR_ERR_INVALID);
    free(good);
    free(other);
    wfx_teardown(&fx);
}

TEST(any_integration_or_app_secret_matches)
{
    /* An App needs a private key that loads: a fresh one, as a YAML block. */
    EVP_PKEY *pkey = EVP_RSA_gen(2048);
    REQUIRE(pkey);
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
    char *pem = NULL;
    long pem_len = BIO_get_mem_data(bio, &pem);
    gr_buf_t key = {0};
    for (long i = 0; i < pem_len;) {
        long j = i;
        while (j < pem_len && pem[j] != '\n')
            j++;
        gr_buf_printf(&key, "            %.*s\n", (int)(j - i), pem + i);
        i = j + 1;
    }
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    char *yaml = gr_xasprintf(
        "integrations:\n  github:\n"
        "    - host: github.com\n      webhookSecret: first\n"
        "    - host: ghe.example.com\n      apiBaseUrl: https://ghe.example.com/api/v3\n"
        "      apps:\n        - appId: 7\n"
        "          webhookSecret: app-secret\n"
        "          privateKey: |\n%s",
        key.data);
    gr_buf_free(&key);
    wfx_t fx;
    int rc = wfx_setup(&fx, yaml);
    free(yaml);
    REQUIRE(rc == 0);
    const char body[] = "{}";
    const char *secrets[] = {"first", "app-secret"};
    for (int i = 0; i < 2; i++) {
        char *sig = sign(secrets[i], body, 2);
        CHECK(gr_github_webhook_verify(fx.http, body, 2, sig) == 0);
        free(sig);
    }
    char *sig = sign("nobody's", body, 2);
    CHECK(gr_github_webhook_verify(fx.http, body, 2, sig) == GR_ERR_INVALID);
    free(sig);
    /* An empty body is signed too. */
    sig = sign("first", "", 0);
    CHECK(gr_github_webhook_verify(fx.http, "", 0, sig) == 0);
    free(sig);
    wfx_teardown(&fx);
}

TEST(no_secret_configured_is_unsupported)
{
    wfx_t fx;
    REQUIRE(wfx_setup(&fx, "integrations:\n  github:\n    - host: github.com\n"
                           "      token: abc\n") == 0);
    char *sig = sign("anything", "{}", 2);
    CHECK(gr_github_webhook_verify(fx.http, "{}", 2, sig) == GR_ERR_UNSUPPORTED);
    CHECK(gr_github_webhook_verify(fx.http, "{}", 2, NULL) == GR_ERR_UNSUPPORTED);
    /* No HTTP client, no GitHub client: the same. */
    CHECK(gr_github_webhook_verify(NULL, "{}", 2, sig) == GR_ERR_UNSUPPORTED);
    free(sig);
    wfx_teardown(&fx);
}

TEST_MAIN(TEST_ENTRY(github_docs_vector_verifies),
          TEST_ENTRY(wrong_missing_truncated_and_malformed_signatures_fail),
          TEST_ENTRY(any_integration_or_app_secret_matches),
          TEST_ENTRY(no_secret_configured_is_unsupported))
