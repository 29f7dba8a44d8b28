-- #15, the key change: every table of a municipality's data says whose it is in its
-- primary key, its unique keys and every foreign key between such tables, so that a
-- cluster sharded by municipality (Citus, distributed on municipality_id) keeps every
-- key and every reference inside one shard, and so that no row can point into another
-- municipality (docs/DEPLOY.md, "Sharding by municipality").
--
-- municipality_id is appended to each key, not put in front: a row by its id, a join
-- on an id and a lookup by a token's hash keep the B-tree prefix they use today, and
-- `municipality_id = $m AND id = $n` uses the same index. Ids stay globally unique
-- (one sequence per table); no row changes. Tables that reached their municipality
-- through a parent gain the column, filled from the parent.

-- 1. The column on the tables that reached their municipality through a parent.
ALTER TABLE babies ADD COLUMN municipality_id BIGINT;
UPDATE babies c SET municipality_id = p.municipality_id FROM pregnancies p WHERE p.id = c.pregnancy_id;
ALTER TABLE babies ALTER COLUMN municipality_id SET NOT NULL,
    ADD FOREIGN KEY (municipality_id) REFERENCES municipalities (id);
ALTER TABLE account_scopes ADD COLUMN municipality_id BIGINT;
UPDATE account_scopes c SET municipality_id = p.municipality_id FROM accounts p WHERE p.id = c.account_id;
ALTER TABLE account_scopes ALTER COLUMN municipality_id SET NOT NULL,
    ADD FOREIGN KEY (municipality_id) REFERENCES municipalities (id);
ALTER TABLE sessions ADD COLUMN municipality_id BIGINT;
UPDATE sessions c SET municipality_id = p.municipality_id FROM accounts p WHERE p.id = c.account_id;
ALTER TABLE sessions ALTER COLUMN municipality_id SET NOT NULL,
    ADD FOREIGN KEY (municipality_id) REFERENCES municipalities (id);
ALTER TABLE chat_reads ADD COLUMN municipality_id BIGINT;
UPDATE chat_reads c SET municipality_id = p.municipality_id FROM chat_rooms p WHERE p.id = c.room_id;
ALTER TABLE chat_reads ALTER COLUMN municipality_id SET NOT NULL,
    ADD FOREIGN KEY (municipality_id) REFERENCES municipalities (id);
ALTER TABLE chat_team_members ADD COLUMN municipality_id BIGINT;
UPDATE chat_team_members c SET municipality_id = p.municipality_id FROM chat_rooms p WHERE p.id = c.room_id;
ALTER TABLE chat_team_members ALTER COLUMN municipality_id SET NOT NULL,
    ADD FOREIGN KEY (municipality_id) REFERENCES municipalities (id);
ALTER TABLE online_talk_attendees ADD COLUMN municipality_id BIGINT;
UPDATE online_talk_attendees c SET municipality_id = p.municipality_id FROM online_talks p WHERE p.id = c.talk_id;
ALTER TABLE online_talk_attendees ALTER COLUMN municipality_id SET NOT NULL,
    ADD FOREIGN KEY (municipality_id) REFERENCES municipalities (id);
ALTER TABLE postpartum_facilities ADD COLUMN municipality_id BIGINT;
UPDATE postpartum_facilities c SET municipality_id = p.municipality_id FROM venues p WHERE p.id = c.venue_id;
ALTER TABLE postpartum_facilities ALTER COLUMN municipality_id SET NOT NULL,
    ADD FOREIGN KEY (municipality_id) REFERENCES municipalities (id);
ALTER TABLE postpartum_places ADD COLUMN municipality_id BIGINT;
UPDATE postpartum_places c SET municipality_id = p.municipality_id FROM venues p WHERE p.id = c.venue_id;
ALTER TABLE postpartum_places ALTER COLUMN municipality_id SET NOT NULL,
    ADD FOREIGN KEY (municipality_id) REFERENCES municipalities (id);
ALTER TABLE postpartum_stay_notes ADD COLUMN municipality_id BIGINT;
UPDATE postpartum_stay_notes c SET municipality_id = p.municipality_id FROM postpartum_applications p WHERE p.id = c.application_id;
ALTER TABLE postpartum_stay_notes ALTER COLUMN municipality_id SET NOT NULL,
    ADD FOREIGN KEY (municipality_id) REFERENCES municipalities (id);
