-- Reports nation-wide (#14): each table of the nation-wide report is one
-- statement over every municipality (`GROUP BY municipality_id`), and a
-- municipality's report one per table. These indexes cover what those
-- statements read, so that they read index pages only (the others of 0023
-- already did: used days, done contacts by form, booked follow-ups,
-- referrals, handbook meetings). tests/it/report_plans.rs shows the plans.

-- 3–4-month check non-attendees: the windows that closed, with what settled them.
DROP INDEX contacts_kind_closes;
CREATE INDEX contacts_kind_closes ON contacts(municipality_id, kind, closes) INCLUDE (hidden, missed_on, outcome);

-- 8th-month group sessions held (attendance recorded).
DROP INDEX group_sessions_day;
CREATE INDEX group_sessions_day ON group_sessions(municipality_id, day) INCLUDE (attendance_at);

-- Screening counts by questionnaire, with the referral a result raised.
CREATE INDEX screenings_report ON screenings(municipality_id, entered_at) INCLUDE (questionnaire, positive, urgent, referral_id);

-- A positive screen's first step after being raised (followed up in time?).
CREATE INDEX referral_events_first_step ON referral_events(referral_id, at) INCLUDE (action);

-- Notifications of the year (and the questionnaire filed, by the pregnancy's id).
CREATE INDEX pregnancies_notified_report ON pregnancies(municipality_id, notified_on) INCLUDE (id);

-- The figures a city printed (#14, reconciliation), entered by its
-- administrator per fiscal year: a facility's days, families and 稼働率
-- ([001] 利用実績), and the families per district ([001] 地域別利用者数,
-- both facilities counted once). Before, the facility figures were kept in
-- report_settings' JSON (`printed`); that list is still read where a year
-- has no row here.
CREATE TABLE report_printed_facilities (
    municipality_id  BIGINT NOT NULL REFERENCES municipalities(id),
    venue_id         BIGINT NOT NULL REFERENCES venues(id),
    fiscal_year      INTEGER NOT NULL,
    short_stay_days  BIGINT NOT NULL CHECK (short_stay_days >= 0),
    day_care_days    BIGINT NOT NULL CHECK (day_care_days >= 0),
    families         BIGINT NOT NULL CHECK (families >= 0),
    occupancy_tenths BIGINT CHECK (occupancy_tenths BETWEEN 0 AND 1000),
    PRIMARY KEY (municipality_id, venue_id, fiscal_year)
);
CREATE TABLE report_printed_areas (
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    area_id         BIGINT NOT NULL REFERENCES areas(id),
    fiscal_year     INTEGER NOT NULL,
    families        BIGINT NOT NULL CHECK (families >= 0),
    PRIMARY KEY (municipality_id, area_id, fiscal_year)
);
