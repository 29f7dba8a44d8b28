//! Referrals and their history, online follow-ups, online talks, incident reports.

use crate::audit::append_audit;
use crate::{
    civil, civil_param, corrupt, count, db_err, get, in_municipality, is_facility, is_unique_violation, range_params,
    ts, ts_param, PgStore, Table,
};
use async_trait::async_trait;
use jiff::civil::DateTime;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::keys::ChainKey;
use tsunagu_domain::postpartum::safety::IncidentHeading;
use tsunagu_domain::referrals::{CloseReason, ConcernSource, Referral, ReferralAction, ReferralStatus};
use tsunagu_domain::roles::Role;
use tsunagu_domain::{
    AccountId, ApplicationId, FamilyId, FollowupId, IncidentId, MunicipalityId, PregnancyId, ReferralId, TalkId,
    VenueId,
};
use tsunagu_store::{
    CareStore, Followup, FollowupCheck, FollowupFacts, FollowupStatus, Incident, NewIncident, OnlineTalk,
    ReferralEvent, ReferralFilter, ReferralStep, Result, StoreError, StoredReferral,
};

/// "On one of the days of the range": `$first` and `$last` are the range's
/// first and last day (bound with `range_params`).
macro_rules! on_days {
    ($col:literal, $first:literal, $last:literal) => {
        concat!($col, " >= ", $first, "::date AND ", $col, " < ", $last, "::date + 1")
    };
}

/// The columns of a referral as `referral_row` reads them. ORDER BY must
/// name the table's columns qualified (`r.raised_at`): the aliases are text.
macro_rules! referral_columns {
    () => {
        concat!(
            "r.id, r.municipality_id, r.family_id, r.pregnancy_id, r.raised_by_role, r.source, r.urgent, r.status, ",
            "r.escalated, r.specified_expectant_mother, r.close_reason, r.note, r.raised_by_account, ",
            ts_col!("r.raised_at"),
            " AS raised_at, r.venue_id, r.application_id, ",
            ts_col!("r.updated_at"),
            " AS updated_at, ",
            mother_name_of!("r")
        )
    };
}

macro_rules! followup_columns {
    () => {
        concat!(
            "f.id, f.municipality_id, f.venue_id, f.family_id, ",
            civil_col!("f.start"),
            " AS start, f.status, f.booked_by, ",
            mother_name_of!("f")
        )
    };
}

fn referral_row(r: &PgRow) -> Result<StoredReferral> {
    let role: String = get(r, "raised_by_role")?;
    let source: String = get(r, "source")?;
    let status: String = get(r, "status")?;
    let close_reason: Option<String> = get(r, "close_reason")?;
    Ok(StoredReferral {
        id: ReferralId(get(r, "id")?),
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        referral: Referral {
            family: FamilyId(get(r, "family_id")?),
            pregnancy: get::<Option<i64>>(r, "pregnancy_id")?.map(PregnancyId),
            raised_by: Role::parse(&role).ok_or_else(|| corrupt("role"))?,
            source: ConcernSource::parse(&source).ok_or_else(|| corrupt("concern source"))?,
            urgent: get(r, "urgent")?,
            status: ReferralStatus::parse(&status).ok_or_else(|| corrupt("referral status"))?,
            escalated: get(r, "escalated")?,
            specified_expectant_mother: get(r, "specified_expectant_mother")?,
            close_reason: close_reason
                .as_deref()
                .map(|c| CloseReason::parse(c).ok_or_else(|| corrupt("close reason")))
                .transpose()?,
        },
        note: get(r, "note")?,
        raised_by_account: AccountId(get(r, "raised_by_account")?),
        raised_at: ts(&get::<String>(r, "raised_at")?)?,
        venue_id: get::<Option<i64>>(r, "venue_id")?.map(VenueId),
        application_id: get::<Option<i64>>(r, "application_id")?.map(ApplicationId),
        updated_at: ts(&get::<String>(r, "updated_at")?)?,
        mother_name: get(r, "mother_name")?,
    })
}

