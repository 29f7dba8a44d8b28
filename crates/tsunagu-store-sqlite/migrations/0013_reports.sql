-- Reports (#14): a municipality's report settings — the small-cell
-- suppression threshold and rounding, the days within which a positive
-- screen counts as followed up, and the figures the city printed, to show
-- beside the recorded ones — as tsunagu_domain's ReportSettings in JSON.
-- Without a row, the defaults (cells under 10 held back, no rounding, 14 days).
CREATE TABLE report_settings (
    municipality_id INTEGER PRIMARY KEY REFERENCES municipalities(id),
    settings        TEXT NOT NULL CHECK (json_valid(settings))
);
