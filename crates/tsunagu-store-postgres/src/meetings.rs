//! Handbook meetings and 8th-month group sessions on PostgreSQL [002]:
//! `MeetingStore` and its SQL. The same
//! behaviour as the SQLite store's module; contacts are settled through
//! `timeline::record_outcome` (same checks, same audit line). What differs
//! is how concurrent writers are kept apart:
//! - a meeting's uniqueness is the table's key (a second insert waits for
//!   the first, then fails); the contacts it settles are locked in id order
//!   as they are chosen, and one settled meanwhile drops out of the choice;
//! - a session's members are held shared while it is written, and a
//!   pregnancy's single membership is the members table's key;
//! - attendance locks its session row, then the members' contacts in id order.

use super::timeline::{contact_row, record_outcome};
use super::{
    corrupt, date, db_err, filter_municipality, get, in_municipality, is_unique_violation, push_filter, ts, ts_param,
    PgStore, Table,
};
use crate::audit::append_audit;
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::timeline::{ContactForm, ContactKind, DueMonth, Outcome};
use tsunagu_domain::{
    AccountId, AreaId, ContactId, FamilyId, GroupSessionId, HandbookMeetingId, MunicipalityId, PregnancyId,
};
use tsunagu_store::MeetingStore;
use tsunagu_store::{
    GroupCandidate, GroupSession, HandbookEntry, HandbookMeeting, NewGroupSession, NewHandbookMeeting, Result,
    SessionMember, StoreError,
};

fn month(s: &str) -> Result<DueMonth> {
    DueMonth::parse(s).ok_or_else(|| corrupt("month"))
}

// --- handbook meetings -------------------------------------------------------------

