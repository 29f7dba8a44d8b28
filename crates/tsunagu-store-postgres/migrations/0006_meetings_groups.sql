-- The monthly handbook meeting (母子手帳会議) and the 8th-month group
-- sessions (妊娠8か月面談, 集団) [002]. The contacts they settle are the
-- timeline's (0004); these tables keep the meetings and who was invited.
-- The PostgreSQL counterpart of the SQLite store's 0006_meetings_groups.sql:
-- the same tables, columns and indexes, with native types. Months are
-- 'YYYY-MM' text in byte order, so they compare as they sort.

-- The handbook list of a month and the 8th-month candidates of a due month.
CREATE INDEX pregnancies_notified ON pregnancies(municipality_id, notified_on);
CREATE INDEX pregnancies_edd ON pregnancies(municipality_id, edd);

-- One meeting per area and month of notification.
CREATE TABLE handbook_meetings (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    area_id         BIGINT NOT NULL REFERENCES areas(id),
    month           TEXT COLLATE "C" NOT NULL CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
    held_on         DATE NOT NULL,
    -- about the meeting, not a family
    note            TEXT NOT NULL DEFAULT '',
    -- handbook-meeting contacts the meeting recorded as done
    contacts_done   INTEGER NOT NULL DEFAULT 0,
    recorded_by     BIGINT NOT NULL REFERENCES accounts(id),
    recorded_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (municipality_id, area_id, month)
);

-- A group the nurse confirmed: an area, a due month, a day and a place.
CREATE TABLE group_sessions (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    area_id         BIGINT NOT NULL REFERENCES areas(id),
    due_month       TEXT COLLATE "C" NOT NULL CHECK (due_month ~ '^[0-9]{4}-[0-9]{2}$'),
    day             DATE NOT NULL,
    place           TEXT NOT NULL,
    created_by      BIGINT NOT NULL REFERENCES accounts(id),
    created_at      TIMESTAMPTZ NOT NULL,
    -- set once, when attendance is recorded
    attendance_by   BIGINT REFERENCES accounts(id),
    attendance_at   TIMESTAMPTZ
);
CREATE INDEX group_sessions_month ON group_sessions(municipality_id, due_month);

-- Who was invited; a pregnancy is in at most one session.
CREATE TABLE group_session_members (
    session_id      BIGINT NOT NULL REFERENCES group_sessions(id),
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    pregnancy_id    BIGINT NOT NULL UNIQUE REFERENCES pregnancies(id),
    family_id       BIGINT NOT NULL REFERENCES families(id),
    -- the pregnancy's 8th-month-interview contact
    contact_id      BIGINT NOT NULL REFERENCES contacts(id),
    -- NULL until attendance is recorded
    attended        BOOLEAN,
    PRIMARY KEY (session_id, pregnancy_id)
);
