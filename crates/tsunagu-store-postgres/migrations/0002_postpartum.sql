-- Postpartum care (産後ケア): facility configuration, applications and their
-- review, the places each day holds, the days an approved application
-- books, and the facility's day notes. The PostgreSQL counterpart of the
-- SQLite store's 0002_postpartum.sql, with native types.

-- One row per venue of kind 'postpartum_facility'; the calendar (opening
-- rules and capacity pools) is tsunagu_domain's FacilityCalendar as JSON
-- text (kept as written, not as JSONB, so it reads back byte for byte).
CREATE TABLE postpartum_facilities (
    venue_id    BIGINT PRIMARY KEY REFERENCES venues(id),
    operator_ja TEXT NOT NULL,
    operator_en TEXT NOT NULL,
    calendar    TEXT NOT NULL
);

CREATE TABLE postpartum_applications (
    id                        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id           BIGINT NOT NULL REFERENCES municipalities(id),
    family_id                 BIGINT NOT NULL REFERENCES families(id),
    venue_id                  BIGINT NOT NULL REFERENCES postpartum_facilities(venue_id),
    service                   TEXT NOT NULL CHECK (service IN ('short_stay', 'day_care', 'outreach')),
    stay_first                DATE NOT NULL,
    stay_last                 DATE NOT NULL,
    babies                    SMALLINT NOT NULL CHECK (babies >= 0),
    siblings                  SMALLINT NOT NULL CHECK (siblings >= 0),
    rolls_over_actively       BOOLEAN NOT NULL,
    needs_medical_treatment   BOOLEAN NOT NULL,
    has_worries_or_fatigue    BOOLEAN NOT NULL,
    lacks_help_from_relatives BOOLEAN NOT NULL,
    grandparents_nearby       BOOLEAN NOT NULL,
    quote_total_yen           BIGINT NOT NULL CHECK (quote_total_yen >= 0),
    transport_paid            BOOLEAN NOT NULL,
    -- refusal codes of the eligibility check, a JSON array of strings
    refusals                  TEXT NOT NULL,
    override_reason           TEXT,
    status                    TEXT NOT NULL CHECK (status IN ('applied', 'approved', 'rejected', 'cancelled')),
    applied_by                BIGINT NOT NULL,
    applied_at                TIMESTAMPTZ NOT NULL,
    reviewed_by               BIGINT,
    reviewed_at               TIMESTAMPTZ,
    review_note               TEXT,
    -- a cancellation is kept apart, so the approval it undoes stays on record
    cancelled_by              BIGINT,
    cancelled_at              TIMESTAMPTZ,
    cancel_note               TEXT,
    CHECK (stay_last >= stay_first),
    CHECK (refusals = '[]' OR override_reason IS NOT NULL)
);
CREATE INDEX postpartum_applications_status ON postpartum_applications(municipality_id, status, applied_at);
CREATE INDEX postpartum_applications_venue ON postpartum_applications(venue_id, applied_at);
CREATE INDEX postpartum_applications_family ON postpartum_applications(family_id);

-- Places taken per facility, capacity pool and day. Approving takes one
-- with a conditional upsert (`taken < places`): the row lock it takes makes
-- concurrent approvals of the same day queue, and each re-checks the count
-- it finds, so a day never holds more than its places.
CREATE TABLE postpartum_places (
    venue_id BIGINT NOT NULL REFERENCES postpartum_facilities(venue_id),
    pool     BIGINT NOT NULL CHECK (pool >= 0),
    day      DATE NOT NULL,
    taken    BIGINT NOT NULL CHECK (taken >= 0),
    PRIMARY KEY (venue_id, pool, day)
);

-- The days (and pool) an approved application holds; deleted when it is
-- cancelled. Venue and municipality are copied from the application so that
-- usage figures are range scans.
CREATE TABLE postpartum_bookings (
    application_id  BIGINT NOT NULL REFERENCES postpartum_applications(id),
    day             DATE NOT NULL,
    pool            BIGINT NOT NULL,
    venue_id        BIGINT NOT NULL REFERENCES postpartum_facilities(venue_id),
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    PRIMARY KEY (application_id, day)
);
CREATE INDEX postpartum_bookings_venue_day ON postpartum_bookings(venue_id, day);
CREATE INDEX postpartum_bookings_municipality_day ON postpartum_bookings(municipality_id, day);

CREATE TABLE postpartum_stay_notes (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id BIGINT NOT NULL REFERENCES postpartum_applications(id),
    day            DATE NOT NULL,
    note           TEXT NOT NULL,
    by_account     BIGINT NOT NULL,
    at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX postpartum_stay_notes_application ON postpartum_stay_notes(application_id, day);
