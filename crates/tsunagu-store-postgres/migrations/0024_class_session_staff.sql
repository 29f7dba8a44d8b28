-- A class session's staff (#12, last stage): the municipality's accounts
-- assigned to run it. Programme staff see the rosters of the sessions they
-- are assigned to (a session with none: those of their venue).
CREATE TABLE class_session_staff (
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    session_id      BIGINT NOT NULL REFERENCES class_sessions(id),
    account_id      BIGINT NOT NULL REFERENCES accounts(id),
    PRIMARY KEY (municipality_id, session_id, account_id)
);
CREATE INDEX class_session_staff_account ON class_session_staff(municipality_id, account_id);

-- A booking's notices told apart (#12): when its session last moved (day,
-- time or venue) while it was live, and when the family last dismissed its
-- notices — a promotion and a later move are both shown, the latest first.
ALTER TABLE class_bookings ADD COLUMN moved_at TIMESTAMPTZ;
ALTER TABLE class_bookings ADD COLUMN notice_seen_at TIMESTAMPTZ;
