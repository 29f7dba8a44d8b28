//! Reports (#14): the counting queries of a fiscal year and the report
//! settings. Counts only; the audit line is written by `ReportStore::report`.

use crate::{corrupt, count, db_err, get, other_err, ts, ts_param, PgStore};
use async_trait::async_trait;
use jiff::civil::Time;
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::reports::build::ScreeningCounts;
use tsunagu_domain::reports::ReportSettings;
use tsunagu_domain::timeline::ContactForm;
use tsunagu_domain::MunicipalityId;
use tsunagu_store::{followed_up_within, instant_bounds, referral_counts, ReportStore, Result, YearCounts};

/// An instant column read as RFC 3339 text in UTC.
macro_rules! utc_text {
    ($col:literal) => {
        concat!("to_char(", $col, " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
    };
}

impl PgStore {
    async fn one_count(&self, sql: &str, m: MunicipalityId, from: String, to: String) -> Result<u64> {
        let n: i64 =
            sqlx::query_scalar(sql).bind(m.0).bind(from).bind(to).fetch_one(&self.pool).await.map_err(db_err)?;
        count(n)
    }

    async fn done_by_form(&self, m: MunicipalityId, kind: &str, range: DateRange) -> Result<Vec<(ContactForm, u64)>> {
        let (from, to) = instant_bounds(range);
        let rows = sqlx::query(
            "SELECT form, COUNT(*) AS n FROM contacts WHERE municipality_id = $1 AND kind = $2 AND outcome = 'done' \
             AND outcome_at >= $3::timestamptz AND outcome_at < $4::timestamptz GROUP BY form",
        )
        .bind(m.0)
        .bind(kind)
        .bind(ts_param(from))
        .bind(ts_param(to))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let form: String = get(r, "form")?;
                let form = ContactForm::parse(&form).ok_or_else(|| corrupt("contact form"))?;
                Ok((form, count(get(r, "n")?)?))
            })
            .collect()
    }
}

#[async_trait]
impl ReportStore for PgStore {
    async fn report_settings(&self, m: MunicipalityId) -> Result<ReportSettings> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT settings FROM report_settings WHERE municipality_id = $1")
                .bind(m.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        match json {
            Some(j) => serde_json::from_str(&j).map_err(|_| corrupt("report settings")),
            None => Ok(ReportSettings::default()),
        }
    }

