### Reminders of what comes next (#10)

rem-title = Reminders
rem-intro = We e-mail you when a class you booked, a postpartum care stay or a group interview with a set day is coming up. Nothing is sent until you turn it on.
rem-unavailable = Reminders by e-mail are not available here yet.
rem-email_on = Remind me by e-mail
rem-email = E-mail address
rem-days_before = When to remind me
rem-on_the_day = On the day
rem-days_ahead = {" "}days before
rem-what_is_sent = The mail holds the date and a link to the app only: no name, nothing about health.
rem-save = Save
rem-saved = Your reminder settings are saved
rem-link = Set up reminders by e-mail
err-invalid_email = Not an e-mail address (e.g. hanako@example.jp)
