//! Postpartum care: facilities, applications and their places, stays, usage.

use crate::audit::append_audit;
use crate::records::{pregnancy_row, venue_row, PREGNANCY_COLUMNS};
use crate::{corrupt, date, db_err, in_municipality, other_err, ts, ts_text, SqliteStore};
use async_trait::async_trait;
use jiff::civil::Date;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
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

/// Records a nurse's decision on an application and its audit line, inside `tx`.
#[allow(clippy::too_many_arguments)]
async fn mark_reviewed(
    tx: &mut SqliteConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    id: ApplicationId,
    status: ApplicationStatus,
    note: (&str, NoteAudience),
    action: AuditAction,
    family: FamilyId,
) -> Result<()> {
    sqlx::query(
        "UPDATE postpartum_applications SET status = ?, reviewed_by = ?, reviewed_at = ?, review_note = ?, \
         review_note_audience = ? WHERE id = ? AND municipality_id = ?",
    )
    .bind(status.as_str())
    .bind(ctx.actor.0)
    .bind(ts_text(ctx.at))
    .bind(note.0)
    .bind(note.1.as_str())
    .bind(id.0)
    .bind(ctx.municipality_id.0)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    append_audit(tx, key, ctx, action, Some(family), &format!("application={id}")).await
}

/// The columns of an application as `application_row` reads them, with the
/// mother's name ("family given") for staff lists.
const APPLICATION_COLUMNS: &str = "a.id, a.municipality_id, a.family_id, a.venue_id, a.service, a.stay_first, \
     a.stay_last, a.babies, a.siblings, a.rolls_over_actively, a.needs_medical_treatment, a.has_worries_or_fatigue, \
     a.lacks_help_from_relatives, a.grandparents_nearby, a.quote_total_yen, a.fee_to_be_confirmed, \
     a.confirmed_fee_yen, a.transport_paid, a.refusals, a.override_reason, a.status, a.applied_by, a.applied_at, \
     a.reviewed_by, a.reviewed_at, a.review_note, a.review_note_audience, a.cancel_note, a.cancel_note_audience, \
     COALESCE((SELECT p.family_name || ' ' || p.given_name FROM people p WHERE p.family_id = a.family_id \
     AND p.relation = 'mother' ORDER BY p.id LIMIT 1), '') AS mother_name";

fn audience(s: &str) -> Result<NoteAudience> {
    NoteAudience::parse(s).ok_or_else(|| corrupt("note audience"))
}

fn stay_range(first: &str, last: &str) -> Result<DateRange> {
    DateRange::new(date(first)?, date(last)?).map_err(|_| corrupt("stay"))
}