pub(crate) async fn handbook_list(
    store: &PgStore,
    ctx: &AuditContext,
    filter: &FamilyFilter,
    area: AreaId,
    m: DueMonth,
) -> Result<Vec<HandbookEntry>> {
    let mid = filter_municipality(filter);
    if mid != ctx.municipality_id {
        return Err(StoreError::InvalidReference("municipality"));
    }
    let mut conn = store.pool.acquire().await.map_err(db_err)?;
    let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(concat!(
        "SELECT ",
        contact_columns!(),
        ", ",
        date_col!("p.notified_on"),
        " AS notified_on, ",
        date_col!("p.edd"),
        " AS edd, p.foetuses, p.first_child, f.consent_coordinators \
         FROM pregnancies p JOIN contacts c ON c.pregnancy_id = p.id JOIN families f ON f.id = c.family_id \
         WHERE p.municipality_id = "
    ));
    qb.push_bind(mid.0);
    qb.push(" AND p.notified_on >= ").push_bind(m.first_day().to_string()).push("::date");
    qb.push(" AND p.notified_on <= ").push_bind(m.last_day().to_string()).push("::date");
    qb.push(" AND c.municipality_id = ").push_bind(mid.0);
    qb.push(" AND c.kind = ").push_bind(ContactKind::HandbookMeeting.as_str());
    qb.push(" AND c.ending IS NULL AND f.area_id = ").push_bind(area.0);
    push_filter(&mut qb, filter);
    qb.push(" ORDER BY p.notified_on, p.id");
    let rows = qb.build().fetch_all(&mut *conn).await.map_err(db_err)?;
    let out = rows
        .iter()
        .map(|r| {
            Ok(HandbookEntry {
                contact: contact_row(r)?,
                notified_on: date(&get::<String>(r, "notified_on")?)?,
                edd: date(&get::<String>(r, "edd")?)?,
                foetuses: u8::try_from(get::<i16>(r, "foetuses")?).map_err(|_| corrupt("foetuses"))?,
                first_child: get(r, "first_child")?,
                consent_coordinators: get(r, "consent_coordinators")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let detail = format!("area={} month={m} results={}", area.0, out.len());
    drop(conn);
    store.audit_read(ctx, AuditAction::HandbookList, None, &detail).await?;
    Ok(out)
}

macro_rules! meeting_columns {
    () => {
        concat!(
            "id, municipality_id, area_id, month, ",
            date_col!("held_on"),
            " AS held_on, note, contacts_done, recorded_by, ",
            ts_col!("recorded_at"),
            " AS recorded_at"
        )
    };
}

fn meeting_row(r: &PgRow) -> Result<HandbookMeeting> {
    Ok(HandbookMeeting {
        id: HandbookMeetingId(get(r, "id")?),
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        area_id: AreaId(get(r, "area_id")?),
        month: month(&get::<String>(r, "month")?)?,
        held_on: date(&get::<String>(r, "held_on")?)?,
        note: get(r, "note")?,
        contacts_done: u32::try_from(get::<i32>(r, "contacts_done")?).map_err(|_| corrupt("count"))?,
        recorded_by: AccountId(get(r, "recorded_by")?),
        recorded_at: ts(&get::<String>(r, "recorded_at")?)?,
    })
}

pub(crate) async fn handbook_meetings(
    store: &PgStore,
    m: MunicipalityId,
    area: AreaId,
    from: DueMonth,
    to: DueMonth,
) -> Result<Vec<HandbookMeeting>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        meeting_columns!(),
        " FROM handbook_meetings WHERE municipality_id = $1 AND area_id = $2 AND month >= $3 AND month <= $4 \
         ORDER BY month"
    ))
    .bind(m.0)
    .bind(area.0)
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(&store.pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(meeting_row).collect()
}

pub(crate) async fn record_handbook_meeting(
    store: &PgStore,
    ctx: &AuditContext,
    new: &NewHandbookMeeting,
) -> Result<HandbookMeeting> {
    let m = ctx.municipality_id;
    let mut tx = store.pool.begin().await.map_err(db_err)?;
    if !in_municipality(&mut tx, Table::Areas, new.area_id.0, m).await? {
        return Err(StoreError::InvalidReference("area_id"));
    }
    let inserted: std::result::Result<i64, sqlx::Error> = sqlx::query_scalar(
        "INSERT INTO handbook_meetings (municipality_id, area_id, month, held_on, note, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4::date, $5, $6, $7::timestamptz) RETURNING id",
    )
    .bind(m.0)
    .bind(new.area_id.0)
    .bind(new.month.to_string())
    .bind(new.held_on.to_string())
    .bind(&new.note)
    .bind(ctx.actor.0)
    .bind(ts_param(ctx.at))
    .fetch_one(&mut *tx)
    .await;
    let id = match inserted {
        Ok(id) => HandbookMeetingId(id),
        Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("meeting_recorded")),
        Err(e) => return Err(db_err(e)),
    };
    // Locked as chosen, in id order; one settled meanwhile no longer matches.
    let contacts: Vec<i64> = sqlx::query_scalar(
        "SELECT c.id FROM pregnancies p JOIN contacts c ON c.pregnancy_id = p.id \
         JOIN families f ON f.id = c.family_id \
         WHERE p.municipality_id = $1 AND p.notified_on >= $2::date AND p.notified_on <= $3::date \
         AND c.municipality_id = $1 AND c.kind = $4 AND c.awaits AND f.area_id = $5 \
         ORDER BY c.id FOR UPDATE OF c",
    )
    .bind(m.0)
    .bind(new.month.first_day().to_string())
    .bind(new.month.last_day().to_string())
    .bind(ContactKind::HandbookMeeting.as_str())
    .bind(new.area_id.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    let done = Outcome::Done { form: ContactForm::Group };
    let note = format!("母子手帳会議 {}", new.month);
    for c in &contacts {
        record_outcome(&mut tx, &store.keys.chain, ctx, ContactId(*c), &done, &note).await?;
    }
    let count = i32::try_from(contacts.len()).map_err(|_| corrupt("count"))?;
    let row = sqlx::query(concat!(
        "UPDATE handbook_meetings SET contacts_done = $1 WHERE id = $2 AND municipality_id = $3 RETURNING ",
        meeting_columns!()
    ))
    .bind(count)
    .bind(id.0)
    .bind(m.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let detail = format!("meeting={} area={} month={} contacts={count}", id.0, new.area_id.0, new.month);
    append_audit(&mut tx, &store.keys.chain, ctx, AuditAction::HandbookMeeting, None, &detail).await?;
    let out = meeting_row(&row)?;
    tx.commit().await.map_err(db_err)?;
    Ok(out)
}

// --- 8th-month group sessions ------------------------------------------------------------

pub(crate) async fn group_candidates(
    store: &PgStore,
    ctx: &AuditContext,
    filter: &FamilyFilter,
    due: DueMonth,
) -> Result<Vec<GroupCandidate>> {
    let mid = filter_municipality(filter);
    if mid != ctx.municipality_id {
        return Err(StoreError::InvalidReference("municipality"));
    }
    let mut conn = store.pool.acquire().await.map_err(db_err)?;
    let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(concat!(
        "SELECT ",
        contact_columns!(),
        ", ",
        date_col!("p.edd"),
        " AS edd FROM pregnancies p JOIN contacts c ON c.pregnancy_id = p.id \
         JOIN families f ON f.id = c.family_id WHERE p.municipality_id = "
    ));
    qb.push_bind(mid.0);
    qb.push(" AND p.edd >= ").push_bind(due.first_day().to_string()).push("::date");
    qb.push(" AND p.edd <= ").push_bind(due.last_day().to_string()).push("::date");
    qb.push(" AND c.municipality_id = ").push_bind(mid.0);
    qb.push(" AND c.kind = ").push_bind(ContactKind::EighthMonthInterview.as_str());
    qb.push(" AND c.awaits AND NOT EXISTS (SELECT 1 FROM group_session_members g WHERE g.pregnancy_id = p.id)");
    push_filter(&mut qb, filter);
    qb.push(" ORDER BY f.area_id, p.edd, p.id");
    let rows = qb.build().fetch_all(&mut *conn).await.map_err(db_err)?;
    let out = rows
        .iter()
        .map(|r| Ok(GroupCandidate { contact: contact_row(r)?, edd: date(&get::<String>(r, "edd")?)? }))
        .collect::<Result<Vec<_>>>()?;
    let detail = format!("candidates due_month={due} results={}", out.len());
    drop(conn);
    store.audit_read(ctx, AuditAction::GroupList, None, &detail).await?;
    Ok(out)
}

pub(crate) async fn create_group_session(
    store: &PgStore,
    ctx: &AuditContext,
    s: &NewGroupSession,
) -> Result<GroupSessionId> {
    let m = ctx.municipality_id;
    let mut tx = store.pool.begin().await.map_err(db_err)?;
    if !in_municipality(&mut tx, Table::Areas, s.area_id.0, m).await? {
        return Err(StoreError::InvalidReference("area_id"));
    }
    // Each member is still a candidate of this area and due month; her
    // contact is held so that it cannot be settled while she is invited.
    let mut members: Vec<(PregnancyId, FamilyId, ContactId)> = Vec::with_capacity(s.members.len());
    for p in &s.members {
        let row = sqlx::query(
            "SELECT c.id, c.family_id FROM pregnancies p JOIN contacts c ON c.pregnancy_id = p.id \
             JOIN families f ON f.id = c.family_id \
             WHERE p.id = $1 AND p.municipality_id = $2 AND p.edd >= $3::date AND p.edd <= $4::date \
             AND c.kind = $5 AND c.awaits AND f.area_id = $6 FOR SHARE OF c",
        )
        .bind(p.0)
        .bind(m.0)
        .bind(s.due_month.first_day().to_string())
        .bind(s.due_month.last_day().to_string())
        .bind(ContactKind::EighthMonthInterview.as_str())
        .bind(s.area_id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::Conflict("member_not_eligible"))?;
        members.push((*p, FamilyId(get(&row, "family_id")?), ContactId(get(&row, "id")?)));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO group_sessions (municipality_id, area_id, due_month, day, place, created_by, created_at) \
         VALUES ($1, $2, $3, $4::date, $5, $6, $7::timestamptz) RETURNING id",
    )
    .bind(m.0)
    .bind(s.area_id.0)
    .bind(s.due_month.to_string())
    .bind(s.day.to_string())
    .bind(&s.place)
    .bind(ctx.actor.0)
    .bind(ts_param(ctx.at))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    for (p, family, contact) in &members {
        let inserted = sqlx::query(
            "INSERT INTO group_session_members (session_id, municipality_id, pregnancy_id, family_id, contact_id) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(m.0)
        .bind(p.0)
        .bind(family.0)
        .bind(contact.0)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("already_in_session")),
            Err(e) => return Err(db_err(e)),
        }
    }
    // The audit lines after every insert: a session that loses a member to
    // another one waits on that member's key, never while holding the chain.
    for (p, family, _) in &members {
        let detail = format!("session={id} pregnancy={} invited", p.0);
        append_audit(&mut tx, &store.keys.chain, ctx, AuditAction::GroupSession, Some(*family), &detail).await?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(GroupSessionId(id))
}

/// Which sessions to read.
pub(crate) enum Which {
    Month(DueMonth),
    One(GroupSessionId),
}

async fn read_sessions(tx: &mut PgConnection, filter: &FamilyFilter, which: &Which) -> Result<Vec<GroupSession>> {
    let mid = filter_municipality(filter);
    let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(concat!(
        "SELECT s.id, s.municipality_id, s.area_id, s.due_month, ",
        date_col!("s.day"),
        " AS day, s.place, s.created_by, ",
        ts_col!("s.created_at"),
        " AS created_at, s.attendance_by, ",
        ts_col!("s.attendance_at"),
        " AS attendance_at, (SELECT COUNT(*) FROM group_session_members g WHERE g.session_id = s.id) AS members \
         FROM group_sessions s WHERE s.municipality_id = "
    ));
    qb.push_bind(mid.0);
    match which {
        Which::Month(m) => qb.push(" AND s.due_month = ").push_bind(m.to_string()),
        Which::One(id) => qb.push(" AND s.id = ").push_bind(id.0),
    };
    // A coordinator sees the sessions of her areas.
    if let FamilyFilter::ConsentingInAreas(_, areas) = filter {
        qb.push(" AND s.area_id = ANY(").push_bind(areas.iter().map(|a| a.0).collect::<Vec<i64>>()).push(")");
    }
    qb.push(" ORDER BY s.day, s.id");
    let rows = qb.build().fetch_all(&mut *tx).await.map_err(db_err)?;
    let mut sessions = rows
        .iter()
        .map(|r| {
            let attendance_at: Option<String> = get(r, "attendance_at")?;
            Ok(GroupSession {
                id: GroupSessionId(get(r, "id")?),
                municipality_id: MunicipalityId(get(r, "municipality_id")?),
                area_id: AreaId(get(r, "area_id")?),
                due_month: month(&get::<String>(r, "due_month")?)?,
                day: date(&get::<String>(r, "day")?)?,
                place: get(r, "place")?,
                created_by: AccountId(get(r, "created_by")?),
                created_at: ts(&get::<String>(r, "created_at")?)?,
                attendance_by: get::<Option<i64>>(r, "attendance_by")?.map(AccountId),
                attendance_at: attendance_at.as_deref().map(ts).transpose()?,
                member_count: u32::try_from(get::<i64>(r, "members")?).map_err(|_| corrupt("count"))?,
                members: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if sessions.is_empty() {
        return Ok(sessions);
    }
    let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(concat!(
        "SELECT ",
        contact_columns!(),
        ", ",
        date_col!("p.edd"),
        " AS edd, g.attended, g.session_id FROM group_session_members g \
         JOIN contacts c ON c.id = g.contact_id JOIN pregnancies p ON p.id = g.pregnancy_id \
         JOIN families f ON f.id = g.family_id WHERE g.municipality_id = "
    ));
    qb.push_bind(mid.0);
    qb.push(" AND g.session_id = ANY(").push_bind(sessions.iter().map(|s| s.id.0).collect::<Vec<i64>>()).push(")");
    push_filter(&mut qb, filter);
    qb.push(" ORDER BY p.edd, p.id");
    for r in qb.build().fetch_all(&mut *tx).await.map_err(db_err)? {
        let session = GroupSessionId(get(&r, "session_id")?);
        let member = SessionMember {
            contact: contact_row(&r)?,
            edd: date(&get::<String>(&r, "edd")?)?,
            attended: get(&r, "attended")?,
        };
        if let Some(s) = sessions.iter_mut().find(|s| s.id == session) {
            s.members.push(member);
        }
    }
    Ok(sessions)
}

/// Sessions as the filter lets the reader see them, audited `group.list`
/// (one session: only when it was found).
pub(crate) async fn group_sessions(
    store: &PgStore,
    ctx: &AuditContext,
    filter: &FamilyFilter,
    which: Which,
) -> Result<Vec<GroupSession>> {
    if filter_municipality(filter) != ctx.municipality_id {
        return Err(StoreError::InvalidReference("municipality"));
    }
    let mut conn = store.pool.acquire().await.map_err(db_err)?;
    let out = read_sessions(&mut conn, filter, &which).await?;
    drop(conn);
    let members: usize = out.iter().map(|s| s.members.len()).sum();
    let detail = match which {
        Which::Month(m) => Some(format!("sessions due_month={m} results={} members={members}", out.len())),
        Which::One(id) if !out.is_empty() => Some(format!("session={} members={members}", id.0)),
        Which::One(_) => None,
    };
    if let Some(detail) = detail {
        store.audit_read(ctx, AuditAction::GroupList, None, &detail).await?;
    }
    Ok(out)
}

pub(crate) async fn record_attendance(
    store: &PgStore,
    ctx: &AuditContext,
    id: GroupSessionId,
    attended: &[PregnancyId],
) -> Result<()> {
    let m = ctx.municipality_id;
    let mut tx = store.pool.begin().await.map_err(db_err)?;
    let row = sqlx::query(concat!(
        "SELECT ",
        date_col!("day"),
        " AS day, attendance_at IS NOT NULL AS recorded FROM group_sessions \
         WHERE id = $1 AND municipality_id = $2 FOR UPDATE"
    ))
    .bind(id.0)
    .bind(m.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound)?;
    let day: String = get(&row, "day")?;
    if get::<bool>(&row, "recorded")? {
        return Err(StoreError::Conflict("attendance_recorded"));
    }
    let members = sqlx::query(
        "SELECT g.pregnancy_id, g.family_id, g.contact_id, c.awaits FROM group_session_members g \
         JOIN contacts c ON c.id = g.contact_id AND c.municipality_id = g.municipality_id \
         WHERE g.session_id = $1 AND g.municipality_id = $2 ORDER BY g.contact_id FOR UPDATE OF c",
    )
    .bind(id.0)
    .bind(m.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| {
        Ok((
            PregnancyId(get(r, "pregnancy_id")?),
            FamilyId(get(r, "family_id")?),
            ContactId(get(r, "contact_id")?),
            get::<bool>(r, "awaits")?,
        ))
    })
    .collect::<Result<Vec<_>>>()?;
    if attended.iter().any(|p| !members.iter().any(|(q, ..)| q == p)) {
        return Err(StoreError::InvalidReference("attended"));
    }
    let done = Outcome::Done { form: ContactForm::Group };
    let note = format!("妊娠8か月面談（集団） {day}");
    for (p, family, contact, awaits) in &members {
        let came = attended.contains(p);
        sqlx::query(
            "UPDATE group_session_members SET attended = $1 \
             WHERE session_id = $2 AND pregnancy_id = $3 AND municipality_id = $4",
        )
        .bind(came)
        .bind(id.0)
        .bind(p.0)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let detail = format!("session={} pregnancy={} attended={came}", id.0, p.0);
        append_audit(&mut tx, &store.keys.chain, ctx, AuditAction::GroupAttendance, Some(*family), &detail).await?;
        // Somebody may have recorded an individual interview meanwhile: keep it.
        if came && *awaits {
            record_outcome(&mut tx, &store.keys.chain, ctx, *contact, &done, &note).await?;
        }
    }
    sqlx::query(
        "UPDATE group_sessions SET attendance_by = $1, attendance_at = $2::timestamptz \
         WHERE id = $3 AND municipality_id = $4",
    )
    .bind(ctx.actor.0)
    .bind(ts_param(ctx.at))
    .bind(id.0)
    .bind(m.0)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)
}

#[async_trait]
impl MeetingStore for PgStore {
    async fn handbook_list(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        area: AreaId,
        month: tsunagu_domain::timeline::DueMonth,
    ) -> Result<Vec<tsunagu_store::HandbookEntry>> {
        handbook_list(self, ctx, filter, area, month).await
    }

    async fn handbook_meetings(
        &self,
        m: MunicipalityId,
        area: AreaId,
        from: tsunagu_domain::timeline::DueMonth,
        to: tsunagu_domain::timeline::DueMonth,
    ) -> Result<Vec<tsunagu_store::HandbookMeeting>> {
        handbook_meetings(self, m, area, from, to).await
    }

    async fn record_handbook_meeting(
        &self,
        ctx: &AuditContext,
        meeting: &tsunagu_store::NewHandbookMeeting,
    ) -> Result<tsunagu_store::HandbookMeeting> {
        record_handbook_meeting(self, ctx, meeting).await
    }

    async fn group_candidates(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        due_month: tsunagu_domain::timeline::DueMonth,
    ) -> Result<Vec<tsunagu_store::GroupCandidate>> {
        group_candidates(self, ctx, filter, due_month).await
    }

    async fn create_group_session(
        &self,
        ctx: &AuditContext,
        s: &tsunagu_store::NewGroupSession,
    ) -> Result<tsunagu_domain::GroupSessionId> {
        create_group_session(self, ctx, s).await
    }

    async fn group_sessions(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        due_month: tsunagu_domain::timeline::DueMonth,
    ) -> Result<Vec<tsunagu_store::GroupSession>> {
        group_sessions(self, ctx, filter, Which::Month(due_month)).await
    }

    async fn group_session(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        id: tsunagu_domain::GroupSessionId,
    ) -> Result<Option<tsunagu_store::GroupSession>> {
        Ok(group_sessions(self, ctx, filter, Which::One(id)).await?.into_iter().next())
    }

    async fn record_attendance(
        &self,
        ctx: &AuditContext,
        id: tsunagu_domain::GroupSessionId,
        attended: &[PregnancyId],
    ) -> Result<()> {
        record_attendance(self, ctx, id, attended).await
    }
}
