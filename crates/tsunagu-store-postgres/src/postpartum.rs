//! Postpartum care: facilities, applications and their places, stays, usage.

use crate::audit::append_audit;
use crate::records::{pregnancy_row, venue_row};
use crate::{corrupt, count, date, db_err, get, in_municipality, other_err, small, ts, ts_param, PgStore, Table};
use async_trait::async_trait;
use jiff::civil::Date;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::keys::ChainKey;
use tsunagu_domain::notes::NoteAudience;
use tsunagu_domain::postpartum::application::{Application, ApplicationAnswers, ApplicationStatus, NewApplication};
use tsunagu_domain::postpartum::calendar::FacilityCalendar;
use tsunagu_domain::postpartum::day_record::{care_from_stored, care_to_stored, DayRecord};
use tsunagu_domain::postpartum::fees::FeeTable;
use tsunagu_domain::postpartum::ServiceType;
use tsunagu_domain::{AccountId, ApplicationId, AreaId, FamilyId, MunicipalityId, VenueId};
use tsunagu_store::{
    ApplicationFilter, ApplicationReview, Approval, ApprovalCheck, ApprovalFacts, Booking, PostpartumFacility,
    PostpartumStore, ReferralFilter, Result, ReviewReads, StayNote, StoreError, UsageCounts,
};

// --- postpartum care ----------------------------------------------------------

/// The columns of an application as `application_row` reads them, with the
/// mother's name ("family given") for staff lists. ORDER BY must name the
/// table's columns qualified (`a.applied_at`): the aliases are text.
macro_rules! application_columns {
    () => {
        concat!(
            "a.id, a.municipality_id, a.family_id, a.venue_id, a.service, ",
            date_col!("a.stay_first"),
            " AS stay_first, ",
            date_col!("a.stay_last"),
            " AS stay_last, a.babies, a.siblings, a.rolls_over_actively, a.needs_medical_treatment, ",
            "a.has_worries_or_fatigue, a.lacks_help_from_relatives, a.grandparents_nearby, a.quote_total_yen, ",
            "a.fee_to_be_confirmed, a.confirmed_fee_yen, a.transport_paid, a.refusals, a.override_reason, a.status, a.applied_by, ",
            ts_col!("a.applied_at"),
            " AS applied_at, a.reviewed_by, ",
            ts_col!("a.reviewed_at"),
            " AS reviewed_at, a.review_note, a.review_note_audience, a.cancel_note, a.cancel_note_audience, ",
            "COALESCE((SELECT p.family_name || ' ' || p.given_name FROM people p WHERE p.family_id = a.family_id ",
            "AND p.relation = 'mother' ORDER BY p.id LIMIT 1), '') AS mother_name"
        )
    };
}

/// Records a nurse's decision on an application and its audit line, inside `tx`.
#[allow(clippy::too_many_arguments)]
async fn mark_reviewed(
    tx: &mut PgConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    id: ApplicationId,
    status: ApplicationStatus,
    note: (&str, NoteAudience),
    action: AuditAction,
    family: FamilyId,
) -> Result<()> {
    sqlx::query(
        "UPDATE postpartum_applications SET status = $1, reviewed_by = $2, reviewed_at = $3::timestamptz, \
         review_note = $4, review_note_audience = $5 WHERE id = $6 AND municipality_id = $7",
    )
    .bind(status.as_str())
    .bind(ctx.actor.0)
    .bind(ts_param(ctx.at))
    .bind(note.0)
    .bind(note.1.as_str())
    .bind(id.0)
    .bind(ctx.municipality_id.0)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    append_audit(tx, key, ctx, action, Some(family), &format!("application={id}")).await
}

fn audience(s: &str) -> Result<NoteAudience> {
    NoteAudience::parse(s).ok_or_else(|| corrupt("note audience"))
}

fn stay_range(first: &str, last: &str) -> Result<DateRange> {
    DateRange::new(date(first)?, date(last)?).map_err(|_| corrupt("stay"))
}

