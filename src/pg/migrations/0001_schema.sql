-- Version 1: sessions, their events, images, locks, queue and follow-up suggestions.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE sessions (
    session_id  text PRIMARY KEY,
    metadata    text NOT NULL,            -- metadata.json as written: unknown fields and key order kept
    last_seq    bigint NOT NULL DEFAULT 0,
    -- Set by appends since `metadata` was last written: the metadata read
    -- is `metadata` with event_count = last_seq, updated_at and (when set)
    -- last_user_message_at from these. Writing `metadata` clears them.
    appended_at text,
    user_message_at text,
    -- Bumped when a prune rewrites the log, which it leaves ending at pruned_seq.
    generation  bigint NOT NULL DEFAULT 0,
    pruned_seq  bigint NOT NULL DEFAULT 0
);

CREATE TABLE events (
    session_id text NOT NULL REFERENCES sessions ON DELETE CASCADE,
    seq        bigint NOT NULL,
    line       text NOT NULL,             -- the events.jsonl line, byte for byte
    PRIMARY KEY (session_id, seq)
);
CREATE INDEX events_line_trgm ON events USING gin (lower(line) gin_trgm_ops);
-- The lines a search cannot judge by their lowered text (see src/pg/rows.rs):
-- `\u` escapes, and the two characters that case-fold onto ASCII letters
-- (U+017F onto s, U+212A onto k).
CREATE INDEX events_unusual ON events (session_id, seq)
    WHERE (strpos(line, '\u') > 0 OR strpos(line, chr(383)) > 0 OR strpos(line, chr(8490)) > 0);

CREATE TABLE images (
    session_id text NOT NULL REFERENCES sessions ON DELETE CASCADE,
    image_id   text NOT NULL,
    bytes      bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, image_id)
);

CREATE TABLE locks (
    session_id  text PRIMARY KEY REFERENCES sessions ON DELETE CASCADE,
    instance_id text NOT NULL,
    hostname    text NOT NULL,
    pid         bigint NOT NULL,
    info        text NOT NULL,            -- the lock's JSON (unknown fields kept)
    heartbeat   timestamptz NOT NULL DEFAULT now()   -- stamped by the server's clock
);

-- The queue (doc 'queue') and follow-up suggestions (doc 'action_buttons'),
-- each stored whole as its JSON file is. Every write takes a new version
-- from one sequence, so a version is never reused, even after a removal.
CREATE SEQUENCE document_versions;
CREATE TABLE documents (
    session_id text NOT NULL REFERENCES sessions ON DELETE CASCADE,
    doc        text NOT NULL CHECK (doc IN ('queue', 'action_buttons')),
    content    text NOT NULL,
    version    bigint NOT NULL DEFAULT nextval('document_versions'),
    PRIMARY KEY (session_id, doc)
);

-- Followers LISTEN on channel ags_events. Each insert statement on events
-- sends one notification per session it touched, with payload
-- '<session_id> <highest seq inserted>' (split it at the last space: a
-- session id may hold spaces, a seq never does).
CREATE FUNCTION ags_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ags_events', session_id || ' ' || max(seq))
    FROM inserted
    GROUP BY session_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_notify AFTER INSERT ON events
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION ags_events_notify();
