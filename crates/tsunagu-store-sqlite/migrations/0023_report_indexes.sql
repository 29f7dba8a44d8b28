-- Reports at scale (#14): each table of a fiscal year's report is one
-- aggregate statement bounded by the municipality and the year's range;
-- these indexes start with those columns for the tables that had none
-- (the others: screenings_municipality, pregnancies_notified,
-- class_sessions_day, families' key). tests/it/report_plans.rs shows the plans.

-- [001] 利用実績: the year's used days grouped by facility and service,
-- families once, read from the index alone (replaces the narrower one).
DROP INDEX postpartum_used_days_municipality_day;
CREATE INDEX postpartum_used_days_municipality_day ON postpartum_used_days(municipality_id, day, venue_id, service, family_id);

-- [002] 妊娠8か月面談 / はっぴーベビー done by form, by when recorded.
CREATE INDEX contacts_done_by_kind ON contacts(municipality_id, kind, outcome_at, form) WHERE outcome = 'done';

-- 3–4-month check non-attendees: the windows of a kind that closed in the year.
CREATE INDEX contacts_kind_closes ON contacts(municipality_id, kind, closes);

-- [001] オンライン相談: booked consultations of the municipality in the year
-- (the slot index starts with the venue: a range over it is the nation's).
CREATE INDEX followups_booked ON followups(municipality_id, start) WHERE status = 'booked';

-- Referrals raised in the year, by source and where they stand.
CREATE INDEX referrals_municipality_raised ON referrals(municipality_id, raised_at, source, status, close_reason);

-- [002] 母子手帳会議 held and 8th-month group sessions held in the year.
CREATE INDEX handbook_meetings_held ON handbook_meetings(municipality_id, held_on);
CREATE INDEX group_sessions_day ON group_sessions(municipality_id, day);

-- 健やか親子21: notifications with the notification questionnaire filed.
CREATE INDEX screenings_pregnancy ON screenings(pregnancy_id, questionnaire);
