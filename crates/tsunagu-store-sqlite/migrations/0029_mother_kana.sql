-- Kana search at scale (#16): a nurse's search reads mothers by the first
-- sounds of their family or given name, in the order it answers
-- (ORDER BY key, id) and stops after its page. These indexes hold mothers
-- only (a family's partner and babies share its family name, so the old
-- indexes read two or three rows for every mother); SQLite keeps the rowid
-- (the id) at the end of every index entry, so the page comes straight off
-- the index with no sort. tests/it/search_plans.rs checks the plans.
DROP INDEX people_kana;
DROP INDEX people_given_kana;
CREATE INDEX people_mother_kana ON people(municipality_id, kana_key) WHERE relation = 'mother';
CREATE INDEX people_mother_given_kana ON people(municipality_id, given_kana_key) WHERE relation = 'mother';
