//! Referrals and their history, online follow-ups, online talks, incident reports.

use crate::audit::append_audit;
use crate::{
    civil, civil_bounds, civil_text, corrupt, db_err, in_municipality, is_facility, is_unique_violation, ts, ts_text,
    SqliteStore,
};
use async_trait::async_trait;
use jiff::civil::DateTime;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
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

/// The columns of a referral as `referral_row` reads them.
const REFERRAL_COLUMNS: &str = concat!(
    "r.id, r.municipality_id, r.family_id, r.pregnancy_id, r.raised_by_role, r.source, r.urgent, r.status, ",
    "r.escalated, r.specified_expectant_mother, r.close_reason, r.note, r.raised_by_account, r.raised_at, ",
    "r.venue_id, r.application_id, r.updated_at, ",
    mother_name_of!("r")
);

fn referral_row(r: &SqliteRow) -> Result<StoredReferral> {
    let role: String = r.try_get("raised_by_role").map_err(db_err)?;
    let source: String = r.try_get("source").map_err(db_err)?;
    let status: String = r.try_get("status").map_err(db_err)?;
    let close_reason: Option<String> = r.try_get("close_reason").map_err(db_err)?;
    let raised_at: String = r.try_get("raised_at").map_err(db_err)?;
    let updated_at: String = r.try_get("updated_at").map_err(db_err)?;
    Ok(StoredReferral {
        id: ReferralId(r.try_get("id").map_err(db_err)?),
        municipality_id: MunicipalityId(r.try_get("municipality_id").map_err(db_err)?),
        referral: Referral {
            family: FamilyId(r.try_get("family_id").map_err(db_err)?),
            pregnancy: r.try_get::<Option<i64>, _>("pregnancy_id").map_err(db_err)?.map(PregnancyId),
            raised_by: Role::parse(&role).ok_or_else(|| corrupt("role"))?,
            source: ConcernSource::parse(&source).ok_or_else(|| corrupt("concern source"))?,
            urgent: r.try_get("urgent").map_err(db_err)?,
            status: ReferralStatus::parse(&status).ok_or_else(|| corrupt("referral status"))?,
            escalated: r.try_get("escalated").map_err(db_err)?,
            specified_expectant_mother: r.try_get("specified_expectant_mother").map_err(db_err)?,
            close_reason: close_reason
                .as_deref()
                .map(|c| CloseReason::parse(c).ok_or_else(|| corrupt("close reason")))
                .transpose()?,
        },
        note: r.try_get("note").map_err(db_err)?,
        raised_by_account: AccountId(r.try_get("raised_by_account").map_err(db_err)?),
        raised_at: ts(&raised_at)?,
        venue_id: r.try_get::<Option<i64>, _>("venue_id").map_err(db_err)?.map(VenueId),
        application_id: r.try_get::<Option<i64>, _>("application_id").map_err(db_err)?.map(ApplicationId),
        updated_at: ts(&updated_at)?,
        mother_name: r.try_get("mother_name").map_err(db_err)?,
    })
}

