/* github_events.h: the `github.events` extension point, for modules that act
 * on GitHub webhooks.
 *
 * The github plugin receives POST /api/github/webhook, checks its signature,
 * stores the delivery in PostgreSQL and only then hands it to every
 * subscription whose event (and action) match.  Each subscriber's outcome is
 * stored per delivery: a handler that fails is called again later with the
 * same stored event (with back-off, up to github.webhooks.retry.maxAttempts
 * tries), so it must tolerate seeing a delivery more than once; a delivery
 * GitHub sends twice (same X-GitHub-Delivery) is handed over only once.
 *
 * A module subscribes in its init, after listing the extension point:
 *
 *     static void on_push(github_event_t *ev, void *user_data)
 *     {
 *         ... read ev->payload ...
 *         github_event_done(ev, 0, NULL);          // or an error: retried later
 *     }
 *
 *     static const char *const points[] = {GITHUB_EVENTS_POINT, NULL};
 *     static int my_init(gr_context_t *ctx, gr_error_t *err)
 *     {
 *         const github_events_t *events = gr_extension_point_get(ctx, GITHUB_EVENTS_POINT);
 *         github_subscription_t sub = {.id = "my-module.push", .event = "push",
 *                                      .handler = on_push, .user_data = ctx};
 *         return github_events_subscribe(events, &sub, err);
 *     }
 *     // descriptor: .kind = GR_KIND_MODULE, .plugin_id = "github", .extension_points = points
 *
 * Everything runs on the loop thread.  The handler must not block: it may
 * answer later (after its own database or HTTP calls) by calling
 * github_event_done() exactly once, from any later loop callback.
 */
#ifndef GITHUB_EVENTS_H
#define GITHUB_EVENTS_H

#include <stdint.h>

#include <greenroom/greenroom.h>

#define GITHUB_EVENTS_POINT "github.events"

typedef struct github_event github_event_t;

/* One delivery handed to one subscriber.  Every field is borrowed and lives
 * until github_event_done() is called for it. */
struct github_event {
    uint32_t size;               /* sizeof(github_event_t) in the plugin */
    const char *delivery_id;     /* X-GitHub-Delivery */
    const char *event;           /* X-GitHub-Event: "push", "pull_request", ... */
    const char *action;          /* the payload's "action", or NULL when it has none */
    struct json_object *payload; /* the parsed body; take a reference to keep it longer */
    const char *subscription_id; /* the id it was subscribed with */
    int attempt;                 /* 1 on the first call, 2 on the first retry, ... */
    /* Use github_event_done() rather than calling this. */
    void (*done)(github_event_t *ev, int status, const char *error_message);
};

/* The handler's answer: status 0 when handled, else a negative gr_status_t
 * and a sentence saying what failed (stored and shown in
 * GET /api/github/deliveries).  ev is invalid afterwards. */
static inline void github_event_done(github_event_t *ev, int status, const char *error_message)
{
    ev->done(ev, status, error_message);
}

typedef void (*github_event_handler_fn)(github_event_t *ev, void *user_data);

typedef struct github_subscription {
    /* Unique among subscriptions, and stable across restarts: the stored
     * status of each delivery is kept under it, and retries after a
     * restart find the handler by it.  Letters, digits, '.', '_', '-'. */
    const char *id;
    const char *event;  /* an X-GitHub-Event value, or "*" for every event */
    const char *action; /* the payload's action, or NULL for any */
    github_event_handler_fn handler;
    void *user_data; /* passed to the handler; must live until shutdown */
} github_subscription_t;

typedef struct github_events {
    uint32_t size; /* sizeof(github_events_t) in the plugin */
    /* Use github_events_subscribe(). */
    int (*subscribe)(const struct github_events *self, const github_subscription_t *sub,
                     size_t sub_size, gr_error_t *err);
    void *impl;
} github_events_t;

/* Adds a subscription (its strings are copied).  GR_ERR_INVALID for a
 * missing field or a malformed id, GR_ERR_CONFLICT for an id already
 * subscribed. */
static inline int github_events_subscribe(const github_events_t *events,
                                          const github_subscription_t *sub, gr_error_t *err)
{
    if (!events)
        return gr_error_set(err, GR_ERR_UNSUPPORTED,
                            "github.events is not available: is the github plugin loaded and "
                            "is \"" GITHUB_EVENTS_POINT "\" in the descriptor's extension_points?");
    return events->subscribe(events, sub, sizeof *sub, err);
}

#endif
