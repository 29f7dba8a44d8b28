-- Foundation: municipalities, areas, venues, accounts, sessions, families,
-- people, pregnancies, babies, and the append-only audit chain.
-- Dates are TEXT 'YYYY-MM-DD'; instants are TEXT RFC 3339 in UTC.

CREATE TABLE municipalities (
    id      INTEGER PRIMARY KEY,
    code    TEXT NOT NULL UNIQUE,
    name_ja TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE areas (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    name_ja         TEXT NOT NULL,
    name_en         TEXT NOT NULL,
    UNIQUE (municipality_id, name_ja)
);

CREATE TABLE venues (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    area_id         INTEGER REFERENCES areas(id),
    kind            TEXT NOT NULL,
    name_ja         TEXT NOT NULL,
    name_en         TEXT NOT NULL
);
CREATE INDEX venues_municipality ON venues(municipality_id);

CREATE TABLE families (
    id                   INTEGER PRIMARY KEY,
    municipality_id      INTEGER NOT NULL REFERENCES municipalities(id),
    area_id              INTEGER NOT NULL REFERENCES areas(id),
    fee_bracket          TEXT NOT NULL CHECK (fee_bracket IN ('taxed', 'non_taxed', 'public_assistance')),
    consent_coordinators INTEGER NOT NULL,
    consent_hubs         INTEGER NOT NULL,
    escalated            INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL
);
CREATE INDEX families_municipality_area ON families(municipality_id, area_id);

CREATE TABLE people (
    id               INTEGER PRIMARY KEY,
    family_id        INTEGER NOT NULL REFERENCES families(id),
    municipality_id  INTEGER NOT NULL REFERENCES municipalities(id),
    relation         TEXT NOT NULL CHECK (relation IN ('mother', 'partner', 'child')),
    family_name      TEXT NOT NULL,
    given_name       TEXT NOT NULL,
    family_name_kana TEXT NOT NULL,
    given_name_kana  TEXT NOT NULL,
    -- kana::search_key of family+given and of given alone, for prefix search
    kana_key         TEXT NOT NULL,
    given_kana_key   TEXT NOT NULL,
    birth_date       TEXT
);
CREATE INDEX people_family ON people(family_id);
CREATE INDEX people_kana ON people(municipality_id, kana_key);
CREATE INDEX people_given_kana ON people(municipality_id, given_kana_key);

CREATE TABLE pregnancies (
    id              INTEGER PRIMARY KEY,
    family_id       INTEGER NOT NULL REFERENCES families(id),
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    notified_on     TEXT NOT NULL,
    edd             TEXT NOT NULL,
    foetuses        INTEGER NOT NULL CHECK (foetuses BETWEEN 1 AND 5),
    first_child     INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('ongoing', 'delivered', 'lost', 'moved_out')),
    handbook_number TEXT,
    UNIQUE (municipality_id, handbook_number)
);
CREATE INDEX pregnancies_family ON pregnancies(family_id);

CREATE TABLE babies (
    id                   INTEGER PRIMARY KEY,
    pregnancy_id         INTEGER NOT NULL REFERENCES pregnancies(id),
    family_id            INTEGER NOT NULL REFERENCES families(id),
    person_id            INTEGER NOT NULL REFERENCES people(id),
    birth_date           TEXT NOT NULL,
    sex                  TEXT NOT NULL CHECK (sex IN ('female', 'male', 'undetermined')),
    gestational_weeks    INTEGER NOT NULL,
    gestational_days     INTEGER NOT NULL,
    birth_weight_g       INTEGER,
    long_hospitalisation INTEGER NOT NULL
);
CREATE INDEX babies_family ON babies(family_id);

CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    username        TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    role            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    totp_secret     TEXT,
    totp_last_step  INTEGER NOT NULL DEFAULT 0,
    disabled        INTEGER NOT NULL DEFAULT 0,
    family_id       INTEGER REFERENCES families(id),
    created_at      TEXT NOT NULL,
    UNIQUE (municipality_id, username)
);

CREATE TABLE account_scopes (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    kind       TEXT NOT NULL CHECK (kind IN ('area', 'venue', 'room')),
    ref_id     INTEGER NOT NULL,
    PRIMARY KEY (account_id, kind, ref_id)
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    stage        TEXT NOT NULL,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE signin_attempts (
    id                INTEGER PRIMARY KEY,
    municipality_code TEXT NOT NULL,
    username          TEXT NOT NULL,
    remote_addr       TEXT NOT NULL,
    at                TEXT NOT NULL,
    success           INTEGER NOT NULL
);
CREATE INDEX signin_attempts_user ON signin_attempts(municipality_code, username, at);
CREATE INDEX signin_attempts_addr ON signin_attempts(remote_addr, at);

-- One hash chain per municipality; audit_heads holds each chain's last link.
CREATE TABLE audit_log (
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    seq             INTEGER NOT NULL,
    at              TEXT NOT NULL,
    actor           INTEGER NOT NULL,
    role            TEXT NOT NULL,
    action          TEXT NOT NULL,
    family_id       INTEGER,
    detail          TEXT NOT NULL,
    reason          TEXT NOT NULL,
    remote_addr     TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL,
    PRIMARY KEY (municipality_id, seq)
);
CREATE INDEX audit_family ON audit_log(municipality_id, family_id);
CREATE INDEX audit_actor ON audit_log(municipality_id, actor);

CREATE TABLE audit_heads (
    municipality_id INTEGER PRIMARY KEY REFERENCES municipalities(id),
    seq             INTEGER NOT NULL,
    hash            TEXT NOT NULL
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit lines are append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit lines are append-only'); END;
