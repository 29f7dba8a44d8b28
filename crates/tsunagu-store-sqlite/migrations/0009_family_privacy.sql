-- Who sees what inside a family (issue #10).
--
-- A family member's account is the mother's or her partner's. Accounts made
-- before this did not say: the first account of each family is taken to be
-- the mother's (she registers first), any later one her partner's.
ALTER TABLE accounts ADD COLUMN family_relation TEXT CHECK (family_relation IN ('mother', 'partner'));
UPDATE accounts SET family_relation = CASE
    WHEN id = (SELECT MIN(o.id) FROM accounts o WHERE o.family_id = accounts.family_id) THEN 'mother'
    ELSE 'partner' END
WHERE family_id IS NOT NULL;
CREATE UNIQUE INDEX accounts_one_mother ON accounts(family_id) WHERE family_relation = 'mother';

-- The mother's choice (her health items shown to her partner; off until she
-- turns it on) and the nurse's switch (the partner's view off, without the
-- partner being told why).
ALTER TABLE families ADD COLUMN partner_sees_health INTEGER NOT NULL DEFAULT 0;
ALTER TABLE families ADD COLUMN partner_view_off INTEGER NOT NULL DEFAULT 0;

-- Every note staff write about a family is for the family or for the office.
-- What was written before is the office's: nobody chose to show it.
ALTER TABLE postpartum_applications ADD COLUMN review_note_audience TEXT NOT NULL DEFAULT 'office'
    CHECK (review_note_audience IN ('family', 'office'));
ALTER TABLE postpartum_applications ADD COLUMN cancel_note_audience TEXT NOT NULL DEFAULT 'office'
    CHECK (cancel_note_audience IN ('family', 'office'));
ALTER TABLE postpartum_stay_notes ADD COLUMN audience TEXT NOT NULL DEFAULT 'office'
    CHECK (audience IN ('family', 'office'));
ALTER TABLE contacts ADD COLUMN outcome_note_audience TEXT NOT NULL DEFAULT 'office'
    CHECK (outcome_note_audience IN ('family', 'office'));