fn application_row(r: &PgRow) -> Result<Application> {
    let service: String = get(r, "service")?;
    let status: String = get(r, "status")?;
    let refusals: String = get(r, "refusals")?;
    Ok(Application {
        id: ApplicationId(get(r, "id")?),
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        family_id: FamilyId(get(r, "family_id")?),
        venue_id: VenueId(get(r, "venue_id")?),
        service: ServiceType::parse(&service).ok_or_else(|| corrupt("service type"))?,
        stay: stay_range(&get::<String>(r, "stay_first")?, &get::<String>(r, "stay_last")?)?,
        babies: small(get(r, "babies")?, "babies")?,
        siblings: small(get(r, "siblings")?, "siblings")?,
        answers: ApplicationAnswers {
            rolls_over_actively: get(r, "rolls_over_actively")?,
            needs_medical_treatment: get(r, "needs_medical_treatment")?,
            has_worries_or_fatigue: get(r, "has_worries_or_fatigue")?,
            lacks_help_from_relatives: get(r, "lacks_help_from_relatives")?,
            grandparents_nearby: get(r, "grandparents_nearby")?,
        },
        quote_total_yen: u32::try_from(get::<i64>(r, "quote_total_yen")?).map_err(|_| corrupt("quote"))?,
        fee_to_be_confirmed: get(r, "fee_to_be_confirmed")?,
        confirmed_fee_yen: get::<Option<i64>>(r, "confirmed_fee_yen")?
            .map(|y| u32::try_from(y).map_err(|_| corrupt("fee")))
            .transpose()?,
        transport_paid: get(r, "transport_paid")?,
        refusals: serde_json::from_str(&refusals).map_err(|_| corrupt("refusals"))?,
        override_reason: get(r, "override_reason")?,
        status: ApplicationStatus::parse(&status).ok_or_else(|| corrupt("application status"))?,
        applied_by: AccountId(get(r, "applied_by")?),
        applied_at: ts(&get::<String>(r, "applied_at")?)?,
        reviewed_by: get::<Option<i64>>(r, "reviewed_by")?.map(AccountId),
        reviewed_at: get::<Option<String>>(r, "reviewed_at")?.as_deref().map(ts).transpose()?,
        review_note: get(r, "review_note")?,
        review_note_audience: audience(&get::<String>(r, "review_note_audience")?)?,
        cancel_note: get(r, "cancel_note")?,
        cancel_note_audience: audience(&get::<String>(r, "cancel_note_audience")?)?,
        mother_name: get(r, "mother_name")?,
    })
}

/// What a decision on an application needs to know of it.
struct Decided {
    family: FamilyId,
    venue: VenueId,
    status: ApplicationStatus,
    stay: DateRange,
    service: String,
    fee_to_be_confirmed: bool,
}

/// The application `id` of municipality `m`, its row locked until `tx`
/// ends: a second decision on the same application waits, then sees the
/// first one's outcome. `NotFound` when it is not there or in another
/// municipality.
async fn decided_for_update(tx: &mut PgConnection, m: MunicipalityId, id: ApplicationId) -> Result<Decided> {
    let r = sqlx::query(concat!(
        "SELECT family_id, venue_id, status, ",
        date_col!("stay_first"),
        " AS stay_first, ",
        date_col!("stay_last"),
        " AS stay_last, service, fee_to_be_confirmed FROM postpartum_applications \
         WHERE id = $1 AND municipality_id = $2 FOR UPDATE"
    ))
    .bind(id.0)
    .bind(m.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound)?;
    let status: String = get(&r, "status")?;
    Ok(Decided {
        family: FamilyId(get(&r, "family_id")?),
        venue: VenueId(get(&r, "venue_id")?),
        status: ApplicationStatus::parse(&status).ok_or_else(|| corrupt("application status"))?,
        stay: stay_range(&get::<String>(&r, "stay_first")?, &get::<String>(&r, "stay_last")?)?,
        service: get(&r, "service")?,
        fee_to_be_confirmed: get(&r, "fee_to_be_confirmed")?,
    })
}

/// The booking's days in order, once each, if they are exactly the stay's
/// days; `Conflict("booking_mismatch")` otherwise.
fn booking_days(booking: &Booking, stay: DateRange) -> Result<Vec<(Date, u32)>> {
    let mut days = booking.places.clone();
    days.sort_by_key(|(d, _)| *d);
    if !days.iter().map(|(d, _)| *d).eq(stay.days()) {
        return Err(StoreError::Conflict("booking_mismatch"));
    }
    Ok(days)
}

