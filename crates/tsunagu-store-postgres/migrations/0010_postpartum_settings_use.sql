-- Postpartum care as the seed states it (issue #11): a municipality's own
-- fee table (amounts, the outreach reductions [001] does not publish, an
-- optional maximum of days per application); an application whose amount
-- the city confirms, and the amount the nurse recorded at approval; and the
-- facility's daily record of use, which the figures count. The PostgreSQL
-- counterpart of the SQLite store's 0010, with native types.

-- tsunagu_domain's FeeTable as JSON text, one per municipality that set one.
CREATE TABLE postpartum_fee_tables (
    municipality_id BIGINT PRIMARY KEY REFERENCES municipalities(id),
    fee_table       TEXT NOT NULL
);

ALTER TABLE postpartum_applications ADD COLUMN fee_to_be_confirmed BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE postpartum_applications ADD COLUMN confirmed_fee_yen BIGINT CHECK (confirmed_fee_yen >= 0);
ALTER TABLE postpartum_applications ADD CONSTRAINT postpartum_applications_fee_confirmed
    CHECK (status <> 'approved' OR NOT fee_to_be_confirmed OR confirmed_fee_yen IS NOT NULL);

-- A day of an approved stay the facility recorded as used. Venue,
-- municipality, family and service are copied from the application so that
-- the figures are range scans.
CREATE TABLE postpartum_used_days (
    application_id  BIGINT NOT NULL REFERENCES postpartum_applications(id),
    day             DATE NOT NULL,
    venue_id        BIGINT NOT NULL REFERENCES postpartum_facilities(venue_id),
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    family_id       BIGINT NOT NULL REFERENCES families(id),
    service         TEXT NOT NULL CHECK (service IN ('short_stay', 'day_care', 'outreach')),
    by_account      BIGINT NOT NULL,
    at              TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (application_id, day)
);
CREATE INDEX postpartum_used_days_venue_day ON postpartum_used_days(venue_id, day);
CREATE INDEX postpartum_used_days_municipality_day ON postpartum_used_days(municipality_id, day);
