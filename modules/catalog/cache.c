/* modules/catalog/cache.c: a short-lived cache of response bodies for the
 * catalog's hottest reads (by-name, and the unfiltered entity list).
 *
 * Entries live for `ttl_ms`.  A mutation committed by this host clears the
 * cache at once; one committed by another host sharing the database shows
 * here within ttl_ms, the price of answering without a database round
 * trip.  A read that started before a clear must not store what it read,
 * so puts carry the generation seen when the read began.  When the bodies
 * held pass max_bytes, expired entries are dropped, then everything. */
#include <stdlib.h>
#include <string.h>

#include "catalog_plugin.h"

typedef struct entry {
    char *key;
    char *body;
    size_t len;
    uint64_t expires_ms;
    struct entry *next;
} entry_t;

struct catalog_cache {
    uint64_t ttl_ms;
    size_t max_bytes;
    size_t bytes;
    size_t count;
    uint64_t generation;
    entry_t **buckets;
    size_t nbuckets; /* a power of two */
};


catalog_cache_t *catalog_cache_new(uint64_t ttl_ms, size_t max_bytes)
{
    catalog_cache_t *c = gr_xcalloc(1, sizeof *c);
    c->ttl_ms = ttl_ms;
    c->max_bytes = max_bytes;
    c->nbuckets = 1024;
    c->buckets = gr_xcalloc(c->nbuckets, sizeof *c->buckets);
    return c;
}

static void entry_free(catalog_cache_t *c, entry_t *e)
{
    c->bytes -= e->len;
    c->count--;
    free(e->key);
    free(e->body);
    free(e);
}

void catalog_cache_clear(catalog_cache_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (entry_t *e = c->buckets[i], *next; e; e = next) {
            next = e->next;
            entry_free(c, e);
        }
        c->buckets[i] = NULL;
    }
    c->generation++;
}

void catalog_cache_free(catalog_cache_t *c)
{
    if (!c)
        return;
    catalog_cache_clear(c);
    free(c->buckets);
    free(c);
}

uint64_t catalog_cache_generation(const catalog_cache_t *c)
{
    return c ? c->generation : 0;
}

const char *catalog_cache_get(catalog_cache_t *c, const char *key, uint64_t now_ms, size_t *len)
{
    if (!c || !c->ttl_ms)
        return NULL;
    entry_t **at = &c->buckets[gr_hash_string(key) & (c->nbuckets - 1)];
    for (entry_t *e; (e = *at); at = &e->next) {
        if (strcmp(e->key, key) != 0)
            continue;
        if (e->expires_ms <= now_ms) {
            *at = e->next;
            entry_free(c, e);
            return NULL;
        }
        *len = e->len;
        return e->body;
    }
    return NULL;
}

/* Drops expired entries; returns how many bytes remain. */
static size_t sweep(catalog_cache_t *c, uint64_t now_ms)
{
    for (size_t i = 0; i < c->nbuckets; i++) {
        entry_t **at = &c->buckets[i];
        for (entry_t *e; (e = *at);) {
            if (e->expires_ms <= now_ms) {
                *at = e->next;
                entry_free(c, e);
            } else {
                at = &e->next;
            }
        }
    }
    return c->bytes;
}

static void grow(catalog_cache_t *c)
{
    size_t n = c->nbuckets * 2;
    entry_t **buckets = gr_xcalloc(n, sizeof *buckets);
    for (size_t i = 0; i < c->nbuckets; i++)
        for (entry_t *e = c->buckets[i], *next; e; e = next) {
            next = e->next;
            entry_t **at = &buckets[gr_hash_string(e->key) & (n - 1)];
            e->next = *at;
            *at = e;
        }
    free(c->buckets);
    c->buckets = buckets;
    c->nbuckets = n;
}

void catalog_cache_put(catalog_cache_t *c, uint64_t generation, const char *key, const char *body,
                       size_t len, uint64_t now_ms)
{
    if (!c || !c->ttl_ms || generation != c->generation || len > c->max_bytes)
        return;
    if (c->bytes + len > c->max_bytes && sweep(c, now_ms) + len > c->max_bytes) {
        uint64_t g = c->generation;
        catalog_cache_clear(c);
        c->generation = g; /* nothing changed in the catalog: reads in flight may still store */
    }
    entry_t **at = &c->buckets[gr_hash_string(key) & (c->nbuckets - 1)];
    for (entry_t *e; (e = *at); at = &e->next)
        if (strcmp(e->key, key) == 0) {
            *at = e->next;
            entry_free(c, e);
            break;
        }
    entry_t *e = gr_xcalloc(1, sizeof *e);
    e->key = gr_xstrdup(key);
    e->body = gr_xmalloc(len + 1);
    memcpy(e->body, body, len);
    e->body[len] = '\0';
    e->len = len;
    e->expires_ms = now_ms + c->ttl_ms;
    size_t b = gr_hash_string(key) & (c->nbuckets - 1);
    e->next = c->buckets[b];
    c->buckets[b] = e;
    c->bytes += len;
    c->count++;
    if (c->count > c->nbuckets * 2)
        grow(c);
}
