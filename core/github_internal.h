/* core/github_internal.h: what the github_*.c units share.
 *
 * A call ("op") moves through these steps, each of which may park it in a
 * queue and resume it later from the client's ready queue:
 *   1. credential: the integration's token, or the App installation of the
 *      call's owner (found by asking GitHub, once per owner);
 *   2. secret: an installation token that exists and is not about to expire
 *      (else one exchange per installation, the others wait for it);
 *   3. rate limit: no known limit on that credential forbids sending now;
 *   4. ETag cache lookup for a GET;
 *   5. the HTTP call.
 * Internal calls (installation lookups and token exchanges) are ops too,
 * with the App's JWT credential fixed in advance.
 */
#ifndef GR_CORE_GITHUB_INTERNAL_H
#define GR_CORE_GITHUB_INTERNAL_H

#include <stdint.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <uv.h>

#include "github_cache.h"
#include "github_client.h"
#include "http_client.h"
#include "util.h"

typedef struct gh_op gh_op_t;
typedef struct gh_cred gh_cred_t;

typedef struct gh_queue {
    gh_op_t *head, *tail;
} gh_queue_t;

typedef enum gh_cred_kind {
    GH_CRED_ANONYMOUS = 0,
    GH_CRED_TOKEN,       /* a configured token: "Authorization: token ..." */
    GH_CRED_APP,         /* an App's JWT: "Authorization: Bearer ..." */
    GH_CRED_INSTALLATION /* an installation token: "Authorization: token ..." */
} gh_cred_kind_t;

/* One X-RateLimit-Resource as last reported for a credential. */
typedef struct gh_rate {
    char *resource;
    long limit, remaining, used;
    int64_t reset_epoch;
    struct gh_rate *next;
} gh_rate_t;

typedef struct gh_app {
    char *app_id;
    EVP_PKEY *key;
    int64_t installation_id; /* 0: looked up per owner */
    char *webhook_secret;
    gh_cred_t *jwt; /* the App itself */
} gh_app_t;

struct gh_cred {
    gr_github_t *gh;
    gh_cred_kind_t kind;
    char *identity;          /* for cache keys and logs: never the secret */
    char *secret;            /* token or JWT; NULL when anonymous or not fetched */
    int64_t expires_ms;      /* wall clock; 0: never */
    int64_t fetched_ms;      /* wall clock when the secret was obtained */
    gh_app_t *app;           /* GH_CRED_APP and GH_CRED_INSTALLATION */
    int64_t installation_id; /* GH_CRED_INSTALLATION */
    int refreshing;
    gh_queue_t token_waiters;
    gh_rate_t *rates;
    uint64_t blocked_until; /* monotonic ms, from a rate-limit answer */
    gh_queue_t rate_waiters;
    gh_cred_t *next;
};

/* Which App installation serves an account. */
typedef struct gh_owner {
    gr_github_t *gh;
    char *owner; /* lower case */
    gh_cred_t *cred;
    int looking_up;
    size_t app_index; /* the App being asked */
    int step;         /* 0 repository, 1 organisation, 2 user */
    char *repo;       /* the repository the lookup may use */
    gh_queue_t waiters;
    struct gh_owner *next;
} gh_owner_t;

struct gr_github {
    const gr_host_api_t *api;
    gr_github_client_t *client;
    char *host;
    char *api_base; /* no trailing slash */
    char *graphql_url;
    char *origin;            /* scheme://authority of api_base */
    gh_cred_t *default_cred; /* token, or the anonymous credential */
    gh_app_t *apps;
    size_t napps;
    gh_cred_t *creds; /* every credential of this integration */
    gh_owner_t *owners;
    gr_strvec_t webhook_secrets;
    gr_github_t *next;
};

typedef enum gh_op_state {
    GH_OP_READY = 0,
    GH_OP_QUEUED,
    GH_OP_CACHE,
    GH_OP_IN_FLIGHT
} gh_op_state_t;

struct gh_op {
    gr_github_t *gh;
    char *method;
    char *url;
    char *path_for_log; /* url relative to the API, without query */
    char *body;
    char *accept;
    char *owner;
    char *repo;
    const char *resource; /* the rate-limit bucket it probably draws on */
    uint64_t timeout_ms;
    int no_cache;
    int internal;         /* a lookup or exchange made by the client itself */
    gr_error_t start_err; /* set when the call cannot even start */

