-- Web push (#10): a family member's browser subscriptions (a phone and a
-- computer may both subscribe). The endpoint is a capability — whoever has
-- it can push to the browser — so it is never written to the audit log or
-- the logs. The reminders sent are reminders_sent's (0025), whose channel
-- column already tells 'push' from 'email'.
CREATE TABLE push_subscriptions (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    family_id       INTEGER NOT NULL REFERENCES families(id),
    endpoint        TEXT NOT NULL,
    -- the browser's P-256 public key (65 bytes) and auth secret (16 bytes)
    p256dh          BLOB NOT NULL,
    auth            BLOB NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (endpoint, municipality_id)
);
CREATE INDEX push_subscriptions_account ON push_subscriptions(municipality_id, account_id);
