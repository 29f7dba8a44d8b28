-- Classes and programmes [000][002][004]: programmes (a municipality's
-- configuration, as JSON), sessions at venues with a counter of places
-- taken, bookings with their waiting list, attendance and measurements.

CREATE TABLE class_programmes (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    kind            TEXT NOT NULL,
    -- tsunagu_domain::classes::ProgrammeConfig as JSON
    config          TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX class_programmes_municipality ON class_programmes(municipality_id);

CREATE TABLE class_sessions (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    programme_id    INTEGER NOT NULL REFERENCES class_programmes(id),
    venue_id        INTEGER NOT NULL REFERENCES venues(id),
    day             TEXT NOT NULL,
    -- 'HH:MM', Japan's civil time
    starts          TEXT NOT NULL,
    minutes         INTEGER NOT NULL CHECK (minutes > 0),
    capacity        INTEGER NOT NULL CHECK (capacity >= 0),
    -- confirmed places: taken by a conditional update, never above capacity
    taken           INTEGER NOT NULL DEFAULT 0 CHECK (taken >= 0 AND taken <= capacity),
    cancelled       INTEGER NOT NULL DEFAULT 0,
    attendance_by   INTEGER REFERENCES accounts(id),
    attendance_at   TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX class_sessions_day ON class_sessions(municipality_id, day);
CREATE INDEX class_sessions_venue ON class_sessions(venue_id, day);

CREATE TABLE class_bookings (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    session_id      INTEGER NOT NULL REFERENCES class_sessions(id),
    family_id       INTEGER NOT NULL REFERENCES families(id),
    kind            TEXT NOT NULL,
    stage           TEXT NOT NULL CHECK (stage IN ('prenatal', 'postnatal', 'family')),
    pregnancy_id    INTEGER REFERENCES pregnancies(id),
    status          TEXT NOT NULL CHECK (status IN ('confirmed', 'waiting', 'cancelled')),
    contact_id      INTEGER REFERENCES contacts(id),
    with_partner    INTEGER NOT NULL,
    share_name      INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL,
    -- "once per stage" ([000] 産前に1回、産後に1回): set while the booking
    -- counts (not cancelled, not a recorded absence); NULL otherwise
    once_key        TEXT,
    override_rule   TEXT,
    override_reason TEXT NOT NULL DEFAULT '',
    booked_by       INTEGER NOT NULL REFERENCES accounts(id),
    booked_at       TEXT NOT NULL,
    cancelled_at    TEXT,
    promoted_at     TEXT,
    notice_pending  INTEGER NOT NULL DEFAULT 0,
    attended        INTEGER,
    weight_g        INTEGER,
    height_mm       INTEGER,
    UNIQUE (municipality_id, idempotency_key)
);
-- One live booking per family and session; one counting booking per stage.
CREATE UNIQUE INDEX class_bookings_session_family ON class_bookings(session_id, family_id) WHERE status <> 'cancelled';
CREATE UNIQUE INDEX class_bookings_once ON class_bookings(municipality_id, once_key) WHERE once_key IS NOT NULL;
CREATE INDEX class_bookings_family ON class_bookings(family_id);
CREATE INDEX class_bookings_waiting ON class_bookings(session_id, status, id);
