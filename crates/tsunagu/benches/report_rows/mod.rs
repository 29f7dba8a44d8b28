//! The reports benchmark's own rows (#14): a nation's worth of the records a
//! report counts, written in bulk — a handful of `INSERT … SELECT` over a
//! series of numbers per table, not a family at a time through the store —
//! so that 6,000 births a year, or 700,000 over 1,741 municipalities, load
//! in seconds to minutes rather than hours.
//!
//! What is written (per birth `i`, its family and its pregnancy, one
//! municipality and one of its four areas, notified in one of `years` fiscal
//! years ending with `last`): the notification questionnaire; the 8th-month
//! interview (done, by one of its three forms), the happy-baby contact
//! (done, by one of its three forms) and the 3–4-month check (one in twenty
//! not reached); an EPDS, positive one in ten, its referral received some
//! days later and half of those closed; one family in eight with five used
//! days at the municipality's centre (short stay, then day care). Every
//! municipality has four areas and one centre with Setagaya's calendar.
//!
//! Births are spread over municipalities unevenly, as a country's are: the
//! municipality of birth `i` is `1 + ⌊M·x²⌋` for `x` a hash of `i` in
//! [0, 1), so the first holds about 1/√M of them (2.4 % for 1,741: 16,800 of
//! 700,000, a large city) and most hold a few hundred or fewer.
//!
//! The bench's database is its own and thrown away: the load writes with
//! foreign-key checks off on its own connection (SQLite's pragma;
//! PostgreSQL's replica role, which needs the cluster's superuser, as the
//! throwaway cluster's is) and ids of its choosing; nothing else writes
//! meanwhile. Rows are only as complete as the report reads them (names,
//! answers and notes are empty).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use jiff::civil::Date;
use sqlx::Connection;
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::postpartum::calendar::FacilityCalendar;

/// What to load.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub municipalities: i64,
    /// Births a year over all the municipalities.
    pub births_per_year: i64,
    /// Fiscal years of births, ending with `last`.
    pub years: i64,
    pub last: FiscalYear,
}

impl Shape {
    pub fn births(&self) -> i64 {
        self.births_per_year * self.years
    }

    /// The first day of the first fiscal year loaded.
    fn start(&self) -> Date {
        let first = FiscalYear::new(self.last.year() - i32::try_from(self.years - 1).unwrap()).unwrap();
        first.start()
    }
}

