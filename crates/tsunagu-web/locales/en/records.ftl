### Family records: search, notifications, births

nav-search = Find a family
nav-new_notification = Register a notification
nav-my_record = Our record

search-title = Find a family
search-kana = Mother's name (kana)
search-hint = Hiragana, katakana, half width and spaces are all the same here
search-submit = Search
search-none = No family matches.
# Follows the number of families found.
search-count = found

col-name = Name
col-kana = Kana
col-birth_date = Date of birth
col-edd = Expected delivery
col-area = Area

family-title = Family record
family-mother = Mother
family-partner = Partner
family-children = Children
family-pregnancies = Pregnancies
family-area = Area
family-fee_bracket = Household fee bracket
family-consent_coordinators = Agreed to share with coordinators
family-consent_hubs = Agreed to share with childcare hubs
family-audit_note = Opening this record is written to the audit log.

preg-notified_on = Notified on
preg-edd = Expected date of delivery
preg-foetuses = Number of foetuses
preg-first_child = First child
preg-status = Status
preg-handbook_number = Handbook number
preg-record_birth = Record the birth

status-ongoing = Ongoing
status-delivered = Delivered
status-lost = Pregnancy ended
status-moved_out = Moved out

bracket-taxed = Taxed household
bracket-non_taxed = Non-taxed household (incl. per-capita only)
bracket-public_assistance = Public-assistance household

sex-female = Female
sex-male = Male
sex-undetermined = Undetermined

notif-title = Register a pregnancy notification
notif-mother = Pregnant woman
notif-partner = Partner (optional)
notif-add_partner = Record a partner
notif-pregnancy = Pregnancy
notif-household = Household and consent
notif-submit = Register
notif-saved = The notification was registered.
notif-fix = Please check the form. Nothing was saved.

field-family_name = Family name
field-given_name = Given name
field-family_name_kana = Family name (kana)
field-given_name_kana = Given name (kana)
field-birth_date = Date of birth

birth-title = Record a birth
birth-baby = Baby
birth-birth_date = Date of birth
birth-sex = Sex
birth-given_name = Given name (blank if not yet chosen)
birth-given_name_kana = Given name (kana)
birth-gestational_weeks = Gestational age (weeks)
birth-gestational_days = Gestational age (days)
birth-weight = Birth weight (g)
birth-long_hosp = Long hospitalisation (use corrected age)
birth-gestational_age = Gestational age
birth-long_hosp_short = long stay
birth-submit = Record
birth-saved = The birth was recorded.

me-title = Our record
me-intro = This is your family's record as the municipality holds it.

err-not_kana = Enter in hiragana or katakana
err-date_in_future = Cannot be in the future
err-edd_too_early = The expected date is too long before the notification
err-edd_too_late = The expected date is too far ahead
err-mother_too_young = Check the date of birth
err-birth_before_pregnancy = The birth date is before the pregnancy
err-birth_too_late = The birth date is too long after the expected date
err-more_than_foetuses = More babies than foetuses were notified
err-births_too_far_apart = The births of a multiple are too far apart
err-not_ongoing = This pregnancy has already ended
err-duplicate_notification = This pregnancy is already registered
err-handbook_number_taken = This handbook number is already in use
err-pregnancy_not_ongoing = This pregnancy has already ended

# Who sees what inside a family (the mother's sharing, and the nurse turning the partner's view off).
share-title = Sharing with your partner
share-intro = Your postpartum-care applications and stays, the questionnaires about you and the care notes are shown to your partner's account only if you choose so.
share-health = Show my health items, such as postpartum care, to my partner too
share-save = Save
share-saved = Your sharing choice was saved
share-partner_view = Partner's view
share-partner_view_intro = When turned off, the partner's account is shown only a neutral page that gives no reason. The partner is not told.
share-partner_view_is_on = The partner's account sees what the mother shares.
share-partner_view_is_off = The partner's view is turned off.
share-partner_view_turn_off = Turn the partner's view off
share-partner_view_turn_on = Turn the partner's view on again
share-partner_view_saved = The partner's view was changed

# The family's own page leads with what comes next, in the family's words (#10).
me-next_title = Coming up
me-next_none = Nothing is planned just now.
me-next_from = From
me-next_from_after = onwards
me-next_until = Until
me-next_until_after = (inclusive)
me-next_about = Around:
fam-when = When you can have it
fam-about = Around
fam-status = Now
fstatus-upcoming = Coming up
fstatus-open = You can have it now
fstatus-due_soon = Soon
fstatus-overdue = Please do not wait
fstatus-missed = Not had
fstatus-lapsed = Ended unused
fstatus-done = Done
fstatus-closed = Ended
search-kanji_hint = Names are searched by their reading: type it in hiragana or katakana (e.g. ヤマダ ハナコ), not in kanji.
# Coming up: class bookings and postpartum stays beside the contacts (#10).
me-next_starts = (start)
me-next_stay = Postpartum care
me-next_waiting = (waiting list)
me-next_place = Where:
me-next_bring = What to bring:
me-bring_class = maternal and child health handbook, a drink, a towel
me-bring_stay = maternal and child health handbook, health insurance card, a change of clothes, the baby's clothes and nappies
# A baby without a given name yet, named by its place in its delivery (#10): twin 1.
me-baby_twin = twin
me-baby_triplet = triplet
me-baby_multiple = baby
