-- Jobs that one node of many runs (issue #15): the daily timeline job runs
-- once a day however many nodes serve one database. A node takes a job's
-- lease with a conditional update (free, expired, or its own, and the day
-- not done yet: concurrent updates of the row serialise on its lock and
-- the loser re-reads it), does the work, and records the day done. A node
-- that dies holding it leaves a lease that expires. Service-wide, not a
-- municipality's data: a reference table when sharded (docs/DEPLOY.md).
-- The PostgreSQL counterpart of the SQLite store's 0015.
CREATE TABLE job_leases (
    job        TEXT PRIMARY KEY,
    holder     TEXT NOT NULL DEFAULT '',
    expires_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
    -- The last day (in Japan) the job finished for.
    done_for   DATE
);