fn application_row(r: &SqliteRow) -> Result<Application> {
    let service: String = r.try_get("service").map_err(db_err)?;
    let status: String = r.try_get("status").map_err(db_err)?;
    let refusals: String = r.try_get("refusals").map_err(db_err)?;
    let first: String = r.try_get("stay_first").map_err(db_err)?;
    let last: String = r.try_get("stay_last").map_err(db_err)?;
    let applied_at: String = r.try_get("applied_at").map_err(db_err)?;
    let reviewed_at: Option<String> = r.try_get("reviewed_at").map_err(db_err)?;
    Ok(Application {
        id: ApplicationId(r.try_get("id").map_err(db_err)?),
        municipality_id: MunicipalityId(r.try_get("municipality_id").map_err(db_err)?),
        family_id: FamilyId(r.try_get("family_id").map_err(db_err)?),
        venue_id: VenueId(r.try_get("venue_id").map_err(db_err)?),
        service: ServiceType::parse(&service).ok_or_else(|| corrupt("service type"))?,
        stay: stay_range(&first, &last)?,
        babies: u8::try_from(r.try_get::<i64, _>("babies").map_err(db_err)?).map_err(|_| corrupt("babies"))?,
        siblings: u8::try_from(r.try_get::<i64, _>("siblings").map_err(db_err)?).map_err(|_| corrupt("siblings"))?,
        answers: ApplicationAnswers {
            rolls_over_actively: r.try_get("rolls_over_actively").map_err(db_err)?,
            needs_medical_treatment: r.try_get("needs_medical_treatment").map_err(db_err)?,
            has_worries_or_fatigue: r.try_get("has_worries_or_fatigue").map_err(db_err)?,
            lacks_help_from_relatives: r.try_get("lacks_help_from_relatives").map_err(db_err)?,
            grandparents_nearby: r.try_get("grandparents_nearby").map_err(db_err)?,
        },
        quote_total_yen: u32::try_from(r.try_get::<i64, _>("quote_total_yen").map_err(db_err)?)
            .map_err(|_| corrupt("quote"))?,
        fee_to_be_confirmed: r.try_get("fee_to_be_confirmed").map_err(db_err)?,
        confirmed_fee_yen: r
            .try_get::<Option<i64>, _>("confirmed_fee_yen")
            .map_err(db_err)?
            .map(|y| u32::try_from(y).map_err(|_| corrupt("fee")))
            .transpose()?,
        transport_paid: r.try_get("transport_paid").map_err(db_err)?,
        refusals: serde_json::from_str(&refusals).map_err(|_| corrupt("refusals"))?,
        override_reason: r.try_get("override_reason").map_err(db_err)?,
        status: ApplicationStatus::parse(&status).ok_or_else(|| corrupt("application status"))?,
        applied_by: AccountId(r.try_get("applied_by").map_err(db_err)?),
        applied_at: ts(&applied_at)?,
        reviewed_by: r.try_get::<Option<i64>, _>("reviewed_by").map_err(db_err)?.map(AccountId),
        reviewed_at: reviewed_at.as_deref().map(ts).transpose()?,
        review_note: r.try_get("review_note").map_err(db_err)?,
        review_note_audience: audience(&r.try_get::<String, _>("review_note_audience").map_err(db_err)?)?,
        cancel_note: r.try_get("cancel_note").map_err(db_err)?,
        cancel_note_audience: audience(&r.try_get::<String, _>("cancel_note_audience").map_err(db_err)?)?,
        mother_name: r.try_get("mother_name").map_err(db_err)?,
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

/// The application `id` of municipality `m` as it stands inside `tx`
/// (`NotFound` when it is not there or in another municipality).
async fn decided(tx: &mut SqliteConnection, m: MunicipalityId, id: ApplicationId) -> Result<Decided> {
    let r = sqlx::query(
        "SELECT family_id, venue_id, status, stay_first, stay_last, service, fee_to_be_confirmed \
         FROM postpartum_applications WHERE id = ? AND municipality_id = ?",
    )
    .bind(id.0)
    .bind(m.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound)?;
    let status: String = r.try_get(2).map_err(db_err)?;
    let first: String = r.try_get(3).map_err(db_err)?;
    let last: String = r.try_get(4).map_err(db_err)?;
    Ok(Decided {
        family: FamilyId(r.try_get(0).map_err(db_err)?),
        venue: VenueId(r.try_get(1).map_err(db_err)?),
        status: ApplicationStatus::parse(&status).ok_or_else(|| corrupt("application status"))?,
        stay: stay_range(&first, &last)?,
        service: r.try_get(5).map_err(db_err)?,
        fee_to_be_confirmed: r.try_get(6).map_err(db_err)?,
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
impl PostpartumStore for SqliteStore {
    async fn set_postpartum_facility(
        &self,
        m: MunicipalityId,
        venue: VenueId,
        operator_ja: &str,
        operator_en: &str,
        calendar: &FacilityCalendar,
    ) -> Result<()> {
        let json = serde_json::to_string(calendar).map_err(other_err)?;
        let mut tx = self.begin_immediate().await?;
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM venues WHERE id = ? AND municipality_id = ? AND kind = 'postpartum_facility'",
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
             VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (venue_id) DO UPDATE SET operator_ja = excluded.operator_ja, \
             operator_en = excluded.operator_en, calendar = excluded.calendar",
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
             WHERE v.municipality_id = ? ORDER BY v.id",
        )
        .bind(m.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let calendar: String = r.try_get("calendar").map_err(db_err)?;
                Ok(PostpartumFacility {
                    venue: venue_row(r)?,
                    operator_ja: r.try_get("operator_ja").map_err(db_err)?,
                    operator_en: r.try_get("operator_en").map_err(db_err)?,
                    calendar: serde_json::from_str(&calendar).map_err(|_| corrupt("facility calendar"))?,
                })
            })
            .collect()
    }

    async fn postpartum_fee_table(&self, m: MunicipalityId) -> Result<Option<FeeTable>> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT fee_table FROM postpartum_fee_tables WHERE municipality_id = ?")
                .bind(m.0)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)?;
        json.map(|j| serde_json::from_str(&j).map_err(|_| corrupt("fee table"))).transpose()
    }

    async fn set_postpartum_fee_table(&self, m: MunicipalityId, table: &FeeTable) -> Result<()> {
        let json = serde_json::to_string(table).map_err(other_err)?;
        sqlx::query(
            "INSERT INTO postpartum_fee_tables (municipality_id, fee_table) VALUES (?, ?) \
             ON CONFLICT (municipality_id) DO UPDATE SET fee_table = excluded.fee_table",
        )
        .bind(m.0)
        .bind(json)
        .execute(&self.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn create_application(&self, ctx: &AuditContext, a: &NewApplication) -> Result<ApplicationId> {
        let mut tx = self.begin_immediate().await?;
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
        let mut tx = self.begin_immediate().await?;
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
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
            "SELECT {APPLICATION_COLUMNS} FROM postpartum_applications a WHERE a.municipality_id = "
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
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        let out = rows.iter().map(application_row).collect::<Result<Vec<_>>>()?;
        // A list of one family's applications is a read of that family.
        self.audit(ctx, AuditAction::PostpartumList, filter.family_id, &format!("results={}", out.len())).await?;
        Ok(out)
    }

    async fn applications_waiting(&self, m: MunicipalityId) -> Result<u64> {
        // The index `postpartum_applications_status` (municipality, status, …).
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM postpartum_applications WHERE municipality_id = ? AND status = 'applied'",
        )
        .bind(m.0)
        .fetch_one(&self.reader)
        .await
        .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn application_owner(&self, m: MunicipalityId, id: ApplicationId) -> Result<Option<(FamilyId, VenueId)>> {
        let r: Option<(i64, i64)> = sqlx::query_as(
            "SELECT family_id, venue_id FROM postpartum_applications WHERE id = ? AND municipality_id = ?",
        )
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        Ok(r.map(|(f, v)| (FamilyId(f), VenueId(v))))
    }

    async fn application(&self, ctx: &AuditContext, id: ApplicationId) -> Result<Option<Application>> {
        let Some(a) = self.application_of(ctx.municipality_id, id).await? else { return Ok(None) };
        self.audit(ctx, AuditAction::PostpartumView, Some(a.family_id), &format!("application={id}")).await?;
        Ok(Some(a))
    }

    async fn application_stay(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
    ) -> Result<Option<(Application, Vec<StayNote>, Vec<Date>)>> {
        let Some(a) = self.application_of(ctx.municipality_id, id).await? else { return Ok(None) };
        let notes = self.stay_notes_of(ctx.municipality_id, id).await?;
        let days = self.used_days_of(ctx.municipality_id, id).await?;
        let detail = format!("application={id} notes={} used_days={}", notes.len(), days.len());
        self.audit(ctx, AuditAction::PostpartumView, Some(a.family_id), &detail).await?;
        Ok(Some((a, notes, days)))
    }

    async fn application_review(
        &self,
        ctx: &AuditContext,
        id: ApplicationId,
        reads: ReviewReads,
    ) -> Result<Option<ApplicationReview>> {
        let m = ctx.municipality_id;
        let Some(application) = self.application_of(m, id).await? else { return Ok(None) };
        let family = application.family_id;
        let notes = self.stay_notes_of(ctx.municipality_id, id).await?;
        let used_days = self.used_days_of(ctx.municipality_id, id).await?;
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        let record = crate::records::family_record(&mut conn, m, family).await?.ok_or(StoreError::NotFound)?;
        // The family's other applications by the family index; their used
        // days by the used days' key (application, day).
        let rows = sqlx::query(&format!(
            "SELECT {APPLICATION_COLUMNS}, (SELECT COUNT(*) FROM postpartum_used_days u WHERE u.application_id = a.id) \
             AS used FROM postpartum_applications a WHERE a.family_id = ? AND a.municipality_id = ? AND a.id <> ? \
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
                let used: i64 = r.try_get("used").map_err(db_err)?;
                Ok((application_row(r)?, u32::try_from(used).map_err(|_| corrupt("used days"))?))
            })
            .collect::<Result<Vec<_>>>()?;
        let screenings = match reads.screenings {
            Some(limit) => sqlx::query(&format!(
                "SELECT {} FROM screenings WHERE municipality_id = ? AND family_id = ? \
                 ORDER BY entered_at DESC, id DESC LIMIT ?",
                crate::screening::COLUMNS
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
        drop(conn);
        let referrals = if reads.open_referrals {
            let filter = ReferralFilter { family_id: Some(family), raised_by: None, open_only: true, limit: 50 };
            self.referrals_of(m, &filter).await?
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
        self.audit(ctx, AuditAction::PostpartumView, Some(family), &detail).await?;
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
        // The write lock is held from BEGIN, so the status read here and the
        // counts the upserts see cannot change before the commit, whichever
        // store (connection) on this file approves at the same time.
        let mut tx = self.begin_immediate().await?;
        let app = decided(&mut tx, m, id).await?;
        if app.status != ApplicationStatus::Applied {
            return Err(StoreError::Conflict("not_applied"));
        }
        // What the approval is decided from, as it stands in this transaction.
        let pregnancies = sqlx::query(&format!(
            "SELECT {PREGNANCY_COLUMNS} FROM pregnancies WHERE family_id = ? AND +municipality_id = ? ORDER BY edd, id"
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
        for (day, places) in &days {
            let n = sqlx::query(
                "INSERT INTO postpartum_places (municipality_id, venue_id, pool, day, taken) VALUES (?, ?, ?, ?, 1) \
                 ON CONFLICT (venue_id, pool, day) DO UPDATE SET taken = postpartum_places.taken + 1 \
                 WHERE postpartum_places.taken < ?",
            )
            .bind(ctx.municipality_id.0)
            .bind(app.venue.0)
            .bind(pool)
            .bind(day.to_string())
            .bind(i64::from(*places))
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
                 VALUES (?, ?, ?, ?, ?)",
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
                "UPDATE postpartum_applications SET confirmed_fee_yen = ? WHERE id = ? AND municipality_id = ?",
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
        let mut tx = self.begin_immediate().await?;
        let app = decided(&mut tx, ctx.municipality_id, id).await?;
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
        let mut tx = self.begin_immediate().await?;
        let app = decided(&mut tx, ctx.municipality_id, id).await?;
        match app.status {
            ApplicationStatus::Applied => {}
            ApplicationStatus::Approved => {
                // Give back the place of every booked day, then the days.
                sqlx::query(
                    "UPDATE postpartum_places SET taken = taken - 1 WHERE (venue_id, pool, day) IN \
                     (SELECT venue_id, pool, day FROM postpartum_bookings WHERE application_id = ? AND municipality_id = ?)",
 )
 .bind(id.0)
 .bind(ctx.municipality_id.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                sqlx::query("DELETE FROM postpartum_bookings WHERE application_id = ? AND municipality_id = ?")
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
            "UPDATE postpartum_applications SET status = 'cancelled', cancelled_by = ?, cancelled_at = ?, \
             cancel_note = ?, cancel_note_audience = ? WHERE id = ? AND municipality_id = ?",
        )
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
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
        let rows = sqlx::query(
            "SELECT p.day, p.taken FROM postpartum_places p JOIN venues v ON v.id = p.venue_id \
             WHERE v.municipality_id = ? AND p.venue_id = ? AND p.pool = ? AND p.day >= ? AND p.day <= ? \
             AND p.taken > 0 ORDER BY p.day",
        )
        .bind(m.0)
        .bind(venue.0)
        .bind(i64::from(pool))
        .bind(range.first().to_string())
        .bind(range.last().to_string())
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let day: String = r.try_get(0).map_err(db_err)?;
                let taken: i64 = r.try_get(1).map_err(db_err)?;
                Ok((date(&day)?, u32::try_from(taken).map_err(|_| corrupt("places taken"))?))
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
        let mut tx = self.begin_immediate().await?;
        let app = decided(&mut tx, ctx.municipality_id, id).await?;
        if app.status != ApplicationStatus::Approved {
            return Err(StoreError::Conflict("not_approved"));
        }
        if !app.stay.contains(day) {
            return Err(StoreError::Conflict("day_not_in_stay"));
        }
        sqlx::query(
            "INSERT INTO postpartum_stay_notes (municipality_id, application_id, day, note, audience, by_account, at, \
             care, mother, baby) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(ctx.municipality_id.0)
        .bind(id.0)
        .bind(day.to_string())
        .bind(note)
        .bind(audience.as_str())
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
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
        let (family, _) = self.application_owner(ctx.municipality_id, id).await?.ok_or(StoreError::NotFound)?;
        let notes = self.stay_notes_of(ctx.municipality_id, id).await?;
        self.audit(ctx, AuditAction::PostpartumView, Some(family), &format!("application={id} notes={}", notes.len()))
            .await?;
        Ok(notes)
    }

    async fn record_day_use(&self, ctx: &AuditContext, id: ApplicationId, day: Date, used: bool) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        let app = decided(&mut tx, ctx.municipality_id, id).await?;
        if app.status != ApplicationStatus::Approved {
            return Err(StoreError::Conflict("not_approved"));
        }
        if !app.stay.contains(day) {
            return Err(StoreError::Conflict("day_not_in_stay"));
        }
        if used {
            sqlx::query(
                "INSERT INTO postpartum_used_days (application_id, day, venue_id, municipality_id, family_id, \
                 service, by_account, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (application_id, day) DO NOTHING",
            )
            .bind(id.0)
            .bind(day.to_string())
            .bind(app.venue.0)
            .bind(ctx.municipality_id.0)
            .bind(app.family.0)
            .bind(&app.service)
            .bind(ctx.actor.0)
            .bind(ts_text(ctx.at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        } else {
            sqlx::query(
                "DELETE FROM postpartum_used_days WHERE application_id = ? AND day = ? AND municipality_id = ?",
            )
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
        let (family, _) = self.application_owner(ctx.municipality_id, id).await?.ok_or(StoreError::NotFound)?;
        let days = self.used_days_of(ctx.municipality_id, id).await?;
        self.audit(
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
            "SELECT COUNT(CASE WHEN u.service = 'short_stay' THEN 1 END), \
             COUNT(CASE WHEN u.service = 'day_care' THEN 1 END), \
             COUNT(CASE WHEN u.service = 'outreach' THEN 1 END), COUNT(DISTINCT u.family_id) \
             FROM postpartum_used_days u \
             WHERE u.municipality_id = ? AND u.venue_id = ? AND u.day >= ? AND u.day <= ?",
        )
        .bind(m.0)
        .bind(venue.0)
        .bind(range.first().to_string())
        .bind(range.last().to_string())
        .fetch_one(&self.reader)
        .await
        .map_err(db_err)?;
        let booked = sqlx::query(
            "SELECT COUNT(CASE WHEN a.service = 'short_stay' THEN 1 END), \
             COUNT(CASE WHEN a.service = 'day_care' THEN 1 END), \
             COUNT(CASE WHEN a.service = 'outreach' THEN 1 END) \
             FROM postpartum_bookings b JOIN postpartum_applications a ON a.id = b.application_id \
             WHERE b.municipality_id = ? AND b.venue_id = ? AND b.day >= ? AND b.day <= ? AND a.status = 'approved'",
        )
        .bind(m.0)
        .bind(venue.0)
        .bind(range.first().to_string())
        .bind(range.last().to_string())
        .fetch_one(&self.reader)
        .await
        .map_err(db_err)?;
        let booked_count = |i: usize| -> Result<u64> {
            u64::try_from(booked.try_get::<i64, _>(i).map_err(db_err)?).map_err(|_| corrupt("count"))
        };
        let count = |i: usize| -> Result<u64> {
            u64::try_from(r.try_get::<i64, _>(i).map_err(db_err)?).map_err(|_| corrupt("count"))
        };
        Ok(UsageCounts {
            short_stay_days: count(0)?,
            day_care_days: count(1)?,
            outreach_visits: count(2)?,
            families: count(3)?,
            booked_short_stay_days: booked_count(0)?,
            booked_day_care_days: booked_count(1)?,
            booked_outreach_visits: booked_count(2)?,
        })
    }

    async fn postpartum_users_by_area(&self, m: MunicipalityId, range: DateRange) -> Result<Vec<(AreaId, u64)>> {
        let rows = sqlx::query(
            "SELECT f.area_id, COUNT(DISTINCT f.id) FROM postpartum_used_days u \
             JOIN families f ON f.id = u.family_id \
             WHERE u.municipality_id = ? AND u.day >= ? AND u.day <= ? \
             GROUP BY f.area_id ORDER BY f.area_id",
        )
        .bind(m.0)
        .bind(range.first().to_string())
        .bind(range.last().to_string())
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let n: i64 = r.try_get(1).map_err(db_err)?;
                Ok((AreaId(r.try_get(0).map_err(db_err)?), u64::try_from(n).map_err(|_| corrupt("count"))?))
            })
            .collect()
    }
}

impl SqliteStore {
    /// One application of municipality `m` (not audited: the caller writes the line).
    async fn application_of(&self, m: MunicipalityId, id: ApplicationId) -> Result<Option<Application>> {
        let r = sqlx::query(&format!(
            "SELECT {APPLICATION_COLUMNS} FROM postpartum_applications a WHERE a.id = ? AND a.municipality_id = ?"
        ))
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        r.as_ref().map(application_row).transpose()
    }

    /// The day notes of an application (not audited).
    async fn stay_notes_of(&self, m: MunicipalityId, id: ApplicationId) -> Result<Vec<StayNote>> {
        let rows = sqlx::query(
            "SELECT day, note, by_account, at, audience, care, mother, baby FROM postpartum_stay_notes \
             WHERE application_id = ? AND municipality_id = ? \
             ORDER BY day, at, id",
        )
        .bind(id.0)
        .bind(m.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        let notes: Vec<StayNote> = rows
            .iter()
            .map(|r| {
                let day: String = r.try_get(0).map_err(db_err)?;
                let at: String = r.try_get(3).map_err(db_err)?;
                Ok(StayNote {
                    day: date(&day)?,
                    note: r.try_get(1).map_err(db_err)?,
                    audience: audience(&r.try_get::<String, _>(4).map_err(db_err)?)?,
                    by: AccountId(r.try_get(2).map_err(db_err)?),
                    at: ts(&at)?,
                    record: DayRecord {
                        care: care_from_stored(&r.try_get::<String, _>(5).map_err(db_err)?),
                        mother: r.try_get(6).map_err(db_err)?,
                        baby: r.try_get(7).map_err(db_err)?,
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(notes)
    }

    /// The days of an application recorded as used (not audited).
    async fn used_days_of(&self, m: MunicipalityId, id: ApplicationId) -> Result<Vec<Date>> {
        let days: Vec<String> = sqlx::query_scalar(
            "SELECT day FROM postpartum_used_days WHERE application_id = ? AND municipality_id = ? ORDER BY day",
        )
        .bind(id.0)
        .bind(m.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        let days = days.iter().map(|d| date(d)).collect::<Result<Vec<_>>>()?;
        Ok(days)
    }
}

/// Stores an application in the caller's transaction, audited `postpartum.apply`.
async fn insert_application(
    store: &SqliteStore,
    tx: &mut sqlx::SqliteConnection,
    ctx: &AuditContext,
    a: &NewApplication,
) -> Result<ApplicationId> {
    if !a.refusals.is_empty() && a.override_reason.is_none() {
        return Err(StoreError::Conflict("override_reason_required"));
    }
    let m = ctx.municipality_id;
    let refusals = serde_json::to_string(&a.refusals).map_err(other_err)?;
    if !in_municipality(&mut *tx, "families", a.family_id.0, m).await? {
        return Err(StoreError::InvalidReference("family_id"));
    }
    let facility: Option<i64> = sqlx::query_scalar(
        "SELECT f.venue_id FROM postpartum_facilities f JOIN venues v ON v.id = f.venue_id \
         WHERE f.venue_id = ? AND v.municipality_id = ?",
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
         lacks_help_from_relatives, grandparents_nearby, quote_total_yen, fee_to_be_confirmed, transport_paid, \
         refusals, override_reason, status, applied_by, applied_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'applied', ?, ?) RETURNING id",
    )
    .bind(m.0)
    .bind(a.family_id.0)
    .bind(a.venue_id.0)
    .bind(a.service.as_str())
    .bind(a.stay.first().to_string())
    .bind(a.stay.last().to_string())
    .bind(i64::from(a.babies))
    .bind(i64::from(a.siblings))
    .bind(a.answers.rolls_over_actively)
    .bind(a.answers.needs_medical_treatment)
    .bind(a.answers.has_worries_or_fatigue)
    .bind(a.answers.lacks_help_from_relatives)
    .bind(a.answers.grandparents_nearby)
    .bind(i64::from(a.quote_total_yen))
    .bind(a.fee_to_be_confirmed)
    .bind(a.transport_paid)
    .bind(refusals)
    .bind(&a.override_reason)
    .bind(ctx.actor.0)
    .bind(ts_text(ctx.at))
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
