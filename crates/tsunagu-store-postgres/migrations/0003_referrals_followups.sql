-- Referrals (concerns about a family, followed up by its nurse) and their
-- history; online follow-up consultations; the coordinator's online talks
-- and the families that joined them; facilities' incident reports. The
-- PostgreSQL counterpart of the SQLite store's 0003_referrals_followups.sql,
-- with native types. Civil date-times in Japan (a slot's start, when an
-- incident happened) are `timestamp without time zone`, to the second.

-- tsunagu_domain::referrals::Referral, one column per field, with who
-- raised it (role and account), what they saw, and where it came from.
CREATE TABLE referrals (
    id                         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id            BIGINT NOT NULL REFERENCES municipalities(id),
    family_id                  BIGINT NOT NULL REFERENCES families(id),
    pregnancy_id               BIGINT REFERENCES pregnancies(id),
    raised_by_role             TEXT NOT NULL,
    source                     TEXT NOT NULL CHECK (source IN ('observation', 'screening', 'chat_escalation')),
    urgent                     BOOLEAN NOT NULL,
    status                     TEXT NOT NULL CHECK (status IN ('raised', 'received', 'in_progress', 'closed')),
    escalated                  BOOLEAN NOT NULL,
    specified_expectant_mother BOOLEAN NOT NULL,
    close_reason               TEXT CHECK (close_reason IN ('resolved', 'no_concern', 'duplicate', 'moved_out')),
    note                       TEXT NOT NULL,
    raised_by_account          BIGINT NOT NULL,
    raised_at                  TIMESTAMPTZ NOT NULL,
    venue_id                   BIGINT REFERENCES venues(id),
    application_id             BIGINT REFERENCES postpartum_applications(id),
    updated_at                 TIMESTAMPTZ NOT NULL,
    -- a closed referral says why, and only a closed one
    CHECK ((status = 'closed') = (close_reason IS NOT NULL))
);
CREATE INDEX referrals_municipality_status ON referrals(municipality_id, status, raised_at);
CREATE INDEX referrals_family ON referrals(family_id, raised_at);
CREATE INDEX referrals_raised_by ON referrals(municipality_id, raised_by_account, raised_at);

-- Each step of a referral (raise, receive, start, escalate, …, close).
CREATE TABLE referral_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    referral_id BIGINT NOT NULL REFERENCES referrals(id),
    action      TEXT NOT NULL,
    by_account  BIGINT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    note        TEXT NOT NULL
);
CREATE INDEX referral_events_referral ON referral_events(referral_id, at);

-- Online follow-up consultations: one family per slot of a facility while
-- booked; a cancelled booking stays on record and frees the slot.
CREATE TABLE followups (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    venue_id        BIGINT NOT NULL REFERENCES venues(id),
    family_id       BIGINT NOT NULL REFERENCES families(id),
    start           TIMESTAMP(0) WITHOUT TIME ZONE NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
    booked_by       BIGINT NOT NULL,
    booked_at       TIMESTAMPTZ NOT NULL,
    cancelled_by    BIGINT,
    cancelled_at    TIMESTAMPTZ
);
CREATE UNIQUE INDEX followups_slot ON followups(venue_id, start) WHERE status = 'booked';
CREATE INDEX followups_municipality_start ON followups(municipality_id, start);
CREATE INDEX followups_family ON followups(family_id, start);

CREATE TABLE online_talks (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    venue_id        BIGINT NOT NULL REFERENCES venues(id),
    starts          TIMESTAMP(0) WITHOUT TIME ZONE NOT NULL,
    minutes         INTEGER NOT NULL CHECK (minutes >= 0),
    title           TEXT NOT NULL,
    created_by      BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX online_talks_municipality_starts ON online_talks(municipality_id, starts);

CREATE TABLE online_talk_attendees (
    talk_id   BIGINT NOT NULL REFERENCES online_talks(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    joined_by BIGINT NOT NULL,
    joined_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (talk_id, family_id)
);

-- Incident reports under the safety manual's headings (IncidentHeading).
CREATE TABLE incidents (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    venue_id        BIGINT NOT NULL REFERENCES venues(id),
    heading         TEXT NOT NULL CHECK (heading IN ('accident', 'infection', 'fire_and_disaster',
                                                     'personal_information', 'staff_management')),
    occurred        TIMESTAMP(0) WITHOUT TIME ZONE NOT NULL,
    summary         TEXT NOT NULL,
    family_id       BIGINT REFERENCES families(id),
    reported_by     BIGINT NOT NULL,
    reported_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX incidents_municipality_occurred ON incidents(municipality_id, occurred);
CREATE INDEX incidents_venue_occurred ON incidents(venue_id, occurred);
