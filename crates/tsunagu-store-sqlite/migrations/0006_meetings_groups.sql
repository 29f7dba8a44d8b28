-- The monthly handbook meeting (母子手帳会議) and the 8th-month group
-- sessions (妊娠8か月面談, 集団) [002]. The contacts they settle are the
-- timeline's (0004); these tables keep the meetings and who was invited.

-- The handbook list of a month and the 8th-month candidates of a due month.
CREATE INDEX pregnancies_notified ON pregnancies(municipality_id, notified_on);
CREATE INDEX pregnancies_edd ON pregnancies(municipality_id, edd);

-- One meeting per area and month of notification ('YYYY-MM').
CREATE TABLE handbook_meetings (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    area_id         INTEGER NOT NULL REFERENCES areas(id),
    month           TEXT NOT NULL CHECK (length(month) = 7),
    held_on         TEXT NOT NULL,
    -- about the meeting, not a family
    note            TEXT NOT NULL DEFAULT '',
    -- handbook-meeting contacts the meeting recorded as done
    contacts_done   INTEGER NOT NULL DEFAULT 0,
    recorded_by     INTEGER NOT NULL REFERENCES accounts(id),
    recorded_at     TEXT NOT NULL,
    UNIQUE (municipality_id, area_id, month)
);

-- A group the nurse confirmed: an area, a due month, a day and a place.
CREATE TABLE group_sessions (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    area_id         INTEGER NOT NULL REFERENCES areas(id),
    due_month       TEXT NOT NULL CHECK (length(due_month) = 7),
    day             TEXT NOT NULL,
    place           TEXT NOT NULL,
    created_by      INTEGER NOT NULL REFERENCES accounts(id),
    created_at      TEXT NOT NULL,
    -- set once, when attendance is recorded
    attendance_by   INTEGER REFERENCES accounts(id),
    attendance_at   TEXT
);
CREATE INDEX group_sessions_month ON group_sessions(municipality_id, due_month);

-- Who was invited; a pregnancy is in at most one session.
CREATE TABLE group_session_members (
    session_id      INTEGER NOT NULL REFERENCES group_sessions(id),
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    pregnancy_id    INTEGER NOT NULL UNIQUE REFERENCES pregnancies(id),
    family_id       INTEGER NOT NULL REFERENCES families(id),
    -- the pregnancy's 8th-month-interview contact
    contact_id      INTEGER NOT NULL REFERENCES contacts(id),
    -- NULL until attendance is recorded
    attended        INTEGER,
    PRIMARY KEY (session_id, pregnancy_id)
);