ALTER TABLE referral_events ADD COLUMN municipality_id BIGINT;
UPDATE referral_events c SET municipality_id = p.municipality_id FROM referrals p WHERE p.id = c.referral_id;
ALTER TABLE referral_events ALTER COLUMN municipality_id SET NOT NULL,
    ADD FOREIGN KEY (municipality_id) REFERENCES municipalities (id);

-- 2. Foreign keys between a municipality's tables go first (they hang on the keys).
ALTER TABLE account_scopes DROP CONSTRAINT account_scopes_account_id_fkey;
ALTER TABLE accounts DROP CONSTRAINT accounts_family_id_fkey;
ALTER TABLE babies DROP CONSTRAINT babies_family_id_fkey;
ALTER TABLE babies DROP CONSTRAINT babies_person_id_fkey;
ALTER TABLE babies DROP CONSTRAINT babies_pregnancy_id_fkey;
ALTER TABLE chat_escalations DROP CONSTRAINT chat_escalations_referral_id_fkey;
ALTER TABLE chat_escalations DROP CONSTRAINT chat_escalations_room_id_fkey;
ALTER TABLE chat_invitation_families DROP CONSTRAINT chat_invitation_families_family_id_fkey;
ALTER TABLE chat_invitation_families DROP CONSTRAINT chat_invitation_families_invitation_id_fkey;
ALTER TABLE chat_messages DROP CONSTRAINT chat_messages_author_account_fkey;
ALTER TABLE chat_messages DROP CONSTRAINT chat_messages_room_id_fkey;
ALTER TABLE chat_reads DROP CONSTRAINT chat_reads_account_id_fkey;
ALTER TABLE chat_reads DROP CONSTRAINT chat_reads_room_id_fkey;
ALTER TABLE chat_rooms DROP CONSTRAINT chat_rooms_invitation_id_fkey;
ALTER TABLE chat_rooms DROP CONSTRAINT chat_rooms_parent_account_fkey;
ALTER TABLE chat_supporters DROP CONSTRAINT chat_supporters_account_id_fkey;
ALTER TABLE chat_team_members DROP CONSTRAINT chat_team_members_room_id_fkey;
ALTER TABLE chat_team_members DROP CONSTRAINT chat_team_members_supporter_account_fkey;
ALTER TABLE class_bookings DROP CONSTRAINT class_bookings_booked_by_fkey;
ALTER TABLE class_bookings DROP CONSTRAINT class_bookings_contact_id_fkey;
ALTER TABLE class_bookings DROP CONSTRAINT class_bookings_family_id_fkey;
ALTER TABLE class_bookings DROP CONSTRAINT class_bookings_pregnancy_id_fkey;
ALTER TABLE class_bookings DROP CONSTRAINT class_bookings_session_id_fkey;
ALTER TABLE class_session_staff DROP CONSTRAINT class_session_staff_account_id_fkey;
ALTER TABLE class_session_staff DROP CONSTRAINT class_session_staff_session_id_fkey;
ALTER TABLE class_sessions DROP CONSTRAINT class_sessions_attendance_by_fkey;
ALTER TABLE class_sessions DROP CONSTRAINT class_sessions_programme_id_fkey;
ALTER TABLE class_sessions DROP CONSTRAINT class_sessions_venue_id_fkey;
ALTER TABLE contacts DROP CONSTRAINT contacts_area_id_fkey;
ALTER TABLE contacts DROP CONSTRAINT contacts_family_id_fkey;
ALTER TABLE contacts DROP CONSTRAINT contacts_outcome_by_fkey;
ALTER TABLE contacts DROP CONSTRAINT contacts_pregnancy_id_fkey;
ALTER TABLE families DROP CONSTRAINT families_area_id_fkey;
ALTER TABLE followups DROP CONSTRAINT followups_family_id_fkey;
ALTER TABLE followups DROP CONSTRAINT followups_venue_id_fkey;
ALTER TABLE group_session_members DROP CONSTRAINT group_session_members_contact_id_fkey;
ALTER TABLE group_session_members DROP CONSTRAINT group_session_members_family_id_fkey;
ALTER TABLE group_session_members DROP CONSTRAINT group_session_members_pregnancy_id_fkey;
ALTER TABLE group_session_members DROP CONSTRAINT group_session_members_session_id_fkey;
ALTER TABLE group_sessions DROP CONSTRAINT group_sessions_area_id_fkey;
ALTER TABLE group_sessions DROP CONSTRAINT group_sessions_attendance_by_fkey;
ALTER TABLE group_sessions DROP CONSTRAINT group_sessions_created_by_fkey;
ALTER TABLE handbook_meetings DROP CONSTRAINT handbook_meetings_area_id_fkey;
ALTER TABLE handbook_meetings DROP CONSTRAINT handbook_meetings_recorded_by_fkey;
ALTER TABLE incidents DROP CONSTRAINT incidents_family_id_fkey;
ALTER TABLE incidents DROP CONSTRAINT incidents_venue_id_fkey;
ALTER TABLE line_links DROP CONSTRAINT line_links_account_id_fkey;
ALTER TABLE line_links DROP CONSTRAINT line_links_room_id_fkey;
ALTER TABLE line_outbox DROP CONSTRAINT line_outbox_room_id_fkey;
ALTER TABLE local_places DROP CONSTRAINT local_places_area_id_fkey;
ALTER TABLE local_places DROP CONSTRAINT local_places_venue_id_fkey;
ALTER TABLE online_talk_attendees DROP CONSTRAINT online_talk_attendees_family_id_fkey;
ALTER TABLE online_talk_attendees DROP CONSTRAINT online_talk_attendees_talk_id_fkey;
ALTER TABLE online_talks DROP CONSTRAINT online_talks_venue_id_fkey;
ALTER TABLE people DROP CONSTRAINT people_family_id_fkey;
ALTER TABLE postpartum_applications DROP CONSTRAINT postpartum_applications_family_id_fkey;
ALTER TABLE postpartum_applications DROP CONSTRAINT postpartum_applications_venue_id_fkey;
ALTER TABLE postpartum_bookings DROP CONSTRAINT postpartum_bookings_application_id_fkey;
ALTER TABLE postpartum_bookings DROP CONSTRAINT postpartum_bookings_venue_id_fkey;
ALTER TABLE postpartum_facilities DROP CONSTRAINT postpartum_facilities_venue_id_fkey;
ALTER TABLE postpartum_places DROP CONSTRAINT postpartum_places_venue_id_fkey;
ALTER TABLE postpartum_stay_notes DROP CONSTRAINT postpartum_stay_notes_application_id_fkey;
ALTER TABLE postpartum_used_days DROP CONSTRAINT postpartum_used_days_application_id_fkey;
ALTER TABLE postpartum_used_days DROP CONSTRAINT postpartum_used_days_family_id_fkey;
ALTER TABLE postpartum_used_days DROP CONSTRAINT postpartum_used_days_venue_id_fkey;
ALTER TABLE pregnancies DROP CONSTRAINT pregnancies_family_id_fkey;
ALTER TABLE referral_events DROP CONSTRAINT referral_events_referral_id_fkey;
ALTER TABLE referrals DROP CONSTRAINT referrals_application_id_fkey;
ALTER TABLE referrals DROP CONSTRAINT referrals_family_id_fkey;
ALTER TABLE referrals DROP CONSTRAINT referrals_pregnancy_id_fkey;
ALTER TABLE referrals DROP CONSTRAINT referrals_venue_id_fkey;
ALTER TABLE reminder_settings DROP CONSTRAINT reminder_settings_account_id_fkey;
ALTER TABLE reminder_settings DROP CONSTRAINT reminder_settings_family_id_fkey;
ALTER TABLE reminders_sent DROP CONSTRAINT reminders_sent_account_id_fkey;
ALTER TABLE report_printed_areas DROP CONSTRAINT report_printed_areas_area_id_fkey;
ALTER TABLE report_printed_facilities DROP CONSTRAINT report_printed_facilities_venue_id_fkey;
ALTER TABLE screenings DROP CONSTRAINT screenings_family_id_fkey;
ALTER TABLE screenings DROP CONSTRAINT screenings_pregnancy_id_fkey;
ALTER TABLE screenings DROP CONSTRAINT screenings_referral_id_fkey;
ALTER TABLE sessions DROP CONSTRAINT sessions_account_id_fkey;
ALTER TABLE venues DROP CONSTRAINT venues_area_id_fkey;

