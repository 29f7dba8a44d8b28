-- 0008: the audit chain is keyed (HMAC-SHA256 with a key held outside the
-- database; lines written before stay as they are and are sealed by a keyed
-- line at start-up), and its head only advances. TOTP secrets are sealed
-- with the same key at start-up (no schema change: the column holds the
-- sealed text).
--
-- A head is created at the genesis (appends create it so, then lock it) and
-- after that only moves on by one line, to the line just appended; it is
-- never removed or truncated. Like the triggers on audit_log, these stop
-- the service's own role and anyone without the table owner's rights; an
-- owner can disable them, and the keyed chain and the signed checkpoints
-- kept outside the database catch what they can then do.

CREATE FUNCTION audit_heads_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.seq = 0 AND NEW.hash = '0000000000000000000000000000000000000000000000000000000000000000' THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'an audit head starts at the genesis';
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.municipality_id = OLD.municipality_id AND NEW.seq = OLD.seq + 1 AND EXISTS (
            SELECT 1 FROM audit_log WHERE municipality_id = NEW.municipality_id AND seq = NEW.seq AND hash = NEW.hash
        ) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'an audit head only advances to the line just appended';
    END IF;
    RAISE EXCEPTION 'audit lines are append-only (their heads are never removed)';
END;
$$;
CREATE TRIGGER audit_heads_only_advance BEFORE INSERT OR UPDATE OR DELETE ON audit_heads
    FOR EACH ROW EXECUTE FUNCTION audit_heads_guard();
CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads
    FOR EACH STATEMENT EXECUTE FUNCTION audit_heads_guard();