/// The statements of a load, in order, for a back end: `{N}`, `{M}`,
/// `{Y}` (years), `{START}` (first day), `{CAL}` (the calendar's JSON) are
/// filled in by [`load`]. The birth's municipality, area, year and day are
/// computed in each statement from `i` alone, so the tables agree.
/// Municipality `k`'s code is `k` in five digits and its check digit (the
/// formula of `tsunagu_domain::municipality::check_digit`): the store reads
/// every code back through `MunicipalityCode::parse`, as the nation-wide
/// report does for its list of municipalities.
fn statements(pg: bool) -> Vec<&'static str> {
    if pg {
        vec![
            "SET session_replication_role = replica",
            "INSERT INTO municipalities (id, code, name_ja, name_en) OVERRIDING SYSTEM VALUE \
             SELECT k, lpad(k::text, 5, '0') || ((11 - (6 * ((k / 10000) % 10) + 5 * ((k / 1000) % 10) + 4 * ((k / 100) % 10) + 3 * ((k / 10) % 10) + 2 * (k % 10)) % 11) % 10)::text, '市' || k, 'City ' || k \
             FROM generate_series(1, {M}) k",
            "INSERT INTO areas (id, municipality_id, name_ja, name_en) OVERRIDING SYSTEM VALUE \
             SELECT 4 * (k - 1) + j, k, '地区' || j, 'Area ' || j FROM generate_series(1, {M}) k, generate_series(1, 4) j",
            "INSERT INTO venues (id, municipality_id, area_id, kind, name_ja, name_en) OVERRIDING SYSTEM VALUE \
             SELECT k, k, 4 * (k - 1) + 1, 'postpartum_facility', '産後ケアセンター', 'Postpartum care centre' \
             FROM generate_series(1, {M}) k",
            "INSERT INTO postpartum_facilities (municipality_id, venue_id, operator_ja, operator_en, calendar) \
             SELECT k, k, '運営', 'Operator', '{CAL}' FROM generate_series(1, {M}) k",
            // b: birth i, its municipality m, area a, fiscal year offset y, notification day d.
            "CREATE TEMP TABLE b AS SELECT i, m, 4 * (m - 1) + 1 + i % 4 AS a, \
             '{START}'::date + (i % {Y})::int * 365 + (i * 7 % 365)::int AS d FROM ( \
             SELECT i, 1 + floor({M} * power(((i * 2654435761) % 4294967296)::float8 / 4294967296, 2))::bigint AS m \
             FROM generate_series(1, {N}) i) s",
            "INSERT INTO families (id, municipality_id, area_id, fee_bracket, consent_coordinators, consent_hubs, created_at) \
             OVERRIDING SYSTEM VALUE SELECT i, m, a, 'taxed', TRUE, TRUE, d + time '03:00' AT TIME ZONE 'UTC' FROM b",
            "INSERT INTO pregnancies (id, family_id, municipality_id, notified_on, edd, foetuses, first_child, status) \
             OVERRIDING SYSTEM VALUE SELECT i, i, m, d, d + 200, 1, i % 2 = 0, 'delivered' FROM b",
            // Contacts: 3 per birth (kind k = 0, 1, 2), done on day d + 150, d + 260, by d + 330.
            "INSERT INTO contacts (id, municipality_id, family_id, area_id, pregnancy_id, kind, subject_kind, subject_id, \
             owner_role, staff_owed, opens, due, closes, outcome, form, outcome_at, awaits, created_at, updated_at) \
             OVERRIDING SYSTEM VALUE SELECT 3 * (i - 1) + k + 1, m, i, a, i, \
             (ARRAY['eighth_month_interview', 'happy_baby', 'health_check_3_4_months'])[k + 1], 'pregnancy', i, 'nurse', TRUE, \
             d + (ARRAY[120, 230, 300])[k + 1], d + (ARRAY[150, 260, 320])[k + 1], d + (ARRAY[180, 290, 330])[k + 1], \
             CASE WHEN k = 2 AND i % 20 = 0 THEN 'not_reached' ELSE 'done' END, \
             CASE WHEN k = 2 AND i % 20 = 0 THEN NULL ELSE (ARRAY['group', 'individual', 'home_visit', \
             'home_visit', 'support_room_visit', 'at_health_check', 'at_health_check', 'at_health_check', \
             'at_health_check'])[3 * k + i % 3 + 1] END, \
             d + (ARRAY[150, 260, 320])[k + 1] + time '03:00' AT TIME ZONE 'UTC', FALSE, \
             d + time '03:00' AT TIME ZONE 'UTC', d + time '03:00' AT TIME ZONE 'UTC' \
             FROM b, generate_series(0, 2) k",
            "INSERT INTO referrals (id, municipality_id, family_id, pregnancy_id, raised_by_role, source, urgent, status, \
             escalated, specified_expectant_mother, close_reason, note, raised_by_account, raised_at, updated_at) \
             OVERRIDING SYSTEM VALUE SELECT i, m, i, i, 'nurse', 'screening', FALSE, \
             CASE WHEN i % 20 = 0 THEN 'closed' ELSE 'received' END, FALSE, FALSE, \
             CASE WHEN i % 20 = 0 THEN 'resolved' END, '', 1, d + 250 + time '03:00' AT TIME ZONE 'UTC', \
             d + 250 + time '03:00' AT TIME ZONE 'UTC' FROM b WHERE i % 10 = 0",
            "INSERT INTO referral_events (id, municipality_id, referral_id, action, by_account, at, note) \
             OVERRIDING SYSTEM VALUE SELECT 2 * i + e, m, i, (ARRAY['raise', 'receive'])[e + 1], 1, \
             d + 250 + e * (i / 10 % 20)::int + time '03:00' AT TIME ZONE 'UTC', '' \
             FROM b, generate_series(0, 1) e WHERE i % 10 = 0",
            "INSERT INTO screenings (id, municipality_id, family_id, pregnancy_id, questionnaire, version, answers, total, \
             positive, urgent, reasons, entered_by_account, entered_by_role, entered_at, referral_id) \
             OVERRIDING SYSTEM VALUE SELECT 2 * i + q, m, i, i, (ARRAY['notification', 'epds'])[q + 1], '1', '{}', 0, \
             q = 1 AND i % 10 = 0, FALSE, '[]', 1, 'nurse', d + 250 * q + time '03:00' AT TIME ZONE 'UTC', \
             CASE WHEN q = 1 AND i % 10 = 0 THEN i END FROM b, generate_series(0, 1) q",
            "INSERT INTO postpartum_used_days (application_id, day, venue_id, municipality_id, family_id, service, \
             by_account, at) SELECT i, d + 290 + u, m, m, i, CASE WHEN u < 3 THEN 'short_stay' ELSE 'day_care' END, 1, \
             d + time '03:00' AT TIME ZONE 'UTC' FROM b, generate_series(0, 4) u WHERE i % 8 = 0",
            "DROP TABLE b",
            "SET session_replication_role = DEFAULT",
            "ANALYZE",
        ]
    } else {
        vec![
            "PRAGMA foreign_keys = OFF",
            "BEGIN",
            "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < {M}) \
             INSERT INTO municipalities (id, code, name_ja, name_en) \
             SELECT k, substr('00000' || k, -5) || ((11 - (6 * ((k / 10000) % 10) + 5 * ((k / 1000) % 10) + 4 * ((k / 100) % 10) + 3 * ((k / 10) % 10) + 2 * (k % 10)) % 11) % 10), '市' || k, 'City ' || k FROM n",
            "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < {M}), \
             j(j) AS (VALUES (1), (2), (3), (4)) \
             INSERT INTO areas (id, municipality_id, name_ja, name_en) \
             SELECT 4 * (k - 1) + j, k, '地区' || j, 'Area ' || j FROM n, j",
            "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < {M}) \
             INSERT INTO venues (id, municipality_id, area_id, kind, name_ja, name_en) \
             SELECT k, k, 4 * (k - 1) + 1, 'postpartum_facility', '産後ケアセンター', 'Postpartum care centre' FROM n",
            "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < {M}) \
             INSERT INTO postpartum_facilities (municipality_id, venue_id, operator_ja, operator_en, calendar) \
             SELECT k, k, '運営', 'Operator', '{CAL}' FROM n",
            "CREATE TEMP TABLE b AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {N}), \
             s(i, m) AS (SELECT i, 1 + CAST({M} * (((i * 2654435761) % 4294967296) / 4294967296.0) \
             * (((i * 2654435761) % 4294967296) / 4294967296.0) AS INTEGER) FROM n) \
             SELECT i, m, 4 * (m - 1) + 1 + i % 4 AS a, \
             date('{START}', '+' || ((i % {Y}) * 365 + i * 7 % 365) || ' days') AS d FROM s",
            "INSERT INTO families (id, municipality_id, area_id, fee_bracket, consent_coordinators, consent_hubs, created_at) \
             SELECT i, m, a, 'taxed', 1, 1, d || 'T03:00:00.000000Z' FROM b",
            "INSERT INTO pregnancies (id, family_id, municipality_id, notified_on, edd, foetuses, first_child, status) \
             SELECT i, i, m, d, date(d, '+200 days'), 1, i % 2 = 0, 'delivered' FROM b",
            "WITH k(k, o, du, c, kind) AS (VALUES (0, 120, 150, 180, 'eighth_month_interview'), \
             (1, 230, 260, 290, 'happy_baby'), (2, 300, 320, 330, 'health_check_3_4_months')) \
             INSERT INTO contacts (id, municipality_id, family_id, area_id, pregnancy_id, kind, subject_kind, subject_id, \
             owner_role, staff_owed, opens, due, closes, outcome, form, outcome_at, awaits, created_at, updated_at) \
             SELECT 3 * (i - 1) + k + 1, m, i, a, i, kind, 'pregnancy', i, 'nurse', 1, \
             date(d, '+' || o || ' days'), date(d, '+' || du || ' days'), date(d, '+' || c || ' days'), \
             CASE WHEN k = 2 AND i % 20 = 0 THEN 'not_reached' ELSE 'done' END, \
             CASE WHEN k = 2 AND i % 20 = 0 THEN NULL WHEN k = 2 THEN 'at_health_check' \
             WHEN k = 1 THEN CASE i % 3 WHEN 0 THEN 'home_visit' WHEN 1 THEN 'support_room_visit' ELSE 'at_health_check' END \
             ELSE CASE i % 3 WHEN 0 THEN 'group' WHEN 1 THEN 'individual' ELSE 'home_visit' END END, \
             date(d, '+' || du || ' days') || 'T03:00:00.000000Z', 0, d || 'T03:00:00.000000Z', d || 'T03:00:00.000000Z' \
             FROM b, k",
            "INSERT INTO referrals (id, municipality_id, family_id, pregnancy_id, raised_by_role, source, urgent, status, \
             escalated, specified_expectant_mother, close_reason, note, raised_by_account, raised_at, updated_at) \
             SELECT i, m, i, i, 'nurse', 'screening', 0, CASE WHEN i % 20 = 0 THEN 'closed' ELSE 'received' END, 0, 0, \
             CASE WHEN i % 20 = 0 THEN 'resolved' END, '', 1, date(d, '+250 days') || 'T03:00:00.000000Z', \
             date(d, '+250 days') || 'T03:00:00.000000Z' FROM b WHERE i % 10 = 0",
            "WITH e(e, action) AS (VALUES (0, 'raise'), (1, 'receive')) \
             INSERT INTO referral_events (id, municipality_id, referral_id, action, by_account, at, note) \
             SELECT 2 * i + e, m, i, action, 1, date(d, '+' || (250 + e * (i / 10 % 20)) || ' days') || 'T03:00:00.000000Z', '' \
             FROM b, e WHERE i % 10 = 0",
            "WITH q(q, name) AS (VALUES (0, 'notification'), (1, 'epds')) \
             INSERT INTO screenings (id, municipality_id, family_id, pregnancy_id, questionnaire, version, answers, total, \
             positive, urgent, reasons, entered_by_account, entered_by_role, entered_at, referral_id) \
             SELECT 2 * i + q, m, i, i, name, '1', '{}', 0, q = 1 AND i % 10 = 0, 0, '[]', 1, 'nurse', \
             date(d, '+' || (250 * q) || ' days') || 'T03:00:00.000000Z', CASE WHEN q = 1 AND i % 10 = 0 THEN i END \
             FROM b, q",
            "WITH u(u) AS (VALUES (0), (1), (2), (3), (4)) \
             INSERT INTO postpartum_used_days (application_id, day, venue_id, municipality_id, family_id, service, \
             by_account, at) SELECT i, date(d, '+' || (290 + u) || ' days'), m, m, i, \
             CASE WHEN u < 3 THEN 'short_stay' ELSE 'day_care' END, 1, d || 'T03:00:00.000000Z' FROM b, u WHERE i % 8 = 0",
            "DROP TABLE b",
            "COMMIT",
            "PRAGMA foreign_keys = ON",
            "ANALYZE",
        ]
    }
}

/// Loads `shape` into the fresh, migrated database at `url`.
pub async fn load(url: &str, shape: Shape) {
    let pg = !url.starts_with("sqlite:");
    let calendar = serde_json::to_string(&FacilityCalendar::setagaya_centre()).unwrap().replace('\'', "''");
    let fill = |s: &str| {
        s.replace("{N}", &shape.births().to_string())
            .replace("{M}", &shape.municipalities.to_string())
            .replace("{Y}", &shape.years.to_string())
            .replace("{START}", &shape.start().to_string())
            .replace("{CAL}", &calendar)
    };
    if pg {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        for s in statements(true) {
            let sql = fill(s);
            sqlx::raw_sql(&sql).execute(&mut c).await.unwrap_or_else(|e| panic!("{e}: {sql}"));
        }
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        for s in statements(false) {
            let sql = fill(s);
            sqlx::raw_sql(&sql).execute(&mut c).await.unwrap_or_else(|e| panic!("{e}: {sql}"));
        }
    }
}
