-- 0038: a batch of reads' audit lines appended in one statement (#16).
--
-- The group commit computed each line's keyed hash from its chain's head,
-- read and locked in the batch's own transaction: BEGIN, the head, the
-- lines, the head's moves, COMMIT — five round trips for the one line a
-- lone read writes. A node now keeps the heads it last saw and sends the
-- lines it linked to them to this function, one call in a transaction of
-- its own. The function locks each head (in the order of the
-- municipalities' ids, as every append does), and appends only if every
-- chain's first line of the batch follows its head; else it writes nothing
-- and answers the heads as they are, for the node to link its lines again.
-- The hashes are computed by the node (the chain key never reaches the
-- database); the triggers of 0008 still check every line and every step.

CREATE FUNCTION audit_append(
    p_municipality bigint[], p_seq bigint[], p_at timestamptz[], p_actor bigint[], p_role text[],
    p_action text[], p_family bigint[], p_detail text[], p_reason text[], p_remote text[],
    p_prev text[], p_hash text[]
) RETURNS TABLE (municipality_id bigint, seq bigint, hash text) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    m bigint;
    h record;
    c tid;
    i int;
    stale boolean := false;
BEGIN
    FOR m IN SELECT DISTINCT u.m FROM unnest(p_municipality) AS u(m) ORDER BY u.m LOOP
        SELECT a.seq, a.hash INTO h FROM audit_heads a WHERE a.municipality_id = m FOR UPDATE;
        IF NOT FOUND THEN
            -- A municipality's first line: its head starts at the genesis.
            INSERT INTO audit_heads (municipality_id, seq, hash)
                VALUES (m, 0, '0000000000000000000000000000000000000000000000000000000000000000')
                ON CONFLICT DO NOTHING;
            SELECT a.seq, a.hash INTO STRICT h FROM audit_heads a WHERE a.municipality_id = m FOR UPDATE;
        END IF;
        i := array_position(p_municipality, m);
        IF p_seq[i] <> h.seq + 1 OR p_prev[i] <> h.hash THEN
            stale := true;
        END IF;
    END LOOP;
    IF stale THEN
        RETURN QUERY SELECT a.municipality_id, a.seq, a.hash FROM audit_heads a
            WHERE a.municipality_id = ANY (p_municipality) ORDER BY a.municipality_id;
        RETURN;
    END IF;
    INSERT INTO audit_log (municipality_id, seq, at, actor, role, action, family_id, detail, reason,
                           remote_addr, prev_hash, hash)
        SELECT * FROM unnest(p_municipality, p_seq, p_at, p_actor, p_role, p_action, p_family, p_detail,
                             p_reason, p_remote, p_prev, p_hash);
    -- Each head follows its lines one at a time (the trigger of 0008 checks
    -- each step), found by its key once and then by the tuple id the update
    -- before returned (as the batch updates of the store do: by the key,
    -- each update would walk every version of the row made before it).
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
