### Referrals, online follow-ups, local information talks, incident reports

nav-referrals = Referrals

ref-title = Referrals
ref-detail_title = Referral
ref-intro_nurse = Concerns raised by everyone who meets families; urgent ones first.
ref-intro_raiser = What became of the concerns you raised.
ref-none = No referrals.
ref-raised_at = Raised
ref-raised_by = Raised by
ref-urgent = Urgent
ref-urgent_today = Urgent (needs follow-up today)
ref-note = What you noticed
ref-raise = Tell the nurse about a concern
ref-alert = Alert the nurse or caseworker
ref-send = Send
ref-raised = Sent to the nurse. You can follow what becomes of it here and under Referrals.
ref-note_required = Please write what you noticed.
ref-escalated = Escalated to a caseworker
ref-sem = Specified expectant mother
ref-actions = Actions
ref-history = History
ref-close_reason = Reason for closing
ref-status-raised = Not yet seen
ref-status-received = Received
ref-status-in_progress = In progress
ref-status-closed = Closed
ref-act-raise = Raised
ref-act-receive = Receive
ref-act-start = Start
ref-act-escalate = Escalate to caseworker
ref-act-mark_specified_expectant_mother = Mark specified expectant mother
ref-act-clear_specified_expectant_mother = Clear specified expectant mother
ref-act-close = Close
ref-close-resolved = Resolved
ref-close-no_concern = No concern
ref-close-duplicate = Duplicate
ref-close-moved_out = Moved out
ref-why-referral_changed = Someone else changed it first; please look again.
ref-why-referral_step_not_allowed = That step is not possible from this state

fu-title = Online follow-up (20 min)
fu-intro = Former users can consult the facility's midwives online until the baby turns 1.
fu-none_offered = No consultation to book: no stay on record.
fu-no_slots = No free slot in the next four weeks.
fu-bookings = Bookings
fu-no_bookings = No bookings.
fu-count = Consultations this fiscal year

talk-title = Local childcare information talk (online)
talk-intro = For families staying at the centre: a coordinator introduces local places and services (about twice a month, 30 minutes).
talk-none = Nothing scheduled.
# Follows a number directly; keep the leading space.
talk-people = {" "}families
talk-join = Join
talk-new = Add a session
talk-starts = Starts
talk-topic = Topic
talk-create = Add

inc-title = Incident reports
inc-heading = Heading (safety manual)
inc-occurred = When
inc-summary = Summary
inc-report = Report
inc-none = No reports this fiscal year.

ref-source = Source
ref-source-observation = Observation
ref-source-screening = Screening
ref-source-chat_escalation = From a chat