#[async_trait]
impl PostpartumStore for PgStore {
    async fn set_postpartum_facility(
        &self,
        m: MunicipalityId,
        venue: VenueId,
        operator_ja: &str,
        operator_en: &str,
        calendar: &FacilityCalendar,
    ) -> Result<()> {
        let json = serde_json::to_string(calendar).map_err(other_err)?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM venues WHERE id = $1 AND municipality_id = $2 AND kind = 'postpartum_facility'",
        )
        .bind(venue.0)
        .bind(m.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if found.is_none() {
            return Err(StoreError::InvalidReference("venue_id"));
        }
        sqlx::query(
            "INSERT INTO postpartum_facilities (municipality_id, venue_id, operator_ja, operator_en, calendar) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (venue_id, municipality_id) DO UPDATE SET operator_ja = EXCLUDED.operator_ja, \
             operator_en = EXCLUDED.operator_en, calendar = EXCLUDED.calendar",
        )
        .bind(m.0)
        .bind(venue.0)
        .bind(operator_ja)
        .bind(operator_en)
        .bind(json)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn postpartum_facilities(&self, m: MunicipalityId) -> Result<Vec<PostpartumFacility>> {
        let rows = sqlx::query(
            "SELECT v.id, v.municipality_id, v.area_id, v.kind, v.name_ja, v.name_en, f.operator_ja, f.operator_en, \
             f.calendar FROM postpartum_facilities f JOIN venues v ON v.id = f.venue_id \
             WHERE v.municipality_id = $1 ORDER BY v.id",
        )
        .bind(m.0)
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

    async fn postpartum_fee_table(&self, m: MunicipalityId) -> Result<Option<FeeTable>> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT fee_table FROM postpartum_fee_tables WHERE municipality_id = $1")
                .bind(m.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        json.map(|j| serde_json::from_str(&j).map_err(|_| corrupt("fee table"))).transpose()
    }

    async fn set_postpartum_fee_table(&self, m: MunicipalityId, table: &FeeTable) -> Result<()> {
        let json = serde_json::to_string(table).map_err(other_err)?;
        sqlx::query(
            "INSERT INTO postpartum_fee_tables (municipality_id, fee_table) VALUES ($1, $2) \
             ON CONFLICT (municipality_id) DO UPDATE SET fee_table = EXCLUDED.fee_table",
        )
        .bind(m.0)
        .bind(json)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn create_application(&self, ctx: &AuditContext, a: &NewApplication) -> Result<ApplicationId> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let id = insert_application(self, &mut tx, ctx, a).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(id)
    }

    async fn create_application_checked(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        check: &tsunagu_store::ApplicationCheck<'_>,
    ) -> Result<ApplicationId> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let record =
            crate::records::family_record(&mut tx, ctx.municipality_id, family).await?.ok_or(StoreError::NotFound)?;
        let a = check(&record)?;
        if a.family_id != family {
            return Err(StoreError::InvalidReference("family_id"));
        }
        let id = insert_application(self, &mut tx, ctx, &a).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(id)
    }

    async fn applications(&self, ctx: &AuditContext, filter: &ApplicationFilter) -> Result<Vec<Application>> {
        let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(concat!(
            "SELECT ",
            application_columns!(),
            " FROM postpartum_applications a WHERE a.municipality_id = "
        ));
        qb.push_bind(ctx.municipality_id.0);
        if let Some(f) = filter.family_id {
            qb.push(" AND a.family_id = ").push_bind(f.0);
        }
        if let Some(v) = filter.venue_id {
            qb.push(" AND a.venue_id = ").push_bind(v.0);
        }
        if let Some(s) = filter.status {
            qb.push(" AND a.status = ").push_bind(s.as_str());
        }
        qb.push(" ORDER BY a.applied_at DESC, a.id DESC LIMIT ").push_bind(i64::from(filter.limit.clamp(1, 1000)));
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let rows = qb.build().fetch_all(&mut *conn).await.map_err(db_err)?;
        let out = rows.iter().map(application_row).collect::<Result<Vec<_>>>()?;
        // A list of one family's applications is a read of that family.
        drop(conn);
        self.audit_read(ctx, AuditAction::PostpartumList, filter.family_id, &format!("results={}", out.len())).await?;
        Ok(out)
    }

    async fn applications_waiting(&self, m: MunicipalityId) -> Result<u64> {
        // The index `postpartum_applications_status` (municipality, status, …).
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM postpartum_applications WHERE municipality_id = $1 AND status = 'applied'",
        )
        .bind(m.0)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn application_owner(&self, m: MunicipalityId, id: ApplicationId) -> Result<Option<(FamilyId, VenueId)>> {
        let r: Option<(i64, i64)> = sqlx::query_as(
            "SELECT family_id, venue_id FROM postpartum_applications WHERE id = $1 AND municipality_id = $2",
        )
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(r.map(|(f, v)| (FamilyId(f), VenueId(v))))
    }

    async fn application(&self, ctx: &AuditContext, id: ApplicationId) -> Result<Option<Application>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let Some(a) = application_in(&mut conn, ctx.municipality_id, id).await? else { return Ok(None) };
        drop(conn);
        self.audit_read(ctx, AuditAction::PostpartumView, Some(a.family_id), &format!("application={id}")).await?;
        Ok(Some(a))
    }

