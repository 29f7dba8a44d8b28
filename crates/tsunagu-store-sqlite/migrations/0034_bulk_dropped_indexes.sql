-- #16: the definitions of the indexes a large load dropped, to be built
-- once after it (RecordStore::bulk_load_begin / bulk_load_end). Saved in
-- the transaction that drops them, so a load that never finished has them
-- rebuilt by the next migrate. The service's own (schema, no person).
CREATE TABLE bulk_dropped_indexes (
    name TEXT PRIMARY KEY,
    table_name TEXT NOT NULL,
    definition TEXT NOT NULL
);
