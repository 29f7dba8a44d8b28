-- 0040: on PostgreSQL, a short path of `audit_append` for a batch of one
-- line (#16). SQLite writes a batch's lines by its own statements
-- (src/audit.rs): nothing to change here.
SELECT 1;
