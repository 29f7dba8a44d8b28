//! Reports (#14): the counting queries of a fiscal year and the report
//! settings. Counts only; the audit line is written by `ReportStore::report`.

use crate::{corrupt, db_err, other_err, ts_text, SqliteStore};
use async_trait::async_trait;
use jiff::civil::Time;
use sqlx::Row;
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::reports::build::{ChatYear, ReferralCounts, ScreeningCounts};
use tsunagu_domain::reports::ReportSettings;
use tsunagu_domain::timeline::ContactForm;
use tsunagu_domain::{MunicipalityId, VenueId};
use tsunagu_store::{instant_bounds, referral_counts, ReportStore, Result, VenueUse, YearCounts};

fn count(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| corrupt("count"))
}

impl SqliteStore {
    /// Two counts from one statement (`SELECT (…), (…)`), bound `m, from, to`.
    async fn two_counts(&self, sql: &str, m: MunicipalityId, from: &str, to: &str) -> Result<(u64, u64)> {
        let r = sqlx::query(sql).bind(m.0).bind(from).bind(to).fetch_one(&self.reader).await.map_err(db_err)?;
        Ok((count(r.try_get(0).map_err(db_err)?)?, count(r.try_get(1).map_err(db_err)?)?))
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
        // One aggregate statement per table, each bounded by the
        // municipality and the year's range (indexes: 0023_report_indexes).
        let (first, last) = (range.first().to_string(), range.last().to_string());
        let (from, to) = instant_bounds(range);
        let (from_ts, to_ts) = (ts_text(from), ts_text(to));
        // [001] 利用実績: used days per facility and service, families once.
        let postpartum = async {
            let used = sqlx::query(
                "SELECT venue_id, COUNT(CASE WHEN service = 'short_stay' THEN 1 END), \
                 COUNT(CASE WHEN service = 'day_care' THEN 1 END), COUNT(CASE WHEN service = 'outreach' THEN 1 END), \
                 COUNT(DISTINCT family_id) FROM postpartum_used_days \
                 WHERE municipality_id = ? AND day >= ? AND day <= ? GROUP BY venue_id ORDER BY venue_id",
            )
            .bind(m.0)
            .bind(&first)
            .bind(&last)
            .fetch_all(&self.reader)
            .await
            .map_err(db_err)?;
            let mut postpartum = Vec::new();
            for r in &used {
                let n = |i: usize| -> Result<u64> { count(r.try_get(i).map_err(db_err)?) };
                postpartum.push(VenueUse {
                    venue: VenueId(r.try_get(0).map_err(db_err)?),
                    short_stay_days: n(1)?,
                    day_care_days: n(2)?,
                    outreach_visits: n(3)?,
                    families: n(4)?,
                });
            }
            Result::<Vec<VenueUse>>::Ok(postpartum)
        };
        // [001] オンライン相談: booked consultations whose slot is in the year
        // (civil date-times in Japan); with the 3–4-month check's
        // non-attendees in the year (windows that closed without the check:
        // missed, not reached, declined) and, of them, those resolved (the
        // situation then recorded: done later, declined, not applicable).
        let single = async {
            let single = sqlx::query(
                "SELECT (SELECT COUNT(*) FROM followups WHERE municipality_id = ?1 AND status = 'booked' \
                 AND start >= ?4 AND start <= ?5), \
                 COUNT(*), COUNT(CASE WHEN outcome IN ('done', 'declined', 'not_applicable') THEN 1 END) \
                 FROM contacts WHERE municipality_id = ?1 AND kind = 'health_check_3_4_months' AND hidden = 0 \
                 AND closes >= ?2 AND closes <= ?3 AND (missed_on IS NOT NULL OR outcome IN ('not_reached', 'declined'))",
            )
            .bind(m.0)
            .bind(&first)
            .bind(&last)
            .bind(format!("{first}T00:00:00"))
            .bind(range.last().to_datetime(Time::MAX).strftime("%Y-%m-%dT%H:%M:%S").to_string())
            .fetch_one(&self.reader)
            .await
            .map_err(db_err)?;
            Result::<(u64, u64, u64)>::Ok((
                count(single.try_get(0).map_err(db_err)?)?,
                count(single.try_get(1).map_err(db_err)?)?,
                count(single.try_get(2).map_err(db_err)?)?,
            ))
        };
        // [002] 母子手帳会議 held, and 8th-month group sessions held (one table).
        let meetings = self.two_counts(
            "SELECT (SELECT COUNT(*) FROM handbook_meetings WHERE municipality_id = ?1 AND held_on >= ?2 \
                 AND held_on <= ?3), (SELECT COUNT(*) FROM group_sessions WHERE municipality_id = ?1 \
                 AND day >= ?2 AND day <= ?3 AND attendance_at IS NOT NULL)",
            m,
            &first,
            &last,
        );
        // [002] 妊娠8か月面談 and はっぴーベビー done, by form, in one statement.
        let forms = async {
            let forms = sqlx::query(
                "SELECT kind, form, COUNT(*) FROM contacts WHERE municipality_id = ? \
                 AND kind IN ('eighth_month_interview', 'happy_baby') AND outcome = 'done' \
                 AND outcome_at >= ? AND outcome_at < ? GROUP BY kind, form",
            )
            .bind(m.0)
            .bind(&from_ts)
            .bind(&to_ts)
            .fetch_all(&self.reader)
            .await
            .map_err(db_err)?;
            let (mut eighth_month, mut happy_baby) = (Vec::new(), Vec::new());
            for r in &forms {
                let kind: String = r.try_get(0).map_err(db_err)?;
                let form: String = r.try_get(1).map_err(db_err)?;
                let form = ContactForm::parse(&form).ok_or_else(|| corrupt("contact form"))?;
                let n = count(r.try_get(2).map_err(db_err)?)?;
                let list = if kind == "happy_baby" { &mut happy_baby } else { &mut eighth_month };
                list.push((form, n));
            }
            Result::<(Vec<(ContactForm, u64)>, Vec<(ContactForm, u64)>)>::Ok((eighth_month, happy_baby))
        };
        // Screening by questionnaire; a positive or urgent result is followed
        // up in time when its referral's first step after being raised came
        // within the days: the deadline is the instant's text shifted by whole
        // hours (its fraction kept as written, so the comparison is exact).
        let screening = async {
            let screening_rows = sqlx::query(
                "SELECT questionnaire, COUNT(*), SUM(positive), SUM(urgent), \
                 COUNT(CASE WHEN (SELECT MIN(e.at) FROM referral_events e WHERE e.referral_id = s.referral_id \
                 AND e.action <> 'raise') <= strftime('%Y-%m-%dT%H:%M:%S', substr(s.entered_at, 1, 19), ?4) \
                 || substr(s.entered_at, 20) THEN 1 END) \
                 FROM screenings s WHERE municipality_id = ?1 AND entered_at >= ?2 AND entered_at < ?3 \
                 GROUP BY questionnaire ORDER BY questionnaire",
            )
            .bind(m.0)
            .bind(&from_ts)
            .bind(&to_ts)
            .bind(format!("+{} hours", u64::from(follow_up_days) * 24))
            .fetch_all(&self.reader)
            .await
            .map_err(db_err)?;
            let mut screening = Vec::new();
            for r in &screening_rows {
                screening.push(ScreeningCounts {
                    given: count(r.try_get(1).map_err(db_err)?)?,
                    positive: count(r.try_get::<Option<i64>, _>(2).map_err(db_err)?.unwrap_or(0))?,
                    urgent: count(r.try_get::<Option<i64>, _>(3).map_err(db_err)?.unwrap_or(0))?,
                    followed_up_in_time: count(r.try_get(4).map_err(db_err)?)?,
                    questionnaire: r.try_get(0).map_err(db_err)?,
                });
            }
            Result::<Vec<ScreeningCounts>>::Ok(screening)
        };
        let referrals = async {
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
            Result::<Vec<ReferralCounts>>::Ok(referral_counts(&rows))
        };
        let notified = self.two_counts(
            "SELECT COUNT(*), COUNT(CASE WHEN EXISTS (SELECT 1 FROM screenings s WHERE s.pregnancy_id = p.id \
                 AND s.questionnaire = 'notification') THEN 1 END) \
                 FROM pregnancies p WHERE p.municipality_id = ? AND p.notified_on >= ? AND p.notified_on <= ?",
            m,
            &first,
            &last,
        );
        // [003] The chat: rooms opened, parents who wrote, messages by
        // parents and by supporters, escalations by outcome (one statement);
        // and, for the rooms opened in the year whose parent wrote, the
        // seconds to the team's first answer (one row a room, no text).
        let chat_counts = async {
            let r = sqlx::query(
                "SELECT r.n, m.parents, m.pm, m.sm, e.open, e.resolved, e.no_concern, e.duplicate, e.moved_out \
             FROM (SELECT COUNT(*) AS n FROM chat_rooms WHERE municipality_id = ?1 AND created_at >= ?2 \
             AND created_at < ?3) r, \
             (SELECT COUNT(DISTINCT CASE WHEN author_role = 'chat_parent' THEN room_id END) AS parents, \
             COUNT(CASE WHEN author_role = 'chat_parent' THEN 1 END) AS pm, \
             COUNT(CASE WHEN author_role = 'peer_supporter' THEN 1 END) AS sm FROM chat_messages \
             WHERE municipality_id = ?1 AND sent_at >= ?2 AND sent_at < ?3) m, \
             (SELECT COUNT(CASE WHEN f.status <> 'closed' THEN 1 END) AS open, \
             COUNT(CASE WHEN f.close_reason = 'resolved' THEN 1 END) AS resolved, \
             COUNT(CASE WHEN f.close_reason = 'no_concern' THEN 1 END) AS no_concern, \
             COUNT(CASE WHEN f.close_reason = 'duplicate' THEN 1 END) AS duplicate, \
             COUNT(CASE WHEN f.close_reason = 'moved_out' THEN 1 END) AS moved_out \
             FROM chat_escalations x JOIN referrals f ON f.id = x.referral_id \
             WHERE x.municipality_id = ?1 AND x.raised_at >= ?2 AND x.raised_at < ?3) e",
            )
            .bind(m.0)
            .bind(&from_ts)
            .bind(&to_ts)
            .fetch_one(&self.reader)
            .await
            .map_err(db_err)?;
            let n = |i: usize| -> Result<u64> { count(r.try_get(i).map_err(db_err)?) };
            Result::<(u64, u64, u64, u64, u64, [u64; 4])>::Ok((
                n(0)?,
                n(1)?,
                n(2)?,
                n(3)?,
                n(4)?,
                [n(5)?, n(6)?, n(7)?, n(8)?],
            ))
        };
        let chat_answers = async {
            let rows = sqlx::query(
                "SELECT q.room_id, CAST(ROUND((julianday((SELECT MIN(a.sent_at) FROM chat_messages a \
             WHERE a.room_id = q.room_id AND a.author_role = 'peer_supporter' AND a.seq > q.seq)) - julianday(q.asked)) \
             * 86400) AS INTEGER) FROM (SELECT m.room_id, MIN(m.seq) AS seq, MIN(m.sent_at) AS asked FROM chat_rooms r \
             JOIN chat_messages m ON m.room_id = r.id AND m.author_role = 'chat_parent' \
             WHERE r.municipality_id = ?1 AND r.created_at >= ?2 AND r.created_at < ?3 GROUP BY m.room_id) q",
            )
            .bind(m.0)
            .bind(&from_ts)
            .bind(&to_ts)
            .fetch_all(&self.reader)
            .await
            .map_err(db_err)?;
            let mut first_answers = Vec::new();
            for r in &rows {
                let secs: Option<i64> = r.try_get(1).map_err(db_err)?;
                first_answers.push(secs.map(|s| u64::try_from(s).unwrap_or(0)));
            }
            Result::<Vec<Option<u64>>>::Ok(first_answers)
        };
        // The statements at once, each on a reader of its own (a report
        // waits for the slowest, not for their sum).
        let (
            postpartum,
            (follow_ups, check_non_attendees, check_resolved),
            (handbook_meetings, group_sessions),
            (eighth_month, happy_baby),
            screening,
            referrals,
            (notifications, notifications_with_questionnaire),
            (rooms_opened, parents, parent_messages, supporter_messages, escalations_open, escalations_closed),
            first_answers,
        ) = tokio::try_join!(
            postpartum,
            single,
            meetings,
            forms,
            screening,
            referrals,
            notified,
            chat_counts,
            chat_answers
        )?;
        Ok(YearCounts {
            postpartum,
            follow_ups,
            eighth_month,
            happy_baby,
            handbook_meetings,
            group_sessions,
            check_non_attendees,
            check_resolved,
            screening,
            referrals,
            notifications,
            notifications_with_questionnaire,
            chat: ChatYear {
                rooms_opened,
                parents,
                parent_messages,
                supporter_messages,
                first_answers,
                escalations_open,
                escalations_closed,
            },
        })
    }
}
