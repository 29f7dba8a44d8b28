-- The work list's missed contacts (#16): staff contacts still awaiting work
-- after their window closed, a page of them in due order (ORDER BY due, id).
-- The missed list read `contacts_closes` (by the day the window closed) and
-- sorted every missed contact of the municipality for each page. These hold
-- the same rows in the page's order (owner first for a nurse's own list),
-- with what the filters read included, so a page stops after its rows; the
-- list's query also says `due < today` (implied by `closes < today`).
-- tests/it/search_plans.rs checks the plans.
CREATE INDEX contacts_owner_missed ON contacts(municipality_id, owner_role, due, id) INCLUDE (closes, area_id, kind)
    WHERE awaits AND staff_owed;
CREATE INDEX contacts_missed ON contacts(municipality_id, due, id) INCLUDE (closes, owner_role, area_id, kind)
    WHERE awaits AND staff_owed;
