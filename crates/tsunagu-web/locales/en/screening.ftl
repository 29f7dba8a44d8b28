### Questionnaires and screening

nav-screenings = Questionnaires

me-screenings = Answer questionnaires

scr-title = Questionnaires
scr-staff_title = Questionnaires and screening
scr-q-epds = Edinburgh Postnatal Depression Scale (EPDS)
scr-q-bonding = Mother-to-infant bonding questionnaire
scr-q-support_checklist = Parenting-support checklist
scr-q-notification = Pregnancy notification questionnaire
scr-q-unknown = Questionnaire
scr-reason-epds_total_9_or_more = EPDS total of 9 or more
scr-reason-epds_item_10_self_harm = EPDS item 10 (thoughts of self-harm) above 0: same-day follow-up
scr-reason-bonding_total_at_cut_off = Bonding total at or above the cut-off
scr-reason-past_mental_health_care = Past mental-health care
scr-reason-urge_to_hit_baby = Urge to hit the baby
scr-reason-several_risk_answers = Several answers that call for support
scr-reason-mental_illness_history = History of mental illness
scr-reason-troubled_by_pregnancy = Troubled by the pregnancy
scr-reason-under_20 = Under 20
scr-reason-low_mood = Low mood or loss of interest
scr-reason-afraid_at_home = Afraid of someone at home
scr-reason-several_concerns = Several concerns
scr-reason-unknown = (reason not described)
scr-item = Question
scr-answer = Answer
scr-answers = Answers
scr-opt-yes = Yes
scr-opt-no = No
# Put between reasons in a list; keep the trailing space.
scr-list_sep = ,{" "}
# Shown before the version number.
scr-version = version
scr-err-required = Please answer this question
scr-err-invalid_choice = Choose one of the answers
scr-err-unknown_item = Not a question of this questionnaire

err-unknown_item = Not an item of this questionnaire
err-questionnaire_not_offered = This questionnaire is not open to you now
err-questionnaire_version_unknown = This version of the questionnaire is not known

scr-intro_family = Please answer a few questions about how you are. Your public-health nurse reads your answers.
scr-none_for_you = There is no questionnaire for you to answer now.
scr-form_intro = For each question, choose the one answer closest to how you feel now.
scr-from_paper_note = Enter the answers exactly as given on the paper form.
scr-placeholder_note = The questions and answers shown here are placeholders: the municipality's licensed wording of the questionnaire goes here.
scr-fix = Some questions need an answer: see the ones marked.
scr-question_n = Question
scr-submit = Send
scr-thanks_title = Thank you for your answers
scr-thanks = We have received your answers. Your public-health nurse will read them.
scr-help_title = If things feel hard right now
scr-help_contact = You do not have to carry this alone. Staff of your municipality will contact you as soon as they can.
scr-help_emergency = In an emergency: 119 (ambulance), 110 (police)
scr-help_lines_title = Where you can get help
scr-help_lines_intro = Whatever your answers, you can call whenever something is hard.
scr-back_home = Back to our record
scr-enter_from_paper = Enter a paper form
scr-responses = Responses
scr-no_responses = No responses yet.
scr-col-date = Answered
scr-col-questionnaire = Questionnaire
scr-col-total = Total
scr-col-result = Result
scr-col-reasons = Reasons
scr-col-entered_by = Entered by
scr-col-score = Score
scr-result-urgent = Urgent (same day)
scr-result-positive = Positive: follow up
scr-result-negative = Negative
scr-referral = Referral
scr-recorded = The answers were recorded.
scr-recorded_referral = Recorded. The result calls for follow-up: a referral to the nurse was raised.
scr-detail_title = Questionnaire response
scr-fhir = Export as FHIR R4
