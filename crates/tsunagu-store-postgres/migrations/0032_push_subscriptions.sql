-- Web push (#10): a family member's browser subscriptions (a phone and a
-- computer may both subscribe). The endpoint is a capability — whoever has
-- it can push to the browser — so it is never written to the audit log or
-- the logs. The reminders sent are reminders_sent's (0025), whose channel
-- column already tells 'push' from 'email'.
-- Keys name the municipality (0031): an endpoint is unique within one.
CREATE TABLE push_subscriptions (
    id              BIGINT GENERATED ALWAYS AS IDENTITY,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    account_id      BIGINT NOT NULL,
    family_id       BIGINT NOT NULL,
    endpoint        TEXT NOT NULL,
    -- the browser's P-256 public key (65 bytes) and auth secret (16 bytes)
    p256dh          BYTEA NOT NULL,
    auth            BYTEA NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (id, municipality_id),
    UNIQUE (endpoint, municipality_id),
    FOREIGN KEY (account_id, municipality_id) REFERENCES accounts (id, municipality_id),
    FOREIGN KEY (family_id, municipality_id) REFERENCES families (id, municipality_id)
);
CREATE INDEX push_subscriptions_account ON push_subscriptions(municipality_id, account_id);
