/* core/github_webhook.c: checking a webhook delivery's X-Hub-Signature-256
 * on the host's side, so a plugin never holds a webhook secret.
 *
 * GitHub signs the exact body bytes with HMAC-SHA256 under the hook's secret
 * and sends "sha256=<64 lower-case hex digits>".  Several integrations (and
 * each of their Apps) may have a secret; a delivery is genuine when any of
 * them produced its signature.  Every secret is tried, matched or not, and
 * digests are compared with CRYPTO_memcmp, so the time taken tells an
 * attacker nothing about how close a forged signature came. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "api_impl.h"
#include "github_client.h"
#include "http_client.h"
#include "util.h"

#define GR__SHA256_LEN 32

/* "sha256=" and exactly 64 hex digits (surrounding blanks tolerated, as a
 * proxy may add them) into out; -1 for anything else, a truncated
 * signature included. */
static int gr__parse_signature(const char *header, unsigned char out[GR__SHA256_LEN])
{
    static const char prefix[] = "sha256=";
    while (*header == ' ' || *header == '\t')
        header++;
    if (strncmp(header, prefix, sizeof prefix - 1) != 0)
        return -1;
    const char *hex = header + sizeof prefix - 1;
    for (size_t i = 0; i < GR__SHA256_LEN; i++) {
        int hi = gr_hex_value(hex[2 * i]);
        int lo = hi < 0 ? -1 : gr_hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    for (const char *rest = hex + 2 * GR__SHA256_LEN; *rest; rest++)
        if (*rest != ' ' && *rest != '\t')
            return -1;
    return 0;
}

int gr__github_webhook_verify(gr_http_client_t *http, const void *body, size_t len,
                              const char *signature_header)
{
    struct gr_github_client *gh = http ? gr_http_client_github(http) : NULL;
    gr_strvec_t secrets = {0};
    if (gh)
        gr_github_client_webhook_secrets(gh, &secrets);
    if (secrets.len == 0)
        return GR_ERR_UNSUPPORTED;

    unsigned char want[GR__SHA256_LEN];
    int rc = GR_ERR_INVALID;
    if (signature_header && gr__parse_signature(signature_header, want) == 0) {
        static const unsigned char empty = 0;
        int matched = 0;
        for (size_t i = 0; i < secrets.len; i++) {
            unsigned char got[EVP_MAX_MD_SIZE];
            unsigned int got_len = 0;
            const char *secret = secrets.items[i];
            if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), len ? body : &empty, len, got,
                      &got_len) ||
                got_len != GR__SHA256_LEN)
                continue;
            matched |= CRYPTO_memcmp(got, want, GR__SHA256_LEN) == 0;
        }
        if (matched)
            rc = 0;
    }
    /* The copies held secrets: wipe them before they go back to the heap. */
    for (size_t i = 0; i < secrets.len; i++)
        OPENSSL_cleanse(secrets.items[i], strlen(secrets.items[i]));
    gr_strvec_free(&secrets);
    return rc;
}
