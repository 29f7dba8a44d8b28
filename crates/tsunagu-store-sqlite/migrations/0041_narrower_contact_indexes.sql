-- 0041: the contacts' indexes hold what their statements read, no more (#16).
--
-- Every contact row is a key in each contacts index, and a large load builds
-- them all after it (bulk_dropped_indexes): at 1M families (7M contacts)
-- that build was half the load. Built one by one on the 1M file, the
-- reports' two indexes over every kind took 20.1 s and 6.5 s of ~81 s, for
-- statements that read one kind (the 3–4-month check's non-attendees) and
-- two (the 8th-month interview and はっぴーベビー done, by form); each now
-- holds only those kinds' rows (2.1 s each). The statements name the kinds
-- as literals, so the planner sees that they imply the index's WHERE.
-- `contacts_closes` (the missed list by the day a window closed) has read
-- nothing since 0030 gave that list its due-order indexes
-- (contacts_missed, contacts_owner_missed); it took 4.2 s of the build.
-- tests/it/report_plans.rs and search_plans.rs show the plans.
-- `IF EXISTS`: a large load that stopped before its end may have set them
-- aside (bulk_dropped_indexes); their old definitions are forgotten here.
DROP INDEX IF EXISTS contacts_kind_closes;
CREATE INDEX contacts_check_closes ON contacts(municipality_id, kind, closes, hidden, missed_on, outcome)
    WHERE kind = 'health_check_3_4_months';
DROP INDEX IF EXISTS contacts_done_by_kind;
CREATE INDEX contacts_done_by_kind ON contacts(municipality_id, kind, outcome_at, form)
    WHERE outcome = 'done' AND kind IN ('eighth_month_interview', 'happy_baby');
DROP INDEX IF EXISTS contacts_closes;
DELETE FROM bulk_dropped_indexes WHERE name IN ('contacts_kind_closes', 'contacts_done_by_kind', 'contacts_closes');
