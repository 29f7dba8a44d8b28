-- 0039: on PostgreSQL, a function that moves a batch's audit heads along
-- its lines (#16). SQLite moves them by one statement of the batch's rows
-- (src/audit.rs): nothing to change here.
SELECT 1;
