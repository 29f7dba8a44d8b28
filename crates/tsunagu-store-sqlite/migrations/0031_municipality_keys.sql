-- #15, the key change (see the PostgreSQL migration of the same number): the tables
-- that reached their municipality through a parent gain `municipality_id`, filled
-- from the parent. SQLite is the single-city embedded back end and is never sharded,
-- so its keys stay the rowid (its fastest path); triggers hold what PostgreSQL's
-- composite foreign keys prove there: a child row is in its parent's municipality.
-- (SQLite cannot add a column NOT NULL without a default; the default 0 names no
-- municipality, so the triggers refuse it.)

ALTER TABLE babies ADD COLUMN municipality_id INTEGER NOT NULL DEFAULT 0;
UPDATE babies SET municipality_id = (SELECT p.municipality_id FROM pregnancies p WHERE p.id = babies.pregnancy_id);
CREATE TRIGGER babies_municipality_insert BEFORE INSERT ON babies
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM pregnancies p WHERE p.id = NEW.pregnancy_id)
BEGIN SELECT RAISE(ABORT, 'babies.municipality_id differs from its pregnancies row''s'); END;
CREATE TRIGGER babies_municipality_update BEFORE UPDATE OF municipality_id, pregnancy_id ON babies
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM pregnancies p WHERE p.id = NEW.pregnancy_id)
BEGIN SELECT RAISE(ABORT, 'babies.municipality_id differs from its pregnancies row''s'); END;

ALTER TABLE account_scopes ADD COLUMN municipality_id INTEGER NOT NULL DEFAULT 0;
UPDATE account_scopes SET municipality_id = (SELECT p.municipality_id FROM accounts p WHERE p.id = account_scopes.account_id);
CREATE TRIGGER account_scopes_municipality_insert BEFORE INSERT ON account_scopes
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM accounts p WHERE p.id = NEW.account_id)
BEGIN SELECT RAISE(ABORT, 'account_scopes.municipality_id differs from its accounts row''s'); END;
CREATE TRIGGER account_scopes_municipality_update BEFORE UPDATE OF municipality_id, account_id ON account_scopes
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM accounts p WHERE p.id = NEW.account_id)
BEGIN SELECT RAISE(ABORT, 'account_scopes.municipality_id differs from its accounts row''s'); END;

ALTER TABLE sessions ADD COLUMN municipality_id INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET municipality_id = (SELECT p.municipality_id FROM accounts p WHERE p.id = sessions.account_id);
CREATE TRIGGER sessions_municipality_insert BEFORE INSERT ON sessions
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM accounts p WHERE p.id = NEW.account_id)
BEGIN SELECT RAISE(ABORT, 'sessions.municipality_id differs from its accounts row''s'); END;
CREATE TRIGGER sessions_municipality_update BEFORE UPDATE OF municipality_id, account_id ON sessions
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM accounts p WHERE p.id = NEW.account_id)
BEGIN SELECT RAISE(ABORT, 'sessions.municipality_id differs from its accounts row''s'); END;

ALTER TABLE chat_reads ADD COLUMN municipality_id INTEGER NOT NULL DEFAULT 0;
UPDATE chat_reads SET municipality_id = (SELECT p.municipality_id FROM chat_rooms p WHERE p.id = chat_reads.room_id);
CREATE TRIGGER chat_reads_municipality_insert BEFORE INSERT ON chat_reads
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM chat_rooms p WHERE p.id = NEW.room_id)
BEGIN SELECT RAISE(ABORT, 'chat_reads.municipality_id differs from its chat_rooms row''s'); END;
CREATE TRIGGER chat_reads_municipality_update BEFORE UPDATE OF municipality_id, room_id ON chat_reads
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM chat_rooms p WHERE p.id = NEW.room_id)
BEGIN SELECT RAISE(ABORT, 'chat_reads.municipality_id differs from its chat_rooms row''s'); END;

ALTER TABLE chat_team_members ADD COLUMN municipality_id INTEGER NOT NULL DEFAULT 0;
UPDATE chat_team_members SET municipality_id = (SELECT p.municipality_id FROM chat_rooms p WHERE p.id = chat_team_members.room_id);
CREATE TRIGGER chat_team_members_municipality_insert BEFORE INSERT ON chat_team_members
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM chat_rooms p WHERE p.id = NEW.room_id)
BEGIN SELECT RAISE(ABORT, 'chat_team_members.municipality_id differs from its chat_rooms row''s'); END;
CREATE TRIGGER chat_team_members_municipality_update BEFORE UPDATE OF municipality_id, room_id ON chat_team_members
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM chat_rooms p WHERE p.id = NEW.room_id)
BEGIN SELECT RAISE(ABORT, 'chat_team_members.municipality_id differs from its chat_rooms row''s'); END;

