-- The chat on LINE [003] (coe ran on LINE): a municipality's LINE channel,
-- the LINE users linked to chat rooms, the webhook events already taken
-- (replays are refused), and the outbox of pushes to LINE (retried until
-- LINE takes them). Also an index on the messages' time for the reports'
-- chat figures (#14).

-- The channel's secret and access token, each sealed like a TOTP secret
-- (`enc1:`, XChaCha20-Poly1305 with the operator's key).
CREATE TABLE line_channels (
    municipality_id INTEGER PRIMARY KEY REFERENCES municipalities(id),
    channel_secret  TEXT NOT NULL,
    access_token    TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- A LINE user (LINE's pseudonymous per-channel id) who joined with an
-- invitation code: their chat account and room. Nothing else of their
-- LINE profile is fetched or kept.
CREATE TABLE line_links (
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    line_user_id    TEXT NOT NULL,
    account_id      INTEGER NOT NULL UNIQUE REFERENCES accounts(id),
    room_id         INTEGER NOT NULL UNIQUE REFERENCES chat_rooms(id),
    linked_at       TEXT NOT NULL,
    PRIMARY KEY (municipality_id, line_user_id)
);

-- Webhook events taken, by LINE's webhookEventId: a replay is refused.
CREATE TABLE line_webhook_events (
    municipality_id  INTEGER NOT NULL REFERENCES municipalities(id),
    webhook_event_id TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    PRIMARY KEY (municipality_id, webhook_event_id)
);

-- Pushes to LINE, stored with the message (or the help lines) they carry,
-- sent by a background job and tried again until LINE takes them; the
-- text is emptied once sent. `dedupe_key` keeps a push once when the
-- webhook that caused it is redelivered.
CREATE TABLE line_outbox (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    room_id         INTEGER REFERENCES chat_rooms(id),
    line_user_id    TEXT NOT NULL,
    body            TEXT NOT NULL,
    dedupe_key      TEXT,
    created_at      TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- the last failure's HTTP status or kind (never a body)
    last_error      TEXT,
    sent_at         TEXT,
    UNIQUE (municipality_id, dedupe_key)
);
CREATE INDEX line_outbox_due ON line_outbox(municipality_id, next_attempt_at) WHERE sent_at IS NULL;

-- Reports (#14): the chat's figures of a fiscal year count messages by their time.
CREATE INDEX chat_messages_municipality_sent ON chat_messages(municipality_id, sent_at);
