-- Reminders (#10): a family member's choice of e-mail reminders of the
-- family's bookings and stays (off until chosen), and the reminders sent.
-- The PostgreSQL counterpart of the SQLite store's 0025.
CREATE TABLE reminder_settings (
    account_id      BIGINT PRIMARY KEY REFERENCES accounts(id),
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    family_id       BIGINT NOT NULL REFERENCES families(id),
    email           TEXT NOT NULL DEFAULT '',
    email_on        BOOLEAN NOT NULL DEFAULT false,
    days_before     SMALLINT NOT NULL DEFAULT 1 CHECK (days_before BETWEEN 0 AND 14),
    -- the mail's language: English when the account chose it
    lang_en         BOOLEAN NOT NULL DEFAULT false,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX reminder_settings_on ON reminder_settings(municipality_id, email_on);

-- One row per account, item ('class:<booking>', 'stay:<application>') and
-- channel, inserted (claimed) before the mail is sent, as a job's lease is
-- taken: the key makes a reminder go once across restarts and nodes. A
-- claim not marked sent by `claimed_until` (Unix seconds: a failed or
-- interrupted send) may be claimed again.
CREATE TABLE reminders_sent (
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    account_id      BIGINT NOT NULL REFERENCES accounts(id),
    item            TEXT NOT NULL,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'push')),
    claimed_by      TEXT NOT NULL,
    claimed_until   BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 1,
    sent_at         TIMESTAMPTZ,
    PRIMARY KEY (account_id, item, channel)
);
CREATE INDEX reminders_sent_municipality ON reminders_sent(municipality_id);
