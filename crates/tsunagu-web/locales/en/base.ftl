### Common words: the name, the menu, errors shared by every page

app-name = tsunagu
app-tagline = Seamless support from pregnancy through child-rearing

# The link to the other language, written in that language.
lang-switch = 日本語

nav-home = Home
nav-signout = Sign out

yes = Yes

no = No

none = None

back = Back

home-title = Home
home-welcome = Welcome
home-analyst = Reports are shown only in a form that cannot single out a person.

# Follows a number of weeks directly (no space in between); the trailing space separates it from the days.
unit-weeks = w{" "}
# Follows a number directly (no space in between).
unit-days = d

err-page_title = Error
err-required = Required
err-too_long = Too long
err-invalid = Contains characters that cannot be used
err-invalid_date = Enter a real date as YYYY-MM-DD
err-date_too_early = Too far in the past
err-out_of_range = Out of range
err-not_an_id = This does not read as a number
err-invalid_choice = Choose one of the options
err-unknown_reference = The chosen item does not exist
err-unauthenticated = Please sign in
err-forbidden = You may not open this page
err-not_found = Not found
err-invalid_input = The input has errors
err-payload_too_large = The request is too large
err-unavailable = The database cannot be reached right now; try again shortly
err-internal = Something went wrong
err-invalid_json = The body is not valid JSON of the expected shape
err-unsupported_media_type = Send Content-Type: application/json
err-csrf = The form expired; please send it again
err-busy = The service is busy right now; please try again in a moment
err-bad_query = The query is not valid
err-bad_request = The request is not valid
err-method_not_allowed = This method is not allowed here
err-date_too_late = Too far ahead

# The neutral page a family account sees where there is nothing to show it; it gives no reason.
neutral-title = Notice
neutral-body = There is nothing to show here at the moment. For any questions, please contact your municipality's office.

# Whom a note is for, chosen when it is written (the office unless chosen).
note-audience = Who sees this note
note-for-office = The office only (the family does not see it)
note-for-family = The family too
note-tag-office = office
note-tag-family = for the family

# Errors the API answers with (each code in both languages).
err-already_joined = Already joined
err-area_exists = That area is already registered
err-booking_mismatch = The booking's days do not match the application
err-day_not_in_stay = That day is not part of the stay
err-fee_required = A reduction applies: enter the fee you confirmed
err-municipality_exists = That municipality is already registered
err-no_capacity = A day is full
err-not_a_current_user = For families staying at the facility at the time
err-not_applied = This application has already been decided
err-not_approved = This application is not approved
err-not_booked = Not booked
err-not_cancellable = This application cannot be cancelled
err-not_configured = This city's fee table is not configured
err-not_eligible = Not eligible; a nurse may go ahead with a reason
err-not_resident = The family is recorded as having moved out of the city. Care is only for days on which mother and baby both live in the city
err-override_reason_required = A reason is needed to go ahead with an ineligible application
err-referral_changed = Someone updated this first. Check it again
err-referral_step_not_allowed = That step is not possible in this state
err-slot_taken = That slot is taken
err-unknown_bracket = Unknown household bracket
err-unknown_service = Unknown service type
err-days_out_of_range = Check the number of days
err-babies_out_of_range = Check the number of babies
err-too_many_siblings = At most one sibling may come along
err-siblings_not_offered = Siblings do not come along on this service
err-amount_too_large = The amount is too large to compute

# A form says what is allowed and names the fields to check (#10).
err-birth_on_or_after_pre = Enter a birth date on or after{" "}
err-birth_on_or_after_post = .
err-birth_on_or_before_pre = Enter a birth date on or before{" "}
err-birth_on_or_before_post = .
err-check_fields = Please check these fields:
