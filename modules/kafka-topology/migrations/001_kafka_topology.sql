-- The kafka-topology plugin's tables.  The model tables hold the model of
-- the last successful sync, each row with the file and line it came from;
-- a sync replaces all of them in one transaction (store.c), so readers see
-- one sync or the next, never a mix.  seq is the row's index in the
-- model's array: the model is reloaded in that order at start-up.
-- References between tables are by name, as people query them.  There are
-- no keys or indexes: each table is written whole by one COPY and read
-- whole (ORDER BY seq) at start-up, and on 55,000 edges a primary key
-- alone doubled the COPY's time.

CREATE TABLE files (
    seq    integer NOT NULL,
    path   text NOT NULL,         -- relative to the source
    format text NOT NULL          -- julieops, kafka-gitops, strimzi, plain, ...
);

CREATE TABLE clusters (
    seq       integer NOT NULL,
    name      text NOT NULL,
    bootstrap text,
    declared  boolean NOT NULL,   -- a file describes the cluster itself
    file      text,
    line      integer,
    col       integer
);

CREATE TABLE brokers (
    cluster   text NOT NULL,
    seq       integer NOT NULL,   -- the broker's index in its cluster
    broker_id integer NOT NULL,
    host      text,
    rack      text
);

CREATE TABLE topics (
    seq                integer NOT NULL,
    cluster            text NOT NULL,
    name               text NOT NULL,
    partitions         integer,   -- NULL: the cluster's default
    replication_factor integer,   -- NULL: the cluster's default
    config             jsonb NOT NULL,
    project            text,      -- JulieOps
    data_type          text,      -- JulieOps
    format             text NOT NULL,
    file               text,
    line               integer,
    col                integer,
    rf_line            integer,   -- where the replication factor is written
    rf_col             integer
);

-- Services, users and Connect clusters holding rights on topics.
CREATE TABLE principals (
    seq       integer NOT NULL,
    name      text NOT NULL,
    principal text,               -- the Kafka principal, when the source gives one
    kind      text NOT NULL,      -- application, kafka-streams, kafka-connect, user, platform
    declared  boolean NOT NULL,   -- false: only referenced, never defined
    file      text,
    line      integer,
    col       integer
);

CREATE TABLE connectors (
    seq       integer NOT NULL,
    name      text NOT NULL,
    principal text,               -- the Connect cluster running it
    class     text,
    file      text,
    line      integer,
    col       integer
);

CREATE TABLE streams_apps (
    seq            integer NOT NULL,
    application_id text,
    principal      text NOT NULL,
    file           text,
    line           integer,
    col            integer
);

-- Rights as the files write them: one topic, a prefix, or "*".
CREATE TABLE rights (
    seq        integer NOT NULL,
    owner_kind text NOT NULL,     -- principal or connector
    owner      text NOT NULL,
    access     text NOT NULL,     -- produces or consumes
    pattern    text NOT NULL,     -- literal or prefix
    topic      text NOT NULL,
    cluster    text,              -- NULL: any cluster
    file       text,
    line       integer,
    col        integer
);

-- Rights resolved to topics: who produces to and consumes from what.
CREATE TABLE edges (
    seq           integer NOT NULL,
    from_kind     text NOT NULL,  -- principal or connector
    from_name     text NOT NULL,
    access        text NOT NULL,  -- produces or consumes
    cluster       text NOT NULL,
    topic         text NOT NULL,
    topic_defined boolean NOT NULL,
    file          text,
    line          integer,
    col           integer
);

CREATE TABLE problems (
    seq      integer NOT NULL,
    file     text,
    line     integer,
    col      integer,
    severity text NOT NULL,       -- error or warning
    check_id text NOT NULL,       -- replication-factor, syntax, undefined-topic, ...
    message  text NOT NULL
);

-- The stored model's generation (one more per successful sync, so other
-- hosts notice a new model) and what it was read from.
CREATE TABLE model_state (
    id              integer PRIMARY KEY CHECK (id = 1),
    generation      bigint NOT NULL,
    location_prefix text,
    revision        text,
    synced_at       timestamptz NOT NULL
);

-- The last sync's status document (GET /api/kafka-topology/status), saved
-- by failed syncs too.
CREATE TABLE sync_status (
    id         integer PRIMARY KEY CHECK (id = 1),
    status     jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
