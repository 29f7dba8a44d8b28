-- A facility's structured record of a day of a stay (#10): the care given
-- (comma-separated codes of the seed's 支援内容 [001], in its order) and the
-- mother's and the baby's condition in the midwife's words, beside the
-- existing note (what worries). Empty for notes written before.
ALTER TABLE postpartum_stay_notes ADD COLUMN care TEXT NOT NULL DEFAULT '';
ALTER TABLE postpartum_stay_notes ADD COLUMN mother TEXT NOT NULL DEFAULT '';
ALTER TABLE postpartum_stay_notes ADD COLUMN baby TEXT NOT NULL DEFAULT '';
