-- 0038: on PostgreSQL, a function that appends a batch of reads' audit
-- lines in one statement (#16). SQLite writes the batch on the writer's own
-- connection in place (src/direct.rs): nothing to change here.
SELECT 1;
