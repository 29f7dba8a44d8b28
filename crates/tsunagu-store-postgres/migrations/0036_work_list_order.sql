-- The work list's lists in due order at 10M families (#16): a page is its
-- contacts ORDER BY due, id. The two indexes of the lists of every kind
-- held (…, due, closes, …), so every contact due on the page's first day was read and sorted to find
-- the first 50 by id: a few thousand a day at 1M families, ~45,000 at 10M,
-- where a nurse's "due this week" page took ~470 ms (BENCHMARKS.md). With
-- the id right after the day, the index gives the page's order and the read
-- stops after the page; what the filters read is included, as in 0030.
-- `IF EXISTS`: a large load that stopped before its end may have set them
-- aside (bulk_dropped_indexes); their old definitions are forgotten here.
DROP INDEX IF EXISTS contacts_due;
CREATE INDEX contacts_due ON contacts(municipality_id, due, id) INCLUDE (closes, area_id, kind)
    WHERE awaits AND missed_on IS NULL;
DROP INDEX IF EXISTS contacts_owner_due;
CREATE INDEX contacts_owner_due ON contacts(municipality_id, owner_role, due, id) INCLUDE (closes, area_id, kind)
    WHERE awaits AND missed_on IS NULL;
DELETE FROM bulk_dropped_indexes WHERE name IN ('contacts_due', 'contacts_owner_due');
