//! Reports (#14): the counting queries of a fiscal year and the report
//! settings. Counts only; the audit line is written by `ReportStore::report`.

use crate::{corrupt, db_err, other_err, ts, ts_text, SqliteStore};
use async_trait::async_trait;
use jiff::civil::Time;
use sqlx::Row;
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::reports::build::ScreeningCounts;
use tsunagu_domain::reports::ReportSettings;
use tsunagu_domain::timeline::ContactForm;
use tsunagu_domain::MunicipalityId;
use tsunagu_store::{followed_up_within, instant_bounds, referral_counts, ReportStore, Result, YearCounts};

fn count(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| corrupt("count"))
}

impl SqliteStore {
    async fn one_count(&self, sql: &str, m: MunicipalityId, from: String, to: String) -> Result<u64> {
        let n: i64 =
            sqlx::query_scalar(sql).bind(m.0).bind(from).bind(to).fetch_one(&self.reader).await.map_err(db_err)?;
        count(n)
    }

    async fn done_by_form(&self, m: MunicipalityId, kind: &str, range: DateRange) -> Result<Vec<(ContactForm, u64)>> {
        let (from, to) = instant_bounds(range);
        let rows = sqlx::query(
            "SELECT form, COUNT(*) FROM contacts WHERE municipality_id = ? AND kind = ? AND outcome = 'done' \
             AND outcome_at >= ? AND outcome_at < ? GROUP BY form",
        )
        .bind(m.0)
        .bind(kind)
        .bind(ts_text(from))
        .bind(ts_text(to))
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let form: String = r.try_get(0).map_err(db_err)?;
                let form = ContactForm::parse(&form).ok_or_else(|| corrupt("contact form"))?;
                Ok((form, count(r.try_get(1).map_err(db_err)?)?))
            })
            .collect()
    }
}

