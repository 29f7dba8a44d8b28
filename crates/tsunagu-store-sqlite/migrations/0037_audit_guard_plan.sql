-- 0037: audit_log's search indexes led by the actor and the family, not the
-- municipality, as on PostgreSQL (where, without statistics, the planner
-- could look the line just appended up by one of them instead of the key:
-- see its 0037). SQLite's triggers read by the key whatever a table holds;
-- the indexes change here so that both back ends keep the same ones.
DROP INDEX audit_family;
CREATE INDEX audit_family ON audit_log(family_id, municipality_id);
DROP INDEX audit_actor;
CREATE INDEX audit_actor ON audit_log(actor, municipality_id);