/// Inserts one step of a referral's history inside `tx`.
async fn insert_referral_event(
    tx: &mut PgConnection,
    ctx: &AuditContext,
    id: ReferralId,
    action: &str,
    note: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO referral_events (municipality_id, referral_id, action, by_account, at, note) \
         VALUES ($1, $2, $3, $4, $5::timestamptz, $6)",
    )
    .bind(ctx.municipality_id.0)
    .bind(id.0)
    .bind(action)
    .bind(ctx.actor.0)
    .bind(ts_param(ctx.at))
    .bind(note)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Stores a new referral with its first step and its `referral.raise`
/// audit line inside `tx` (a concern raised by hand, or by a screening).
pub(crate) async fn insert_referral(
    tx: &mut PgConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    r: &Referral,
    note: &str,
    venue: Option<VenueId>,
    application: Option<ApplicationId>,
) -> Result<ReferralId> {
    let m = ctx.municipality_id;
    if !in_municipality(&mut *tx, Table::Families, r.family.0, m).await? {
        return Err(StoreError::InvalidReference("family_id"));
    }
    if let Some(p) = r.pregnancy {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM pregnancies WHERE id = $1 AND family_id = $2 AND municipality_id = $3")
                .bind(p.0)
                .bind(r.family.0)
                .bind(m.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if found.is_none() {
            return Err(StoreError::InvalidReference("pregnancy_id"));
        }
    }
    if let Some(v) = venue {
        if !is_facility(&mut *tx, v, m).await? {
            return Err(StoreError::InvalidReference("venue_id"));
        }
    }
    if let Some(a) = application {
        // The family's own application, at the facility named (if one is).
        let at_venue: Option<i64> = sqlx::query_scalar(
            "SELECT venue_id FROM postpartum_applications WHERE id = $1 AND family_id = $2 \
             AND municipality_id = $3",
        )
        .bind(a.0)
        .bind(r.family.0)
        .bind(m.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        match at_venue {
            Some(v) if venue.is_none_or(|venue| venue.0 == v) => {}
            _ => return Err(StoreError::InvalidReference("application_id")),
        }
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO referrals (municipality_id, family_id, pregnancy_id, raised_by_role, source, urgent, status, \
         escalated, specified_expectant_mother, close_reason, note, raised_by_account, raised_at, venue_id, \
         application_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
         $13::timestamptz, $14, $15, $13::timestamptz) RETURNING id",
    )
    .bind(m.0)
    .bind(r.family.0)
    .bind(r.pregnancy.map(|p| p.0))
    .bind(r.raised_by.as_str())
    .bind(r.source.as_str())
    .bind(r.urgent)
    .bind(r.status.as_str())
    .bind(r.escalated)
    .bind(r.specified_expectant_mother)
    .bind(r.close_reason.map(CloseReason::as_str))
    .bind(note)
    .bind(ctx.actor.0)
    .bind(ts_param(ctx.at))
    .bind(venue.map(|v| v.0))
    .bind(application.map(|a| a.0))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let id = ReferralId(id);
    insert_referral_event(tx, ctx, id, "raise", note).await?;
    append_audit(tx, key, ctx, AuditAction::ReferralRaise, Some(r.family), &format!("referral={id}")).await?;
    Ok(id)
}

fn followup_row(r: &PgRow) -> Result<Followup> {
    let status: String = get(r, "status")?;
    Ok(Followup {
        id: FollowupId(get(r, "id")?),
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        venue_id: VenueId(get(r, "venue_id")?),
        family_id: FamilyId(get(r, "family_id")?),
        start: civil(&get::<String>(r, "start")?)?,
        status: match status.as_str() {
            "booked" => FollowupStatus::Booked,
            "cancelled" => FollowupStatus::Cancelled,
            _ => return Err(corrupt("follow-up status")),
        },
        booked_by: AccountId(get(r, "booked_by")?),
        mother_name: get(r, "mother_name")?,
    })
}

fn online_talk_row(r: &PgRow) -> Result<OnlineTalk> {
    Ok(OnlineTalk {
        id: TalkId(get(r, "id")?),
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        venue_id: VenueId(get(r, "venue_id")?),
        starts: civil(&get::<String>(r, "starts")?)?,
        minutes: u16::try_from(get::<i32>(r, "minutes")?).map_err(|_| corrupt("minutes"))?,
        title: get(r, "title")?,
        attendees: u32::try_from(get::<i64>(r, "attendees")?).map_err(|_| corrupt("attendees"))?,
    })
}

fn incident_row(r: &PgRow) -> Result<Incident> {
    let heading: String = get(r, "heading")?;
    Ok(Incident {
        id: IncidentId(get(r, "id")?),
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        venue_id: VenueId(get(r, "venue_id")?),
        heading: IncidentHeading::parse(&heading).ok_or_else(|| corrupt("incident heading"))?,
        occurred: civil(&get::<String>(r, "occurred")?)?,
        summary: get(r, "summary")?,
        family_id: get::<Option<i64>>(r, "family_id")?.map(FamilyId),
        reported_by: AccountId(get(r, "reported_by")?),
        reported_at: ts(&get::<String>(r, "reported_at")?)?,
    })
}

#[async_trait]
impl CareStore for PgStore {
    async fn raise_referral(
        &self,
        ctx: &AuditContext,
        r: &Referral,
        note: &str,
        venue: Option<VenueId>,
        application: Option<ApplicationId>,
    ) -> Result<ReferralId> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let id = insert_referral(&mut tx, &self.keys.chain, ctx, r, note, venue, application).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(id)
    }

    async fn referrals(&self, ctx: &AuditContext, filter: &ReferralFilter) -> Result<Vec<StoredReferral>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let out = referrals_of(&mut conn, ctx.municipality_id, filter).await?;
        // A list of one family's referrals is a read of that family.
        drop(conn);
        self.audit_read(ctx, AuditAction::ReferralList, filter.family_id, &format!("results={}", out.len())).await?;
        Ok(out)
    }

    async fn referral(&self, ctx: &AuditContext, id: ReferralId) -> Result<Option<StoredReferral>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let Some(referral) = referral_in(&mut conn, ctx.municipality_id, id).await? else { return Ok(None) };
        // The contract names no `referral.view`: one referral is a list of one.
        drop(conn);
        self.audit_read(ctx, AuditAction::ReferralList, Some(referral.referral.family), &format!("referral={id}"))
            .await?;
        Ok(Some(referral))
    }

    async fn referral_with_events(
        &self,
        ctx: &AuditContext,
        id: ReferralId,
    ) -> Result<Option<(StoredReferral, Vec<ReferralEvent>)>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let Some(referral) = referral_in(&mut conn, ctx.municipality_id, id).await? else { return Ok(None) };
        let events = events_in(&mut conn, ctx.municipality_id, id).await?;
        drop(conn);
        self.audit_read(
            ctx,
            AuditAction::ReferralList,
            Some(referral.referral.family),
            &format!("referral={id} events={}", events.len()),
        )
        .await?;
        Ok(Some((referral, events)))
    }

    async fn step_referral(
        &self,
        ctx: &AuditContext,
        id: ReferralId,
        step: &ReferralStep<'_>,
        action: ReferralAction,
        note: &str,
    ) -> Result<()> {
        // Read for the step only (not audited); the update refuses it if the
        // referral moved meanwhile, and writes the one line.
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let current = referral_in(&mut conn, ctx.municipality_id, id).await?.ok_or(StoreError::NotFound)?;
        drop(conn);
        let next = step(&current.referral)?;
        self.update_referral(ctx, id, &current.referral, &next, action, note).await
    }

    async fn update_referral(
        &self,
        ctx: &AuditContext,
        id: ReferralId,
        expected: &Referral,
        next: &Referral,
        action: ReferralAction,
        note: &str,
    ) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The row lock makes a concurrent step wait, then find the status
        // this one left (and be refused).
        let r = sqlx::query(
            "SELECT family_id, pregnancy_id FROM referrals WHERE id = $1 AND municipality_id = $2 FOR UPDATE",
        )
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        // A step never moves a referral to another family or pregnancy.
        if next.family.0 != get::<i64>(&r, "family_id")? {
            return Err(StoreError::InvalidReference("family_id"));
        }
        if next.pregnancy.map(|p| p.0) != get::<Option<i64>>(&r, "pregnancy_id")? {
            return Err(StoreError::InvalidReference("pregnancy_id"));
        }
        let n = sqlx::query(
            "UPDATE referrals SET raised_by_role = $1, source = $2, urgent = $3, status = $4, escalated = $5, \
             specified_expectant_mother = $6, close_reason = $7, updated_at = $8::timestamptz \
             WHERE id = $9 AND municipality_id = $10 AND status = $11 AND escalated = $12 \
             AND specified_expectant_mother = $13 AND close_reason IS NOT DISTINCT FROM $14",
        )
        .bind(next.raised_by.as_str())
        .bind(next.source.as_str())
        .bind(next.urgent)
        .bind(next.status.as_str())
        .bind(next.escalated)
        .bind(next.specified_expectant_mother)
        .bind(next.close_reason.map(CloseReason::as_str))
        .bind(ts_param(ctx.at))
        .bind(id.0)
        .bind(m.0)
        .bind(expected.status.as_str())
        .bind(expected.escalated)
        .bind(expected.specified_expectant_mother)
        .bind(expected.close_reason.map(CloseReason::as_str))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict("referral_changed"));
        }
        insert_referral_event(&mut tx, ctx, id, action.as_str(), note).await?;
        if next.escalated {
            // Caseworkers may now open the family (policy: FamilyAccess.escalated).
            sqlx::query("UPDATE families SET escalated = TRUE WHERE id = $1 AND municipality_id = $2")
                .bind(next.family.0)
                .bind(m.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::ReferralUpdate,
            Some(next.family),
            &format!("referral={id}"),
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn referral_events(&self, ctx: &AuditContext, id: ReferralId) -> Result<Vec<ReferralEvent>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let family: Option<i64> =
            sqlx::query_scalar("SELECT family_id FROM referrals WHERE id = $1 AND municipality_id = $2")
                .bind(id.0)
                .bind(ctx.municipality_id.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?;
        let family = FamilyId(family.ok_or(StoreError::NotFound)?);
        let events = events_in(&mut conn, ctx.municipality_id, id).await?;
        drop(conn);
        self.audit_read(
            ctx,
            AuditAction::ReferralList,
            Some(family),
            &format!("referral={id} events={}", events.len()),
        )
        .await?;
        Ok(events)
    }

    async fn book_followup(
        &self,
        ctx: &AuditContext,
        venue: VenueId,
        family: FamilyId,
        start: DateTime,
    ) -> Result<FollowupId> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let id = insert_followup(self, &mut tx, ctx, venue, family, start).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(id)
    }

    async fn book_followup_checked(
        &self,
        ctx: &AuditContext,
        venue: VenueId,
        family: FamilyId,
        start: DateTime,
        check: &FollowupCheck<'_>,
    ) -> Result<FollowupId> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let facts = followup_facts(&mut tx, ctx.municipality_id, family, venue).await?;
        check(&facts)?;
        let id = insert_followup(self, &mut tx, ctx, venue, family, start).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(id)
    }

    async fn followup_owner(&self, m: MunicipalityId, id: FollowupId) -> Result<Option<(FamilyId, DateTime)>> {
        let r = sqlx::query(concat!(
            "SELECT family_id, ",
            civil_col!("start"),
            " AS start FROM followups WHERE id = $1 AND municipality_id = $2"
        ))
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(r) = r else { return Ok(None) };
        let start: String = get(&r, "start")?;
        Ok(Some((FamilyId(get::<i64>(&r, "family_id")?), civil(&start)?)))
    }

    async fn followup_slots(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        venue: VenueId,
        range: DateRange,
    ) -> Result<(Vec<DateTime>, FollowupFacts)> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let taken: Vec<DateTime> = followups_of(&mut conn, ctx.municipality_id, Some(venue), None, range)
            .await?
            .into_iter()
            .filter(|f| f.status == FollowupStatus::Booked)
            .map(|f| f.start)
            .collect();
        let facts = followup_facts(&mut conn, ctx.municipality_id, family, venue).await?;
        drop(conn);
        tsunagu_store::AuditStore::write_audit(
            self,
            ctx,
            AuditAction::FollowupList,
            Some(family),
            &format!("venue={venue} taken={}", taken.len()),
        )
        .await?;
        Ok((taken, facts))
    }

    async fn followups(
        &self,
        ctx: &AuditContext,
        venue: Option<VenueId>,
        family: Option<FamilyId>,
        range: DateRange,
    ) -> Result<Vec<Followup>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let out = followups_of(&mut conn, ctx.municipality_id, venue, family, range).await?;
        drop(conn);
        self.audit_read(ctx, AuditAction::FollowupList, family, &format!("results={}", out.len())).await?;
        Ok(out)
    }

    async fn cancel_followup(&self, ctx: &AuditContext, id: FollowupId) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The lock makes a second cancellation wait, then see `cancelled`.
        let r =
            sqlx::query("SELECT family_id, status FROM followups WHERE id = $1 AND municipality_id = $2 FOR UPDATE")
                .bind(id.0)
                .bind(m.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .ok_or(StoreError::NotFound)?;
        let family = FamilyId(get(&r, "family_id")?);
        if get::<String>(&r, "status")? != "booked" {
            return Err(StoreError::Conflict("not_booked"));
        }
        sqlx::query(
            "UPDATE followups SET status = 'cancelled', cancelled_by = $1, cancelled_at = $2::timestamptz \
             WHERE id = $3 AND municipality_id = $4",
        )
        .bind(ctx.actor.0)
        .bind(ts_param(ctx.at))
        .bind(id.0)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::FollowupCancel,
            Some(family),
            &format!("followup={id}"),
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn followup_count(&self, m: MunicipalityId, range: DateRange) -> Result<u64> {
        let (first, last) = range_params(range);
        let n: i64 = sqlx::query_scalar(concat!(
            "SELECT COUNT(*) FROM followups WHERE municipality_id = $1 AND ",
            on_days!("start", "$2", "$3"),
            " AND status = 'booked'"
        ))
        .bind(m.0)
        .bind(first)
        .bind(last)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        count(n)
    }

    async fn create_online_talk(
        &self,
        ctx: &AuditContext,
        venue: VenueId,
        starts: DateTime,
        minutes: u16,
        title: &str,
    ) -> Result<TalkId> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        if !is_facility(&mut tx, venue, m).await? {
            return Err(StoreError::InvalidReference("venue_id"));
        }
        // Scheduling a talk touches nobody's record: no audit line.
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO online_talks (municipality_id, venue_id, starts, minutes, title, created_by, created_at) \
             VALUES ($1, $2, $3::timestamp, $4, $5, $6, $7::timestamptz) RETURNING id",
        )
        .bind(m.0)
        .bind(venue.0)
        .bind(civil_param(starts))
        .bind(i32::from(minutes))
        .bind(title)
        .bind(ctx.actor.0)
        .bind(ts_param(ctx.at))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(TalkId(id))
    }

    async fn online_talks(&self, m: MunicipalityId, range: DateRange) -> Result<Vec<OnlineTalk>> {
        let (first, last) = range_params(range);
        let rows = sqlx::query(concat!(
            "SELECT t.id, t.municipality_id, t.venue_id, ",
            civil_col!("t.starts"),
            " AS starts, t.minutes, t.title, \
             (SELECT COUNT(*) FROM online_talk_attendees a WHERE a.talk_id = t.id) AS attendees \
             FROM online_talks t WHERE t.municipality_id = $1 AND ",
            on_days!("t.starts", "$2", "$3"),
            " ORDER BY t.starts, t.id"
        ))
        .bind(m.0)
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(online_talk_row).collect()
    }

    async fn join_online_talk(&self, ctx: &AuditContext, talk: TalkId, family: FamilyId) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM online_talks WHERE id = $1 AND municipality_id = $2")
                .bind(talk.0)
                .bind(m.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        if !in_municipality(&mut tx, Table::Families, family.0, m).await? {
            return Err(StoreError::InvalidReference("family_id"));
        }
        sqlx::query(
            "INSERT INTO online_talk_attendees (municipality_id, talk_id, family_id, joined_by, joined_at) \
             VALUES ($1, $2, $3, $4, $5::timestamptz)",
        )
        .bind(m.0)
        .bind(talk.0)
        .bind(family.0)
        .bind(ctx.actor.0)
        .bind(ts_param(ctx.at))
        .execute(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("already_joined") } else { db_err(e) })?;
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::TalkJoin, Some(family), &format!("talk={talk}"))
            .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn report_incident(&self, ctx: &AuditContext, i: &NewIncident) -> Result<IncidentId> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        if !is_facility(&mut tx, i.venue_id, m).await? {
            return Err(StoreError::InvalidReference("venue_id"));
        }
        if let Some(f) = i.family_id {
            if !in_municipality(&mut tx, Table::Families, f.0, m).await? {
                return Err(StoreError::InvalidReference("family_id"));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO incidents (municipality_id, venue_id, heading, occurred, summary, family_id, reported_by, \
             reported_at) VALUES ($1, $2, $3, $4::timestamp, $5, $6, $7, $8::timestamptz) RETURNING id",
        )
        .bind(m.0)
        .bind(i.venue_id.0)
        .bind(i.heading.as_str())
        .bind(civil_param(i.occurred))
        .bind(&i.summary)
        .bind(i.family_id.map(|f| f.0))
        .bind(ctx.actor.0)
        .bind(ts_param(ctx.at))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::IncidentReport,
            i.family_id,
            &format!("incident={id}"),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(IncidentId(id))
    }

    async fn incidents(&self, ctx: &AuditContext, venue: Option<VenueId>, range: DateRange) -> Result<Vec<Incident>> {
        let (first, last) = range_params(range);
        let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(concat!(
            "SELECT i.id, i.municipality_id, i.venue_id, i.heading, ",
            civil_col!("i.occurred"),
            " AS occurred, i.summary, i.family_id, i.reported_by, ",
            ts_col!("i.reported_at"),
            " AS reported_at FROM incidents i WHERE i.municipality_id = "
        ));
        qb.push_bind(ctx.municipality_id.0);
        qb.push(" AND i.occurred >= ").push_bind(first).push("::date");
        qb.push(" AND i.occurred < ").push_bind(last).push("::date + 1");
        if let Some(v) = venue {
            qb.push(" AND i.venue_id = ").push_bind(v.0);
        }
        qb.push(" ORDER BY i.occurred DESC, i.id DESC");
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let rows = qb.build().fetch_all(&mut *conn).await.map_err(db_err)?;
        let out = rows.iter().map(incident_row).collect::<Result<Vec<_>>>()?;
        drop(conn);
        self.audit_read(ctx, AuditAction::IncidentList, None, &format!("results={}", out.len())).await?;
        Ok(out)
    }
}