    async fn set_report_settings(&self, m: MunicipalityId, settings: &ReportSettings) -> Result<()> {
        let json = serde_json::to_string(settings).map_err(other_err)?;
        sqlx::query(
            "INSERT INTO report_settings (municipality_id, settings) VALUES ($1, $2) \
             ON CONFLICT (municipality_id) DO UPDATE SET settings = EXCLUDED.settings",
        )
        .bind(m.0)
        .bind(json)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn year_counts(&self, m: MunicipalityId, range: DateRange, follow_up_days: u32) -> Result<YearCounts> {
        let (first, last) = (range.first().to_string(), range.last().to_string());
        let (from, to) = instant_bounds(range);
        let (from_ts, to_ts) = (ts_param(from), ts_param(to));
        // [001] オンライン相談: booked consultations whose slot is in the year (civil date-times in Japan).
        let follow_ups = self
            .one_count(
                "SELECT COUNT(*) FROM followups WHERE municipality_id = $1 AND status = 'booked' \
                 AND start >= $2::timestamp AND start <= $3::timestamp",
                m,
                format!("{first}T00:00:00"),
                range.last().to_datetime(Time::MAX).strftime("%Y-%m-%dT%H:%M:%S").to_string(),
            )
            .await?;
        let handbook_meetings = self
            .one_count(
                "SELECT COUNT(*) FROM handbook_meetings WHERE municipality_id = $1 \
                 AND held_on BETWEEN $2::date AND $3::date",
                m,
                first.clone(),
                last.clone(),
            )
            .await?;
        let group_sessions = self
            .one_count(
                "SELECT COUNT(*) FROM group_sessions WHERE municipality_id = $1 AND day BETWEEN $2::date AND $3::date \
                 AND attendance_at IS NOT NULL",
                m,
                first.clone(),
                last.clone(),
            )
            .await?;
        // 3–4-month check: windows that closed in the year without the
        // check (missed, not reached, declined); resolved = the situation
        // then recorded (done later, declined, not applicable).
        let check = sqlx::query(
            "SELECT COUNT(*) AS n, COUNT(CASE WHEN outcome IN ('done', 'declined', 'not_applicable') THEN 1 END) AS r \
             FROM contacts WHERE municipality_id = $1 AND kind = 'health_check_3_4_months' AND NOT hidden \
             AND closes BETWEEN $2::date AND $3::date AND (missed_on IS NOT NULL OR outcome IN ('not_reached', 'declined'))",
        )
        .bind(m.0)
        .bind(&first)
        .bind(&last)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        let screening_rows = sqlx::query(
            "SELECT questionnaire, COUNT(*) AS n, COUNT(CASE WHEN positive THEN 1 END) AS p, \
             COUNT(CASE WHEN urgent THEN 1 END) AS u FROM screenings \
             WHERE municipality_id = $1 AND entered_at >= $2::timestamptz AND entered_at < $3::timestamptz \
             GROUP BY questionnaire ORDER BY questionnaire",
        )
        .bind(m.0)
        .bind(&from_ts)
        .bind(&to_ts)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let taken_up = sqlx::query(concat!(
            "SELECT s.questionnaire, ",
            utc_text!("s.entered_at"),
            " AS entered, (SELECT ",
            utc_text!("MIN(e.at)"),
            " FROM referral_events e WHERE e.referral_id = s.referral_id AND e.action <> 'raise') AS taken \
             FROM screenings s WHERE s.municipality_id = $1 AND s.entered_at >= $2::timestamptz \
             AND s.entered_at < $3::timestamptz AND s.referral_id IS NOT NULL"
        ))
        .bind(m.0)
        .bind(&from_ts)
        .bind(&to_ts)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut pairs: Vec<(String, jiff::Timestamp, Option<jiff::Timestamp>)> = Vec::new();
        for r in &taken_up {
            let q: String = get(r, "questionnaire")?;
            let entered: String = get(r, "entered")?;
            let taken: Option<String> = get(r, "taken")?;
            pairs.push((q, ts(&entered)?, taken.as_deref().map(ts).transpose()?));
        }
        let mut screening = Vec::new();
        for r in &screening_rows {
            let questionnaire: String = get(r, "questionnaire")?;
            let mine: Vec<_> = pairs.iter().filter(|(q, _, _)| *q == questionnaire).map(|(_, e, t)| (*e, *t)).collect();
            screening.push(ScreeningCounts {
                given: count(get(r, "n")?)?,
                positive: count(get(r, "p")?)?,
                urgent: count(get(r, "u")?)?,
                followed_up_in_time: followed_up_within(&mine, follow_up_days),
                questionnaire,
            });
        }
        let referral_rows = sqlx::query(
            "SELECT source, status, close_reason, COUNT(*) AS n FROM referrals \
             WHERE municipality_id = $1 AND raised_at >= $2::timestamptz AND raised_at < $3::timestamptz \
             GROUP BY source, status, close_reason",
        )
        .bind(m.0)
        .bind(&from_ts)
        .bind(&to_ts)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut rows = Vec::new();
        for r in &referral_rows {
            rows.push((get(r, "source")?, get(r, "status")?, get(r, "close_reason")?, count(get(r, "n")?)?));
        }
        let notified = sqlx::query(
            "SELECT COUNT(*) AS n, COUNT(CASE WHEN EXISTS (SELECT 1 FROM screenings s WHERE s.pregnancy_id = p.id \
             AND s.questionnaire = 'notification') THEN 1 END) AS q \
             FROM pregnancies p WHERE p.municipality_id = $1 AND p.notified_on BETWEEN $2::date AND $3::date",
        )
        .bind(m.0)
        .bind(&first)
        .bind(&last)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(YearCounts {
            follow_ups,
            eighth_month: self.done_by_form(m, "eighth_month_interview", range).await?,
            happy_baby: self.done_by_form(m, "happy_baby", range).await?,
            handbook_meetings,
            group_sessions,
            check_non_attendees: count(get(&check, "n")?)?,
            check_resolved: count(get(&check, "r")?)?,
            screening,
            referrals: referral_counts(&rows),
            notifications: count(get(&notified, "n")?)?,
            notifications_with_questionnaire: count(get(&notified, "q")?)?,
        })
    }
}
