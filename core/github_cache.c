/* core/github_cache.c: the in-memory ETag store (see github_cache.h).
 *
 * A chained hash table for lookups plus a doubly linked list in recency
 * order for eviction. */
#include "github_cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define DEFAULT_MAX_ENTRIES 2000u
#define DEFAULT_MAX_BYTES ((size_t)32 * 1024 * 1024)

typedef struct mem_item {
    char *key;
    uint64_t hash;
    gr_github_cache_entry_t *entry;
    size_t bytes;
    struct mem_item *chain;         /* next in the same bucket */
    struct mem_item *newer, *older; /* recency list */
} mem_item_t;

typedef struct mem_cache {
    gr_github_cache_t ops; /* first: the cache pointer is the mem_cache pointer */
    mem_item_t **buckets;
    size_t nbuckets;
    size_t count;
    size_t bytes;
    size_t max_entries;
    size_t max_bytes;
    mem_item_t *newest, *oldest;
} mem_cache_t;

static char *dup_or_null(const char *s)
{
    return s ? gr_xstrdup(s) : NULL;
}

gr_github_cache_entry_t *gr_github_cache_entry_dup(const gr_github_cache_entry_t *e)
{
    gr_github_cache_entry_t *d = gr_xcalloc(1, sizeof *d);
    d->etag = dup_or_null(e->etag);
    d->last_modified = dup_or_null(e->last_modified);
    d->link = dup_or_null(e->link);
    d->content_type = dup_or_null(e->content_type);
    d->body = gr_xmalloc(e->body_len + 1);
    if (e->body_len)
        memcpy(d->body, e->body, e->body_len);
    d->body[e->body_len] = '\0';
    d->body_len = e->body_len;
    return d;
}

void gr_github_cache_entry_free(gr_github_cache_entry_t *e)
{
    if (!e)
        return;
    free(e->etag);
    free(e->last_modified);
    free(e->link);
    free(e->content_type);
    free(e->body);
    free(e);
}


static mem_item_t **find_slot(mem_cache_t *c, const char *key, uint64_t h)
{
    mem_item_t **slot = &c->buckets[h % c->nbuckets];
    while (*slot && ((*slot)->hash != h || strcmp((*slot)->key, key) != 0))
        slot = &(*slot)->chain;
    return slot;
}

static void list_unlink(mem_cache_t *c, mem_item_t *it)
{
    if (it->newer)
        it->newer->older = it->older;
    else
        c->newest = it->older;
    if (it->older)
        it->older->newer = it->newer;
    else
        c->oldest = it->newer;
    it->newer = it->older = NULL;
}

static void list_push_newest(mem_cache_t *c, mem_item_t *it)
{
    it->older = c->newest;
    it->newer = NULL;
    if (c->newest)
        c->newest->newer = it;
    c->newest = it;
    if (!c->oldest)
        c->oldest = it;
}

static void item_remove(mem_cache_t *c, mem_item_t *it)
{
    mem_item_t **slot = find_slot(c, it->key, it->hash);
    *slot = it->chain;
    list_unlink(c, it);
    c->count--;
    c->bytes -= it->bytes;
    free(it->key);
    gr_github_cache_entry_free(it->entry);
    free(it);
}

static void mem_get(gr_github_cache_t *cache, const char *key, gr_github_cache_get_fn done,
                    void *user_data)
{
    mem_cache_t *c = (mem_cache_t *)cache;
    mem_item_t *it = *find_slot(c, key, gr_hash_string(key));
    if (!it) {
        done(NULL, user_data);
        return;
    }
    list_unlink(c, it);
    list_push_newest(c, it);
    done(gr_github_cache_entry_dup(it->entry), user_data);
}

static void mem_put(gr_github_cache_t *cache, const char *key, const gr_github_cache_entry_t *e)
{
    mem_cache_t *c = (mem_cache_t *)cache;
    size_t bytes = e->body_len + strlen(key);
    if (bytes > c->max_bytes)
        return;
    uint64_t h = gr_hash_string(key);
    mem_item_t *old = *find_slot(c, key, h);
    if (old)
        item_remove(c, old);
    while (c->oldest && (c->count + 1 > c->max_entries || c->bytes + bytes > c->max_bytes))
        item_remove(c, c->oldest);
    mem_item_t *it = gr_xcalloc(1, sizeof *it);
    it->key = gr_xstrdup(key);
    it->hash = h;
    it->entry = gr_github_cache_entry_dup(e);
    it->bytes = bytes;
    mem_item_t **slot = &c->buckets[h % c->nbuckets];
    it->chain = *slot;
    *slot = it;
    list_push_newest(c, it);
    c->count++;
    c->bytes += bytes;
}

static void mem_destroy(gr_github_cache_t *cache)
{
    mem_cache_t *c = (mem_cache_t *)cache;
    while (c->oldest)
        item_remove(c, c->oldest);
    free(c->buckets);
    free(c);
}

gr_github_cache_t *gr_github_cache_memory_new(size_t max_entries, size_t max_bytes)
{
    mem_cache_t *c = gr_xcalloc(1, sizeof *c);
    c->ops.get = mem_get;
    c->ops.put = mem_put;
    c->ops.destroy = mem_destroy;
    c->max_entries = max_entries ? max_entries : DEFAULT_MAX_ENTRIES;
    c->max_bytes = max_bytes ? max_bytes : DEFAULT_MAX_BYTES;
    c->nbuckets = 1;
    while (c->nbuckets < c->max_entries)
        c->nbuckets *= 2;
    c->buckets = gr_xcalloc(c->nbuckets, sizeof *c->buckets);
    return &c->ops;
}
