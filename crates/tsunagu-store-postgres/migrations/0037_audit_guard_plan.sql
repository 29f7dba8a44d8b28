-- 0037: the audit head's guard (0008) looks the line just appended up by
-- audit_log's key (municipality_id, seq). Without statistics (a new
-- database, before autovacuum's first ANALYZE) the planner rated the two
-- search indexes, also led by municipality_id, as good as the key, and a
-- connection could plan the lookup by one of them once and keep the plan:
-- every line of the city read and filtered by seq, so every audited read
-- grew slower as the log grew (one client: 0.4 ms, then 0.8 → 2.2 ms within
-- 20 s; BENCHMARKS.md, 2026-12-06). Led by the actor and the family instead,
-- they still serve the audit search (equality on both columns), and only
-- the key is led by the municipality. A rebuild of both indexes: on a large
-- log it takes minutes and blocks writes meanwhile (docs/DEPLOY.md).
DROP INDEX audit_family;
CREATE INDEX audit_family ON audit_log(family_id, municipality_id);
DROP INDEX audit_actor;
CREATE INDEX audit_actor ON audit_log(actor, municipality_id);
