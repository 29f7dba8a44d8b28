-- Staff screens (#10): the day a contact took place, as the person who
-- recorded it gave it (not in the future, not before the pregnancy's
-- notification: checked in the recording's transaction). Empty for
-- outcomes recorded before, whose day is when they were recorded.
ALTER TABLE contacts ADD COLUMN contacted_on TEXT;