    gh_cred_t *cred;
    int cred_resolved;
    int cache_checked;
    char *cache_key;
    gr_github_cache_entry_t *cached;
    int rate_waits;
    int auth_retried;
    int token_fresh; /* resumed by the exchange it waited for */

    gr_github_fn cb;
    void *user_data;
    gh_op_state_t state;
    gh_queue_t *queue;
    gh_op_t *q_prev, *q_next;
    gh_op_t *all_prev, *all_next;
};

struct gr_github_response {
    const gr_host_api_t *api;
    int status;
    const gr_http_response_t *http;
    const gr_github_cache_entry_t *cached; /* when served from the cache */
    const char *body;
    size_t body_len;
    json_object *json;
    int json_parsed;
};

struct gr_github_client {
    uv_loop_t *loop;
    gr_log_t *log;
    gr_http_client_t *http;
    gr_github_t *integrations;
    gr_github_cache_t *cache;
    uv_timer_t kick; /* runs the ready queue on the next loop turn */
    uv_timer_t wake; /* wakes calls waiting for a rate limit */
    uint64_t wake_at;
    gh_queue_t ready;
    gh_op_t *ops; /* every unfinished call */
    size_t nops;
    int open_handles;
    int shut;
    int freeing;
    uint64_t max_wait_ms;
    int max_rate_waits;
    uint64_t refresh_margin_ms;

    gr_metric_t *m_remaining;  /* github_rate_limit_remaining{resource} */
    gr_metric_t *m_limit;      /* github_rate_limit_limit{resource} */
    gr_metric_t *m_requests;   /* github_requests_total{status} */
    gr_metric_t *m_cache_hits; /* github_cache_hits_total */
    gr_metric_t *m_waits;      /* github_rate_limit_waits_total */
};

/* ---- github_client.c ----------------------------------------------------- */

/* Creates a call (not started).  path is relative to the API or absolute on
 * the integration's own origin; anything else fails the call once started. */
gh_op_t *gh_op_new(gr_github_t *gh, const char *method, const char *path);
/* Queues the call to run from the loop; cb runs exactly once. */
void gh_op_start(gh_op_t *op, gr_github_fn cb, void *user_data);
/* Queues an op that was parked. */
void gh_op_resume(gh_op_t *op);
/* Parks op in q. */
void gh_queue_push(gh_queue_t *q, gh_op_t *op);
/* Moves every op of q to the ready queue. */
void gh_queue_resume_all(gh_queue_t *q);
/* Fails every op of q with err. */
void gh_queue_fail_all(gh_queue_t *q, const gr_error_t *err);
/* Wall clock in milliseconds since 1970. */
int64_t gh_wall_ms(void);
/* Looks a dotted path up in a JSON object; NULL when a step is missing. */
json_object *gh_json_path(json_object *root, const char *path);
__attribute__((format(printf, 3, 4))) void gh_log(gr_github_client_t *c, int level, const char *fmt,
                                                  ...);

/* ---- github_auth.c ------------------------------------------------------- */

/* Loads an RSA private key from PEM text (literal "\n" sequences, as in an
 * environment variable, are accepted).  NULL with err filled. */
EVP_PKEY *gh_key_load(const char *pem, gr_error_t *err);
/* A JWT for the App, valid from 60 s ago for 9 minutes. */
char *gh_jwt_mint(const gh_app_t *app, int64_t now_s, int64_t *exp_s, gr_error_t *err);
gh_cred_t *gh_cred_new(gr_github_t *gh, gh_cred_kind_t kind, const char *identity);
gh_cred_t *gh_cred_installation(gr_github_t *gh, gh_app_t *app, int64_t installation_id);
void gh_cred_free(gh_cred_t *cred);
/* Step 1: 0 when op->cred is decided, 1 when op was parked, or a negative
 * status with err filled. */
int gh_auth_resolve(gh_op_t *op, gr_error_t *err);
/* Step 2: 0 when op->cred's secret is usable, 1 when op was parked, or a
 * negative status with err filled. */
int gh_auth_ready(gh_op_t *op, gr_error_t *err);
/* Forgets an installation token GitHub refused. */
void gh_auth_invalidate(gh_cred_t *cred);
/* Fails every call waiting on credentials (shutdown). */
void gh_auth_fail_waiters(gr_github_t *gh, const gr_error_t *err);
void gh_owner_free_all(gr_github_t *gh);

#endif