#[async_trait]
impl ReportStore for SqliteStore {
    async fn report_settings(&self, m: MunicipalityId) -> Result<ReportSettings> {
        let json: Option<String> = sqlx::query_scalar("SELECT settings FROM report_settings WHERE municipality_id = ?")
            .bind(m.0)
            .fetch_optional(&self.reader)
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
            "INSERT INTO report_settings (municipality_id, settings) VALUES (?, ?) \
             ON CONFLICT (municipality_id) DO UPDATE SET settings = excluded.settings",
        )
        .bind(m.0)
        .bind(json)
        .execute(&self.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn year_counts(&self, m: MunicipalityId, range: DateRange, follow_up_days: u32) -> Result<YearCounts> {
        let (first, last) = (range.first().to_string(), range.last().to_string());
        let (from, to) = instant_bounds(range);
        let (from_ts, to_ts) = (ts_text(from), ts_text(to));
        // [001] オンライン相談: booked consultations whose slot is in the year (civil date-times in Japan).
        let follow_ups = self
            .one_count(
                "SELECT COUNT(*) FROM followups WHERE municipality_id = ? AND status = 'booked' AND start >= ? AND start <= ?",
                m,
                format!("{first}T00:00:00"),
                range.last().to_datetime(Time::MAX).strftime("%Y-%m-%dT%H:%M:%S").to_string(),
            )
            .await?;
        let handbook_meetings = self
            .one_count(
                "SELECT COUNT(*) FROM handbook_meetings WHERE municipality_id = ? AND held_on >= ? AND held_on <= ?",
                m,
                first.clone(),
                last.clone(),
            )
            .await?;
        let group_sessions = self
            .one_count(
                "SELECT COUNT(*) FROM group_sessions WHERE municipality_id = ? AND day >= ? AND day <= ? \
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
            "SELECT COUNT(*), COUNT(CASE WHEN outcome IN ('done', 'declined', 'not_applicable') THEN 1 END) \
             FROM contacts WHERE municipality_id = ? AND kind = 'health_check_3_4_months' AND hidden = 0 \
             AND closes >= ? AND closes <= ? AND (missed_on IS NOT NULL OR outcome IN ('not_reached', 'declined'))",
        )
        .bind(m.0)
        .bind(&first)
        .bind(&last)
        .fetch_one(&self.reader)
        .await
        .map_err(db_err)?;
        let screening_rows = sqlx::query(
            "SELECT questionnaire, COUNT(*), SUM(positive), SUM(urgent) FROM screenings \
             WHERE municipality_id = ? AND entered_at >= ? AND entered_at < ? GROUP BY questionnaire ORDER BY questionnaire",
        )
        .bind(m.0)
        .bind(&from_ts)
        .bind(&to_ts)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        let taken_up = sqlx::query(
            "SELECT s.questionnaire, s.entered_at, (SELECT MIN(e.at) FROM referral_events e \
             WHERE e.referral_id = s.referral_id AND e.action <> 'raise') FROM screenings s \
             WHERE s.municipality_id = ? AND s.entered_at >= ? AND s.entered_at < ? AND s.referral_id IS NOT NULL",
        )
        .bind(m.0)
        .bind(&from_ts)
        .bind(&to_ts)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        let mut pairs: Vec<(String, jiff::Timestamp, Option<jiff::Timestamp>)> = Vec::new();
        for r in &taken_up {
            let q: String = r.try_get(0).map_err(db_err)?;
            let entered: String = r.try_get(1).map_err(db_err)?;
            let first_at: Option<String> = r.try_get(2).map_err(db_err)?;
            pairs.push((q, ts(&entered)?, first_at.as_deref().map(ts).transpose()?));
        }
        let mut screening = Vec::new();
        for r in &screening_rows {
            let questionnaire: String = r.try_get(0).map_err(db_err)?;
            let mine: Vec<_> = pairs.iter().filter(|(q, _, _)| *q == questionnaire).map(|(_, e, t)| (*e, *t)).collect();
            screening.push(ScreeningCounts {
                given: count(r.try_get(1).map_err(db_err)?)?,
                positive: count(r.try_get::<Option<i64>, _>(2).map_err(db_err)?.unwrap_or(0))?,
                urgent: count(r.try_get::<Option<i64>, _>(3).map_err(db_err)?.unwrap_or(0))?,
                followed_up_in_time: followed_up_within(&mine, follow_up_days),
                questionnaire,
            });
        }
        let referral_rows = sqlx::query(
            "SELECT source, status, close_reason, COUNT(*) FROM referrals \
             WHERE municipality_id = ? AND raised_at >= ? AND raised_at < ? GROUP BY source, status, close_reason",
        )
        .bind(m.0)
        .bind(&from_ts)
        .bind(&to_ts)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        let mut rows = Vec::new();
        for r in &referral_rows {
            rows.push((
                r.try_get::<String, _>(0).map_err(db_err)?,
                r.try_get::<String, _>(1).map_err(db_err)?,
                r.try_get::<Option<String>, _>(2).map_err(db_err)?,
                count(r.try_get(3).map_err(db_err)?)?,
            ));
        }
        let notified = sqlx::query(
            "SELECT COUNT(*), COUNT(CASE WHEN EXISTS (SELECT 1 FROM screenings s WHERE s.pregnancy_id = p.id \
             AND s.questionnaire = 'notification') THEN 1 END) \
             FROM pregnancies p WHERE p.municipality_id = ? AND p.notified_on >= ? AND p.notified_on <= ?",
        )
        .bind(m.0)
        .bind(&first)
        .bind(&last)
        .fetch_one(&self.reader)
        .await
        .map_err(db_err)?;
        Ok(YearCounts {
            follow_ups,
            eighth_month: self.done_by_form(m, "eighth_month_interview", range).await?,
            happy_baby: self.done_by_form(m, "happy_baby", range).await?,
            handbook_meetings,
            group_sessions,
            check_non_attendees: count(check.try_get(0).map_err(db_err)?)?,
            check_resolved: count(check.try_get(1).map_err(db_err)?)?,
            screening,
            referrals: referral_counts(&rows),
            notifications: count(notified.try_get(0).map_err(db_err)?)?,
            notifications_with_questionnaire: count(notified.try_get(1).map_err(db_err)?)?,
        })
    }
}
