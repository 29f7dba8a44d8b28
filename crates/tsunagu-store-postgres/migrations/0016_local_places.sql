-- Local information (#12) [000] 地域おでかけ情報: each area's children's
-- halls, hubs, support rooms, outing spots and services, kept by the area's
-- coordinators. Public information about places: no personal data. An
-- entry is retired rather than deleted. The PostgreSQL counterpart of the
-- SQLite store's 0016_local_places.sql.
CREATE TABLE local_places (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    area_id         BIGINT NOT NULL REFERENCES areas(id),
    -- tsunagu_domain::classes::local::PlaceKind code
    kind            TEXT NOT NULL,
    name_ja         TEXT NOT NULL,
    name_en         TEXT NOT NULL DEFAULT '',
    address         TEXT NOT NULL DEFAULT '',
    access          TEXT NOT NULL DEFAULT '',
    hours           TEXT NOT NULL DEFAULT '',
    offers_ja       TEXT NOT NULL,
    offers_en       TEXT NOT NULL DEFAULT '',
    -- tsunagu_domain::classes::local::StageSet: bit n is LifeStage::ALL[n]
    stages          BIGINT NOT NULL CHECK (stages > 0),
    -- the venue it is, when class sessions are held there
    venue_id        BIGINT REFERENCES venues(id),
    retired         BOOLEAN NOT NULL DEFAULT false,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX local_places_area ON local_places(municipality_id, area_id);
CREATE INDEX local_places_venue ON local_places(venue_id);
