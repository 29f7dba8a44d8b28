-- Classes and programmes [000][002][004]: programmes (a municipality's
-- configuration, as JSON), sessions at venues with a counter of places
-- taken, bookings with their waiting list, attendance and measurements.
-- The PostgreSQL counterpart of the SQLite store's 0011_classes.sql: the
-- same tables, columns and indexes, with native types.

CREATE TABLE class_programmes (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    kind            TEXT NOT NULL,
    -- tsunagu_domain::classes::ProgrammeConfig as JSON
    config          TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX class_programmes_municipality ON class_programmes(municipality_id);

CREATE TABLE class_sessions (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    programme_id    BIGINT NOT NULL REFERENCES class_programmes(id),
    venue_id        BIGINT NOT NULL REFERENCES venues(id),
    day             DATE NOT NULL,
    -- 'HH:MM:SS', Japan's civil time
    starts          TEXT COLLATE "C" NOT NULL,
    minutes         BIGINT NOT NULL CHECK (minutes > 0),
    capacity        BIGINT NOT NULL CHECK (capacity >= 0),
    -- confirmed places: taken by a conditional update, never above capacity
    taken           BIGINT NOT NULL DEFAULT 0 CHECK (taken >= 0 AND taken <= capacity),
    cancelled       BOOLEAN NOT NULL DEFAULT false,
    attendance_by   BIGINT REFERENCES accounts(id),
    attendance_at   TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX class_sessions_day ON class_sessions(municipality_id, day);
CREATE INDEX class_sessions_venue ON class_sessions(venue_id, day);

CREATE TABLE class_bookings (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    session_id      BIGINT NOT NULL REFERENCES class_sessions(id),
    family_id       BIGINT NOT NULL REFERENCES families(id),
    kind            TEXT NOT NULL,
    stage           TEXT NOT NULL CHECK (stage IN ('prenatal', 'postnatal', 'family')),
    pregnancy_id    BIGINT REFERENCES pregnancies(id),
    status          TEXT NOT NULL CHECK (status IN ('confirmed', 'waiting', 'cancelled')),
    contact_id      BIGINT REFERENCES contacts(id),
    with_partner    BOOLEAN NOT NULL,
    share_name      BOOLEAN NOT NULL,
    idempotency_key TEXT NOT NULL,
    -- "once per stage" ([000] 産前に1回、産後に1回): set while the booking
    -- counts (not cancelled, not a recorded absence); NULL otherwise
    once_key        TEXT,
    override_rule   TEXT,
    override_reason TEXT NOT NULL DEFAULT '',
    booked_by       BIGINT NOT NULL REFERENCES accounts(id),
    booked_at       TIMESTAMPTZ NOT NULL,
    cancelled_at    TIMESTAMPTZ,
    promoted_at     TIMESTAMPTZ,
    notice_pending  BOOLEAN NOT NULL DEFAULT false,
    attended        BOOLEAN,
    weight_g        BIGINT,
    height_mm       BIGINT,
    CONSTRAINT class_bookings_idempotency UNIQUE (municipality_id, idempotency_key)
);
-- One live booking per family and session; one counting booking per stage.
CREATE UNIQUE INDEX class_bookings_session_family ON class_bookings(session_id, family_id) WHERE status <> 'cancelled';
CREATE UNIQUE INDEX class_bookings_once ON class_bookings(municipality_id, once_key) WHERE once_key IS NOT NULL;
CREATE INDEX class_bookings_family ON class_bookings(family_id);
CREATE INDEX class_bookings_waiting ON class_bookings(session_id, status, id);
