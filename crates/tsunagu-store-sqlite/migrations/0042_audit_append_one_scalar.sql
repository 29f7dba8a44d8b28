-- 0042: on PostgreSQL, a lone line's values passed to `audit_append_one`
-- as they are, not as arrays (#16). SQLite writes a batch's lines by its
-- own statements (src/audit.rs): nothing to change here.
SELECT 1;
