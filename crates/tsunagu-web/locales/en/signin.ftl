### Sign-in and the second factor

signin-title = Sign in
signin-municipality = Municipality
signin-username = User name
signin-password = Password
signin-submit = Sign in

totp-title = Verification code
totp-intro = Enter the 6-digit code shown in your authenticator app.
totp-code = Code (6 digits)
totp-submit = Verify

enrol-title = Set up two-factor authentication
enrol-intro = Staff accounts need a second factor. Add this secret to your authenticator app, then enter the code it shows.
enrol-secret = Secret
enrol-uri = Set-up URI

err-too_many_attempts = Too many attempts; try again later
err-invalid_credentials = The municipality, user name or password is wrong
err-bad_municipality_code = The municipality code is six digits, its check digit included
err-otp_required = A verification code is required
err-invalid_otp = The code is wrong
err-code_locked = Too many wrong codes: signing in to this account is paused for a while, and until then even the right code is refused
err-too_many_codes = Too many wrong codes: this sign-in has ended. Please sign in again, starting with your password

# Shown before the number of minutes: "Try again in about" N "minutes."
signin-retry_before = Try again in about
# Shown after the number of minutes.
signin-retry_after = minutes.

