-- The duplicate check of a notification at scale (#16): a mother on record
-- can be the same person only with the same kana key and the same birth
-- date, or no birth date on either side (records::is_duplicate_notification).
-- Read by kana key alone, the check read every mother of that name with an
-- ongoing pregnancy (hundreds per common name in a large city, more as the
-- city grows), so a large load slowed with its size. This index narrows the
-- read to the key and the date and holds the family id: the people table is
-- not read at all.
CREATE INDEX people_mother_birth ON people(municipality_id, kana_key, birth_date, family_id) WHERE relation = 'mother';

-- A pregnancy's babies (timeline::sync_pregnancy reads them after every
-- change of a pregnancy): by pregnancy, not a scan of every baby.
CREATE INDEX babies_pregnancy ON babies(pregnancy_id);
