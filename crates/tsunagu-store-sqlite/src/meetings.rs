//! Handbook meetings and 8th-month group sessions on SQLite [002]: the
//! month's handbook list, the meetings, the group candidates, sessions and
//! attendance. Contacts are settled through `timeline::record_outcome`, so
//! each one gets the same checks and audit line as one recorded by hand.

use super::timeline::{contact_row, record_outcome, CONTACT_COLUMNS};
use super::{
    corrupt, date, db_err, filter_municipality, in_municipality, is_unique_violation, push_filter, ts, ts_text, Result,
};
use crate::audit::append_audit;
use crate::SqliteStore;
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::keys::ChainKey;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::timeline::{ContactForm, ContactKind, DueMonth, Outcome};
use tsunagu_domain::{
    AccountId, AreaId, ContactId, FamilyId, GroupSessionId, HandbookMeetingId, MunicipalityId, PregnancyId,
};
use tsunagu_store::MeetingStore;
use tsunagu_store::{
    GroupCandidate, GroupSession, HandbookEntry, HandbookMeeting, NewGroupSession, NewHandbookMeeting, SessionMember,
    StoreError,
};

/// The number of columns `CONTACT_COLUMNS` reads; extra columns follow.
const C: usize = 23;

fn month(s: &str) -> Result<DueMonth> {
    DueMonth::parse(s).ok_or_else(|| corrupt("month"))
}

// --- handbook meetings -------------------------------------------------------------

pub(crate) async fn handbook_list(
    conn: &mut SqliteConnection,
    filter: &FamilyFilter,
    area: AreaId,
    m: DueMonth,
) -> Result<Vec<HandbookEntry>> {
    let mid = filter_municipality(filter);
    let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
        "SELECT {CONTACT_COLUMNS}, p.notified_on, p.edd, p.foetuses, p.first_child, f.consent_coordinators \
         FROM pregnancies p JOIN contacts c ON c.pregnancy_id = p.id JOIN families f ON f.id = c.family_id \
         WHERE p.municipality_id = "
    ));
    qb.push_bind(mid.0);
    qb.push(" AND p.notified_on >= ").push_bind(m.first_day().to_string());
    qb.push(" AND p.notified_on <= ").push_bind(m.last_day().to_string());
    qb.push(" AND c.municipality_id = ").push_bind(mid.0);
    qb.push(" AND c.kind = ").push(crate::kind_sql(ContactKind::HandbookMeeting));
    qb.push(" AND c.ending IS NULL AND f.area_id = ").push_bind(area.0);
    push_filter(&mut qb, filter);
    qb.push(" ORDER BY p.notified_on, p.id");
    let rows = qb.build().fetch_all(&mut *conn).await.map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(HandbookEntry {
                contact: contact_row(r)?,
                notified_on: date(&r.try_get::<String, _>(C).map_err(db_err)?)?,
                edd: date(&r.try_get::<String, _>(C + 1).map_err(db_err)?)?,
                foetuses: u8::try_from(r.try_get::<i64, _>(C + 2).map_err(db_err)?).map_err(|_| corrupt("foetuses"))?,
                first_child: r.try_get(C + 3).map_err(db_err)?,
                consent_coordinators: r.try_get(C + 4).map_err(db_err)?,
            })
        })
        .collect()
}

const MEETING_COLUMNS: &str =
    "id, municipality_id, area_id, month, held_on, note, contacts_done, recorded_by, recorded_at";

fn meeting_row(r: &SqliteRow) -> Result<HandbookMeeting> {
    Ok(HandbookMeeting {
        id: HandbookMeetingId(r.try_get(0).map_err(db_err)?),
        municipality_id: MunicipalityId(r.try_get(1).map_err(db_err)?),
        area_id: AreaId(r.try_get(2).map_err(db_err)?),
        month: month(&r.try_get::<String, _>(3).map_err(db_err)?)?,
        held_on: date(&r.try_get::<String, _>(4).map_err(db_err)?)?,
        note: r.try_get(5).map_err(db_err)?,
        contacts_done: u32::try_from(r.try_get::<i64, _>(6).map_err(db_err)?).map_err(|_| corrupt("count"))?,
        recorded_by: AccountId(r.try_get(7).map_err(db_err)?),
        recorded_at: ts(&r.try_get::<String, _>(8).map_err(db_err)?)?,
    })
}

