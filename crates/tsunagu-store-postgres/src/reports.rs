//! Reports (#14): the counting queries of a fiscal year and the report
//! settings. Counts only; the audit line is written by `ReportStore::report`.

use crate::audit::append_audit;
use crate::records::venue_row;
use crate::{corrupt, count, db_err, get, other_err, ts_param, PgStore};
use async_trait::async_trait;
use jiff::civil::Time;
use std::collections::BTreeMap;
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::reports::build::{ChatYear, ReferralCounts, ScreeningCounts};
use tsunagu_domain::reports::printed::{PrintedArea, PrintedYear};
use tsunagu_domain::reports::reconcile::PrintedFigures;
use tsunagu_domain::reports::ReportSettings;
use tsunagu_domain::timeline::ContactForm;
use tsunagu_domain::{MunicipalityId, VenueId};
use tsunagu_store::StoreError;
use tsunagu_store::{instant_bounds, referral_counts, PostpartumFacility, ReportStore, Result, VenueUse, YearCounts};

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

    async fn set_report_settings(&self, ctx: &AuditContext, settings: &ReportSettings) -> Result<()> {
        let json = serde_json::to_string(settings).map_err(other_err)?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO report_settings (municipality_id, settings) VALUES ($1, $2) \
             ON CONFLICT (municipality_id) DO UPDATE SET settings = EXCLUDED.settings",
        )
        .bind(ctx.municipality_id.0)
        .bind(json)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let detail = tsunagu_store::reports::report_settings_detail(settings);
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::ReportSettings, None, &detail).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn printed_figures(&self, m: MunicipalityId) -> Result<(Vec<PrintedFigures>, Vec<PrintedArea>)> {
        let (facilities, areas) = tokio::try_join!(
            sqlx::query(
                "SELECT venue_id, fiscal_year, short_stay_days, day_care_days, families, occupancy_tenths \
                 FROM report_printed_facilities WHERE municipality_id = $1 ORDER BY fiscal_year, venue_id",
            )
            .bind(m.0)
            .fetch_all(&self.pool),
            sqlx::query(
                "SELECT area_id, fiscal_year, families FROM report_printed_areas \
                 WHERE municipality_id = $1 ORDER BY fiscal_year, area_id",
            )
            .bind(m.0)
            .fetch_all(&self.pool),
        )
        .map_err(db_err)?;
        let mut printed = Vec::new();
        for r in &facilities {
            let rate: Option<i64> = get(r, "occupancy_tenths")?;
            printed.push(PrintedFigures {
                venue_id: get(r, "venue_id")?,
                fiscal_year: get(r, "fiscal_year")?,
                short_stay_days: count(get(r, "short_stay_days")?)?,
                day_care_days: count(get(r, "day_care_days")?)?,
                families: count(get(r, "families")?)?,
                occupancy_tenths: rate.map(count).transpose()?,
            });
        }
        let mut by_area = Vec::new();
        for r in &areas {
            by_area.push(PrintedArea {
                area_id: get(r, "area_id")?,
                fiscal_year: get(r, "fiscal_year")?,
                families: count(get(r, "families")?)?,
            });
        }
        Ok((printed, by_area))
    }

    async fn set_printed_year(&self, ctx: &AuditContext, year: &PrintedYear) -> Result<()> {
        let m = ctx.municipality_id;
        // Checked by `printed::check`: at most 10,000,000.
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        for table in ["report_printed_facilities", "report_printed_areas"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE municipality_id = $1 AND fiscal_year = $2"))
                .bind(m.0)
                .bind(year.fiscal_year)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        for f in &year.facilities {
            // The facility must be the municipality's own (bounded by it).
            let done = sqlx::query(
                "INSERT INTO report_printed_facilities (municipality_id, venue_id, fiscal_year, short_stay_days, \
                 day_care_days, families, occupancy_tenths) SELECT $1, v.id, $3, $4, $5, $6, $7 FROM venues v \
                 WHERE v.id = $2 AND v.municipality_id = $1",
            )
            .bind(m.0)
            .bind(f.venue_id)
            .bind(year.fiscal_year)
            .bind(n(f.short_stay_days))
            .bind(n(f.day_care_days))
            .bind(n(f.families))
            .bind(f.occupancy_tenths.map(n))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() != 1 {
                return Err(StoreError::NotFound);
            }
        }
        for a in &year.areas {
            let done = sqlx::query(
                "INSERT INTO report_printed_areas (municipality_id, area_id, fiscal_year, families) \
                 SELECT $1, a.id, $3, $4 FROM areas a WHERE a.id = $2 AND a.municipality_id = $1",
            )
            .bind(m.0)
            .bind(a.area_id)
            .bind(year.fiscal_year)
            .bind(n(a.families))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() != 1 {
                return Err(StoreError::NotFound);
            }
        }
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::ReportPrinted,
            None,
            &format!("fy={} facilities={} areas={}", year.fiscal_year, year.facilities.len(), year.areas.len()),
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn nation_report_settings(&self, ms: &[MunicipalityId]) -> Result<Vec<(MunicipalityId, ReportSettings)>> {
        let ids: Vec<i64> = ms.iter().map(|m| m.0).collect();
        let rows = sqlx::query("SELECT municipality_id, settings FROM report_settings WHERE municipality_id = ANY($1)")
            .bind(&ids)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let mut out = Vec::new();
        for r in &rows {
            let json: String = get(r, "settings")?;
            let settings = serde_json::from_str(&json).map_err(|_| corrupt("report settings"))?;
            out.push((MunicipalityId(get(r, "municipality_id")?), settings));
        }
        Ok(out)
    }

    async fn nation_facilities(&self, ms: &[MunicipalityId]) -> Result<Vec<PostpartumFacility>> {
        let ids: Vec<i64> = ms.iter().map(|m| m.0).collect();
        let rows = sqlx::query(
            "SELECT v.id, v.municipality_id, v.area_id, v.kind, v.name_ja, v.name_en, f.operator_ja, f.operator_en, \
             f.calendar FROM postpartum_facilities f JOIN venues v ON v.id = f.venue_id \
             WHERE v.municipality_id = ANY($1) ORDER BY v.id",
        )
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let calendar: String = get(r, "calendar")?;
                Ok(PostpartumFacility {
                    venue: venue_row(r)?,
                    operator_ja: get(r, "operator_ja")?,
                    operator_en: get(r, "operator_en")?,
                    calendar: serde_json::from_str(&calendar).map_err(|_| corrupt("facility calendar"))?,
                })
            })
            .collect()
    }

    async fn nation_year_counts(
        &self,
        ms: &[MunicipalityId],
        range: DateRange,
        follow_up_days: u32,
    ) -> Result<Vec<(MunicipalityId, YearCounts)>> {
        // One statement per table over the nation, grouped by municipality
        // (covering indexes: 0027_report_nation_printed); the same counts as
        // `year_counts`, statement for statement.
        let ids: Vec<i64> = ms.iter().map(|m| m.0).collect();
        let (first, last) = (range.first().to_string(), range.last().to_string());
        let (from, to) = instant_bounds(range);
        let (from_ts, to_ts) = (ts_param(from), ts_param(to));
        let slot_from = format!("{first}T00:00:00");
        let slot_to = range.last().to_datetime(Time::MAX).strftime("%Y-%m-%dT%H:%M:%S").to_string();
        let hours = i32::try_from(u64::from(follow_up_days) * 24).unwrap_or(i32::MAX);
        let q = |sql: &'static str| sqlx::query(sql).bind(&ids);
        let (used, follow_ups, checks, meetings, sessions, forms, screening, referrals, notified) = tokio::try_join!(
            q("SELECT municipality_id, venue_id, COUNT(*) FILTER (WHERE service = 'short_stay') AS ss, \
               COUNT(*) FILTER (WHERE service = 'day_care') AS dc, COUNT(*) FILTER (WHERE service = 'outreach') AS o, \
               COUNT(DISTINCT family_id) AS f FROM postpartum_used_days \
               WHERE municipality_id = ANY($1) AND day BETWEEN $2::date AND $3::date GROUP BY municipality_id, venue_id")
            .bind(&first)
            .bind(&last)
            .fetch_all(&self.pool),
            q("SELECT municipality_id, COUNT(*) AS n FROM followups WHERE municipality_id = ANY($1) \
               AND status = 'booked' AND start >= $2::timestamp AND start <= $3::timestamp GROUP BY municipality_id")
            .bind(&slot_from)
            .bind(&slot_to)
            .fetch_all(&self.pool),
            q("SELECT municipality_id, COUNT(*) AS n, \
               COUNT(*) FILTER (WHERE outcome IN ('done', 'declined', 'not_applicable')) AS r \
               FROM contacts WHERE municipality_id = ANY($1) AND kind = 'health_check_3_4_months' AND NOT hidden \
               AND closes BETWEEN $2::date AND $3::date \
               AND (missed_on IS NOT NULL OR outcome IN ('not_reached', 'declined')) GROUP BY municipality_id")
            .bind(&first)
            .bind(&last)
            .fetch_all(&self.pool),
            q("SELECT municipality_id, COUNT(*) AS n FROM handbook_meetings WHERE municipality_id = ANY($1) \
               AND held_on BETWEEN $2::date AND $3::date GROUP BY municipality_id")
            .bind(&first)
            .bind(&last)
            .fetch_all(&self.pool),
            q("SELECT municipality_id, COUNT(*) AS n FROM group_sessions WHERE municipality_id = ANY($1) \
               AND day BETWEEN $2::date AND $3::date AND attendance_at IS NOT NULL GROUP BY municipality_id")
            .bind(&first)
            .bind(&last)
            .fetch_all(&self.pool),
            q("SELECT municipality_id, kind, form, COUNT(*) AS n FROM contacts WHERE municipality_id = ANY($1) \
               AND kind IN ('eighth_month_interview', 'happy_baby') AND outcome = 'done' \
               AND outcome_at >= $2::timestamptz AND outcome_at < $3::timestamptz GROUP BY municipality_id, kind, form")
            .bind(&from_ts)
            .bind(&to_ts)
            .fetch_all(&self.pool),
            q("SELECT municipality_id, questionnaire, COUNT(*) AS n, COUNT(*) FILTER (WHERE positive) AS p, \
               COUNT(*) FILTER (WHERE urgent) AS u, \
               COUNT(*) FILTER (WHERE (SELECT MIN(e.at) FROM referral_events e WHERE e.referral_id = s.referral_id \
               AND e.action <> 'raise') <= s.entered_at + make_interval(hours => $4)) AS t \
               FROM screenings s WHERE municipality_id = ANY($1) AND entered_at >= $2::timestamptz \
               AND entered_at < $3::timestamptz GROUP BY municipality_id, questionnaire ORDER BY questionnaire")
            .bind(&from_ts)
            .bind(&to_ts)
            .bind(hours)
            .fetch_all(&self.pool),
            q("SELECT municipality_id, source, status, close_reason, COUNT(*) AS n FROM referrals \
               WHERE municipality_id = ANY($1) AND raised_at >= $2::timestamptz AND raised_at < $3::timestamptz \
               GROUP BY municipality_id, source, status, close_reason")
            .bind(&from_ts)
            .bind(&to_ts)
            .fetch_all(&self.pool),
            q("SELECT p.municipality_id, COUNT(*) AS n, COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM screenings s \
               WHERE s.pregnancy_id = p.id AND s.questionnaire = 'notification')) AS q \
               FROM pregnancies p WHERE p.municipality_id = ANY($1) AND p.notified_on BETWEEN $2::date AND $3::date \
               GROUP BY p.municipality_id")
            .bind(&first)
            .bind(&last)
            .fetch_all(&self.pool),
        )
        .map_err(db_err)?;
        let mut by: BTreeMap<i64, YearCounts> = BTreeMap::new();
        let m_of = |r: &sqlx::postgres::PgRow| -> Result<i64> { get(r, "municipality_id") };
        for r in &used {
            by.entry(m_of(r)?).or_default().postpartum.push(VenueUse {
                venue: VenueId(get(r, "venue_id")?),
                short_stay_days: count(get(r, "ss")?)?,
                day_care_days: count(get(r, "dc")?)?,
                outreach_visits: count(get(r, "o")?)?,
                families: count(get(r, "f")?)?,
            });
        }
        for r in &follow_ups {
            by.entry(m_of(r)?).or_default().follow_ups = count(get(r, "n")?)?;
        }
        for r in &checks {
            let c = by.entry(m_of(r)?).or_default();
            c.check_non_attendees = count(get(r, "n")?)?;
            c.check_resolved = count(get(r, "r")?)?;
        }
        for r in &meetings {
            by.entry(m_of(r)?).or_default().handbook_meetings = count(get(r, "n")?)?;
        }
        for r in &sessions {
            by.entry(m_of(r)?).or_default().group_sessions = count(get(r, "n")?)?;
        }
        for r in &forms {
            let kind: String = get(r, "kind")?;
            let form: String = get(r, "form")?;
            let form = ContactForm::parse(&form).ok_or_else(|| corrupt("contact form"))?;
            let c = by.entry(m_of(r)?).or_default();
            let list = if kind == "happy_baby" { &mut c.happy_baby } else { &mut c.eighth_month };
            list.push((form, count(get(r, "n")?)?));
        }
        for r in &screening {
            by.entry(m_of(r)?).or_default().screening.push(ScreeningCounts {
                given: count(get(r, "n")?)?,
                positive: count(get(r, "p")?)?,
                urgent: count(get(r, "u")?)?,
                followed_up_in_time: count(get(r, "t")?)?,
                questionnaire: get(r, "questionnaire")?,
            });
        }
        let mut referral_rows: BTreeMap<i64, Vec<(String, String, Option<String>, u64)>> = BTreeMap::new();
        for r in &referrals {
            referral_rows.entry(m_of(r)?).or_default().push((
                get(r, "source")?,
                get(r, "status")?,
                get(r, "close_reason")?,
                count(get(r, "n")?)?,
            ));
        }
        for (m, rows) in referral_rows {
            by.entry(m).or_default().referrals = referral_counts(&rows);
        }
        for r in &notified {
            let c = by.entry(m_of(r)?).or_default();
            c.notifications = count(get(r, "n")?)?;
            c.notifications_with_questionnaire = count(get(r, "q")?)?;
        }
        Ok(by.into_iter().map(|(m, c)| (MunicipalityId(m), c)).collect())
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
