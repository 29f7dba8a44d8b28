-- The seamless timeline: the contacts each pregnancy is owed (DOMAIN.md §3),
-- kept in line with the facts by tsunagu_domain::timeline::reconcile in the
-- transaction that changes them. Rows are never deleted.

-- The kinds of contact the municipality runs: timeline::KindSet bits (all 11).
ALTER TABLE municipalities ADD COLUMN contact_kinds INTEGER NOT NULL DEFAULT 2047;
-- The day of a loss or a move out.
ALTER TABLE pregnancies ADD COLUMN ended_on TEXT;
-- The version of the schedule rules this pregnancy's contacts were built
-- with (timeline::RULES_VERSION); 0 = never built. Backfill picks up the rest.
ALTER TABLE pregnancies ADD COLUMN timeline_rules INTEGER NOT NULL DEFAULT 0;
CREATE INDEX pregnancies_timeline ON pregnancies(municipality_id, timeline_rules);

CREATE TABLE contacts (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    family_id       INTEGER NOT NULL REFERENCES families(id),
    -- the family's area, copied for the lists (a change of area must update it)
    area_id         INTEGER NOT NULL REFERENCES areas(id),
    pregnancy_id    INTEGER NOT NULL REFERENCES pregnancies(id),
    kind            TEXT NOT NULL,
    subject_kind    TEXT NOT NULL CHECK (subject_kind IN ('pregnancy', 'delivery', 'baby')),
    subject_id      INTEGER NOT NULL,
    owner_role      TEXT NOT NULL,
    -- 1 for a contact staff owe (missed when its window closes), 0 for an offer
    staff_owed      INTEGER NOT NULL,
    opens           TEXT NOT NULL,
    due             TEXT NOT NULL,
    closes          TEXT NOT NULL,
    outcome         TEXT CHECK (outcome IN ('done', 'not_reached', 'declined', 'not_applicable')),
    form            TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    outcome_note    TEXT NOT NULL DEFAULT '',
    outcome_by      INTEGER REFERENCES accounts(id),
    outcome_at      TEXT,
    ending          TEXT CHECK (ending IN ('moved_out', 'pregnancy_lost', 'baby_died', 'not_applicable')),
    hidden          INTEGER NOT NULL DEFAULT 0,
    -- timeline::awaits_work: no settling outcome and no ending
    awaits          INTEGER NOT NULL,
    -- the first day after its window closed with the contact still awaiting
    -- work: missed (a staff contact) or lapsed (an offer). Stamped by the
    -- daily job, or by the write that moved the window into the past.
    missed_on       TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CHECK (opens <= due AND due <= closes),
    CHECK ((outcome = 'done') = (form IS NOT NULL))
);
CREATE INDEX contacts_pregnancy ON contacts(pregnancy_id);
CREATE INDEX contacts_family ON contacts(family_id);
-- Due this week and overdue: contacts awaiting work whose window has not
-- closed (once stamped missed or lapsed they leave these indexes, so the
-- overdue range never walks the backlog of missed contacts or old offers).
-- The other columns ride along so that counts, filters and the choice of a
-- page read the index only (SQLite wants even the predicate's columns).
CREATE INDEX contacts_due ON contacts(municipality_id, due, closes, area_id, kind, awaits, missed_on) WHERE awaits = 1 AND missed_on IS NULL;
CREATE INDEX contacts_owner_due ON contacts(municipality_id, owner_role, due, closes, area_id, kind, awaits, missed_on)
    WHERE awaits = 1 AND missed_on IS NULL;
-- The missed list: staff contacts awaiting work, by the day the window closed.
CREATE INDEX contacts_closes ON contacts(municipality_id, closes, owner_role, area_id, due, kind, awaits, staff_owed)
    WHERE awaits = 1 AND staff_owed = 1;
-- One kind's contacts (the 3–4-month check non-attendees, a kind filter).
CREATE INDEX contacts_kind_due ON contacts(municipality_id, kind, due, area_id, closes, owner_role, awaits) WHERE awaits = 1;
-- The daily job: windows that closed since its last run, not yet stamped.
CREATE INDEX contacts_closing ON contacts(municipality_id, closes) WHERE awaits = 1 AND missed_on IS NULL;

-- Where the daily missed-marking job got to, per municipality: every
-- contact whose window closed on or before `through` has been examined.
CREATE TABLE timeline_runs (
    municipality_id INTEGER PRIMARY KEY REFERENCES municipalities(id),
    through         TEXT NOT NULL
);
