### Accounts, roles and the audit log

nav-accounts = Accounts
nav-audit = Audit log

accounts-title = Accounts
accounts-create = Create an account
accounts-username = User name
accounts-display_name = Display name
accounts-role = Role
accounts-password = Initial password (12 characters or more)
accounts-new_password = New password
accounts-areas = Areas
accounts-venues = Venues
accounts-family_id = Family number (family accounts only)
accounts-disable = Disable
accounts-enable = Enable
accounts-reset_password = Reset password
accounts-reset_totp = Reset second factor
accounts-state = State
accounts-disabled = Disabled
accounts-active = Active
accounts-totp = Second factor
accounts-totp_on = Enrolled
accounts-totp_off = Not enrolled
accounts-created = The account was created.
accounts-updated = The account was updated.

role-family_member = Family member
role-nurse = Public-health nurse
role-coordinator = Coordinator
role-facility_staff = Postpartum-care staff
role-programme_staff = Programme staff
role-peer_supporter = Peer supporter
role-caseworker = Caseworker
role-admin = Municipal administrator
role-analyst = Analyst
role-chat_parent = Chat user (parent)

audit-title = Audit log
audit-intro = Every staff read or change of a person's record is recorded; no one can edit or delete it.
audit-at = When
audit-actor = Account no.
audit-role = Role
audit-action = Action
audit-family = Family no.
audit-detail = Detail
audit-reason = Reason
audit-addr = From
audit-filter = Filter
audit-any = Any

err-password_too_short = Use 12 characters or more
err-password_too_long = The password is too long
err-password_too_common = This password is too common
err-username_taken = This user name is taken
err-scope_required = This role needs a scope
err-last_administrator = The last active administrator account cannot be disabled. Create another administrator account first
err-family_required = A family account needs a family number

accounts-family_relation = Who in the family (family accounts only)
accounts-relation-mother = Mother (decides what of her health items is shared)
accounts-relation-partner = Partner (sees what the mother shares)
err-mother_account_exists = This family already has a mother's account

# Staff screens (#10): destructive actions are confirmed
accounts-confirm_disable = Disable this account? Its sessions end now.
accounts-disable_confirm = Confirm disabling
accounts-confirm_reset_totp = Reset the second factor? The person enrols again at their next sign-in.
accounts-reset_totp_confirm = Confirm reset
# The audit log page (#10)
audit-name = Account
audit-from = From
audit-to = To
audit-csv = Download as CSV
audit-csv_note = The filtered lines, newest first, up to 20,000. The download is itself recorded in the audit log.
audit-none = No lines match
audit-older = Older lines
audit-newest = Back to the newest