/// One referral of municipality `m`, read on `conn` (not audited: the caller writes the line).
async fn referral_in(conn: &mut PgConnection, m: MunicipalityId, id: ReferralId) -> Result<Option<StoredReferral>> {
    sqlx::query(concat!("SELECT ", referral_columns!(), " FROM referrals r WHERE r.id = $1 AND r.municipality_id = $2"))
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(referral_row)
        .transpose()
}

/// A referral's steps, read on `conn` (not audited).
async fn events_in(conn: &mut PgConnection, m: MunicipalityId, id: ReferralId) -> Result<Vec<ReferralEvent>> {
    // In the order the steps were taken (a referral's steps queue on its row lock).
    let events: Vec<ReferralEvent> = sqlx::query(concat!(
        "SELECT action, by_account, ",
        ts_col!("at"),
        " AS at, note FROM referral_events WHERE referral_id = $1 AND municipality_id = $2 ORDER BY id"
    ))
    .bind(id.0)
    .bind(m.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| {
        Ok(ReferralEvent {
            action: get(r, "action")?,
            by: AccountId(get(r, "by_account")?),
            at: ts(&get::<String>(r, "at")?)?,
            note: get(r, "note")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    Ok(events)
}

/// The referrals of municipality `m` that `filter` names (not audited: the caller writes the line).
pub(crate) async fn referrals_of(
    conn: &mut sqlx::PgConnection,
    m: MunicipalityId,
    filter: &ReferralFilter,
) -> Result<Vec<StoredReferral>> {
    let mut qb: QueryBuilder<'_, Postgres> =
        QueryBuilder::new(concat!("SELECT ", referral_columns!(), " FROM referrals r WHERE r.municipality_id = "));
    qb.push_bind(m.0);
    if let Some(f) = filter.family_id {
        qb.push(" AND r.family_id = ").push_bind(f.0);
    }
    if let Some(a) = filter.raised_by {
        qb.push(" AND r.raised_by_account = ").push_bind(a.0);
    }
    if filter.open_only {
        qb.push(" AND r.status <> 'closed'");
    }
    // Open urgent referrals first; a closed one never outranks open work.
    qb.push(" ORDER BY (r.status <> 'closed' AND r.urgent) DESC, r.raised_at DESC, r.id DESC LIMIT ")
        .push_bind(i64::from(filter.limit.clamp(1, 1000)));
    let rows = qb.build().fetch_all(&mut *conn).await.map_err(db_err)?;
    rows.iter().map(referral_row).collect()
}

/// Books a slot in the caller's transaction, audited `followup.book`.
async fn insert_followup(
    store: &PgStore,
    tx: &mut PgConnection,
    ctx: &AuditContext,
    venue: VenueId,
    family: FamilyId,
    start: DateTime,
) -> Result<FollowupId> {
    let m = ctx.municipality_id;
    if !is_facility(&mut *tx, venue, m).await? {
        return Err(StoreError::InvalidReference("venue_id"));
    }
    if !in_municipality(&mut *tx, Table::Families, family.0, m).await? {
        return Err(StoreError::InvalidReference("family_id"));
    }
    // The partial unique index (venue, start) of booked rows keeps one
    // family per slot: a concurrent booking of the same slot waits on
    // the index entry, then fails.
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO followups (municipality_id, venue_id, family_id, start, status, booked_by, booked_at) \
         VALUES ($1, $2, $3, $4::timestamp, 'booked', $5, $6::timestamptz) RETURNING id",
    )
    .bind(m.0)
    .bind(venue.0)
    .bind(family.0)
    .bind(civil_param(start))
    .bind(ctx.actor.0)
    .bind(ts_param(ctx.at))
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("slot_taken") } else { db_err(e) })?;
    append_audit(&mut *tx, &store.keys.chain, ctx, AuditAction::FollowupBook, Some(family), &format!("followup={id}"))
        .await?;
    Ok(FollowupId(id))
}

/// Bookings on the days of `range` in `m`, optionally of one facility or
/// family, by start (not audited: the caller writes the line).
async fn followups_of(
    conn: &mut PgConnection,
    m: MunicipalityId,
    venue: Option<VenueId>,
    family: Option<FamilyId>,
    range: DateRange,
) -> Result<Vec<Followup>> {
    let (first, last) = range_params(range);
    let mut qb: QueryBuilder<'_, Postgres> =
        QueryBuilder::new(concat!("SELECT ", followup_columns!(), " FROM followups f WHERE f.municipality_id = "));
    qb.push_bind(m.0);
    qb.push(" AND f.start >= ").push_bind(first).push("::date");
    qb.push(" AND f.start < ").push_bind(last).push("::date + 1");
    if let Some(v) = venue {
        qb.push(" AND f.venue_id = ").push_bind(v.0);
    }
    if let Some(f) = family {
        qb.push(" AND f.family_id = ").push_bind(f.0);
    }
    qb.push(" ORDER BY f.start, f.id");
    let rows = qb.build().fetch_all(&mut *conn).await.map_err(db_err)?;
    rows.iter().map(followup_row).collect()
}

/// What decides `family`'s consultations at `venue` (not audited: read for
/// one action that writes its own line).
async fn followup_facts(
    conn: &mut PgConnection,
    m: MunicipalityId,
    family: FamilyId,
    venue: VenueId,
) -> Result<FollowupFacts> {
    let days: Vec<String> = sqlx::query_scalar(
        "SELECT to_char(stay_last, 'YYYY-MM-DD') FROM postpartum_applications WHERE municipality_id = $1 \
         AND family_id = $2 AND venue_id = $3 AND status = 'approved' ORDER BY applied_at DESC, id DESC LIMIT 50",
    )
    .bind(m.0)
    .bind(family.0)
    .bind(venue.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    let stay_last_days =
        days.iter().map(|d| d.parse().map_err(|_| corrupt("stay_last"))).collect::<Result<Vec<_>>>()?;
    let record = crate::records::family_record(conn, m, family).await?.ok_or(StoreError::NotFound)?;
    let baby_birth_date = tsunagu_domain::postpartum::application::latest_babies(&record).first().map(|b| b.birth_date);
    Ok(FollowupFacts { stay_last_days, baby_birth_date })
}
