-- 0042: a lone read's audit line sent as twelve values, not twelve arrays
-- of one (#16).
--
-- At one request at a time every group-commit batch is one line, and 0040's
-- short path still took it as arrays: the node encoded twelve one-element
-- arrays, PostgreSQL decoded them (the instant cast element by element from
-- text) and the function read each value back by subscript, and answered
-- through a set-returning call's tuple store. `audit_append_one` takes the
-- values themselves and answers one row: both columns NULL when the line
-- was appended, else the head as it is (nothing written), for the node to
-- link the line again — the same answers as `audit_append`. A municipality
-- without a head yet goes to `audit_append_batch` (0038), which starts it
-- at the genesis. The triggers of 0008 check the line and the step as
-- before; the chain key stays in the node.

CREATE FUNCTION audit_append_one(
    p_municipality bigint, p_seq bigint, p_at timestamptz, p_actor bigint, p_role text, p_action text,
    p_family bigint, p_detail text, p_reason text, p_remote text, p_prev text, p_hash text,
    OUT head_seq bigint, OUT head_hash text
) LANGUAGE plpgsql AS $$
BEGIN
    SELECT a.seq, a.hash INTO head_seq, head_hash FROM audit_heads a
        WHERE a.municipality_id = p_municipality FOR UPDATE;
    IF NOT FOUND THEN
        -- No rows from the batch function (appended) leave both NULL.
        SELECT b.seq, b.hash INTO head_seq, head_hash
            FROM audit_append_batch(ARRAY[p_municipality], ARRAY[p_seq], ARRAY[p_at], ARRAY[p_actor],
                                    ARRAY[p_role], ARRAY[p_action], ARRAY[p_family], ARRAY[p_detail],
                                    ARRAY[p_reason], ARRAY[p_remote], ARRAY[p_prev], ARRAY[p_hash]) b;
        RETURN;
    END IF;
    IF p_seq <> head_seq + 1 OR p_prev <> head_hash THEN
        RETURN;
    END IF;
    INSERT INTO audit_log (municipality_id, seq, at, actor, role, action, family_id, detail, reason,
                           remote_addr, prev_hash, hash)
        VALUES (p_municipality, p_seq, p_at, p_actor, p_role, p_action, p_family, p_detail, p_reason,
                p_remote, p_prev, p_hash);
    UPDATE audit_heads a SET seq = p_seq, hash = p_hash WHERE a.municipality_id = p_municipality;
    head_seq := NULL;
    head_hash := NULL;
END;
$$;
