-- 0040: a lone read's audit line appended by the fewest statements (#16).
--
-- At one request at a time every group-commit batch is one line, and 0038's
-- `audit_append` spent most of its time on what a batch of many needs: the
-- batch's municipalities listed twice, each head found again by its tuple
-- id, the lines inserted from `unnest`. A batch of one line now takes a
-- short path: the head locked, checked against the line, the line inserted,
-- the head moved — with the same answers (nothing written and the head as
-- it is when the line does not follow it). Any other batch, and a
-- municipality without a head yet, goes to 0038's function, renamed
-- `audit_append_batch` and unchanged. The triggers of 0008 check the
-- step as before; the chain key stays in the node.

ALTER FUNCTION audit_append(bigint[], bigint[], timestamptz[], bigint[], text[], text[], bigint[], text[], text[],
                            text[], text[], text[])
    RENAME TO audit_append_batch;

CREATE FUNCTION audit_append(
    p_municipality bigint[], p_seq bigint[], p_at timestamptz[], p_actor bigint[], p_role text[],
    p_action text[], p_family bigint[], p_detail text[], p_reason text[], p_remote text[],
    p_prev text[], p_hash text[]
) RETURNS TABLE (municipality_id bigint, seq bigint, hash text) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    h record;
BEGIN
    IF cardinality(p_municipality) = 1 THEN
        SELECT a.seq, a.hash INTO h FROM audit_heads a WHERE a.municipality_id = p_municipality[1] FOR UPDATE;
        IF FOUND THEN
            IF p_seq[1] <> h.seq + 1 OR p_prev[1] <> h.hash THEN
                RETURN QUERY SELECT p_municipality[1], h.seq, h.hash;
                RETURN;
            END IF;
            INSERT INTO audit_log (municipality_id, seq, at, actor, role, action, family_id, detail, reason,
                                   remote_addr, prev_hash, hash)
                VALUES (p_municipality[1], p_seq[1], p_at[1], p_actor[1], p_role[1], p_action[1], p_family[1],
                        p_detail[1], p_reason[1], p_remote[1], p_prev[1], p_hash[1]);
            UPDATE audit_heads a SET seq = p_seq[1], hash = p_hash[1] WHERE a.municipality_id = p_municipality[1];
            RETURN;
        END IF;
    END IF;
    RETURN QUERY SELECT * FROM audit_append_batch(p_municipality, p_seq, p_at, p_actor, p_role, p_action, p_family,
                                                  p_detail, p_reason, p_remote, p_prev, p_hash);
END;
$$;