    async fn application_stay(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
    ) -> Result<Option<(Application, Vec<StayNote>, Vec<Date>)>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let Some(a) = application_in(&mut conn, ctx.municipality_id, id).await? else { return Ok(None) };
        let notes = stay_notes_in(&mut conn, ctx.municipality_id, id).await?;
        let days = used_days_in(&mut conn, ctx.municipality_id, id).await?;
        drop(conn);
        self.audit_read(
            ctx,
            AuditAction::PostpartumView,
            Some(a.family_id),
            &format!("application={id} notes={} used_days={}", notes.len(), days.len()),
        )
        .await?;
        Ok(Some((a, notes, days)))
    }

    async fn application_review(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        reads: ReviewReads,
    ) -> Result<Option<ApplicationReview>> {
        let m = ctx.municipality_id;
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let Some(application) = application_in(&mut conn, m, id).await? else { return Ok(None) };
        let family = application.family_id;
        let notes = stay_notes_in(&mut conn, ctx.municipality_id, id).await?;
        let used_days = used_days_in(&mut conn, ctx.municipality_id, id).await?;
        let record = crate::records::family_record(&mut conn, m, family).await?.ok_or(StoreError::NotFound)?;
        // The family's other applications by the family index; their used
        // days by the used days' key (application, day).
        let rows = sqlx::query(concat!(
            "SELECT ",
            application_columns!(),
            ", (SELECT COUNT(*) FROM postpartum_used_days u WHERE u.application_id = a.id) AS used \
             FROM postpartum_applications a WHERE a.family_id = $1 AND a.municipality_id = $2 AND a.id <> $3 \
             ORDER BY a.stay_first DESC, a.id DESC LIMIT 20"
        ))
        .bind(family.0)
        .bind(m.0)
        .bind(id.0)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
        let others = rows
            .iter()
            .map(|r| {
                let used: i64 = get(r, "used")?;
                Ok((application_row(r)?, u32::try_from(used).map_err(|_| corrupt("used days"))?))
            })
            .collect::<Result<Vec<_>>>()?;
        let screenings = match reads.screenings {
            Some(limit) => sqlx::query(concat!(
                "SELECT ",
                crate::screening::screening_columns!(),
                " FROM screenings WHERE municipality_id = $1 AND family_id = $2 \
                 ORDER BY entered_at DESC, id DESC LIMIT $3"
            ))
            .bind(m.0)
            .bind(family.0)
            .bind(i64::from(limit.clamp(1, 100)))
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?
            .iter()
            .map(crate::screening::screening_row)
            .collect::<Result<Vec<_>>>()?,
            None => vec![],
        };
        let referrals = if reads.open_referrals {
            let filter = ReferralFilter { family_id: Some(family), raised_by: None, open_only: true, limit: 50 };
            crate::care::referrals_of(&mut conn, m, &filter).await?
        } else {
            vec![]
        };
        let detail = format!(
            "application={id} review notes={} used_days={} others={} screenings={} referrals={}",
            notes.len(),
            used_days.len(),
            others.len(),
            screenings.len(),
            referrals.len()
        );
        drop(conn);
        self.audit_read(ctx, AuditAction::PostpartumView, Some(family), &detail).await?;
        Ok(Some(ApplicationReview { application, notes, used_days, record, others, screenings, referrals }))
    }

    async fn approve_application_checked(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        check: &ApprovalCheck<'_>,
        note: &str,
        audience: NoteAudience,
    ) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // Locks the application: approving it twice at once approves it once.
        let app = decided_for_update(&mut tx, m, id).await?;
        if app.status != ApplicationStatus::Applied {
            return Err(StoreError::Conflict("not_applied"));
        }
        // What the approval is decided from, as it stands in this transaction.
        let pregnancies = sqlx::query(concat!(
            "SELECT ",
            pregnancy_columns!(),
            " FROM pregnancies WHERE family_id = $1 AND municipality_id = $2 ORDER BY pregnancies.edd, id"
        ))
        .bind(app.family.0)
        .bind(m.0)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?
        .iter()
        .map(pregnancy_row)
        .collect::<Result<Vec<_>>>()?;
        let facts = ApprovalFacts {
            venue: app.venue,
            service: ServiceType::parse(&app.service).ok_or_else(|| corrupt("service type"))?,
            stay: app.stay,
            fee_to_be_confirmed: app.fee_to_be_confirmed,
            pregnancies,
        };
        let Approval { booking, fee_yen } = check(&facts)?;
        let booking = &booking;
        if app.fee_to_be_confirmed && fee_yen.is_none() {
            return Err(StoreError::Conflict("fee_required"));
        }
        let days = booking_days(booking, app.stay)?;
        if days.iter().any(|(_, places)| *places == 0) {
            return Err(StoreError::Conflict("no_capacity"));
        }
        let pool = i64::from(booking.pool);
        // One place a day, in day order. The upsert locks the day's row (or
        // its key, when it inserts), so concurrent approvals of the same day
        // queue there and each re-checks `taken < places` against the count
        // the one before it committed. Taking days in order means two
        // overlapping stays never wait for each other crosswise.
        for (day, places) in &days {
            let n = sqlx::query(
                "INSERT INTO postpartum_places (municipality_id, venue_id, pool, day, taken) \
                 VALUES ($5, $1, $2, $3::date, 1) \
                 ON CONFLICT (venue_id, pool, day, municipality_id) DO UPDATE SET taken = postpartum_places.taken + 1 \
                 WHERE postpartum_places.taken < $4",
            )
            .bind(app.venue.0)
            .bind(pool)
            .bind(day.to_string())
            .bind(i64::from(*places))
            .bind(ctx.municipality_id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
            if n != 1 {
                // Dropping the transaction rolls back the places taken so far.
                return Err(StoreError::Conflict("no_capacity"));
            }
            sqlx::query(
                "INSERT INTO postpartum_bookings (application_id, day, pool, venue_id, municipality_id) \
                 VALUES ($1, $2::date, $3, $4, $5)",
            )
            .bind(id.0)
            .bind(day.to_string())
            .bind(pool)
            .bind(app.venue.0)
            .bind(m.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        if app.fee_to_be_confirmed {
            sqlx::query(
                "UPDATE postpartum_applications SET confirmed_fee_yen = $1 WHERE id = $2 AND municipality_id = $3",
            )
            .bind(fee_yen.map(i64::from))
            .bind(id.0)
            .bind(ctx.municipality_id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        mark_reviewed(
            &mut tx,
            &self.keys.chain,
            ctx,
            id,
            ApplicationStatus::Approved,
            (note, audience),
            AuditAction::PostpartumApprove,
            app.family,
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn reject_application_noted(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        note: &str,
        audience: NoteAudience,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let app = decided_for_update(&mut tx, ctx.municipality_id, id).await?;
        if app.status != ApplicationStatus::Applied {
            return Err(StoreError::Conflict("not_applied"));
        }
        mark_reviewed(
            &mut tx,
            &self.keys.chain,
            ctx,
            id,
            ApplicationStatus::Rejected,
            (note, audience),
            AuditAction::PostpartumReject,
            app.family,
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn cancel_application_noted(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        note: &str,
        audience: NoteAudience,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let app = decided_for_update(&mut tx, ctx.municipality_id, id).await?;
        match app.status {
            ApplicationStatus::Applied => {}
            ApplicationStatus::Approved => {
                // Give back the place of every booked day, in day order like
                // approvals take them (so the two never deadlock), then the days.
                let booked = sqlx::query(concat!(
                    "SELECT pool, ",
                    date_col!("day"),
                    " AS day FROM postpartum_bookings WHERE application_id = $1 AND municipality_id = $2 \
 ORDER BY postpartum_bookings.day"
                ))
                .bind(id.0)
                .bind(ctx.municipality_id.0)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
                for r in &booked {
                    sqlx::query(
                        "UPDATE postpartum_places SET taken = taken - 1 \
                         WHERE venue_id = $1 AND pool = $2 AND day = $3::date AND municipality_id = $4",
                    )
                    .bind(app.venue.0)
                    .bind(get::<i64>(r, "pool")?)
                    .bind(get::<String>(r, "day")?)
                    .bind(ctx.municipality_id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                sqlx::query("DELETE FROM postpartum_bookings WHERE application_id = $1 AND municipality_id = $2")
                    .bind(id.0)
                    .bind(ctx.municipality_id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            ApplicationStatus::Rejected | ApplicationStatus::Cancelled => {
                return Err(StoreError::Conflict("not_cancellable"))
            }
        }
        sqlx::query(
            "UPDATE postpartum_applications SET status = 'cancelled', cancelled_by = $1, \
             cancelled_at = $2::timestamptz, cancel_note = $3, cancel_note_audience = $4 \
 WHERE id = $5 AND municipality_id = $6",
        )
        .bind(ctx.actor.0)
        .bind(ts_param(ctx.at))
        .bind(note)
        .bind(audience.as_str())
        .bind(id.0)
        .bind(ctx.municipality_id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::PostpartumCancel,
            Some(app.family),
            &format!("application={id}"),
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn places_taken(
        &self,
        m: MunicipalityId,
        venue: VenueId,
        pool: u32,
        range: DateRange,
    ) -> Result<Vec<(Date, u32)>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            date_col!("p.day"),
            " AS day, p.taken FROM postpartum_places p JOIN venues v ON v.id = p.venue_id \
             WHERE v.municipality_id = $5 AND p.venue_id = $1 AND p.pool = $2 \
             AND p.day BETWEEN $3::date AND $4::date AND p.taken > 0 ORDER BY p.day"
        ))
        .bind(venue.0)
        .bind(i64::from(pool))
        .bind(range.first().to_string())
        .bind(range.last().to_string())
        .bind(m.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let taken: i64 = get(r, "taken")?;
                Ok((date(&get::<String>(r, "day")?)?, u32::try_from(taken).map_err(|_| corrupt("places taken"))?))
            })
            .collect()
    }

    async fn record_stay_day(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        day: Date,
        record: &DayRecord,
        note: &str,
        audience: NoteAudience,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The lock keeps a concurrent cancellation from slipping in between.
        let app = decided_for_update(&mut tx, ctx.municipality_id, id).await?;
        if app.status != ApplicationStatus::Approved {
            return Err(StoreError::Conflict("not_approved"));
        }
        if !app.stay.contains(day) {
            return Err(StoreError::Conflict("day_not_in_stay"));
        }
        sqlx::query(
            "INSERT INTO postpartum_stay_notes (municipality_id, application_id, day, note, audience, by_account, at, \
             care, mother, baby) VALUES ($1, $2, $3::date, $4, $5, $6, $7::timestamptz, $8, $9, $10)",
        )
        .bind(ctx.municipality_id.0)
        .bind(id.0)
        .bind(day.to_string())
        .bind(note)
        .bind(audience.as_str())
        .bind(ctx.actor.0)
        .bind(ts_param(ctx.at))
        .bind(care_to_stored(&record.care))
        .bind(&record.mother)
        .bind(&record.baby)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::PostpartumNote,
            Some(app.family),
            &format!("application={id}"),
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn stay_notes(&self, ctx: &AuditContext, id: ApplicationId) -> Result<Vec<StayNote>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let (family, _) = self.application_owner(ctx.municipality_id, id).await?.ok_or(StoreError::NotFound)?;
        let notes = stay_notes_in(&mut conn, ctx.municipality_id, id).await?;
        drop(conn);
        self.audit_read(
            ctx,
            AuditAction::PostpartumView,
            Some(family),
            &format!("application={id} notes={}", notes.len()),
        )
        .await?;
        Ok(notes)
    }

    async fn record_day_use(&self, ctx: &AuditContext, id: ApplicationId, day: Date, used: bool) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The lock keeps a concurrent cancellation from slipping in between.
        let app = decided_for_update(&mut tx, ctx.municipality_id, id).await?;
        if app.status != ApplicationStatus::Approved {
            return Err(StoreError::Conflict("not_approved"));
        }
        if !app.stay.contains(day) {
            return Err(StoreError::Conflict("day_not_in_stay"));
        }
        if used {
            sqlx::query(
                "INSERT INTO postpartum_used_days (application_id, day, venue_id, municipality_id, family_id, \
                 service, by_account, at) VALUES ($1, $2::date, $3, $4, $5, $6, $7, $8::timestamptz) \
                 ON CONFLICT (application_id, day, municipality_id) DO NOTHING",
            )
            .bind(id.0)
            .bind(day.to_string())
            .bind(app.venue.0)
            .bind(ctx.municipality_id.0)
            .bind(app.family.0)
            .bind(&app.service)
            .bind(ctx.actor.0)
            .bind(ts_param(ctx.at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        } else {
            sqlx::query("DELETE FROM postpartum_used_days WHERE application_id = $1 AND day = $2::date AND municipality_id = $3")
 .bind(id.0)
 .bind(day.to_string())
 .bind(ctx.municipality_id.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::PostpartumNote,
            Some(app.family),
            &format!("application={id} day={day} used={used}"),
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn used_days(&self, ctx: &AuditContext, id: ApplicationId) -> Result<Vec<Date>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let (family, _) = self.application_owner(ctx.municipality_id, id).await?.ok_or(StoreError::NotFound)?;
        let days = used_days_in(&mut conn, ctx.municipality_id, id).await?;
        drop(conn);
        self.audit_read(
            ctx,
            AuditAction::PostpartumView,
            Some(family),
            &format!("application={id} used_days={}", days.len()),
        )
        .await?;
        Ok(days)
    }

    async fn postpartum_usage(&self, m: MunicipalityId, venue: VenueId, range: DateRange) -> Result<UsageCounts> {
        let r = sqlx::query(
            "SELECT COUNT(*) FILTER (WHERE u.service = 'short_stay') AS short_stay, \
             COUNT(*) FILTER (WHERE u.service = 'day_care') AS day_care, \
             COUNT(*) FILTER (WHERE u.service = 'outreach') AS outreach, COUNT(DISTINCT u.family_id) AS families \
             FROM postpartum_used_days u \
             WHERE u.municipality_id = $1 AND u.venue_id = $2 AND u.day BETWEEN $3::date AND $4::date",
        )
        .bind(m.0)
        .bind(venue.0)
        .bind(range.first().to_string())
        .bind(range.last().to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        let booked = sqlx::query(
            "SELECT COUNT(*) FILTER (WHERE a.service = 'short_stay') AS short_stay, \
             COUNT(*) FILTER (WHERE a.service = 'day_care') AS day_care, \
             COUNT(*) FILTER (WHERE a.service = 'outreach') AS outreach \
             FROM postpartum_bookings b JOIN postpartum_applications a ON a.id = b.application_id \
             WHERE b.municipality_id = $1 AND b.venue_id = $2 AND b.day BETWEEN $3::date AND $4::date \
             AND a.status = 'approved'",
        )
        .bind(m.0)
        .bind(venue.0)
        .bind(range.first().to_string())
        .bind(range.last().to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(UsageCounts {
            short_stay_days: count(get(&r, "short_stay")?)?,
            day_care_days: count(get(&r, "day_care")?)?,
            outreach_visits: count(get(&r, "outreach")?)?,
            families: count(get(&r, "families")?)?,
            booked_short_stay_days: count(get(&booked, "short_stay")?)?,
            booked_day_care_days: count(get(&booked, "day_care")?)?,
            booked_outreach_visits: count(get(&booked, "outreach")?)?,
        })
    }

    async fn postpartum_users_by_area(&self, m: MunicipalityId, range: DateRange) -> Result<Vec<(AreaId, u64)>> {
        let rows = sqlx::query(
            "SELECT f.area_id, COUNT(DISTINCT f.id) AS families FROM postpartum_used_days u \
             JOIN families f ON f.id = u.family_id \
             WHERE u.municipality_id = $1 AND u.day BETWEEN $2::date AND $3::date \
             GROUP BY f.area_id ORDER BY f.area_id",
        )
        .bind(m.0)
        .bind(range.first().to_string())
        .bind(range.last().to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| Ok((AreaId(get(r, "area_id")?), count(get(r, "families")?)?))).collect()
    }
}

/// One application of municipality `m`, read inside `tx` (not audited: the caller writes the line).
async fn application_in(tx: &mut PgConnection, m: MunicipalityId, id: ApplicationId) -> Result<Option<Application>> {
    let r = sqlx::query(concat!(
        "SELECT ",
        application_columns!(),
        " FROM postpartum_applications a WHERE a.id = $1 AND a.municipality_id = $2"
    ))
    .bind(id.0)
    .bind(m.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    r.as_ref().map(application_row).transpose()
}

/// The day notes of an application, read inside `tx` (not audited).
async fn stay_notes_in(tx: &mut PgConnection, m: MunicipalityId, id: ApplicationId) -> Result<Vec<StayNote>> {
    let notes: Vec<StayNote> = sqlx::query(concat!(
        "SELECT ",
        date_col!("day"),
        " AS day, note, audience, by_account, care, mother, baby, ",
        ts_col!("at"),
        " AS at FROM postpartum_stay_notes WHERE application_id = $1 AND municipality_id = $2 \
         ORDER BY postpartum_stay_notes.day, postpartum_stay_notes.at, id"
    ))
    .bind(id.0)
    .bind(m.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| {
        Ok(StayNote {
            day: date(&get::<String>(r, "day")?)?,
            note: get(r, "note")?,
            audience: audience(&get::<String>(r, "audience")?)?,
            by: AccountId(get(r, "by_account")?),
            at: ts(&get::<String>(r, "at")?)?,
            record: DayRecord {
                care: care_from_stored(&get::<String>(r, "care")?),
                mother: get(r, "mother")?,
                baby: get(r, "baby")?,
            },
        })
    })
    .collect::<Result<Vec<_>>>()?;
    Ok(notes)
}

/// The days of an application recorded as used, read inside `tx` (not audited).
async fn used_days_in(tx: &mut PgConnection, m: MunicipalityId, id: ApplicationId) -> Result<Vec<Date>> {
    let days: Vec<String> = sqlx::query_scalar(concat!(
        "SELECT ",
        date_col!("day"),
        " AS day FROM postpartum_used_days WHERE application_id = $1 AND municipality_id = $2 \
 ORDER BY postpartum_used_days.day"
    ))
    .bind(id.0)
    .bind(m.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    let days = days.iter().map(|d| date(d)).collect::<Result<Vec<_>>>()?;
    Ok(days)
}

/// Stores an application in the caller's transaction, audited `postpartum.apply`.
async fn insert_application(
    store: &PgStore,
    tx: &mut sqlx::PgConnection,
    ctx: &AuditContext,
    a: &NewApplication,
) -> Result<ApplicationId> {
    if !a.refusals.is_empty() && a.override_reason.is_none() {
        return Err(StoreError::Conflict("override_reason_required"));
    }
    let m = ctx.municipality_id;
    let refusals = serde_json::to_string(&a.refusals).map_err(other_err)?;
    if !in_municipality(&mut *tx, Table::Families, a.family_id.0, m).await? {
        return Err(StoreError::InvalidReference("family_id"));
    }
    let facility: Option<i64> = sqlx::query_scalar(
        "SELECT f.venue_id FROM postpartum_facilities f JOIN venues v ON v.id = f.venue_id \
         WHERE f.venue_id = $1 AND v.municipality_id = $2",
    )
    .bind(a.venue_id.0)
    .bind(m.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    if facility.is_none() {
        return Err(StoreError::InvalidReference("venue_id"));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO postpartum_applications (municipality_id, family_id, venue_id, service, stay_first, \
         stay_last, babies, siblings, rolls_over_actively, needs_medical_treatment, has_worries_or_fatigue, \
         lacks_help_from_relatives, grandparents_nearby, quote_total_yen, transport_paid, refusals, \
         override_reason, status, applied_by, applied_at, fee_to_be_confirmed) \
         VALUES ($1, $2, $3, $4, $5::date, $6::date, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         'applied', $18, $19::timestamptz, $20) RETURNING id",
    )
    .bind(m.0)
    .bind(a.family_id.0)
    .bind(a.venue_id.0)
    .bind(a.service.as_str())
    .bind(a.stay.first().to_string())
    .bind(a.stay.last().to_string())
    .bind(i16::from(a.babies))
    .bind(i16::from(a.siblings))
    .bind(a.answers.rolls_over_actively)
    .bind(a.answers.needs_medical_treatment)
    .bind(a.answers.has_worries_or_fatigue)
    .bind(a.answers.lacks_help_from_relatives)
    .bind(a.answers.grandparents_nearby)
    .bind(i64::from(a.quote_total_yen))
    .bind(a.transport_paid)
    .bind(refusals)
    .bind(&a.override_reason)
    .bind(ctx.actor.0)
    .bind(ts_param(ctx.at))
    .bind(a.fee_to_be_confirmed)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    append_audit(
        &mut *tx,
        &store.keys.chain,
        ctx,
        AuditAction::PostpartumApply,
        Some(a.family_id),
        &format!("application={id}"),
    )
    .await?;
    Ok(ApplicationId(id))
}
