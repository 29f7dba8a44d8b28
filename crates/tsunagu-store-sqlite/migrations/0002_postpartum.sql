-- Postpartum care (産後ケア): facility configuration, applications and their
-- review, the places each day holds, the days an approved application
-- books, and the facility's day notes. Dates are TEXT 'YYYY-MM-DD';
-- instants are TEXT RFC 3339 in UTC (six fractional digits).

-- One row per venue of kind 'postpartum_facility'; the calendar (opening
-- rules and capacity pools) is tsunagu_domain's FacilityCalendar as JSON.
CREATE TABLE postpartum_facilities (
    venue_id    INTEGER PRIMARY KEY REFERENCES venues(id),
    operator_ja TEXT NOT NULL,
    operator_en TEXT NOT NULL,
    calendar    TEXT NOT NULL
);

CREATE TABLE postpartum_applications (
    id                        INTEGER PRIMARY KEY,
    municipality_id           INTEGER NOT NULL REFERENCES municipalities(id),
    family_id                 INTEGER NOT NULL REFERENCES families(id),
    venue_id                  INTEGER NOT NULL REFERENCES postpartum_facilities(venue_id),
    service                   TEXT NOT NULL CHECK (service IN ('short_stay', 'day_care', 'outreach')),
    stay_first                TEXT NOT NULL,
    stay_last                 TEXT NOT NULL,
    babies                    INTEGER NOT NULL CHECK (babies >= 0),
    siblings                  INTEGER NOT NULL CHECK (siblings >= 0),
    rolls_over_actively       INTEGER NOT NULL,
    needs_medical_treatment   INTEGER NOT NULL,
    has_worries_or_fatigue    INTEGER NOT NULL,
    lacks_help_from_relatives INTEGER NOT NULL,
    grandparents_nearby       INTEGER NOT NULL,
    quote_total_yen           INTEGER NOT NULL CHECK (quote_total_yen >= 0),
    transport_paid            INTEGER NOT NULL,
    -- refusal codes of the eligibility check, a JSON array of strings
    refusals                  TEXT NOT NULL,
    override_reason           TEXT,
    status                    TEXT NOT NULL CHECK (status IN ('applied', 'approved', 'rejected', 'cancelled')),
    applied_by                INTEGER NOT NULL,
    applied_at                TEXT NOT NULL,
    reviewed_by               INTEGER,
    reviewed_at               TEXT,
    review_note               TEXT,
    -- a cancellation is kept apart, so the approval it undoes stays on record
    cancelled_by              INTEGER,
    cancelled_at              TEXT,
    cancel_note               TEXT,
    CHECK (stay_last >= stay_first),
    CHECK (refusals = '[]' OR override_reason IS NOT NULL)
);
CREATE INDEX postpartum_applications_status ON postpartum_applications(municipality_id, status, applied_at);
CREATE INDEX postpartum_applications_venue ON postpartum_applications(venue_id, applied_at);
CREATE INDEX postpartum_applications_family ON postpartum_applications(family_id);

-- Places taken per facility, capacity pool and day. Approving takes one
-- with a conditional upsert (`taken < places`), which is what keeps a day
-- within its capacity when approvals race.
CREATE TABLE postpartum_places (
    venue_id INTEGER NOT NULL REFERENCES postpartum_facilities(venue_id),
    pool     INTEGER NOT NULL CHECK (pool >= 0),
    day      TEXT NOT NULL,
    taken    INTEGER NOT NULL CHECK (taken >= 0),
    PRIMARY KEY (venue_id, pool, day)
);

-- The days (and pool) an approved application holds; deleted when it is
-- cancelled. Venue and municipality are copied from the application so that
-- usage figures are range scans.
CREATE TABLE postpartum_bookings (
    application_id  INTEGER NOT NULL REFERENCES postpartum_applications(id),
    day             TEXT NOT NULL,
    pool            INTEGER NOT NULL,
    venue_id        INTEGER NOT NULL REFERENCES postpartum_facilities(venue_id),
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    PRIMARY KEY (application_id, day)
);
CREATE INDEX postpartum_bookings_venue_day ON postpartum_bookings(venue_id, day);
CREATE INDEX postpartum_bookings_municipality_day ON postpartum_bookings(municipality_id, day);

CREATE TABLE postpartum_stay_notes (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES postpartum_applications(id),
    day            TEXT NOT NULL,
    note           TEXT NOT NULL,
    by_account     INTEGER NOT NULL,
    at             TEXT NOT NULL
);
CREATE INDEX postpartum_stay_notes_application ON postpartum_stay_notes(application_id, day);
