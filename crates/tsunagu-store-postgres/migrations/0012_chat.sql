-- Peer-support chat [003]: the PostgreSQL counterpart of the SQLite
-- store's 0012_chat.sql, with native types. No column here holds a real
-- name: a parent is a chat account known by the display name they chose.

CREATE TABLE chat_supporters (
    account_id              BIGINT PRIMARY KEY REFERENCES accounts(id),
    municipality_id         BIGINT NOT NULL REFERENCES municipalities(id),
    profession              TEXT CHECK (profession IN ('medical', 'childcare', 'education')),
    raising_toddler         BOOLEAN NOT NULL,
    no_parenting_experience BOOLEAN NOT NULL,
    capacity                SMALLINT NOT NULL CHECK (capacity BETWEEN 1 AND 10),
    state                   TEXT NOT NULL CHECK (state IN ('registered', 'active', 'suspended')),
    registered_at           TIMESTAMPTZ NOT NULL,
    CHECK (NOT (raising_toddler AND no_parenting_experience))
);
CREATE INDEX chat_supporters_municipality ON chat_supporters(municipality_id);

-- Only the SHA-256 of a code.
CREATE TABLE chat_invitations (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    code_hash       TEXT NOT NULL UNIQUE,
    issued_by       BIGINT NOT NULL,
    issued_at       TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    used_at         TIMESTAMPTZ
);

-- The nurse-side link, read only to raise an escalation's referral.
CREATE TABLE chat_invitation_families (
    invitation_id   BIGINT PRIMARY KEY REFERENCES chat_invitations(id),
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    family_id       BIGINT NOT NULL REFERENCES families(id)
);

CREATE TABLE chat_rooms (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    parent_account  BIGINT NOT NULL UNIQUE REFERENCES accounts(id),
    invitation_id   BIGINT NOT NULL UNIQUE REFERENCES chat_invitations(id),
    consent_at      TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    last_seq        BIGINT NOT NULL DEFAULT 0,
    urgent_at       TIMESTAMPTZ,
    escalated_at    TIMESTAMPTZ
);
CREATE INDEX chat_rooms_municipality ON chat_rooms(municipality_id, id);

CREATE TABLE chat_team_members (
    room_id           BIGINT NOT NULL REFERENCES chat_rooms(id),
    slot              TEXT NOT NULL CHECK (slot IN ('professional', 'raising_toddler', 'no_parenting_experience')),
    supporter_account BIGINT NOT NULL REFERENCES chat_supporters(account_id),
    since             TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (room_id, slot),
    UNIQUE (room_id, supporter_account)
);
CREATE INDEX chat_team_members_supporter ON chat_team_members(supporter_account);

CREATE TABLE chat_messages (
    room_id         BIGINT NOT NULL REFERENCES chat_rooms(id),
    seq             BIGINT NOT NULL,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    author_account  BIGINT NOT NULL REFERENCES accounts(id),
    author_role     TEXT NOT NULL CHECK (author_role IN ('chat_parent', 'peer_supporter')),
    client_id       TEXT NOT NULL,
    body            TEXT NOT NULL,
    sent_at         TIMESTAMPTZ NOT NULL,
    self_harm       BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (room_id, seq),
    UNIQUE (room_id, client_id)
);

CREATE TABLE chat_reads (
    room_id       BIGINT NOT NULL REFERENCES chat_rooms(id),
    account_id    BIGINT NOT NULL REFERENCES accounts(id),
    last_read_seq BIGINT NOT NULL,
    PRIMARY KEY (room_id, account_id)
);

CREATE TABLE chat_escalations (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    room_id         BIGINT NOT NULL REFERENCES chat_rooms(id),
    message_seq     BIGINT,
    raised_by       BIGINT NOT NULL,
    raised_at       TIMESTAMPTZ NOT NULL,
    referral_id     BIGINT NOT NULL REFERENCES referrals(id)
);
CREATE INDEX chat_escalations_raised_by ON chat_escalations(municipality_id, raised_by, raised_at);

CREATE TABLE chat_help_lines (
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    position        INTEGER NOT NULL,
    name_ja         TEXT NOT NULL,
    name_en         TEXT NOT NULL,
    number          TEXT NOT NULL,
    hours_ja        TEXT NOT NULL,
    source          TEXT NOT NULL,
    PRIMARY KEY (municipality_id, position)
);
