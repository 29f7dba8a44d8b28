-- Referrals (concerns about a family, followed up by its nurse) and their
-- history; online follow-up consultations; the coordinator's online talks
-- and the families that joined them; facilities' incident reports.
-- Dates are TEXT 'YYYY-MM-DD'; instants are TEXT RFC 3339 in UTC (six
-- fractional digits); civil date-times in Japan (a slot's start, when an
-- incident happened) are TEXT 'YYYY-MM-DDTHH:MM:SS', to the second, so that
-- text order is time order.

-- tsunagu_domain::referrals::Referral, one column per field, with who
-- raised it (role and account), what they saw, and where it came from.
CREATE TABLE referrals (
    id                         INTEGER PRIMARY KEY,
    municipality_id            INTEGER NOT NULL REFERENCES municipalities(id),
    family_id                  INTEGER NOT NULL REFERENCES families(id),
    pregnancy_id               INTEGER REFERENCES pregnancies(id),
    raised_by_role             TEXT NOT NULL,
    source                     TEXT NOT NULL CHECK (source IN ('observation', 'screening', 'chat_escalation')),
    urgent                     INTEGER NOT NULL,
    status                     TEXT NOT NULL CHECK (status IN ('raised', 'received', 'in_progress', 'closed')),
    escalated                  INTEGER NOT NULL,
    specified_expectant_mother INTEGER NOT NULL,
    close_reason               TEXT CHECK (close_reason IN ('resolved', 'no_concern', 'duplicate', 'moved_out')),
    note                       TEXT NOT NULL,
    raised_by_account          INTEGER NOT NULL,
    raised_at                  TEXT NOT NULL,
    venue_id                   INTEGER REFERENCES venues(id),
    application_id             INTEGER REFERENCES postpartum_applications(id),
    updated_at                 TEXT NOT NULL,
    -- a closed referral says why, and only a closed one
    CHECK ((status = 'closed') = (close_reason IS NOT NULL))
);
CREATE INDEX referrals_municipality_status ON referrals(municipality_id, status, raised_at);
CREATE INDEX referrals_family ON referrals(family_id, raised_at);
CREATE INDEX referrals_raised_by ON referrals(municipality_id, raised_by_account, raised_at);

-- Each step of a referral (raise, receive, start, escalate, …, close).
CREATE TABLE referral_events (
    id          INTEGER PRIMARY KEY,
    referral_id INTEGER NOT NULL REFERENCES referrals(id),
    action      TEXT NOT NULL,
    by_account  INTEGER NOT NULL,
    at          TEXT NOT NULL,
    note        TEXT NOT NULL
);
CREATE INDEX referral_events_referral ON referral_events(referral_id, at);

-- Online follow-up consultations: one family per slot of a facility while
-- booked; a cancelled booking stays on record and frees the slot.
CREATE TABLE followups (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    venue_id        INTEGER NOT NULL REFERENCES venues(id),
    family_id       INTEGER NOT NULL REFERENCES families(id),
    start           TEXT NOT NULL
        CHECK (start GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'),
    status          TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
    booked_by       INTEGER NOT NULL,
    booked_at       TEXT NOT NULL,
    cancelled_by    INTEGER,
    cancelled_at    TEXT
);
CREATE UNIQUE INDEX followups_slot ON followups(venue_id, start) WHERE status = 'booked';
CREATE INDEX followups_municipality_start ON followups(municipality_id, start);
CREATE INDEX followups_family ON followups(family_id, start);

CREATE TABLE online_talks (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    venue_id        INTEGER NOT NULL REFERENCES venues(id),
    starts          TEXT NOT NULL
        CHECK (starts GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'),
    minutes         INTEGER NOT NULL CHECK (minutes >= 0),
    title           TEXT NOT NULL,
    created_by      INTEGER NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX online_talks_municipality_starts ON online_talks(municipality_id, starts);

CREATE TABLE online_talk_attendees (
    talk_id   INTEGER NOT NULL REFERENCES online_talks(id),
    family_id INTEGER NOT NULL REFERENCES families(id),
    joined_by INTEGER NOT NULL,
    joined_at TEXT NOT NULL,
    PRIMARY KEY (talk_id, family_id)
);

-- Incident reports under the safety manual's headings (IncidentHeading).
CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    venue_id        INTEGER NOT NULL REFERENCES venues(id),
    heading         TEXT NOT NULL CHECK (heading IN ('accident', 'infection', 'fire_and_disaster',
                                                     'personal_information', 'staff_management')),
    occurred        TEXT NOT NULL
        CHECK (occurred GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'),
    summary         TEXT NOT NULL,
    family_id       INTEGER REFERENCES families(id),
    reported_by     INTEGER NOT NULL,
    reported_at     TEXT NOT NULL
);
CREATE INDEX incidents_municipality_occurred ON incidents(municipality_id, occurred);
CREATE INDEX incidents_venue_occurred ON incidents(venue_id, occurred);