pub(crate) async fn handbook_meetings(
    conn: &mut SqliteConnection,
    m: MunicipalityId,
    area: AreaId,
    from: DueMonth,
    to: DueMonth,
) -> Result<Vec<HandbookMeeting>> {
    let rows = sqlx::query(&format!(
        "SELECT {MEETING_COLUMNS} FROM handbook_meetings WHERE municipality_id = ? AND area_id = ? \
         AND month >= ? AND month <= ? ORDER BY month"
    ))
    .bind(m.0)
    .bind(area.0)
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    rows.iter().map(meeting_row).collect()
}

/// Records a meeting inside `tx` and settles the month's contacts of the area.
pub(crate) async fn record_handbook_meeting(
    tx: &mut SqliteConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    new: &NewHandbookMeeting,
) -> Result<HandbookMeeting> {
    let m = ctx.municipality_id;
    if !in_municipality(tx, "areas", new.area_id.0, m).await? {
        return Err(StoreError::InvalidReference("area_id"));
    }
    let inserted = sqlx::query(
        "INSERT INTO handbook_meetings (municipality_id, area_id, month, held_on, note, recorded_by, recorded_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(m.0)
    .bind(new.area_id.0)
    .bind(new.month.to_string())
    .bind(new.held_on.to_string())
    .bind(&new.note)
    .bind(ctx.actor.0)
    .bind(ts_text(ctx.at))
    .execute(&mut *tx)
    .await;
    let id = match inserted {
        Ok(r) => HandbookMeetingId(r.last_insert_rowid()),
        Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("meeting_recorded")),
        Err(e) => return Err(db_err(e)),
    };
    let contacts: Vec<i64> = sqlx::query_scalar(&format!(
        "SELECT c.id FROM pregnancies p JOIN contacts c ON c.pregnancy_id = p.id \
         JOIN families f ON f.id = c.family_id \
         WHERE p.municipality_id = ? AND p.notified_on >= ? AND p.notified_on <= ? \
         AND c.municipality_id = ? AND c.kind = {} AND c.awaits = 1 AND f.area_id = ? ORDER BY c.id",
        crate::kind_sql(ContactKind::HandbookMeeting)
    ))
    .bind(m.0)
    .bind(new.month.first_day().to_string())
    .bind(new.month.last_day().to_string())
    .bind(m.0)
    .bind(new.area_id.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    let done = Outcome::Done { form: ContactForm::Group };
    let note = format!("母子手帳会議 {}", new.month);
    for c in &contacts {
        record_outcome(tx, key, ctx, ContactId(*c), &done, &note).await?;
    }
    sqlx::query("UPDATE handbook_meetings SET contacts_done = ? WHERE id = ? AND municipality_id = ?")
        .bind(contacts.len() as i64)
        .bind(id.0)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    let detail = format!("meeting={} area={} month={} contacts={}", id.0, new.area_id.0, new.month, contacts.len());
    append_audit(tx, key, ctx, AuditAction::HandbookMeeting, None, &detail).await?;
    let row =
        sqlx::query(&format!("SELECT {MEETING_COLUMNS} FROM handbook_meetings WHERE id = ? AND municipality_id = ?"))
            .bind(id.0)
            .bind(m.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
    meeting_row(&row)
}

// --- 8th-month group sessions ------------------------------------------------------------

pub(crate) async fn group_candidates(
    conn: &mut SqliteConnection,
    filter: &FamilyFilter,
    due: DueMonth,
) -> Result<Vec<GroupCandidate>> {
    let mid = filter_municipality(filter);
    let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
        "SELECT {CONTACT_COLUMNS}, p.edd FROM pregnancies p JOIN contacts c ON c.pregnancy_id = p.id \
         JOIN families f ON f.id = c.family_id WHERE p.municipality_id = "
    ));
    qb.push_bind(mid.0);
    qb.push(" AND p.edd >= ").push_bind(due.first_day().to_string());
    qb.push(" AND p.edd <= ").push_bind(due.last_day().to_string());
    qb.push(" AND c.municipality_id = ").push_bind(mid.0);
    qb.push(" AND c.kind = ").push(crate::kind_sql(ContactKind::EighthMonthInterview));
    qb.push(" AND c.awaits = 1 AND NOT EXISTS (SELECT 1 FROM group_session_members g WHERE g.pregnancy_id = p.id)");
    push_filter(&mut qb, filter);
    qb.push(" ORDER BY f.area_id, p.edd, p.id");
    let rows = qb.build().fetch_all(&mut *conn).await.map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(GroupCandidate { contact: contact_row(r)?, edd: date(&r.try_get::<String, _>(C).map_err(db_err)?)? })
        })
        .collect()
}

