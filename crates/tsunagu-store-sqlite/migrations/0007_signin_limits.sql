-- Sign-in limits and second-factor enrolment (security issue #8).
--
-- An attempt is stored as a failure before its password or code is checked
-- and settled afterwards: `success` (not a failure) and `signed_in` (a full
-- sign-in, from which the account's failures count again). Before this, a
-- success was both.
ALTER TABLE signin_attempts ADD COLUMN signed_in INTEGER NOT NULL DEFAULT 0;
UPDATE signin_attempts SET signed_in = success;
CREATE INDEX signin_attempts_signed_in ON signin_attempts(municipality_code, username, id) WHERE signed_in = 1;

-- A half-signed-in session counts the codes typed into it, and keeps the
-- second-factor secret the server made for its enrolment (never the client's).
ALTER TABLE sessions ADD COLUMN code_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN pending_totp_secret TEXT;
