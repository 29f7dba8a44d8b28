-- 0008: the audit chain is keyed (HMAC-SHA256 with a key held outside the
-- database; lines written before stay as they are and are sealed by a keyed
-- line at start-up), and its head only advances. TOTP secrets are sealed
-- with the same key at start-up (no schema change: the column holds the
-- sealed text).
--
-- A head is created at the genesis or at the first line, and after that only
-- moves on by one line, to the line just appended; it is never removed. The
-- file's owner can drop these triggers, as those on audit_log: the keyed
-- chain and the signed checkpoints kept outside the database catch that.

CREATE TRIGGER audit_heads_start BEFORE INSERT ON audit_heads
WHEN NOT EXISTS (SELECT 1 FROM audit_heads WHERE municipality_id = NEW.municipality_id)
 AND NOT (NEW.seq = 0 AND NEW.hash = '0000000000000000000000000000000000000000000000000000000000000000')
 AND NOT (NEW.seq = 1 AND EXISTS (SELECT 1 FROM audit_log
          WHERE municipality_id = NEW.municipality_id AND seq = 1 AND hash = NEW.hash))
BEGIN SELECT RAISE(ABORT, 'an audit head starts at the first line'); END;

CREATE TRIGGER audit_heads_advance BEFORE UPDATE ON audit_heads
WHEN NEW.municipality_id <> OLD.municipality_id
  OR NEW.seq <> OLD.seq + 1
  OR NOT EXISTS (SELECT 1 FROM audit_log
                 WHERE municipality_id = NEW.municipality_id AND seq = NEW.seq AND hash = NEW.hash)
BEGIN SELECT RAISE(ABORT, 'an audit head only advances to the line just appended'); END;

CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads
BEGIN SELECT RAISE(ABORT, 'audit lines are append-only (their heads are never removed)'); END;
