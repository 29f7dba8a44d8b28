-- Peer-support chat [003]: supporters, one-time invitations (and, apart,
-- the family each was handed to), parents' rooms, teams of three, messages
-- with a per-room sequence, read state, escalations, help lines.
-- No column here holds a real name: a parent is a chat account known by the
-- display name they chose (accounts.display_name).

-- A peer supporter's attributes, stated capacity and vetting state
-- (tsunagu_domain::chat::supporters).
CREATE TABLE chat_supporters (
    account_id              INTEGER PRIMARY KEY REFERENCES accounts(id),
    municipality_id         INTEGER NOT NULL REFERENCES municipalities(id),
    profession              TEXT CHECK (profession IN ('medical', 'childcare', 'education')),
    raising_toddler         INTEGER NOT NULL,
    no_parenting_experience INTEGER NOT NULL,
    capacity                INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 10),
    state                   TEXT NOT NULL CHECK (state IN ('registered', 'active', 'suspended')),
    registered_at           TEXT NOT NULL,
    CHECK (NOT (raising_toddler = 1 AND no_parenting_experience = 1))
);
CREATE INDEX chat_supporters_municipality ON chat_supporters(municipality_id);

-- A one-time invitation a nurse hands out at handbook issue: only the
-- SHA-256 of the code.
CREATE TABLE chat_invitations (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    code_hash       TEXT NOT NULL UNIQUE,
    issued_by       INTEGER NOT NULL,
    issued_at       TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT
);

-- The nurse-side link: which family an invitation was handed to. Read only
-- to raise an escalation's referral (the nurses' side then sees the family).
CREATE TABLE chat_invitation_families (
    invitation_id   INTEGER PRIMARY KEY REFERENCES chat_invitations(id),
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    family_id       INTEGER NOT NULL REFERENCES families(id)
);

-- One private room per parent's chat account.
CREATE TABLE chat_rooms (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    parent_account  INTEGER NOT NULL UNIQUE REFERENCES accounts(id),
    invitation_id   INTEGER NOT NULL UNIQUE REFERENCES chat_invitations(id),
    -- the parent agreed at sign-up that a worry may be passed to the municipality's nurse
    consent_at      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    -- the last message's sequence number (messages are 1..last_seq, no gap)
    last_seq        INTEGER NOT NULL DEFAULT 0,
    -- words of self-harm in a parent's message (first time)
    urgent_at       TEXT,
    -- first escalation
    escalated_at    TEXT
);
CREATE INDEX chat_rooms_municipality ON chat_rooms(municipality_id, id);

-- A room's team: one supporter per place, three different people.
CREATE TABLE chat_team_members (
    room_id           INTEGER NOT NULL REFERENCES chat_rooms(id),
    slot              TEXT NOT NULL CHECK (slot IN ('professional', 'raising_toddler', 'no_parenting_experience')),
    supporter_account INTEGER NOT NULL REFERENCES chat_supporters(account_id),
    since             TEXT NOT NULL,
    PRIMARY KEY (room_id, slot),
    UNIQUE (room_id, supporter_account)
);
CREATE INDEX chat_team_members_supporter ON chat_team_members(supporter_account);

CREATE TABLE chat_messages (
    room_id         INTEGER NOT NULL REFERENCES chat_rooms(id),
    seq             INTEGER NOT NULL,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    author_account  INTEGER NOT NULL REFERENCES accounts(id),
    author_role     TEXT NOT NULL CHECK (author_role IN ('chat_parent', 'peer_supporter')),
    client_id       TEXT NOT NULL,
    body            TEXT NOT NULL,
    sent_at         TEXT NOT NULL,
    self_harm       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, seq),
    UNIQUE (room_id, client_id)
);

CREATE TABLE chat_reads (
    room_id       INTEGER NOT NULL REFERENCES chat_rooms(id),
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    last_read_seq INTEGER NOT NULL,
    PRIMARY KEY (room_id, account_id)
);

-- A supporter's escalation: the referral it became.
CREATE TABLE chat_escalations (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    room_id         INTEGER NOT NULL REFERENCES chat_rooms(id),
    message_seq     INTEGER,
    raised_by       INTEGER NOT NULL,
    raised_at       TEXT NOT NULL,
    referral_id     INTEGER NOT NULL REFERENCES referrals(id)
);
CREATE INDEX chat_escalations_raised_by ON chat_escalations(municipality_id, raised_by, raised_at);

-- A municipality's own help lines, shown before the national ones.
CREATE TABLE chat_help_lines (
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    position        INTEGER NOT NULL,
    name_ja         TEXT NOT NULL,
    name_en         TEXT NOT NULL,
    number          TEXT NOT NULL,
    hours_ja        TEXT NOT NULL,
    source          TEXT NOT NULL,
    PRIMARY KEY (municipality_id, position)
);
