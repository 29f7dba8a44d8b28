-- Jobs that one node of many runs (issue #15): the daily timeline job runs
-- once a day however many nodes serve one database. A node takes a job's
-- lease with a conditional update (free, expired, or its own, and the day
-- not done yet), does the work, and records the day done. A node that dies
-- holding it leaves a lease that expires. Service-wide, not a
-- municipality's data: a reference table when sharded (docs/DEPLOY.md).
CREATE TABLE job_leases (
    job        TEXT PRIMARY KEY,
    holder     TEXT NOT NULL DEFAULT '',
    -- An instant as the store writes them (UTC, six fractional digits), so
    -- that text order is time order; '' before the first lease.
    expires_at TEXT NOT NULL DEFAULT '',
    -- The last day (in Japan, YYYY-MM-DD) the job finished for.
    done_for   TEXT
);