/// Confirms a session inside `tx`.
pub(crate) async fn create_group_session(
    tx: &mut SqliteConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    s: &NewGroupSession,
) -> Result<GroupSessionId> {
    let m = ctx.municipality_id;
    if !in_municipality(tx, "areas", s.area_id.0, m).await? {
        return Err(StoreError::InvalidReference("area_id"));
    }
    // Each member is still a candidate of this area and due month.
    let mut members: Vec<(PregnancyId, FamilyId, ContactId)> = Vec::with_capacity(s.members.len());
    for p in &s.members {
        let row = sqlx::query(&format!(
            "SELECT c.id, c.family_id FROM pregnancies p JOIN contacts c ON c.pregnancy_id = p.id \
             JOIN families f ON f.id = c.family_id \
             WHERE p.id = ? AND p.municipality_id = ? AND p.edd >= ? AND p.edd <= ? AND c.kind = {} \
             AND c.awaits = 1 AND f.area_id = ?",
            crate::kind_sql(ContactKind::EighthMonthInterview)
        ))
        .bind(p.0)
        .bind(m.0)
        .bind(s.due_month.first_day().to_string())
        .bind(s.due_month.last_day().to_string())
        .bind(s.area_id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::Conflict("member_not_eligible"))?;
        members.push((*p, FamilyId(row.try_get(1).map_err(db_err)?), ContactId(row.try_get(0).map_err(db_err)?)));
    }
    let id = sqlx::query(
        "INSERT INTO group_sessions (municipality_id, area_id, due_month, day, place, created_by, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(m.0)
    .bind(s.area_id.0)
    .bind(s.due_month.to_string())
    .bind(s.day.to_string())
    .bind(&s.place)
    .bind(ctx.actor.0)
    .bind(ts_text(ctx.at))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .last_insert_rowid();
    for (p, family, contact) in &members {
        let inserted = sqlx::query(
            "INSERT INTO group_session_members (session_id, municipality_id, pregnancy_id, family_id, contact_id) \
             VALUES (?, ?, ?, ?, ?)",
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
        append_audit(tx, key, ctx, AuditAction::GroupSession, Some(*family), &detail).await?;
    }
    Ok(GroupSessionId(id))
}

/// Which sessions to read.
pub(crate) enum Which {
    Month(DueMonth),
    One(GroupSessionId),
}

pub(crate) async fn read_sessions(
    conn: &mut SqliteConnection,
    filter: &FamilyFilter,
    which: Which,
) -> Result<Vec<GroupSession>> {
    let mid = filter_municipality(filter);
    let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
        "SELECT s.id, s.municipality_id, s.area_id, s.due_month, s.day, s.place, s.created_by, s.created_at, \
         s.attendance_by, s.attendance_at, \
         (SELECT COUNT(*) FROM group_session_members g WHERE g.session_id = s.id) \
         FROM group_sessions s WHERE s.municipality_id = ",
    );
    qb.push_bind(mid.0);
    match which {
        Which::Month(m) => qb.push(" AND s.due_month = ").push_bind(m.to_string()),
        Which::One(id) => qb.push(" AND s.id = ").push_bind(id.0),
    };
    // A coordinator sees the sessions of her areas.
    if let FamilyFilter::ConsentingInAreas(_, areas) = filter {
        qb.push(" AND s.area_id IN (");
        let mut sep = qb.separated(", ");
        for a in areas {
            sep.push_bind(a.0);
        }
        qb.push(")");
    }
    qb.push(" ORDER BY s.day, s.id");
    let rows = qb.build().fetch_all(&mut *conn).await.map_err(db_err)?;
    let mut sessions = rows
        .iter()
        .map(|r| {
            let attendance_at: Option<String> = r.try_get(9).map_err(db_err)?;
            Ok(GroupSession {
                id: GroupSessionId(r.try_get(0).map_err(db_err)?),
                municipality_id: MunicipalityId(r.try_get(1).map_err(db_err)?),
                area_id: AreaId(r.try_get(2).map_err(db_err)?),
                due_month: month(&r.try_get::<String, _>(3).map_err(db_err)?)?,
                day: date(&r.try_get::<String, _>(4).map_err(db_err)?)?,
                place: r.try_get(5).map_err(db_err)?,
                created_by: AccountId(r.try_get(6).map_err(db_err)?),
                created_at: ts(&r.try_get::<String, _>(7).map_err(db_err)?)?,
                attendance_by: r.try_get::<Option<i64>, _>(8).map_err(db_err)?.map(AccountId),
                attendance_at: attendance_at.as_deref().map(ts).transpose()?,
                member_count: u32::try_from(r.try_get::<i64, _>(10).map_err(db_err)?).map_err(|_| corrupt("count"))?,
                members: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if sessions.is_empty() {
        return Ok(sessions);
    }
    let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
        "SELECT {CONTACT_COLUMNS}, p.edd, g.attended, g.session_id FROM group_session_members g \
         JOIN contacts c ON c.id = g.contact_id JOIN pregnancies p ON p.id = g.pregnancy_id \
         JOIN families f ON f.id = g.family_id WHERE g.municipality_id = "
    ));
    qb.push_bind(mid.0);
    qb.push(" AND g.session_id IN (");
    let mut sep = qb.separated(", ");
    for s in &sessions {
        sep.push_bind(s.id.0);
    }
    qb.push(")");
    push_filter(&mut qb, filter);
    qb.push(" ORDER BY p.edd, p.id");
    for r in qb.build().fetch_all(&mut *conn).await.map_err(db_err)? {
        let session = GroupSessionId(r.try_get(C + 2).map_err(db_err)?);
        let member = SessionMember {
            contact: contact_row(&r)?,
            edd: date(&r.try_get::<String, _>(C).map_err(db_err)?)?,
            attended: r.try_get(C + 1).map_err(db_err)?,
        };
        if let Some(s) = sessions.iter_mut().find(|s| s.id == session) {
            s.members.push(member);
        }
    }
    Ok(sessions)
}

/// Records attendance inside `tx`.
pub(crate) async fn record_attendance(
    tx: &mut SqliteConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    id: GroupSessionId,
    attended: &[PregnancyId],
) -> Result<()> {
    let m = ctx.municipality_id;
    let row = sqlx::query("SELECT day, attendance_at FROM group_sessions WHERE id = ? AND municipality_id = ?")
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
    let day: String = row.try_get(0).map_err(db_err)?;
    if row.try_get::<Option<String>, _>(1).map_err(db_err)?.is_some() {
        return Err(StoreError::Conflict("attendance_recorded"));
    }
    let members = sqlx::query(
        "SELECT g.pregnancy_id, g.family_id, g.contact_id, c.awaits FROM group_session_members g \
         JOIN contacts c ON c.id = g.contact_id AND c.municipality_id = g.municipality_id \
         WHERE g.session_id = ? AND g.municipality_id = ? ORDER BY g.pregnancy_id",
    )
    .bind(id.0)
    .bind(m.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| {
        Ok((
            PregnancyId(r.try_get(0).map_err(db_err)?),
            FamilyId(r.try_get(1).map_err(db_err)?),
            ContactId(r.try_get(2).map_err(db_err)?),
            r.try_get::<bool, _>(3).map_err(db_err)?,
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
            "UPDATE group_session_members SET attended = ? \
             WHERE session_id = ? AND pregnancy_id = ? AND municipality_id = ?",
        )
        .bind(came)
        .bind(id.0)
        .bind(p.0)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let detail = format!("session={} pregnancy={} attended={came}", id.0, p.0);
        append_audit(tx, key, ctx, AuditAction::GroupAttendance, Some(*family), &detail).await?;
        // Somebody may have recorded an individual interview meanwhile: keep it.
        if came && *awaits {
            record_outcome(tx, key, ctx, *contact, &done, &note).await?;
        }
    }
    sqlx::query("UPDATE group_sessions SET attendance_by = ?, attendance_at = ? WHERE id = ? AND municipality_id = ?")
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
        .bind(id.0)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl MeetingStore for SqliteStore {
    async fn handbook_list(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        area: AreaId,
        month: DueMonth,
    ) -> Result<Vec<HandbookEntry>> {
        if filter_municipality(filter) != ctx.municipality_id {
            return Err(StoreError::InvalidReference("municipality"));
        }
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        let rows = handbook_list(&mut conn, filter, area, month).await?;
        drop(conn);
        let detail = format!("area={} month={month} results={}", area.0, rows.len());
        self.audit(ctx, AuditAction::HandbookList, None, &detail).await?;
        Ok(rows)
    }

    async fn handbook_meetings(
        &self,
        m: MunicipalityId,
        area: AreaId,
        from: DueMonth,
        to: DueMonth,
    ) -> Result<Vec<HandbookMeeting>> {
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        handbook_meetings(&mut conn, m, area, from, to).await
    }

    async fn record_handbook_meeting(
        &self,
        ctx: &AuditContext,
        meeting: &NewHandbookMeeting,
    ) -> Result<HandbookMeeting> {
        let mut tx = self.begin_immediate().await?;
        let out = record_handbook_meeting(&mut tx, &self.keys.chain, ctx, meeting).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn group_candidates(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        due_month: DueMonth,
    ) -> Result<Vec<GroupCandidate>> {
        if filter_municipality(filter) != ctx.municipality_id {
            return Err(StoreError::InvalidReference("municipality"));
        }
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        let rows = group_candidates(&mut conn, filter, due_month).await?;
        drop(conn);
        let detail = format!("candidates due_month={due_month} results={}", rows.len());
        self.audit(ctx, AuditAction::GroupList, None, &detail).await?;
        Ok(rows)
    }

    async fn create_group_session(&self, ctx: &AuditContext, s: &NewGroupSession) -> Result<GroupSessionId> {
        let mut tx = self.begin_immediate().await?;
        let id = create_group_session(&mut tx, &self.keys.chain, ctx, s).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(id)
    }

    async fn group_sessions(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        due_month: DueMonth,
    ) -> Result<Vec<GroupSession>> {
        if filter_municipality(filter) != ctx.municipality_id {
            return Err(StoreError::InvalidReference("municipality"));
        }
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        let out = read_sessions(&mut conn, filter, Which::Month(due_month)).await?;
        drop(conn);
        let members: usize = out.iter().map(|s| s.members.len()).sum();
        let detail = format!("sessions due_month={due_month} results={} members={members}", out.len());
        self.audit(ctx, AuditAction::GroupList, None, &detail).await?;
        Ok(out)
    }

    async fn group_session(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        id: GroupSessionId,
    ) -> Result<Option<GroupSession>> {
        if filter_municipality(filter) != ctx.municipality_id {
            return Err(StoreError::InvalidReference("municipality"));
        }
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        let out = read_sessions(&mut conn, filter, Which::One(id)).await?.into_iter().next();
        drop(conn);
        if let Some(s) = &out {
            let detail = format!("session={} members={}", id.0, s.members.len());
            self.audit(ctx, AuditAction::GroupList, None, &detail).await?;
        }
        Ok(out)
    }

    async fn record_attendance(&self, ctx: &AuditContext, id: GroupSessionId, attended: &[PregnancyId]) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        record_attendance(&mut tx, &self.keys.chain, ctx, id, attended).await?;
        tx.commit().await.map_err(db_err)
    }
}
