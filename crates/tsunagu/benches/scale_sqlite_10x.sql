-- Makes a 1M-family SQLite benchmark database from a kept 100k one (benches/worklist.rs,
-- TSUNAGU_BENCH_KEEP): every family, person, pregnancy, baby and contact copied nine
-- more times under new ids (handbook numbers get a suffix to stay unique). Loading
-- 1M families through the demo generator slows to ~6,000 a minute on 2 cores once
-- the file outgrows the page cache; this takes two minutes. Usage (BENCHMARKS.md):
--   sqlite3 DIR/tsunagu-bench-100000.sqlite3 "VACUUM INTO 'DIR/tsunagu-bench-1000000.sqlite3'"
--   sqlite3 DIR/tsunagu-bench-1000000.sqlite3 < crates/tsunagu/benches/scale_sqlite_10x.sql
-- The id strides are the 100k demo's row counts (seed 7); check them with max(id).
PRAGMA journal_mode=OFF;
PRAGMA synchronous=OFF;
PRAGMA cache_size=-2000000;
PRAGMA foreign_keys=OFF;
BEGIN;
CREATE TEMP TABLE k(n INTEGER PRIMARY KEY);
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 9) INSERT INTO k SELECT n FROM r;
INSERT INTO families (id,municipality_id,area_id,fee_bracket,consent_coordinators,consent_hubs,escalated,created_at)
  SELECT f.id + k.n * 100000, f.municipality_id, f.area_id, f.fee_bracket, f.consent_coordinators, f.consent_hubs, f.escalated, f.created_at
  FROM k, families f WHERE f.id <= 100000 ORDER BY k.n, f.id;
INSERT INTO people (id,family_id,municipality_id,relation,family_name,given_name,family_name_kana,given_name_kana,kana_key,given_kana_key,birth_date)
  SELECT p.id + k.n * 245917, p.family_id + k.n * 100000, p.municipality_id, p.relation, p.family_name, p.given_name, p.family_name_kana, p.given_name_kana, p.kana_key, p.given_kana_key, p.birth_date
  FROM k, people p WHERE p.id <= 245917 ORDER BY k.n, p.id;
INSERT INTO pregnancies (id,family_id,municipality_id,notified_on,edd,foetuses,first_child,status,handbook_number,ended_on,timeline_rules)
  SELECT g.id + k.n * 100000, g.family_id + k.n * 100000, g.municipality_id, g.notified_on, g.edd, g.foetuses, g.first_child, g.status,
         CASE WHEN g.handbook_number IS NULL THEN NULL ELSE g.handbook_number || '-' || k.n END, g.ended_on, g.timeline_rules
  FROM k, pregnancies g WHERE g.id <= 100000 ORDER BY k.n, g.id;
INSERT INTO babies (id,municipality_id,pregnancy_id,family_id,person_id,birth_date,sex,gestational_weeks,gestational_days,birth_weight_g,long_hospitalisation)
  SELECT b.id + k.n * 60999, b.municipality_id, b.pregnancy_id + k.n * 100000, b.family_id + k.n * 100000, b.person_id + k.n * 245917, b.birth_date, b.sex, b.gestational_weeks, b.gestational_days, b.birth_weight_g, b.long_hospitalisation
  FROM k, babies b WHERE b.id <= 60999 ORDER BY k.n, b.id;
INSERT INTO contacts (id,municipality_id,family_id,area_id,pregnancy_id,kind,subject_kind,subject_id,owner_role,staff_owed,opens,due,closes,outcome,form,attempts,outcome_note,outcome_by,outcome_at,ending,hidden,awaits,missed_on,created_at,updated_at)
  SELECT c.id + k.n * 700453, c.municipality_id, c.family_id + k.n * 100000, c.area_id, c.pregnancy_id + k.n * 100000, c.kind, c.subject_kind,
         CASE c.subject_kind WHEN 'baby' THEN c.subject_id + k.n * 60999 ELSE c.subject_id + k.n * 100000 END,
         c.owner_role, c.staff_owed, c.opens, c.due, c.closes, c.outcome, c.form, c.attempts, c.outcome_note, c.outcome_by, c.outcome_at, c.ending, c.hidden, c.awaits, c.missed_on, c.created_at, c.updated_at
  FROM k, contacts c WHERE c.id <= 700453 ORDER BY k.n, c.id;
COMMIT;
PRAGMA journal_mode=WAL;
