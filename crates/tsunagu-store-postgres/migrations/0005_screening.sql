-- Screening responses (DOMAIN.md §7, PRODUCT.md §1.3): the answers as given
-- (item id → option code, a JSON object), the questionnaire and version
-- they were given to, what they scored, who entered them (the family on a
-- phone, or staff from a paper form) and the referral a positive or urgent
-- result raised in the same transaction. The PostgreSQL counterpart of the
-- SQLite store's 0005_screening.sql, with native types.
CREATE TABLE screenings (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id    BIGINT NOT NULL REFERENCES municipalities(id),
    family_id          BIGINT NOT NULL REFERENCES families(id),
    pregnancy_id       BIGINT REFERENCES pregnancies(id),
    questionnaire      TEXT NOT NULL CHECK (questionnaire <> ''),
    version            TEXT NOT NULL CHECK (version <> ''),
    answers            JSONB NOT NULL CHECK (jsonb_typeof(answers) = 'object'),
    total              INTEGER NOT NULL CHECK (total >= 0),
    positive           BOOLEAN NOT NULL,
    urgent             BOOLEAN NOT NULL,
    -- [{"code": …, "effect": "positive" | "urgent"}], in rule order
    reasons            JSONB NOT NULL CHECK (jsonb_typeof(reasons) = 'array'),
    entered_by_account BIGINT NOT NULL,
    entered_by_role    TEXT NOT NULL,
    entered_at         TIMESTAMPTZ NOT NULL,
    referral_id        BIGINT REFERENCES referrals(id),
    -- a positive or urgent result is followed up
    CHECK ((positive OR urgent) = (referral_id IS NOT NULL))
);
CREATE INDEX screenings_family ON screenings(family_id, entered_at);
CREATE INDEX screenings_municipality ON screenings(municipality_id, entered_at);
