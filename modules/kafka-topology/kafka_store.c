/* modules/kafka-topology/kafka_store.c: the string storage and the hash
 * tables behind a topology.  A topology of 5,000 topics holds tens of
 * thousands of small strings; an arena keeps them in a few blocks that are
 * freed together, and the tables find a topic or principal by name in
 * constant time where the parsers and checks would otherwise scan. */
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"

#define KAFKA__CHUNK_BYTES (64u * 1024u)

struct kafka__chunk {
    kafka__chunk_t *next;
    size_t used;
    size_t cap;
    _Alignas(8) unsigned char data[];
};

void *kafka__alloc(kafka__arena_t *a, size_t n)
{
    n = (n + 7u) & ~(size_t)7u;
    kafka__chunk_t *c = a->head;
    if (!c || c->cap - c->used < n) {
        /* A request larger than a block gets a block of its own, linked
         * behind the current one so the current one keeps filling. */
        size_t cap = n > KAFKA__CHUNK_BYTES / 4 ? n : KAFKA__CHUNK_BYTES;
        kafka__chunk_t *fresh = gr_xmalloc(sizeof *fresh + cap);
        fresh->used = 0;
        fresh->cap = cap;
        if (c && cap != KAFKA__CHUNK_BYTES) {
            fresh->next = c->next;
            c->next = fresh;
        } else {
            fresh->next = c;
            a->head = fresh;
        }
        c = fresh;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

const char *kafka__strndup(kafka__arena_t *a, const char *s, size_t n)
{
    char *p = kafka__alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

const char *kafka__strdup(kafka__arena_t *a, const char *s)
{
    return s ? kafka__strndup(a, s, strlen(s)) : NULL;
}

void kafka__arena_free(kafka__arena_t *a)
{
    kafka__chunk_t *c = a->head;
    while (c) {
        kafka__chunk_t *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}

/* ---- tables ------------------------------------------------------------------ */

/* The key's hash (gr_hash_string) folded to 32 bits, then the aux number
 * mixed in. */
static uint32_t kafka__hash(const char *s, uint32_t aux)
{
    uint64_t wide = gr_hash_string(s);
    uint32_t h = (uint32_t)(wide ^ (wide >> 32));
    h ^= aux * 0x9e3779b9u;
    h ^= h >> 16;
    return h;
}

static kafka__slot_t *kafka__map_slot(const kafka__map_t *m, const char *key, uint32_t hash,
                                      uint32_t aux)
{
    size_t mask = m->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        kafka__slot_t *s = &m->slots[i];
        if (!s->key || (s->hash == hash && s->aux == aux && strcmp(s->key, key) == 0))
            return s;
    }
}

int kafka__map_get(const kafka__map_t *m, const char *key, uint32_t aux, size_t *value)
{
    if (!m->cap)
        return 0;
    const kafka__slot_t *s = kafka__map_slot(m, key, kafka__hash(key, aux), aux);
    if (!s->key)
        return 0;
    if (value)
        *value = s->value;
    return 1;
}

static void kafka__map_grow(kafka__map_t *m)
{
    kafka__map_t bigger = {.cap = m->cap ? m->cap * 2 : 64};
    bigger.slots = gr_xcalloc(bigger.cap, sizeof *bigger.slots);
    for (size_t i = 0; i < m->cap; i++) {
        const kafka__slot_t *s = &m->slots[i];
        if (s->key)
            *kafka__map_slot(&bigger, s->key, s->hash, s->aux) = *s;
    }
    bigger.len = m->len;
    free(m->slots);
    *m = bigger;
}

void kafka__map_put(kafka__map_t *m, const char *key, uint32_t aux, size_t value)
{
    /* Kept at most half full, so probes stay short. */
    if ((m->len + 1) * 2 > m->cap)
        kafka__map_grow(m);
    uint32_t hash = kafka__hash(key, aux);
    kafka__slot_t *s = kafka__map_slot(m, key, hash, aux);
    if (!s->key)
        m->len++;
    *s = (kafka__slot_t){key, hash, aux, value};
}

void kafka__map_free(kafka__map_t *m)
{
    free(m->slots);
    *m = (kafka__map_t){0};
}
