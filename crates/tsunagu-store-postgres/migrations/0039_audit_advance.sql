-- 0039: a batch's heads moved along its lines by one call with bound
-- arrays (#16).
--
-- A batch of audit lines written in a transaction of the store's own (an
-- import's batch, a change's lines, the group commit's locked fallback)
-- moved each head one line at a time (the trigger of 0008 checks each
-- step) in a `DO` block whose text carried the batch's numbers and hashes:
-- a new text for every batch, parsed and planned each time, and a new
-- entry for each in `pg_stat_statements`. The same loop is now this
-- function, called with the batch's municipalities, numbers and hashes as
-- arrays: one statement text whatever the batch. The heads are locked by
-- the caller's transaction before its lines are linked.

CREATE FUNCTION audit_advance(p_municipality bigint[], p_seq bigint[], p_hash text[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    m bigint;
    c tid;
    i int;
BEGIN
    -- Each head found by its key once, then by the tuple id the update
    -- before returned (by the key, each update would walk every version of
    -- the row the transaction made before it).
    FOR m IN SELECT DISTINCT u.m FROM unnest(p_municipality) AS u(m) ORDER BY u.m LOOP
        SELECT a.ctid INTO STRICT c FROM audit_heads a WHERE a.municipality_id = m;
        FOR i IN 1 .. array_length(p_municipality, 1) LOOP
            IF p_municipality[i] = m THEN
                UPDATE audit_heads a SET seq = p_seq[i], hash = p_hash[i]
                    WHERE a.ctid = c AND a.municipality_id = m RETURNING a.ctid INTO STRICT c;
            END IF;
        END LOOP;
    END LOOP;
END;
$$;
