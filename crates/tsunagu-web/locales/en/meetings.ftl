### Handbook meetings and 8th-month group interviews

nav-handbook_meetings = Handbook meetings
nav-group_sessions = 8th-month group interviews

hb-title = Monthly handbook meeting
hb-intro = The handbooks issued in a month, shared with the area's coordinators at the next month's meeting.
hb-month = Month of issue
# Follows the fiscal year (e.g. "FY2025") directly.
hb-year_title = : meetings
hb-year_held = a meeting is recorded for that month
# Follows "area · month" directly; keep the leading space.
hb-list_suffix = {" "}handbook issues
hb-nurse_note = Families marked “do not share” did not agree to sharing with coordinators.
hb-shared = May be shared
hb-coordinator_note = Only families who agreed to share with coordinators are shown.
hb-none = No handbooks were issued in this month.
hb-about = Notes
hb-multiple = Multiple
hb-consent = Sharing with coordinators
hb-may_share = May share
hb-do_not_share = Do not share
hb-meeting = The meeting
hb-held_on = Held on
hb-contacts_done = Recorded as done
hb-note_short = Note
hb-note = Note (about the meeting; families' details go on their records)
hb-record_effect = Recording it marks the handbook meeting of everyone on this list as done (group).
hb-record = Record the meeting
hb-recorded = Meeting recorded.
hb-not_recorded = No meeting is recorded for this month yet.

grp-title = 8th-month group interviews
grp-intro = Women due at the same time in the same area meet as a group; those who cannot come get an individual interview or a home visit.
grp-due_month = Due month
grp-proposals_suffix = : proposed groups
grp-proposals_intro = By area, in order of due date. Untick anyone who is not to be invited.
grp-max_size = Largest group
grp-none_proposed = Nobody is waiting for an interview.
# Follows a number directly; keep the leading space.
grp-people = {" "}women
grp-members = Invited
grp-day = Day
grp-place = Place
grp-confirm = Confirm this group
grp-sessions = Confirmed sessions
grp-no_sessions = No session is confirmed.
grp-invited = Invited
grp-attendance = Attendance
grp-recorded = Recorded
grp-not_recorded = Not recorded
grp-session_title = 8th-month group session
grp-confirmed = Group confirmed.
grp-attendance_saved = Attendance recorded.
grp-unseen = Members not shown (no consent to share)
grp-who_came = Tick who came
grp-attendance_effect = Those who came have their 8th-month interview recorded as done (group); the others are still owed one.
grp-record_attendance = Record attendance
grp-attended = Came
grp-absent = Did not come
grp-absent_intro = Offer an individual interview or a home visit, and record it when done.
grp-offer_individual = Record an individual interview or visit
grp-nobody = Nobody.
grp-not_yet = Attendance can be recorded from the day of the session.

wl-meetings = Meetings

err-invalid_month = Write the month as 2026-10
err-meeting_too_early = The meeting is held after the month it covers
err-too_many = Too many
err-not_proposed = Someone is not in the proposal
err-duplicate = Someone is listed twice
err-not_a_member = Not invited to this session
err-meeting_recorded = This month's meeting is already recorded
err-already_in_session = Someone is already in another session
err-member_not_eligible = Someone is no longer waiting for an interview; reload the page
err-attendance_recorded = Attendance is already recorded
err-session_not_held = The session has not happened yet
err-bad_form = The form could not be read