-- 3. Primary and unique keys gain the municipality.
ALTER TABLE account_scopes DROP CONSTRAINT account_scopes_pkey, ADD PRIMARY KEY (account_id, kind, ref_id, municipality_id);
ALTER TABLE accounts DROP CONSTRAINT accounts_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE areas DROP CONSTRAINT areas_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE babies DROP CONSTRAINT babies_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE chat_escalations DROP CONSTRAINT chat_escalations_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE chat_invitation_families DROP CONSTRAINT chat_invitation_families_pkey, ADD PRIMARY KEY (invitation_id, municipality_id);
ALTER TABLE chat_invitations DROP CONSTRAINT chat_invitations_code_hash_key, ADD UNIQUE (code_hash, municipality_id);
ALTER TABLE chat_invitations DROP CONSTRAINT chat_invitations_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE chat_messages DROP CONSTRAINT chat_messages_pkey, ADD PRIMARY KEY (room_id, seq, municipality_id);
ALTER TABLE chat_messages DROP CONSTRAINT chat_messages_room_id_client_id_key, ADD UNIQUE (room_id, client_id, municipality_id);
ALTER TABLE chat_reads DROP CONSTRAINT chat_reads_pkey, ADD PRIMARY KEY (room_id, account_id, municipality_id);
ALTER TABLE chat_rooms DROP CONSTRAINT chat_rooms_invitation_id_key, ADD UNIQUE (invitation_id, municipality_id);
ALTER TABLE chat_rooms DROP CONSTRAINT chat_rooms_parent_account_key, ADD UNIQUE (parent_account, municipality_id);
ALTER TABLE chat_rooms DROP CONSTRAINT chat_rooms_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE chat_supporters DROP CONSTRAINT chat_supporters_pkey, ADD PRIMARY KEY (account_id, municipality_id);
ALTER TABLE chat_team_members DROP CONSTRAINT chat_team_members_pkey, ADD PRIMARY KEY (room_id, slot, municipality_id);
ALTER TABLE chat_team_members DROP CONSTRAINT chat_team_members_room_id_supporter_account_key, ADD UNIQUE (room_id, supporter_account, municipality_id);
ALTER TABLE class_bookings DROP CONSTRAINT class_bookings_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE class_programmes DROP CONSTRAINT class_programmes_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE class_sessions DROP CONSTRAINT class_sessions_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE contacts DROP CONSTRAINT contacts_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE families DROP CONSTRAINT families_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE followups DROP CONSTRAINT followups_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE group_session_members DROP CONSTRAINT group_session_members_pkey, ADD PRIMARY KEY (session_id, pregnancy_id, municipality_id);
ALTER TABLE group_session_members DROP CONSTRAINT group_session_members_pregnancy_id_key, ADD UNIQUE (pregnancy_id, municipality_id);
ALTER TABLE group_sessions DROP CONSTRAINT group_sessions_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE handbook_meetings DROP CONSTRAINT handbook_meetings_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE incidents DROP CONSTRAINT incidents_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE line_links DROP CONSTRAINT line_links_account_id_key, ADD UNIQUE (account_id, municipality_id);
ALTER TABLE line_links DROP CONSTRAINT line_links_room_id_key, ADD UNIQUE (room_id, municipality_id);
ALTER TABLE line_outbox DROP CONSTRAINT line_outbox_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE local_places DROP CONSTRAINT local_places_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE online_talk_attendees DROP CONSTRAINT online_talk_attendees_pkey, ADD PRIMARY KEY (talk_id, family_id, municipality_id);
ALTER TABLE online_talks DROP CONSTRAINT online_talks_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE people DROP CONSTRAINT people_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE postpartum_applications DROP CONSTRAINT postpartum_applications_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE postpartum_bookings DROP CONSTRAINT postpartum_bookings_pkey, ADD PRIMARY KEY (application_id, day, municipality_id);
ALTER TABLE postpartum_facilities DROP CONSTRAINT postpartum_facilities_pkey, ADD PRIMARY KEY (venue_id, municipality_id);
ALTER TABLE postpartum_places DROP CONSTRAINT postpartum_places_pkey, ADD PRIMARY KEY (venue_id, pool, day, municipality_id);
ALTER TABLE postpartum_stay_notes DROP CONSTRAINT postpartum_stay_notes_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE postpartum_used_days DROP CONSTRAINT postpartum_used_days_pkey, ADD PRIMARY KEY (application_id, day, municipality_id);
ALTER TABLE pregnancies DROP CONSTRAINT pregnancies_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE referral_events DROP CONSTRAINT referral_events_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE referrals DROP CONSTRAINT referrals_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE reminder_settings DROP CONSTRAINT reminder_settings_pkey, ADD PRIMARY KEY (account_id, municipality_id);
ALTER TABLE reminders_sent DROP CONSTRAINT reminders_sent_pkey, ADD PRIMARY KEY (account_id, item, channel, municipality_id);
ALTER TABLE screenings DROP CONSTRAINT screenings_pkey, ADD PRIMARY KEY (id, municipality_id);
ALTER TABLE sessions DROP CONSTRAINT sessions_pkey, ADD PRIMARY KEY (token_hash, municipality_id);
ALTER TABLE venues DROP CONSTRAINT venues_pkey, ADD PRIMARY KEY (id, municipality_id);

