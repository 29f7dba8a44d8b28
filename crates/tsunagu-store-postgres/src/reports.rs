//! Reports (#14): the counting queries of a fiscal year and the report
//! settings. Counts only; the audit line is written by `ReportStore::report`.

use crate::{corrupt, count, db_err, get, other_err, ts_param, PgStore};
use async_trait::async_trait;
use jiff::civil::Time;
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::reports::build::{ChatYear, ReferralCounts, ScreeningCounts};
use tsunagu_domain::reports::ReportSettings;
use tsunagu_domain::timeline::ContactForm;
use tsunagu_domain::{MunicipalityId, VenueId};
use tsunagu_store::{instant_bounds, referral_counts, ReportStore, Result, VenueUse, YearCounts};

impl PgStore {
    /// Two counts from one statement (`SELECT (…), (…)`), bound `m, from, to`.
    async fn two_counts(&self, sql: &str, m: MunicipalityId, from: &str, to: &str) -> Result<(u64, u64)> {
        let r = sqlx::query(sql).bind(m.0).bind(from).bind(to).fetch_one(&self.pool).await.map_err(db_err)?;
        Ok((count(get(&r, "a")?)?, count(get(&r, "b")?)?))
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
        // One aggregate statement per table, each bounded by the
        // municipality and the year's range (indexes: 0023_report_indexes).
        let (first, last) = (range.first().to_string(), range.last().to_string());
        let (from, to) = instant_bounds(range);
        let (from_ts, to_ts) = (ts_param(from), ts_param(to));
        // [001] 利用実績: used days per facility and service, families once.
        let postpartum = async {
            let used = sqlx::query(
                "SELECT venue_id, COUNT(*) FILTER (WHERE service = 'short_stay') AS ss, \
                 COUNT(*) FILTER (WHERE service = 'day_care') AS dc, COUNT(*) FILTER (WHERE service = 'outreach') AS o, \
                 COUNT(DISTINCT family_id) AS f FROM postpartum_used_days \
                 WHERE municipality_id = $1 AND day BETWEEN $2::date AND $3::date GROUP BY venue_id ORDER BY venue_id",
            )
            .bind(m.0)
            .bind(&first)
            .bind(&last)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
            let mut postpartum = Vec::new();
            for r in &used {
                postpartum.push(VenueUse {
                    venue: VenueId(get(r, "venue_id")?),
                    short_stay_days: count(get(r, "ss")?)?,
                    day_care_days: count(get(r, "dc")?)?,
                    outreach_visits: count(get(r, "o")?)?,
                    families: count(get(r, "f")?)?,
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
                "SELECT (SELECT COUNT(*) FROM followups WHERE municipality_id = $1 AND status = 'booked' \
                 AND start >= $4::timestamp AND start <= $5::timestamp) AS fu, \
                 COUNT(*) AS n, COUNT(*) FILTER (WHERE outcome IN ('done', 'declined', 'not_applicable')) AS r \
                 FROM contacts WHERE municipality_id = $1 AND kind = 'health_check_3_4_months' AND NOT hidden \
                 AND closes BETWEEN $2::date AND $3::date AND (missed_on IS NOT NULL OR outcome IN ('not_reached', 'declined'))",
            )
            .bind(m.0)
            .bind(&first)
            .bind(&last)
            .bind(format!("{first}T00:00:00"))
            .bind(range.last().to_datetime(Time::MAX).strftime("%Y-%m-%dT%H:%M:%S").to_string())
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
            Result::<(u64, u64, u64)>::Ok((
                count(get(&single, "fu")?)?,
                count(get(&single, "n")?)?,
                count(get(&single, "r")?)?,
            ))
        };
        // [002] 母子手帳会議 held, and 8th-month group sessions held (one table).
        let meetings = self.two_counts(
            "SELECT (SELECT COUNT(*) FROM handbook_meetings WHERE municipality_id = $1 \
                 AND held_on BETWEEN $2::date AND $3::date) AS a, (SELECT COUNT(*) FROM group_sessions \
                 WHERE municipality_id = $1 AND day BETWEEN $2::date AND $3::date AND attendance_at IS NOT NULL) AS b",
            m,
            &first,
            &last,
        );
        // [002] 妊娠8か月面談 and はっぴーベビー done, by form, in one statement.
        let forms = async {
            let forms = sqlx::query(
                "SELECT kind, form, COUNT(*) AS n FROM contacts WHERE municipality_id = $1 \
                 AND kind IN ('eighth_month_interview', 'happy_baby') AND outcome = 'done' \
                 AND outcome_at >= $2::timestamptz AND outcome_at < $3::timestamptz GROUP BY kind, form",
            )
            .bind(m.0)
            .bind(&from_ts)
            .bind(&to_ts)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
            let (mut eighth_month, mut happy_baby) = (Vec::new(), Vec::new());
            for r in &forms {
                let kind: String = get(r, "kind")?;
                let form: String = get(r, "form")?;
                let form = ContactForm::parse(&form).ok_or_else(|| corrupt("contact form"))?;
                let list = if kind == "happy_baby" { &mut happy_baby } else { &mut eighth_month };
                list.push((form, count(get(r, "n")?)?));
            }
            Result::<(Vec<(ContactForm, u64)>, Vec<(ContactForm, u64)>)>::Ok((eighth_month, happy_baby))
        };
        // Screening by questionnaire; a positive or urgent result is followed
        // up in time when its referral's first step after being raised came
        // within the days (as hours: exact, whatever the session's zone).
        let screening = async {
            let screening_rows = sqlx::query(
                "SELECT questionnaire, COUNT(*) AS n, COUNT(*) FILTER (WHERE positive) AS p, \
                 COUNT(*) FILTER (WHERE urgent) AS u, \
                 COUNT(*) FILTER (WHERE (SELECT MIN(e.at) FROM referral_events e WHERE e.referral_id = s.referral_id \
                 AND e.action <> 'raise') <= s.entered_at + make_interval(hours => $4)) AS t \
                 FROM screenings s WHERE municipality_id = $1 AND entered_at >= $2::timestamptz \
                 AND entered_at < $3::timestamptz GROUP BY questionnaire ORDER BY questionnaire",
            )
            .bind(m.0)
            .bind(&from_ts)
            .bind(&to_ts)
            .bind(i32::try_from(u64::from(follow_up_days) * 24).unwrap_or(i32::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
            let mut screening = Vec::new();
            for r in &screening_rows {
                screening.push(ScreeningCounts {
                    given: count(get(r, "n")?)?,
                    positive: count(get(r, "p")?)?,
                    urgent: count(get(r, "u")?)?,
                    followed_up_in_time: count(get(r, "t")?)?,
                    questionnaire: get(r, "questionnaire")?,
                });
            }
            Result::<Vec<ScreeningCounts>>::Ok(screening)
        };
        let referrals = async {
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
            Result::<Vec<ReferralCounts>>::Ok(referral_counts(&rows))
        };
        let notified = self.two_counts(
            "SELECT COUNT(*) AS a, COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM screenings s \
                 WHERE s.pregnancy_id = p.id AND s.questionnaire = 'notification')) AS b \
                 FROM pregnancies p WHERE p.municipality_id = $1 AND p.notified_on BETWEEN $2::date AND $3::date",
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
                "SELECT r.n AS rooms, m.parents, m.pm, m.sm, e.open, e.resolved, e.no_concern, e.duplicate, e.moved_out \
             FROM (SELECT COUNT(*) AS n FROM chat_rooms WHERE municipality_id = $1 AND created_at >= $2::timestamptz \
             AND created_at < $3::timestamptz) r, \
             (SELECT COUNT(DISTINCT room_id) FILTER (WHERE author_role = 'chat_parent') AS parents, \
             COUNT(*) FILTER (WHERE author_role = 'chat_parent') AS pm, \
             COUNT(*) FILTER (WHERE author_role = 'peer_supporter') AS sm FROM chat_messages \
             WHERE municipality_id = $1 AND sent_at >= $2::timestamptz AND sent_at < $3::timestamptz) m, \
             (SELECT COUNT(*) FILTER (WHERE f.status <> 'closed') AS open, \
             COUNT(*) FILTER (WHERE f.close_reason = 'resolved') AS resolved, \
             COUNT(*) FILTER (WHERE f.close_reason = 'no_concern') AS no_concern, \
             COUNT(*) FILTER (WHERE f.close_reason = 'duplicate') AS duplicate, \
             COUNT(*) FILTER (WHERE f.close_reason = 'moved_out') AS moved_out \
             FROM chat_escalations x JOIN referrals f ON f.id = x.referral_id \
             WHERE x.municipality_id = $1 AND x.raised_at >= $2::timestamptz AND x.raised_at < $3::timestamptz) e",
            )
            .bind(m.0)
            .bind(&from_ts)
            .bind(&to_ts)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
            let n = |c: &str| -> Result<u64> { count(get(&r, c)?) };
            Result::<(u64, u64, u64, u64, u64, [u64; 4])>::Ok((
                n("rooms")?,
                n("parents")?,
                n("pm")?,
                n("sm")?,
                n("open")?,
                [n("resolved")?, n("no_concern")?, n("duplicate")?, n("moved_out")?],
            ))
        };
        let chat_answers = async {
            let rows = sqlx::query(
                "SELECT q.room_id, CAST(EXTRACT(EPOCH FROM (SELECT MIN(a.sent_at) FROM chat_messages a \
             WHERE a.room_id = q.room_id AND a.author_role = 'peer_supporter' AND a.seq > q.seq) - q.asked) AS BIGINT) AS secs \
             FROM (SELECT m.room_id, MIN(m.seq) AS seq, MIN(m.sent_at) AS asked FROM chat_rooms r \
             JOIN chat_messages m ON m.room_id = r.id AND m.author_role = 'chat_parent' \
             WHERE r.municipality_id = $1 AND r.created_at >= $2::timestamptz AND r.created_at < $3::timestamptz \
             GROUP BY m.room_id) q",
            )
            .bind(m.0)
            .bind(&from_ts)
            .bind(&to_ts)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
            let mut first_answers = Vec::new();
            for r in &rows {
                let secs: Option<i64> = get(r, "secs")?;
                first_answers.push(secs.map(|s| u64::try_from(s).unwrap_or(0)));
            }
            Result::<Vec<Option<u64>>>::Ok(first_answers)
        };
        // The statements at once, each on a connection of its own (a
        // report waits for the slowest, not for their sum).
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
