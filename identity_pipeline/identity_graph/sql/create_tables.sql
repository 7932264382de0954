-- Identity graph state. Emails and phones appear only as the UID2 hash `dii` uses (base64
-- SHA-256 of the normalized value); anonymous and click IDs as sent, trimmed.

-- Every identifier seen in an event. id_key numbers identifiers by a hash of (type, value),
-- never by first appearance, so connected components do not depend on arrival order.
CREATE TABLE IF NOT EXISTS identity_identifiers (
    id_key         BIGINT NOT NULL,
    id_type        VARCHAR NOT NULL,   -- customer_id | email | phone | anonymous_id | gclid | fbclid
    id_value       VARCHAR NOT NULL,
    first_seen_at  TIMESTAMP NOT NULL,
    first_event_id VARCHAR NOT NULL    -- earliest event (created_at, then event_id) carrying it
);

-- Distinct pairs of identifiers that appeared in one event (key_a < key_b).
-- Both tables change only when something new or earlier arrives: an identifier or event seen
-- again writes nothing, so an incremental run rewrites little (activity counts such as last
-- seen, events and visits belong to the tables built from the events themselves).
CREATE TABLE IF NOT EXISTS identity_links (
    key_a          BIGINT NOT NULL,
    key_b          BIGINT NOT NULL,
    type_a         VARCHAR NOT NULL,
    type_b         VARCHAR NOT NULL,
    first_seen_at  TIMESTAMP NOT NULL,
    first_event_id VARCHAR NOT NULL
);

-- Identifiers excluded from stitching: blocked values and identifiers linking too many
-- others of one type. fan_out counts distinct linked identifiers of linked_type.
CREATE TABLE IF NOT EXISTS identity_hubs (
    id_key            BIGINT NOT NULL,
    id_type           VARCHAR NOT NULL,
    id_value          VARCHAR NOT NULL,
    reason            VARCHAR NOT NULL,   -- 'blocked_value' | 'fan_out'
    blocked_pattern   VARCHAR,
    linked_type       VARCHAR,            -- the type it links most of, relative to its limit
    fan_out           BIGINT NOT NULL,
    max_links         BIGINT,
    first_detected_at TIMESTAMP NOT NULL,
    detected_at       TIMESTAMP NOT NULL
);

-- identifier -> person. Hubs have no row. Rows are rewritten only when they change.
CREATE TABLE IF NOT EXISTS identity_graph (
    id_key        BIGINT NOT NULL,
    id_type       VARCHAR NOT NULL,
    id_value      VARCHAR NOT NULL,
    person_id     VARCHAR NOT NULL,     -- UUID (uuid5 of the person's anchor identifier)
    updated_at    TIMESTAMP NOT NULL    -- when this identifier got this person_id
);

-- One row per live person; the anchor is the earliest-seen identifier (ties: type priority,
-- then value) and person_id = uuid5(namespace, anchor_type || ':' || anchor_value).
CREATE TABLE IF NOT EXISTS identity_persons (
    person_id     VARCHAR NOT NULL,
    anchor_key    BIGINT NOT NULL,
    anchor_type   VARCHAR NOT NULL,
    anchor_value  VARCHAR NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    identifiers   BIGINT NOT NULL,
    customer_ids  BIGINT NOT NULL,
    emails        BIGINT NOT NULL,
    phones        BIGINT NOT NULL,
    anonymous_ids BIGINT NOT NULL,
    click_ids     BIGINT NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);

-- Every retired or split person: old -> new, why, and the event that caused it.
CREATE TABLE IF NOT EXISTS person_merges (
    old_person_id      VARCHAR NOT NULL,
    new_person_id      VARCHAR,          -- NULL when every identifier became a hub
    reason             VARCHAR NOT NULL, -- 'merge' | 'split' | 're_anchor' | 'dissolved'
    caused_by_event_id VARCHAR,
    caused_at          TIMESTAMP,        -- created_at of that event
    recorded_at        TIMESTAMP NOT NULL
);

-- How far the identity_graph asset and the tables built from it have got, one row per name:
-- 'raw_events' = the last raw_events.ingest_seq stitched; 'stitch_run' = the number of the last
-- stitch run; 'persons' and 'person_journal' = the last stitch run each table has caught up with.
CREATE TABLE IF NOT EXISTS identity_graph_state (
    name       VARCHAR NOT NULL,
    position   BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- CRM links already stitched: the customer_dii rows (customer_id -> dii_id) the graph holds.
CREATE TABLE IF NOT EXISTS identity_customer_links (
    customer_id VARCHAR NOT NULL,
    dii_id      BIGINT NOT NULL,
    stitch_run  BIGINT NOT NULL
);

-- Every person (old and new UUIDs) each stitch run re-stitched: the rows `persons` and
-- `person_journal` rebuild. Pruned once both have caught up.
CREATE TABLE IF NOT EXISTS identity_person_changes (
    stitch_run BIGINT NOT NULL,
    person_id  VARCHAR NOT NULL
);

-- The `persons` asset: one row per live person, with activity from identity_events.
-- A visit is a session: a person's events with no gap over 30 minutes between them.
CREATE TABLE IF NOT EXISTS persons (
    person_id         VARCHAR NOT NULL,
    anchor_type       VARCHAR NOT NULL,
    anchor_value      VARCHAR NOT NULL,    -- hashes for email/phone, as in identity_graph
    first_seen_at     TIMESTAMP NOT NULL,
    last_seen_at      TIMESTAMP NOT NULL,
    events            BIGINT NOT NULL,
    visits            BIGINT NOT NULL,
    identifiers       BIGINT NOT NULL,
    customer_id_count BIGINT NOT NULL,
    emails            BIGINT NOT NULL,
    phones            BIGINT NOT NULL,
    anonymous_ids     BIGINT NOT NULL,
    gclids            BIGINT NOT NULL,
    fbclids           BIGINT NOT NULL,
    dii_ids           BIGINT[] NOT NULL,   -- contacts `dii` rows of this person's emails and phones
    customer_ids      VARCHAR[] NOT NULL,  -- CRM customer IDs linked through customer_dii
    updated_at        TIMESTAMP NOT NULL
);

-- Each person's events (newest first when read ORDER BY created_at DESC, event_id DESC).
CREATE TABLE IF NOT EXISTS person_journal (
    person_id   VARCHAR NOT NULL,
    event_id    VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    day         DATE NOT NULL,
    visit       BIGINT NOT NULL,           -- 1-based visit (session) number within the person
    platform    VARCHAR,
    action      VARCHAR,
    properties  JSON,
    value       DOUBLE,
    currency    VARCHAR
);
