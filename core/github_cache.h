/* core/github_cache.h: where the GitHub client keeps ETags and bodies.
 *
 * A conditional GET answered 304 costs no rate limit, but only if we still
 * have the body the ETag stands for.  The client talks to its store through
 * this small table so the in-memory store below can later be replaced by
 * one in PostgreSQL (which survives restarts and is shared by several
 * hosts): `get` may answer at once or from a later loop callback.
 *
 * Keys are opaque text built by the client from the credential's identity
 * (never the secret itself), the Accept header and the absolute URL, so two
 * tokens that may see different data never share an entry.
 */
#ifndef GR_CORE_GITHUB_CACHE_H
#define GR_CORE_GITHUB_CACHE_H

#include <stddef.h>

typedef struct gr_github_cache_entry {
    char *etag;          /* ETag as received, or NULL */
    char *last_modified; /* Last-Modified as received, or NULL */
    char *link;          /* Link header, so a cached page still paginates */
    char *content_type;
    char *body; /* NUL-terminated */
    size_t body_len;
} gr_github_cache_entry_t;

/* Receives a lookup's result: an entry the receiver owns and frees with
 * gr_github_cache_entry_free(), or NULL on a miss or a failed lookup. */
typedef void (*gr_github_cache_get_fn)(gr_github_cache_entry_t *entry, void *user_data);

typedef struct gr_github_cache gr_github_cache_t;
struct gr_github_cache {
    /* Calls done exactly once, now or later on the loop (and at the latest
     * before `destroy` returns). */
    void (*get)(gr_github_cache_t *cache, const char *key, gr_github_cache_get_fn done,
                void *user_data);
    /* Stores a copy of entry under key, replacing an older one.  Storing
     * may fail quietly: the next GET is then unconditional. */
    void (*put)(gr_github_cache_t *cache, const char *key, const gr_github_cache_entry_t *entry);
    void (*destroy)(gr_github_cache_t *cache);
};

/* The default store: in memory, least recently used entries dropped first
 * when it holds more than max_entries entries or max_bytes of bodies
 * (0 for each: 2000 entries, 32 MiB). */
gr_github_cache_t *gr_github_cache_memory_new(size_t max_entries, size_t max_bytes);

gr_github_cache_entry_t *gr_github_cache_entry_dup(const gr_github_cache_entry_t *entry);
void gr_github_cache_entry_free(gr_github_cache_entry_t *entry);

#endif
