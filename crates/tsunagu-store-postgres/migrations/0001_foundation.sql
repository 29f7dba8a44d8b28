-- Foundation: municipalities, areas, venues, accounts, sessions, families,
-- people, pregnancies, babies, and the append-only audit chain.
-- The PostgreSQL counterpart of the SQLite store's 0001_foundation.sql:
-- the same tables, columns and indexes, with native types. Dates are DATE,
-- instants TIMESTAMPTZ (microseconds, like the audit hash).

CREATE TABLE municipalities (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code    TEXT NOT NULL UNIQUE,
    name_ja TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE areas (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    name_ja         TEXT NOT NULL,
    name_en         TEXT NOT NULL,
    UNIQUE (municipality_id, name_ja)
);

CREATE TABLE venues (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    area_id         BIGINT REFERENCES areas(id),
    kind            TEXT NOT NULL,
    name_ja         TEXT NOT NULL,
    name_en         TEXT NOT NULL
);
CREATE INDEX venues_municipality ON venues(municipality_id);

CREATE TABLE families (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id      BIGINT NOT NULL REFERENCES municipalities(id),
    area_id              BIGINT NOT NULL REFERENCES areas(id),
    fee_bracket          TEXT NOT NULL CHECK (fee_bracket IN ('taxed', 'non_taxed', 'public_assistance')),
    consent_coordinators BOOLEAN NOT NULL,
    consent_hubs         BOOLEAN NOT NULL,
    escalated            BOOLEAN NOT NULL DEFAULT FALSE,
    created_at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX families_municipality_area ON families(municipality_id, area_id);

CREATE TABLE people (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    family_id        BIGINT NOT NULL REFERENCES families(id),
    municipality_id  BIGINT NOT NULL REFERENCES municipalities(id),
    relation         TEXT NOT NULL CHECK (relation IN ('mother', 'partner', 'child')),
    family_name      TEXT NOT NULL,
    given_name       TEXT NOT NULL,
    family_name_kana TEXT NOT NULL,
    given_name_kana  TEXT NOT NULL,
    -- kana::search_key of family+given and of given alone, for prefix search.
    -- Byte order ("C") whatever the database's locale, so that the range
    -- `key >= $k AND key < $k || U+10FFFF` is exactly "starts with $k" and
    -- can use the indexes below.
    kana_key         TEXT COLLATE "C" NOT NULL,
    given_kana_key   TEXT COLLATE "C" NOT NULL,
    birth_date       DATE
);
CREATE INDEX people_family ON people(family_id);
CREATE INDEX people_kana ON people(municipality_id, kana_key);
CREATE INDEX people_given_kana ON people(municipality_id, given_kana_key);

CREATE TABLE pregnancies (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    family_id       BIGINT NOT NULL REFERENCES families(id),
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    notified_on     DATE NOT NULL,
    edd             DATE NOT NULL,
    foetuses        SMALLINT NOT NULL CHECK (foetuses BETWEEN 1 AND 5),
    first_child     BOOLEAN NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('ongoing', 'delivered', 'lost', 'moved_out')),
    handbook_number TEXT,
    UNIQUE (municipality_id, handbook_number)
);
CREATE INDEX pregnancies_family ON pregnancies(family_id);

CREATE TABLE babies (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pregnancy_id         BIGINT NOT NULL REFERENCES pregnancies(id),
    family_id            BIGINT NOT NULL REFERENCES families(id),
    person_id            BIGINT NOT NULL REFERENCES people(id),
    birth_date           DATE NOT NULL,
    sex                  TEXT NOT NULL CHECK (sex IN ('female', 'male', 'undetermined')),
    gestational_weeks    SMALLINT NOT NULL,
    gestational_days     SMALLINT NOT NULL,
    birth_weight_g       INTEGER,
    long_hospitalisation BOOLEAN NOT NULL
);
CREATE INDEX babies_family ON babies(family_id);

CREATE TABLE accounts (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    username        TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    role            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    totp_secret     TEXT,
    totp_last_step  BIGINT NOT NULL DEFAULT 0,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    family_id       BIGINT REFERENCES families(id),
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (municipality_id, username)
);

CREATE TABLE account_scopes (
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    kind       TEXT NOT NULL CHECK (kind IN ('area', 'venue', 'room')),
    ref_id     BIGINT NOT NULL,
    PRIMARY KEY (account_id, kind, ref_id)
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts(id),
    stage        TEXT NOT NULL,
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE signin_attempts (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_code TEXT NOT NULL,
    username          TEXT NOT NULL,
    remote_addr       TEXT NOT NULL,
    at                TIMESTAMPTZ NOT NULL,
    success           BOOLEAN NOT NULL
);
CREATE INDEX signin_attempts_user ON signin_attempts(municipality_code, username, at);
CREATE INDEX signin_attempts_addr ON signin_attempts(remote_addr, at);

-- One hash chain per municipality; audit_heads holds each chain's last link
-- (appends lock that row, so they serialize per municipality).
CREATE TABLE audit_log (
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    seq             BIGINT NOT NULL,
    at              TIMESTAMPTZ NOT NULL,
    actor           BIGINT NOT NULL,
    role            TEXT NOT NULL,
    action          TEXT NOT NULL,
    family_id       BIGINT,
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
    municipality_id BIGINT PRIMARY KEY REFERENCES municipalities(id),
    seq             BIGINT NOT NULL,
    hash            TEXT NOT NULL
);

-- The database itself refuses to change or remove audit lines.
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit lines are append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
