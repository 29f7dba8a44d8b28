-- The work list's lists in due order at scale (#16): a page is its contacts
-- ORDER BY due, id. The two indexes of the lists of every kind held
-- (…, due, closes, …), so the contacts of the page's first day came in no
-- order of id and all of them were read and sorted to find the first 50; at
-- 10M families (PostgreSQL, BENCHMARKS.md) a nurse's "due this week" page
-- took ~470 ms that way. With the id (the rowid) right after the day, the
-- index gives the page's order and the read stops after the page; the
-- filters' columns follow it.
-- `IF EXISTS`: a large load that stopped before its end may have set them
-- aside (bulk_dropped_indexes); their old definitions are forgotten here.
DROP INDEX IF EXISTS contacts_due;
CREATE INDEX contacts_due ON contacts(municipality_id, due, id, closes, area_id, kind)
    WHERE awaits = 1 AND missed_on IS NULL;
DROP INDEX IF EXISTS contacts_owner_due;
CREATE INDEX contacts_owner_due ON contacts(municipality_id, owner_role, due, id, closes, area_id, kind)
    WHERE awaits = 1 AND missed_on IS NULL;
DELETE FROM bulk_dropped_indexes WHERE name IN ('contacts_due', 'contacts_owner_due');