ALTER TABLE online_talk_attendees ADD COLUMN municipality_id INTEGER NOT NULL DEFAULT 0;
UPDATE online_talk_attendees SET municipality_id = (SELECT p.municipality_id FROM online_talks p WHERE p.id = online_talk_attendees.talk_id);
CREATE TRIGGER online_talk_attendees_municipality_insert BEFORE INSERT ON online_talk_attendees
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM online_talks p WHERE p.id = NEW.talk_id)
BEGIN SELECT RAISE(ABORT, 'online_talk_attendees.municipality_id differs from its online_talks row''s'); END;
CREATE TRIGGER online_talk_attendees_municipality_update BEFORE UPDATE OF municipality_id, talk_id ON online_talk_attendees
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM online_talks p WHERE p.id = NEW.talk_id)
BEGIN SELECT RAISE(ABORT, 'online_talk_attendees.municipality_id differs from its online_talks row''s'); END;

ALTER TABLE postpartum_facilities ADD COLUMN municipality_id INTEGER NOT NULL DEFAULT 0;
UPDATE postpartum_facilities SET municipality_id = (SELECT p.municipality_id FROM venues p WHERE p.id = postpartum_facilities.venue_id);
CREATE TRIGGER postpartum_facilities_municipality_insert BEFORE INSERT ON postpartum_facilities
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM venues p WHERE p.id = NEW.venue_id)
BEGIN SELECT RAISE(ABORT, 'postpartum_facilities.municipality_id differs from its venues row''s'); END;
CREATE TRIGGER postpartum_facilities_municipality_update BEFORE UPDATE OF municipality_id, venue_id ON postpartum_facilities
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM venues p WHERE p.id = NEW.venue_id)
BEGIN SELECT RAISE(ABORT, 'postpartum_facilities.municipality_id differs from its venues row''s'); END;

ALTER TABLE postpartum_places ADD COLUMN municipality_id INTEGER NOT NULL DEFAULT 0;
UPDATE postpartum_places SET municipality_id = (SELECT p.municipality_id FROM venues p WHERE p.id = postpartum_places.venue_id);
CREATE TRIGGER postpartum_places_municipality_insert BEFORE INSERT ON postpartum_places
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM venues p WHERE p.id = NEW.venue_id)
BEGIN SELECT RAISE(ABORT, 'postpartum_places.municipality_id differs from its venues row''s'); END;
CREATE TRIGGER postpartum_places_municipality_update BEFORE UPDATE OF municipality_id, venue_id ON postpartum_places
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM venues p WHERE p.id = NEW.venue_id)
BEGIN SELECT RAISE(ABORT, 'postpartum_places.municipality_id differs from its venues row''s'); END;

ALTER TABLE postpartum_stay_notes ADD COLUMN municipality_id INTEGER NOT NULL DEFAULT 0;
UPDATE postpartum_stay_notes SET municipality_id = (SELECT p.municipality_id FROM postpartum_applications p WHERE p.id = postpartum_stay_notes.application_id);
CREATE TRIGGER postpartum_stay_notes_municipality_insert BEFORE INSERT ON postpartum_stay_notes
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM postpartum_applications p WHERE p.id = NEW.application_id)
BEGIN SELECT RAISE(ABORT, 'postpartum_stay_notes.municipality_id differs from its postpartum_applications row''s'); END;
CREATE TRIGGER postpartum_stay_notes_municipality_update BEFORE UPDATE OF municipality_id, application_id ON postpartum_stay_notes
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM postpartum_applications p WHERE p.id = NEW.application_id)
BEGIN SELECT RAISE(ABORT, 'postpartum_stay_notes.municipality_id differs from its postpartum_applications row''s'); END;

ALTER TABLE referral_events ADD COLUMN municipality_id INTEGER NOT NULL DEFAULT 0;
UPDATE referral_events SET municipality_id = (SELECT p.municipality_id FROM referrals p WHERE p.id = referral_events.referral_id);
CREATE TRIGGER referral_events_municipality_insert BEFORE INSERT ON referral_events
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM referrals p WHERE p.id = NEW.referral_id)
BEGIN SELECT RAISE(ABORT, 'referral_events.municipality_id differs from its referrals row''s'); END;
CREATE TRIGGER referral_events_municipality_update BEFORE UPDATE OF municipality_id, referral_id ON referral_events
WHEN NEW.municipality_id IS NOT (SELECT p.municipality_id FROM referrals p WHERE p.id = NEW.referral_id)
BEGIN SELECT RAISE(ABORT, 'referral_events.municipality_id differs from its referrals row''s'); END;