/// Inserts one step of a referral's history inside `tx`.
async fn insert_referral_event(
    tx: &mut SqliteConnection,
    ctx: &AuditContext,
    id: ReferralId,
    action: &str,
    note: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO referral_events (municipality_id, referral_id, action, by_account, at, note) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(ctx.municipality_id.0)
    .bind(id.0)
    .bind(action)
    .bind(ctx.actor.0)
    .bind(ts_text(ctx.at))
    .bind(note)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Stores a new referral with its first step and its `referral.raise`
/// audit line inside `tx` (a concern raised by hand, or by a screening).
pub(crate) async fn insert_referral(
    tx: &mut SqliteConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    r: &Referral,
    note: &str,
    venue: Option<VenueId>,
    application: Option<ApplicationId>,
) -> Result<ReferralId> {
    let m = ctx.municipality_id;
    if !in_municipality(&mut *tx, "families", r.family.0, m).await? {
        return Err(StoreError::InvalidReference("family_id"));
    }
    if let Some(p) = r.pregnancy {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM pregnancies WHERE id = ? AND family_id = ? AND municipality_id = ?")
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
            "SELECT venue_id FROM postpartum_applications WHERE id = ? AND family_id = ? AND municipality_id = ?",
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
    let now = ts_text(ctx.at);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO referrals (municipality_id, family_id, pregnancy_id, raised_by_role, source, urgent, status, \
         escalated, specified_expectant_mother, close_reason, note, raised_by_account, raised_at, venue_id, \
         application_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
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
    .bind(&now)
    .bind(venue.map(|v| v.0))
    .bind(application.map(|a| a.0))
    .bind(&now)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let id = ReferralId(id);
    insert_referral_event(tx, ctx, id, "raise", note).await?;
    append_audit(tx, key, ctx, AuditAction::ReferralRaise, Some(r.family), &format!("referral={id}")).await?;
    Ok(id)
}

const FOLLOWUP_COLUMNS: &str =
    concat!("f.id, f.municipality_id, f.venue_id, f.family_id, f.start, f.status, f.booked_by, ", mother_name_of!("f"));

fn followup_row(r: &SqliteRow) -> Result<Followup> {
    let start: String = r.try_get("start").map_err(db_err)?;
    let status: String = r.try_get("status").map_err(db_err)?;
    Ok(Followup {
        id: FollowupId(r.try_get("id").map_err(db_err)?),
        municipality_id: MunicipalityId(r.try_get("municipality_id").map_err(db_err)?),
        venue_id: VenueId(r.try_get("venue_id").map_err(db_err)?),
        family_id: FamilyId(r.try_get("family_id").map_err(db_err)?),
        start: civil(&start)?,
        status: match status.as_str() {
            "booked" => FollowupStatus::Booked,
            "cancelled" => FollowupStatus::Cancelled,
            _ => return Err(corrupt("follow-up status")),
        },
        booked_by: AccountId(r.try_get("booked_by").map_err(db_err)?),
        mother_name: r.try_get("mother_name").map_err(db_err)?,
    })
}

fn online_talk_row(r: &SqliteRow) -> Result<OnlineTalk> {
    let starts: String = r.try_get("starts").map_err(db_err)?;
    Ok(OnlineTalk {
        id: TalkId(r.try_get("id").map_err(db_err)?),
        municipality_id: MunicipalityId(r.try_get("municipality_id").map_err(db_err)?),
        venue_id: VenueId(r.try_get("venue_id").map_err(db_err)?),
        starts: civil(&starts)?,
        minutes: u16::try_from(r.try_get::<i64, _>("minutes").map_err(db_err)?).map_err(|_| corrupt("minutes"))?,
        title: r.try_get("title").map_err(db_err)?,
        attendees: u32::try_from(r.try_get::<i64, _>("attendees").map_err(db_err)?)
            .map_err(|_| corrupt("attendees"))?,
    })
}

fn incident_row(r: &SqliteRow) -> Result<Incident> {
    let heading: String = r.try_get("heading").map_err(db_err)?;
    let occurred: String = r.try_get("occurred").map_err(db_err)?;
    let reported_at: String = r.try_get("reported_at").map_err(db_err)?;
    Ok(Incident {
        id: IncidentId(r.try_get("id").map_err(db_err)?),
        municipality_id: MunicipalityId(r.try_get("municipality_id").map_err(db_err)?),
        venue_id: VenueId(r.try_get("venue_id").map_err(db_err)?),
        heading: IncidentHeading::parse(&heading).ok_or_else(|| corrupt("incident heading"))?,
        occurred: civil(&occurred)?,
        summary: r.try_get("summary").map_err(db_err)?,
        family_id: r.try_get::<Option<i64>, _>("family_id").map_err(db_err)?.map(FamilyId),
        reported_by: AccountId(r.try_get("reported_by").map_err(db_err)?),
        reported_at: ts(&reported_at)?,
    })
}

#[async_trait]
impl CareStore for SqliteStore {
    async fn raise_referral(
        &self,
        ctx: &AuditContext,
        r: &Referral,
        note: &str,
        venue: Option<VenueId>,
        application: Option<ApplicationId>,
    ) -> Result<ReferralId> {
        let mut tx = self.begin_immediate().await?;
        let id = insert_referral(&mut tx, &self.keys.chain, ctx, r, note, venue, application).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(id)
    }

    async fn referrals(&self, ctx: &AuditContext, filter: &ReferralFilter) -> Result<Vec<StoredReferral>> {
        let out = self.referrals_of(ctx.municipality_id, filter).await?;
        // A list of one family's referrals is a read of that family.
        self.audit(ctx, AuditAction::ReferralList, filter.family_id, &format!("results={}", out.len())).await?;
        Ok(out)
    }

    async fn referral(&self, ctx: &AuditContext, id: ReferralId) -> Result<Option<StoredReferral>> {
        let Some(referral) = self.referral_of(ctx.municipality_id, id).await? else { return Ok(None) };
        // The contract names no `referral.view`: one referral is a list of one.
        self.audit(ctx, AuditAction::ReferralList, Some(referral.referral.family), &format!("referral={id}")).await?;
        Ok(Some(referral))
    }

    async fn referral_with_events(
        &self,
        ctx: &AuditContext,
        id: ReferralId,
    ) -> Result<Option<(StoredReferral, Vec<ReferralEvent>)>> {
        let Some(referral) = self.referral_of(ctx.municipality_id, id).await? else { return Ok(None) };
        let events = self.events_of(ctx.municipality_id, id).await?;
        let detail = format!("referral={id} events={}", events.len());
        self.audit(ctx, AuditAction::ReferralList, Some(referral.referral.family), &detail).await?;
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
        let current = self.referral_of(ctx.municipality_id, id).await?.ok_or(StoreError::NotFound)?;
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
        // The write lock is held from BEGIN: what is read here is what the
        // update changes.
        let mut tx = self.begin_immediate().await?;
        let r = sqlx::query("SELECT family_id, pregnancy_id FROM referrals WHERE id = ? AND municipality_id = ?")
            .bind(id.0)
            .bind(m.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
        // A step never moves a referral to another family or pregnancy.
        if next.family.0 != r.try_get::<i64, _>(0).map_err(db_err)? {
            return Err(StoreError::InvalidReference("family_id"));
        }
        if next.pregnancy.map(|p| p.0) != r.try_get::<Option<i64>, _>(1).map_err(db_err)? {
            return Err(StoreError::InvalidReference("pregnancy_id"));
        }
        let n = sqlx::query(
            "UPDATE referrals SET raised_by_role = ?, source = ?, urgent = ?, status = ?, escalated = ?, \
             specified_expectant_mother = ?, close_reason = ?, updated_at = ? \
             WHERE id = ? AND municipality_id = ? AND status = ? AND escalated = ? \
             AND specified_expectant_mother = ? AND close_reason IS ?",
        )
        .bind(next.raised_by.as_str())
        .bind(next.source.as_str())
        .bind(next.urgent)
        .bind(next.status.as_str())
        .bind(next.escalated)
        .bind(next.specified_expectant_mother)
        .bind(next.close_reason.map(CloseReason::as_str))
        .bind(ts_text(ctx.at))
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
            sqlx::query("UPDATE families SET escalated = 1 WHERE id = ? AND municipality_id = ?")
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
        let family: Option<i64> =
            sqlx::query_scalar("SELECT family_id FROM referrals WHERE id = ? AND municipality_id = ?")
                .bind(id.0)
                .bind(ctx.municipality_id.0)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)?;
        let family = FamilyId(family.ok_or(StoreError::NotFound)?);
        let events = self.events_of(ctx.municipality_id, id).await?;
        self.audit(ctx, AuditAction::ReferralList, Some(family), &format!("referral={id} events={}", events.len()))
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
        let mut tx = self.begin_immediate().await?;
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
        let mut tx = self.begin_immediate().await?;
        let facts = followup_facts(&mut tx, ctx.municipality_id, family, venue).await?;
        check(&facts)?;
        let id = insert_followup(self, &mut tx, ctx, venue, family, start).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(id)
    }

    async fn followup_owner(&self, m: MunicipalityId, id: FollowupId) -> Result<Option<(FamilyId, DateTime)>> {
        let r = sqlx::query("SELECT family_id, start FROM followups WHERE id = ? AND municipality_id = ?")
            .bind(id.0)
            .bind(m.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        let Some(r) = r else { return Ok(None) };
        let start: String = r.try_get(1).map_err(db_err)?;
        Ok(Some((FamilyId(r.try_get(0).map_err(db_err)?), civil(&start)?)))
    }

    async fn followup_slots(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        venue: VenueId,
        range: DateRange,
    ) -> Result<(Vec<DateTime>, FollowupFacts)> {
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
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
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        let out = followups_of(&mut conn, ctx.municipality_id, venue, family, range).await?;
        drop(conn);
        self.audit(ctx, AuditAction::FollowupList, family, &format!("results={}", out.len())).await?;
        Ok(out)
    }

    async fn cancel_followup(&self, ctx: &AuditContext, id: FollowupId) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        let r = sqlx::query("SELECT family_id, status FROM followups WHERE id = ? AND municipality_id = ?")
            .bind(id.0)
            .bind(m.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
        let family = FamilyId(r.try_get(0).map_err(db_err)?);
        if r.try_get::<String, _>(1).map_err(db_err)? != "booked" {
            return Err(StoreError::Conflict("not_booked"));
        }
        sqlx::query(
            "UPDATE followups SET status = 'cancelled', cancelled_by = ?, cancelled_at = ? \
             WHERE id = ? AND municipality_id = ?",
        )
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
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
        let (first, last) = civil_bounds(range);
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM followups WHERE municipality_id = ? AND start >= ? AND start <= ? \
             AND status = 'booked'",
        )
        .bind(m.0)
        .bind(first)
        .bind(last)
        .fetch_one(&self.reader)
        .await
        .map_err(db_err)?;
        u64::try_from(n).map_err(|_| corrupt("count"))
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
        let mut tx = self.begin_immediate().await?;
        if !is_facility(&mut tx, venue, m).await? {
            return Err(StoreError::InvalidReference("venue_id"));
        }
        // Scheduling a talk touches nobody's record: no audit line.
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO online_talks (municipality_id, venue_id, starts, minutes, title, created_by, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(m.0)
        .bind(venue.0)
        .bind(civil_text(starts))
        .bind(i64::from(minutes))
        .bind(title)
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(TalkId(id))
    }

    async fn online_talks(&self, m: MunicipalityId, range: DateRange) -> Result<Vec<OnlineTalk>> {
        let (first, last) = civil_bounds(range);
        let rows = sqlx::query(
            "SELECT t.id, t.municipality_id, t.venue_id, t.starts, t.minutes, t.title, \
             (SELECT COUNT(*) FROM online_talk_attendees a WHERE a.talk_id = t.id) AS attendees \
             FROM online_talks t WHERE t.municipality_id = ? AND t.starts >= ? AND t.starts <= ? \
             ORDER BY t.starts, t.id",
        )
        .bind(m.0)
        .bind(first)
        .bind(last)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter().map(online_talk_row).collect()
    }

    async fn join_online_talk(&self, ctx: &AuditContext, talk: TalkId, family: FamilyId) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM online_talks WHERE id = ? AND municipality_id = ?")
            .bind(talk.0)
            .bind(m.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        if !in_municipality(&mut tx, "families", family.0, m).await? {
            return Err(StoreError::InvalidReference("family_id"));
        }
        sqlx::query(
            "INSERT INTO online_talk_attendees (municipality_id, talk_id, family_id, joined_by, joined_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(m.0)
        .bind(talk.0)
        .bind(family.0)
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
        .execute(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("already_joined") } else { db_err(e) })?;
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::TalkJoin, Some(family), &format!("talk={talk}"))
            .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn report_incident(&self, ctx: &AuditContext, i: &NewIncident) -> Result<IncidentId> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        if !is_facility(&mut tx, i.venue_id, m).await? {
            return Err(StoreError::InvalidReference("venue_id"));
        }
        if let Some(f) = i.family_id {
            if !in_municipality(&mut tx, "families", f.0, m).await? {
                return Err(StoreError::InvalidReference("family_id"));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO incidents (municipality_id, venue_id, heading, occurred, summary, family_id, reported_by, \
             reported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(m.0)
        .bind(i.venue_id.0)
        .bind(i.heading.as_str())
        .bind(civil_text(i.occurred))
        .bind(&i.summary)
        .bind(i.family_id.map(|f| f.0))
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
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
        let (first, last) = civil_bounds(range);
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "SELECT id, municipality_id, venue_id, heading, occurred, summary, family_id, reported_by, reported_at \
             FROM incidents WHERE municipality_id = ",
        );
        qb.push_bind(ctx.municipality_id.0);
        qb.push(" AND occurred >= ").push_bind(first);
        qb.push(" AND occurred <= ").push_bind(last);
        if let Some(v) = venue {
            qb.push(" AND venue_id = ").push_bind(v.0);
        }
        qb.push(" ORDER BY occurred DESC, id DESC");
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        let out = rows.iter().map(incident_row).collect::<Result<Vec<_>>>()?;
        self.audit(ctx, AuditAction::IncidentList, None, &format!("results={}", out.len())).await?;
        Ok(out)
    }
}

impl SqliteStore {
    /// The referrals of municipality `m` that `filter` names (not audited: the caller writes the line).
    pub(crate) async fn referrals_of(&self, m: MunicipalityId, filter: &ReferralFilter) -> Result<Vec<StoredReferral>> {
        let mut qb: QueryBuilder<'_, Sqlite> =
            QueryBuilder::new(format!("SELECT {REFERRAL_COLUMNS} FROM referrals r WHERE r.municipality_id = "));
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
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(referral_row).collect()
    }

    /// One referral of municipality `m` (not audited: the caller writes the line).
    async fn referral_of(&self, m: MunicipalityId, id: ReferralId) -> Result<Option<StoredReferral>> {
        sqlx::query(&format!("SELECT {REFERRAL_COLUMNS} FROM referrals r WHERE r.id = ? AND r.municipality_id = ?"))
            .bind(id.0)
            .bind(m.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?
            .as_ref()
            .map(referral_row)
            .transpose()
    }

    /// A referral's steps (not audited).
    async fn events_of(&self, m: MunicipalityId, id: ReferralId) -> Result<Vec<ReferralEvent>> {
        // In the order the steps were taken.
        let rows = sqlx::query(
            "SELECT action, by_account, at, note FROM referral_events WHERE referral_id = ? AND municipality_id = ? \
                 ORDER BY id",
        )
        .bind(id.0)
        .bind(m.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        let events: Vec<ReferralEvent> = rows
            .iter()
            .map(|r| {
                let at: String = r.try_get(2).map_err(db_err)?;
                Ok(ReferralEvent {
                    action: r.try_get(0).map_err(db_err)?,
                    by: AccountId(r.try_get(1).map_err(db_err)?),
                    at: ts(&at)?,
                    note: r.try_get(3).map_err(db_err)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(events)
    }
}

/// Books a slot in the caller's transaction, audited `followup.book`.
async fn insert_followup(
    store: &SqliteStore,
    tx: &mut SqliteConnection,
    ctx: &AuditContext,
    venue: VenueId,
    family: FamilyId,
    start: DateTime,
) -> Result<FollowupId> {
    let m = ctx.municipality_id;
    if !is_facility(&mut *tx, venue, m).await? {
        return Err(StoreError::InvalidReference("venue_id"));
    }
    if !in_municipality(&mut *tx, "families", family.0, m).await? {
        return Err(StoreError::InvalidReference("family_id"));
    }
    // The partial unique index (venue, start) of booked rows keeps one
    // family per slot.
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO followups (municipality_id, venue_id, family_id, start, status, booked_by, booked_at) \
         VALUES (?, ?, ?, ?, 'booked', ?, ?) RETURNING id",
    )
    .bind(m.0)
    .bind(venue.0)
    .bind(family.0)
    .bind(civil_text(start))
    .bind(ctx.actor.0)
    .bind(ts_text(ctx.at))
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
    conn: &mut SqliteConnection,
    m: MunicipalityId,
    venue: Option<VenueId>,
    family: Option<FamilyId>,
    range: DateRange,
) -> Result<Vec<Followup>> {
    let (first, last) = civil_bounds(range);
    let mut qb: QueryBuilder<'_, Sqlite> =
        QueryBuilder::new(format!("SELECT {FOLLOWUP_COLUMNS} FROM followups f WHERE f.municipality_id = "));
    qb.push_bind(m.0);
    qb.push(" AND f.start >= ").push_bind(first);
    qb.push(" AND f.start <= ").push_bind(last);
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
    conn: &mut SqliteConnection,
    m: MunicipalityId,
    family: FamilyId,
    venue: VenueId,
) -> Result<FollowupFacts> {
    let days: Vec<String> = sqlx::query_scalar(
        "SELECT stay_last FROM postpartum_applications WHERE municipality_id = ? AND family_id = ? \
         AND venue_id = ? AND status = 'approved' ORDER BY applied_at DESC, id DESC LIMIT 50",
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
