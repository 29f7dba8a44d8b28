-- The work list's missed contacts (#16): staff contacts still awaiting work
-- after their window closed, a page of them in due order. The missed list
-- read `contacts_closes` (by the day the window closed) and sorted every
-- missed contact of the municipality for each page: ~18,000 at 900,000
-- families, 30–40 ms. These hold the same rows in due order (owner first for
-- a nurse's own list), so a page stops after its rows; the list's query also
-- says `due < today` (implied by `closes < today`) so the planner takes them.
-- SQLite wants every column the query reads, the predicate's too, in the
-- index to read it alone. tests/it/search_plans.rs checks the plans.
CREATE INDEX contacts_owner_missed ON contacts(municipality_id, owner_role, due, closes, area_id, kind, awaits, staff_owed)
    WHERE awaits = 1 AND staff_owed = 1;
CREATE INDEX contacts_missed ON contacts(municipality_id, due, closes, owner_role, area_id, kind, awaits, staff_owed)
    WHERE awaits = 1 AND staff_owed = 1;
