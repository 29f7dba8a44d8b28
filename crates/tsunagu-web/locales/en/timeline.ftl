### The timeline: work lists and contacts

nav-worklist = Work list

wl-title = Work list
wl-intro = Contacts due soon, overdue, or missed. Each stays here until somebody records what happened.
wl-list-due_this_week = Due this week
wl-list-overdue = Overdue
wl-list-missed = Missed
wl-list-check_non_attendees = 3–4-month check not attended
wl-list-open = All open
wl-list-urgent = Urgent and follow-ups
wl-whose = Whose
wl-whose-mine = Mine
wl-whose-area = An area
wl-whose-all = Everyone's
wl-area = Area
wl-any_area = Every area
wl-kind = Kind
wl-any_kind = Every kind
wl-sort = Sort
wl-sort-due = Due, earliest first
wl-sort-due_desc = Due, latest first
wl-sort-closes = Window closes, earliest first
wl-sort-kind = By kind
wl-sort-area = By area
wl-show = Show
wl-none = Nothing on this list.
wl-more = Next 50
wl-prev = Previous 50
wl-due = Due
wl-window = Window
wl-closes = Closes
wl-missed_since = Missed since
wl-record = Record
wl-saved = Recorded.
wl-followups_intro = Every open referral, urgent ones first.
wl-counts_label = Counts
wl-over_cap = +
wl-today = Today
wl-attempts = Tries so far

kind-notification_interview = Interview at the notification
kind-handbook_meeting = Handbook meeting
kind-maternity_class = Maternity / parents' class offer
kind-prenatal_self_care_class = Prenatal self-care class offer
kind-eighth_month_interview = 8th-month interview
kind-newborn_visit = Newborn home visit
kind-happy_baby = Happy-baby contact (2–3 months)
kind-postnatal_self_care_class = Postnatal self-care class offer
kind-health_check_3_4_months = 3–4-month health check
kind-postpartum_care = Postpartum care window
kind-postpartum_outreach = Postpartum outreach window

cstatus-upcoming = Upcoming
cstatus-open = Open
cstatus-due_soon = Due soon
cstatus-overdue = Overdue
cstatus-missed = Missed
cstatus-lapsed = Lapsed
cstatus-done = Done
cstatus-closed = Closed

form-group = Group
form-individual = Individual
form-home_visit = Home visit
form-support_room_visit = Support-room visit
form-at_health_check = At the 3–4-month check

outcome-done = Done
outcome-not_reached = Could not reach the family
outcome-declined = Declined
outcome-not_applicable = Not applicable

ending-moved_out = Closed: moved out
ending-pregnancy_lost = Closed
ending-baby_died = Closed
ending-not_applicable = Closed: no longer applies

subject-baby = Baby

contact-title = Record a contact
contact-outcome = Outcome
contact-form = How
contact-attempts = Tries this time
contact-note = Note (the reason, when declined or not applicable)
contact-save = Record
contact-source = Where the rule comes from
contact-owner = Owner
contact-recorded = Recorded
contact-not_reached_stays = Checks and visits stay on the lists until the family is reached.

tl-title = Timeline
tl-none = Nothing scheduled yet.
tl-own_intro = The interviews, checks and services ahead of you.

preg-change_edd = Change the EDD
preg-new_edd = New EDD
preg-end = End of pregnancy or move
preg-end_reason = Reason
preg-end-lost = Miscarriage or stillbirth
preg-end-moved_out = Moved out
preg-end_on = Date
preg-save = Save
preg-updated = Pregnancy updated; the timeline follows.

err-unchanged = That is the current value
err-before_notification = Before the notification
err-before_birth = Before the birth
err-already_ended = Already ended
err-pregnancy_ended = The pregnancy has already ended
err-contact_settled = Already recorded
err-contact_closed = This contact is closed

# Where each contact's rule comes from (the contact page; the seeds named by their titles).
kind-source-notification_interview = National accompanied-support programme (1st interview); pregnancy-notification questionnaire (Setagaya self-care classes)
kind-source-handbook_meeting = Handbook meeting: the month's handbook recipients listed every month (Tsukubamirai activity report)
kind-source-maternity_class = Maternity class (Tsukubamirai activity report); parents' class (collaboration patterns of family-support centres)
kind-source-prenatal_self_care_class = Pregnant, from the stable period on (Setagaya self-care classes)
kind-source-eighth_month_interview = 8th-month interview (Tsukubamirai activity report); national accompanied-support programme (2nd interview)
kind-source-newborn_visit = National home visit to every infant (up to 4 months); accompanied-support programme (3rd interview)
kind-source-happy_baby = Happy Baby: about 2–3 months after the birth (Tsukubamirai activity report)
kind-source-postnatal_self_care_class = Mothers whose baby is not yet 5 months on the class day (Setagaya self-care classes)
kind-source-health_check_3_4_months = 3–4-month group health check (Tsukubamirai activity report); every non-attendee followed up (Setagaya self-care classes)
kind-source-postpartum_care = Mother and baby under 4 months after the birth, in corrected age (Setagaya postpartum care)
kind-source-postpartum_outreach = Outreach: mother and baby under 1 year after the birth (Setagaya postpartum care)
# Staff screens (#10)
wl-applications_waiting = Postpartum applications waiting for review
contact-contacted_on = Day of the contact
err-contact_day_in_future = Enter today or an earlier day
err-contact_day_before_notification = Enter a day on or after the pregnancy's notification
