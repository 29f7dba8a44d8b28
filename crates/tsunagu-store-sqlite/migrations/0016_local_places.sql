-- Local information (#12) [000] 地域おでかけ情報: each area's children's
-- halls, hubs, support rooms, outing spots and services, kept by the area's
-- coordinators. Public information about places: no personal data. An
-- entry is retired rather than deleted.
CREATE TABLE local_places (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    area_id         INTEGER NOT NULL REFERENCES areas(id),
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
    stages          INTEGER NOT NULL CHECK (stages > 0),
    -- the venue it is, when class sessions are held there
    venue_id        INTEGER REFERENCES venues(id),
    retired         INTEGER NOT NULL DEFAULT 0,
    updated_at      TEXT NOT NULL
);
CREATE INDEX local_places_area ON local_places(municipality_id, area_id);
CREATE INDEX local_places_venue ON local_places(venue_id);
