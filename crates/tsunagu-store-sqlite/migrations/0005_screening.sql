-- Screening responses (DOMAIN.md §7, PRODUCT.md §1.3): the answers as given
-- (item id → option code, a JSON object), the questionnaire and version
-- they were given to, what they scored, who entered them (the family on a
-- phone, or staff from a paper form) and the referral a positive or urgent
-- result raised in the same transaction. Instants are TEXT RFC 3339 in UTC
-- (six fractional digits), so that text order is time order.
CREATE TABLE screenings (
    id                 INTEGER PRIMARY KEY,
    municipality_id    INTEGER NOT NULL REFERENCES municipalities(id),
    family_id          INTEGER NOT NULL REFERENCES families(id),
    pregnancy_id       INTEGER REFERENCES pregnancies(id),
    questionnaire      TEXT NOT NULL CHECK (questionnaire <> ''),
    version            TEXT NOT NULL CHECK (version <> ''),
    answers            TEXT NOT NULL CHECK (json_valid(answers) AND json_type(answers) = 'object'),
    total              INTEGER NOT NULL CHECK (total >= 0),
    positive           INTEGER NOT NULL CHECK (positive IN (0, 1)),
    urgent             INTEGER NOT NULL CHECK (urgent IN (0, 1)),
    -- [{"code": …, "effect": "positive" | "urgent"}], in rule order
    reasons            TEXT NOT NULL CHECK (json_valid(reasons) AND json_type(reasons) = 'array'),
    entered_by_account INTEGER NOT NULL,
    entered_by_role    TEXT NOT NULL,
    entered_at         TEXT NOT NULL,
    referral_id        INTEGER REFERENCES referrals(id),
    -- a positive or urgent result is followed up
    CHECK ((positive = 1 OR urgent = 1) = (referral_id IS NOT NULL))
);
CREATE INDEX screenings_family ON screenings(family_id, entered_at);
CREATE INDEX screenings_municipality ON screenings(municipality_id, entered_at);