-- 4. Every reference between them names the municipality on both sides.
ALTER TABLE account_scopes ADD FOREIGN KEY (account_id, municipality_id) REFERENCES accounts (id, municipality_id);
ALTER TABLE accounts ADD FOREIGN KEY (family_id, municipality_id) REFERENCES families (id, municipality_id);
ALTER TABLE babies ADD FOREIGN KEY (family_id, municipality_id) REFERENCES families (id, municipality_id);
ALTER TABLE babies ADD FOREIGN KEY (person_id, municipality_id) REFERENCES people (id, municipality_id);
ALTER TABLE babies ADD FOREIGN KEY (pregnancy_id, municipality_id) REFERENCES pregnancies (id, municipality_id);
ALTER TABLE chat_escalations ADD FOREIGN KEY (referral_id, municipality_id) REFERENCES referrals (id, municipality_id);
ALTER TABLE chat_escalations ADD FOREIGN KEY (room_id, municipality_id) REFERENCES chat_rooms (id, municipality_id);
ALTER TABLE chat_invitation_families ADD FOREIGN KEY (family_id, municipality_id) REFERENCES families (id, municipality_id);
ALTER TABLE chat_invitation_families ADD FOREIGN KEY (invitation_id, municipality_id) REFERENCES chat_invitations (id, municipality_id);
ALTER TABLE chat_messages ADD FOREIGN KEY (author_account, municipality_id) REFERENCES accounts (id, municipality_id);
ALTER TABLE chat_messages ADD FOREIGN KEY (room_id, municipality_id) REFERENCES chat_rooms (id, municipality_id);
ALTER TABLE chat_reads ADD FOREIGN KEY (account_id, municipality_id) REFERENCES accounts (id, municipality_id);
ALTER TABLE chat_reads ADD FOREIGN KEY (room_id, municipality_id) REFERENCES chat_rooms (id, municipality_id);
ALTER TABLE chat_rooms ADD FOREIGN KEY (invitation_id, municipality_id) REFERENCES chat_invitations (id, municipality_id);
ALTER TABLE chat_rooms ADD FOREIGN KEY (parent_account, municipality_id) REFERENCES accounts (id, municipality_id);
ALTER TABLE chat_supporters ADD FOREIGN KEY (account_id, municipality_id) REFERENCES accounts (id, municipality_id);
ALTER TABLE chat_team_members ADD FOREIGN KEY (room_id, municipality_id) REFERENCES chat_rooms (id, municipality_id);
ALTER TABLE chat_team_members ADD FOREIGN KEY (supporter_account, municipality_id) REFERENCES chat_supporters (account_id, municipality_id);
ALTER TABLE class_bookings ADD FOREIGN KEY (booked_by, municipality_id) REFERENCES accounts (id, municipality_id);
ALTER TABLE class_bookings ADD FOREIGN KEY (contact_id, municipality_id) REFERENCES contacts (id, municipality_id);
ALTER TABLE class_bookings ADD FOREIGN KEY (family_id, municipality_id) REFERENCES families (id, municipality_id);
ALTER TABLE class_bookings ADD FOREIGN KEY (pregnancy_id, municipality_id) REFERENCES pregnancies (id, municipality_id);
ALTER TABLE class_bookings ADD FOREIGN KEY (session_id, municipality_id) REFERENCES class_sessions (id, municipality_id);
ALTER TABLE class_session_staff ADD FOREIGN KEY (account_id, municipality_id) REFERENCES accounts (id, municipality_id);
ALTER TABLE class_session_staff ADD FOREIGN KEY (session_id, municipality_id) REFERENCES class_sessions (id, municipality_id);
ALTER TABLE class_sessions ADD FOREIGN KEY (attendance_by, municipality_id) REFERENCES accounts (id, municipality_id);
ALTER TABLE class_sessions ADD FOREIGN KEY (programme_id, municipality_id) REFERENCES class_programmes (id, municipality_id);
ALTER TABLE class_sessions ADD FOREIGN KEY (venue_id, municipality_id) REFERENCES venues (id, municipality_id);
ALTER TABLE contacts ADD FOREIGN KEY (area_id, municipality_id) REFERENCES areas (id, municipality_id);
ALTER TABLE contacts ADD FOREIGN KEY (family_id, municipality_id) REFERENCES families (id, municipality_id);
ALTER TABLE contacts ADD FOREIGN KEY (outcome_by, municipality_id) REFERENCES accounts (id, municipality_id);
ALTER TABLE contacts ADD FOREIGN KEY (pregnancy_id, municipality_id) REFERENCES pregnancies (id, municipality_id);
ALTER TABLE families ADD FOREIGN KEY (area_id, municipality_id) REFERENCES areas (id, municipality_id);
ALTER TABLE followups ADD FOREIGN KEY (family_id, municipality_id) REFERENCES families (id, municipality_id);
ALTER TABLE followups ADD FOREIGN KEY (venue_id, municipality_id) REFERENCES venues (id, municipality_id);
ALTER TABLE group_session_members ADD FOREIGN KEY (contact_id, municipality_id) REFERENCES contacts (id, municipality_id);
ALTER TABLE group_session_members ADD FOREIGN KEY (family_id, municipality_id) REFERENCES families (id, municipality_id);
ALTER TABLE group_session_members ADD FOREIGN KEY (pregnancy_id, municipality_id) REFERENCES pregnancies (id, municipality_id);
ALTER TABLE group_session_members ADD FOREIGN KEY (session_id, municipality_id) REFERENCES group_sessions (id, municipality_id);
ALTER TABLE group_sessions ADD FOREIGN KEY (area_id, municipality_id) REFERENCES areas (id, municipality_id);
ALTER TABLE group_sessions ADD FOREIGN KEY (attendance_by, municipality_id) REFERENCES accounts (id, municipality_id);
ALTER TABLE group_sessions ADD FOREIGN KEY (created_by, municipality_id) REFERENCES accounts (id, municipality_id);
ALTER TABLE handbook_meetings ADD FOREIGN KEY (area_id, municipality_id) REFERENCES areas (id, municipality_id);
ALTER TABLE handbook_meetings ADD FOREIGN KEY (recorded_by, municipality_id) REFERENCES accounts (id, municipality_id);
ALTER TABLE incidents ADD FOREIGN KEY (family_id, municipality_id) REFERENCES families (id, municipality_id);
ALTER TABLE incidents ADD FOREIGN KEY (venue_id, municipality_id) REFERENCES venues (id, municipality_id);
ALTER TABLE line_links ADD FOREIGN KEY (account_id, municipality_id) REFERENCES accounts (id, municipality_id);
ALTER TABLE line_links ADD FOREIGN KEY (room_id, municipality_id) REFERENCES chat_rooms (id, municipality_id);
ALTER TABLE line_outbox ADD FOREIGN KEY (room_id, municipality_id) REFERENCES chat_rooms (id, municipality_id);
ALTER TABLE local_places ADD FOREIGN KEY (area_id, municipality_id) REFERENCES areas (id, municipality_id);
ALTER TABLE local_places ADD FOREIGN KEY (venue_id, municipality_id) REFERENCES venues (id, municipality_id);
ALTER TABLE online_talk_attendees ADD FOREIGN KEY (family_id, municipality_id) REFERENCES families (id, municipality_id);
ALTER TABLE online_talk_attendees ADD FOREIGN KEY (talk_id, municipality_id) REFERENCES online_talks (id, municipality_id);
ALTER TABLE online_talks ADD FOREIGN KEY (venue_id, municipality_id) REFERENCES venues (id, municipality_id);
ALTER TABLE people ADD FOREIGN KEY (family_id, municipality_id) REFERENCES families (id, municipality_id);
ALTER TABLE postpartum_applications ADD FOREIGN KEY (family_id, municipality_id) REFERENCES families (id, municipality_id);
ALTER TABLE postpartum_applications ADD FOREIGN KEY (venue_id, municipality_id) REFERENCES postpartum_facilities (venue_id, municipality_id);
ALTER TABLE postpartum_bookings ADD FOREIGN KEY (application_id, municipality_id) REFERENCES postpartum_applications (id, municipality_id);
ALTER TABLE postpartum_bookings ADD FOREIGN KEY (venue_id, municipality_id) REFERENCES postpartum_facilities (venue_id, municipality_id);
ALTER TABLE postpartum_facilities ADD FOREIGN KEY (venue_id, municipality_id) REFERENCES venues (id, municipality_id);
ALTER TABLE postpartum_places ADD FOREIGN KEY (venue_id, municipality_id) REFERENCES postpartum_facilities (venue_id, municipality_id);
ALTER TABLE postpartum_stay_notes ADD FOREIGN KEY (application_id, municipality_id) REFERENCES postpartum_applications (id, municipality_id);
ALTER TABLE postpartum_used_days ADD FOREIGN KEY (application_id, municipality_id) REFERENCES postpartum_applications (id, municipality_id);
ALTER TABLE postpartum_used_days ADD FOREIGN KEY (family_id, municipality_id) REFERENCES families (id, municipality_id);
ALTER TABLE postpartum_used_days ADD FOREIGN KEY (venue_id, municipality_id) REFERENCES postpartum_facilities (venue_id, municipality_id);
ALTER TABLE pregnancies ADD FOREIGN KEY (family_id, municipality_id) REFERENCES families (id, municipality_id);
ALTER TABLE referral_events ADD FOREIGN KEY (referral_id, municipality_id) REFERENCES referrals (id, municipality_id);
ALTER TABLE referrals ADD FOREIGN KEY (application_id, municipality_id) REFERENCES postpartum_applications (id, municipality_id);
ALTER TABLE referrals ADD FOREIGN KEY (family_id, municipality_id) REFERENCES families (id, municipality_id);
ALTER TABLE referrals ADD FOREIGN KEY (pregnancy_id, municipality_id) REFERENCES pregnancies (id, municipality_id);
ALTER TABLE referrals ADD FOREIGN KEY (venue_id, municipality_id) REFERENCES venues (id, municipality_id);
ALTER TABLE reminder_settings ADD FOREIGN KEY (account_id, municipality_id) REFERENCES accounts (id, municipality_id);
ALTER TABLE reminder_settings ADD FOREIGN KEY (family_id, municipality_id) REFERENCES families (id, municipality_id);
ALTER TABLE reminders_sent ADD FOREIGN KEY (account_id, municipality_id) REFERENCES accounts (id, municipality_id);
ALTER TABLE report_printed_areas ADD FOREIGN KEY (area_id, municipality_id) REFERENCES areas (id, municipality_id);
ALTER TABLE report_printed_facilities ADD FOREIGN KEY (venue_id, municipality_id) REFERENCES venues (id, municipality_id);
ALTER TABLE screenings ADD FOREIGN KEY (family_id, municipality_id) REFERENCES families (id, municipality_id);
ALTER TABLE screenings ADD FOREIGN KEY (pregnancy_id, municipality_id) REFERENCES pregnancies (id, municipality_id);
ALTER TABLE screenings ADD FOREIGN KEY (referral_id, municipality_id) REFERENCES referrals (id, municipality_id);
ALTER TABLE sessions ADD FOREIGN KEY (account_id, municipality_id) REFERENCES accounts (id, municipality_id);
ALTER TABLE venues ADD FOREIGN KEY (area_id, municipality_id) REFERENCES areas (id, municipality_id);
