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
# Web push (#10)
rem-push_title = Notifications on this phone
rem-push_intro = We notify this browser, on the same day as the e-mail.
rem-push_on = Notify me in this browser
rem-push_is_on = This browser gets notifications.
rem-push_is_off = This browser gets no notifications.
rem-push_denied = Notifications are blocked in this browser's settings. Please allow them there.
rem-push_failed = The notification setting could not be changed. Please try again later.
rem-push_unsupported = This browser cannot receive notifications. Please use e-mail reminders.
rem-push_unavailable = Notifications are not offered by this municipality yet.
rem-push_what_is_sent = A notification shows the day only: no name, nothing about health.
err-invalid_endpoint = The notification address is not valid
err-invalid_key = The notification key is not valid
err-push_unavailable = Notifications are not offered by this municipality yet
err-unknown_op = Unknown operation
