-- Webhook deliveries as GitHub sent them, one row per X-GitHub-Delivery id.
-- The payload is kept as text, byte for byte what was signed (or the form's
-- decoded payload field): jsonb would refuse "\u0000" inside a string, and a
-- delivery GitHub will not send again must never be refused for that.
CREATE TABLE deliveries (
    id bigserial PRIMARY KEY,
    delivery_id text NOT NULL UNIQUE,
    event text NOT NULL,
    action text,
    payload text NOT NULL,
    received_at timestamptz NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now(),
    spooled boolean NOT NULL DEFAULT false
);
CREATE INDEX deliveries_newest ON deliveries (received_at DESC, id DESC);

-- How each subscriber of github.events handled each delivery.  A row is
-- due for a (re)try when its status is not 'succeeded' and next_attempt_at
-- has passed; while a handler runs, next_attempt_at is its deadline, so a
-- handler that never answers (or a host that died) is retried too.
CREATE TABLE delivery_subscribers (
    delivery bigint NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    subscriber text NOT NULL,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    error text,
    next_attempt_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (delivery, subscriber)
);
CREATE INDEX delivery_subscribers_due ON delivery_subscribers (next_attempt_at)
    WHERE status <> 'succeeded' AND next_attempt_at IS NOT NULL;
