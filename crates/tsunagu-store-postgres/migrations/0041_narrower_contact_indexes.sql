-- 0041: the contacts' indexes hold what their statements read, no more (#16).
--
-- As on SQLite (its 0041 has the figures): the reports' two indexes over
-- every kind of contact now hold only the kinds their statements read —
-- the 3–4-month check's non-attendees, and the 8th-month interview and
-- はっぴーベビー done, by form — which the statements name as literals, so
-- the planner proves they imply the index's predicate. `contacts_closes`
-- (the missed list by the day a window closed) has served no statement
-- since 0030 gave that list its due-order indexes. Every contact written
-- keeps three index entries fewer up to date, and a large load builds less.
-- `IF EXISTS`: a large load that stopped before its end may have set them
-- aside (bulk_dropped_indexes); their old definitions are forgotten here.
DROP INDEX IF EXISTS contacts_kind_closes;
CREATE INDEX contacts_check_closes ON contacts(municipality_id, closes) INCLUDE (hidden, missed_on, outcome)
    WHERE kind = 'health_check_3_4_months';
DROP INDEX IF EXISTS contacts_done_by_kind;
CREATE INDEX contacts_done_by_kind ON contacts(municipality_id, kind, outcome_at, form)
    WHERE outcome = 'done' AND kind IN ('eighth_month_interview', 'happy_baby');
DROP INDEX IF EXISTS contacts_closes;
DELETE FROM bulk_dropped_indexes WHERE name IN ('contacts_kind_closes', 'contacts_done_by_kind', 'contacts_closes');
