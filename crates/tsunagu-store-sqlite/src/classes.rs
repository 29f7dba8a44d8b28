//! Classes and programmes on SQLite [000][002][004]. Every write goes
//! through the single writer in a `BEGIN IMMEDIATE` transaction, so a
//! booking's read of the session and its conditional update of `taken` are
//! one step; the `CHECK (taken <= capacity)` stands behind it. Contacts are
//! settled through `timeline::record_outcome`, with its checks and line.

use super::timeline::{record_outcome_unaudited, today_of};
use super::{corrupt, date, db_err, in_municipality, is_unique_violation, other_err, ts, ts_text, Result};
use crate::audit::append_audit;
use crate::SqliteStore;
use async_trait::async_trait;
use jiff::civil::Time;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::classes::{Participation, ProgrammeConfig, ProgrammeKind, Stage};
use tsunagu_domain::keys::ChainKey;
use tsunagu_domain::timeline::{ContactForm, Outcome};
use tsunagu_domain::{
    AccountId, AreaId, BookingId, ClassSessionId, ContactId, FamilyId, MunicipalityId, PregnancyId, ProgrammeId,
    VenueId,
};
use tsunagu_store::{
    check_session_staff, once_key, session_edit_detail, session_staff_of, staff_change, AttendanceMark, ClassBooking,
    ClassBookingOutcome, ClassBookingOwner, ClassBookingStatus, ClassSession, ClassStore, FamilyBooking,
    NewClassBooking, NewSession, ParticipationRow, Programme, RosterEntry, SessionEdit, SessionQuery, SessionStaff,
    StoreError,
};

const SESSION_COLUMNS: &str = "s.id, s.municipality_id, s.programme_id, p.config, s.venue_id, v.name_ja, v.name_en, \
     v.area_id, s.day, s.starts, s.minutes, s.capacity, s.taken, s.cancelled, s.attendance_at, \
     (SELECT COUNT(*) FROM class_bookings w WHERE w.session_id = s.id AND w.status = 'waiting'), \
     (SELECT json_group_array(json_array(a.id, a.display_name)) FROM class_session_staff st \
      JOIN accounts a ON a.id = st.account_id AND a.municipality_id = st.municipality_id \
      WHERE st.session_id = s.id AND st.municipality_id = s.municipality_id)";
const SESSION_FROM: &str =
    " FROM class_sessions s JOIN class_programmes p ON p.id = s.programme_id JOIN venues v ON v.id = s.venue_id";

const BOOKING_COLUMNS: &str = "b.id, b.municipality_id, b.session_id, b.family_id, b.kind, b.stage, b.pregnancy_id, \
     b.status, b.contact_id, b.with_partner, b.share_name, b.override_rule, b.booked_at, b.promoted_at, \
     b.notice_pending, b.attended, b.weight_g, b.height_mm, b.moved_at, b.notice_seen_at";
const BOOKING_N: usize = 20;

fn time_text(t: Time) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

fn u32_of(v: i64, what: &'static str) -> Result<u32> {
    u32::try_from(v).map_err(|_| corrupt(what))
}

fn config_of(s: &str) -> Result<ProgrammeConfig> {
    serde_json::from_str(s).map_err(|_| corrupt("programme config"))
}

fn session_row(r: &SqliteRow, at: usize) -> Result<ClassSession> {
    let g = |i: usize| at + i;
    Ok(ClassSession {
        id: ClassSessionId(r.try_get(g(0)).map_err(db_err)?),
        municipality_id: MunicipalityId(r.try_get(g(1)).map_err(db_err)?),
        programme_id: ProgrammeId(r.try_get(g(2)).map_err(db_err)?),
        programme: config_of(&r.try_get::<String, _>(g(3)).map_err(db_err)?)?,
        venue_id: VenueId(r.try_get(g(4)).map_err(db_err)?),
        venue_name_ja: r.try_get(g(5)).map_err(db_err)?,
        venue_name_en: r.try_get(g(6)).map_err(db_err)?,
        area_id: r.try_get::<Option<i64>, _>(g(7)).map_err(db_err)?.map(AreaId),
        day: date(&r.try_get::<String, _>(g(8)).map_err(db_err)?)?,
        starts: r.try_get::<String, _>(g(9)).map_err(db_err)?.parse().map_err(|_| corrupt("starts"))?,
        minutes: u16::try_from(r.try_get::<i64, _>(g(10)).map_err(db_err)?).map_err(|_| corrupt("minutes"))?,
        capacity: u32_of(r.try_get(g(11)).map_err(db_err)?, "capacity")?,
        taken: u32_of(r.try_get(g(12)).map_err(db_err)?, "taken")?,
        cancelled: r.try_get(g(13)).map_err(db_err)?,
        attendance_at: r.try_get::<Option<String>, _>(g(14)).map_err(db_err)?.as_deref().map(ts).transpose()?,
        waiting: u32_of(r.try_get(g(15)).map_err(db_err)?, "waiting")?,
        staff: session_staff_of(r.try_get::<Option<String>, _>(g(16)).map_err(db_err)?.as_deref())
            .ok_or_else(|| corrupt("session staff"))?,
    })
}

fn booking_row(r: &SqliteRow) -> Result<ClassBooking> {
    let opt_u32 = |i: usize, what| -> Result<Option<u32>> {
        r.try_get::<Option<i64>, _>(i).map_err(db_err)?.map(|v| u32_of(v, what)).transpose()
    };
    Ok(ClassBooking {
        id: BookingId(r.try_get(0).map_err(db_err)?),
        municipality_id: MunicipalityId(r.try_get(1).map_err(db_err)?),
        session_id: ClassSessionId(r.try_get(2).map_err(db_err)?),
        family_id: FamilyId(r.try_get(3).map_err(db_err)?),
        kind: ProgrammeKind::parse(&r.try_get::<String, _>(4).map_err(db_err)?).ok_or_else(|| corrupt("kind"))?,
        stage: Stage::parse(&r.try_get::<String, _>(5).map_err(db_err)?).ok_or_else(|| corrupt("stage"))?,
        pregnancy_id: r.try_get::<Option<i64>, _>(6).map_err(db_err)?.map(PregnancyId),
        status: ClassBookingStatus::parse(&r.try_get::<String, _>(7).map_err(db_err)?)
            .ok_or_else(|| corrupt("status"))?,
        contact_id: r.try_get::<Option<i64>, _>(8).map_err(db_err)?.map(ContactId),
        with_partner: r.try_get(9).map_err(db_err)?,
        share_name: r.try_get(10).map_err(db_err)?,
        override_rule: r.try_get(11).map_err(db_err)?,
        booked_at: ts(&r.try_get::<String, _>(12).map_err(db_err)?)?,
        promoted_at: r.try_get::<Option<String>, _>(13).map_err(db_err)?.as_deref().map(ts).transpose()?,
        notice_pending: r.try_get(14).map_err(db_err)?,
        attended: r.try_get(15).map_err(db_err)?,
        weight_g: opt_u32(16, "weight_g")?,
        height_mm: opt_u32(17, "height_mm")?,
        moved_at: r.try_get::<Option<String>, _>(18).map_err(db_err)?.as_deref().map(ts).transpose()?,
        notice_seen_at: r.try_get::<Option<String>, _>(19).map_err(db_err)?.as_deref().map(ts).transpose()?,
    })
}

async fn booking_by_id(conn: &mut SqliteConnection, m: MunicipalityId, id: BookingId) -> Result<Option<ClassBooking>> {
    sqlx::query(&format!("SELECT {BOOKING_COLUMNS} FROM class_bookings b WHERE b.id = ? AND b.municipality_id = ?"))
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(booking_row)
        .transpose()
}

async fn session_in(
    conn: &mut SqliteConnection,
    m: MunicipalityId,
    id: ClassSessionId,
) -> Result<Option<ClassSession>> {
    sqlx::query(&format!("SELECT {SESSION_COLUMNS}{SESSION_FROM} WHERE s.id = ? AND s.municipality_id = ?"))
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(|r| session_row(r, 0))
        .transpose()
}

/// Makes `new` the session's staff (#12), each checked against the
/// municipality's accounts first; who was added and removed, if anyone.
async fn replace_staff(
    tx: &mut SqliteConnection,
    m: MunicipalityId,
    session: ClassSessionId,
    new: &[AccountId],
) -> Result<Option<(Vec<AccountId>, Vec<AccountId>)>> {
    let mut found: Vec<(i64, String, bool)> = Vec::with_capacity(new.len());
    for a in new {
        let row: Option<(i64, String, bool)> =
            sqlx::query_as("SELECT id, role, disabled FROM accounts WHERE id = ? AND municipality_id = ?")
                .bind(a.0)
                .bind(m.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        found.extend(row);
    }
    check_session_staff(new, &found)?;
    let old: Vec<i64> = sqlx::query_scalar(
        "SELECT account_id FROM class_session_staff WHERE session_id = ? AND municipality_id = ? ORDER BY account_id",
    )
    .bind(session.0)
    .bind(m.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    let old: Vec<AccountId> = old.into_iter().map(AccountId).collect();
    let Some((added, removed)) = staff_change(&old, new) else { return Ok(None) };
    for a in &removed {
        sqlx::query("DELETE FROM class_session_staff WHERE municipality_id = ? AND session_id = ? AND account_id = ?")
            .bind(m.0)
            .bind(session.0)
            .bind(a.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    for a in &added {
        sqlx::query("INSERT INTO class_session_staff (municipality_id, session_id, account_id) VALUES (?, ?, ?)")
            .bind(m.0)
            .bind(session.0)
            .bind(a.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    Ok(Some((added, removed)))
}

/// Gives free places to the waiting list, first come first served, each
/// promoted family left a notice. The caller's one audit line names them.
async fn promote(tx: &mut SqliteConnection, ctx: &AuditContext, session: ClassSessionId) -> Result<Vec<i64>> {
    let mut promoted = Vec::new();
    loop {
        let next = sqlx::query(
            "SELECT id FROM class_bookings WHERE session_id = ? AND status = 'waiting' AND municipality_id = ? ORDER BY id LIMIT 1",
        )
        .bind(session.0)
        .bind(ctx.municipality_id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(next) = next else { return Ok(promoted) };
        let id: i64 = next.try_get(0).map_err(db_err)?;
        let took = sqlx::query(
            "UPDATE class_sessions SET taken = taken + 1 WHERE id = ? AND cancelled = 0 AND taken < capacity \
             AND municipality_id = ?",
        )
        .bind(session.0)
        .bind(ctx.municipality_id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if took != 1 {
            return Ok(promoted);
        }
        sqlx::query(
            "UPDATE class_bookings SET status = 'confirmed', promoted_at = ?, notice_pending = 1 \
             WHERE id = ? AND municipality_id = ?",
        )
        .bind(ts_text(ctx.at))
        .bind(id)
        .bind(ctx.municipality_id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        promoted.push(id);
    }
}

async fn book(
    tx: &mut SqliteConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    b: &NewClassBooking,
) -> Result<ClassBookingOutcome> {
    let m = ctx.municipality_id;
    let earlier: Option<i64> =
        sqlx::query_scalar("SELECT id FROM class_bookings WHERE municipality_id = ? AND idempotency_key = ?")
            .bind(m.0)
            .bind(&b.idempotency_key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
    if let Some(id) = earlier {
        let booking = booking_by_id(tx, m, BookingId(id)).await?.ok_or(StoreError::NotFound)?;
        if booking.family_id != b.family_id || booking.session_id != b.session_id {
            return Err(StoreError::Conflict("idempotency_key_reused"));
        }
        ctx.covers(Some(booking.family_id))?;
        return Ok(ClassBookingOutcome { booking, replayed: true });
    }
    let session = session_in(tx, m, b.session_id).await?.ok_or(StoreError::NotFound)?;
    if session.cancelled {
        return Err(StoreError::Conflict("session_cancelled"));
    }
    if session.day < today_of(ctx) {
        return Err(StoreError::Conflict("session_past"));
    }
    if !in_municipality(tx, "families", b.family_id.0, m).await? {
        return Err(StoreError::InvalidReference("family_id"));
    }
    let live: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM class_bookings WHERE session_id = ? AND family_id = ? AND status <> 'cancelled' \
         AND municipality_id = ?",
    )
    .bind(b.session_id.0)
    .bind(b.family_id.0)
    .bind(m.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    if live.is_some() {
        return Err(StoreError::Conflict("already_booked"));
    }
    let once = once_key(&session.programme, b.family_id, &b.eligible);
    if let Some(k) = &once {
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM class_bookings WHERE municipality_id = ? AND once_key = ?")
                .bind(m.0)
                .bind(k)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if taken.is_some() {
            return Err(StoreError::Conflict("stage_already_taken"));
        }
    }
    let contact: Option<i64> = match (b.eligible.contact_kind(session.programme.kind), b.eligible.pregnancy_id) {
        (Some(kind), Some(p)) => sqlx::query_scalar(&format!(
            "SELECT id FROM contacts WHERE municipality_id = ? AND family_id = ? AND pregnancy_id = ? AND kind = {} \
             AND awaits = 1 ORDER BY id LIMIT 1",
            crate::kind_sql(kind)
        ))
        .bind(m.0)
        .bind(b.family_id.0)
        .bind(p.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?,
        _ => None,
    };
    let took = sqlx::query(
        "UPDATE class_sessions SET taken = taken + 1 WHERE id = ? AND cancelled = 0 AND taken < capacity \
             AND municipality_id = ?",
    )
    .bind(b.session_id.0)
    .bind(m.0)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .rows_affected();
    let status = match (took, b.join_waiting_list) {
        (1, _) => ClassBookingStatus::Confirmed,
        (_, true) => ClassBookingStatus::Waiting,
        (_, false) => return Err(StoreError::Conflict("session_full")),
    };
    let (rule, reason) = match &b.override_rule {
        Some((rule, reason)) => (Some(*rule), reason.as_str()),
        None => (None, ""),
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO class_bookings (municipality_id, session_id, family_id, kind, stage, pregnancy_id, status, \
         contact_id, with_partner, share_name, idempotency_key, once_key, override_rule, override_reason, booked_by, \
         booked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(m.0)
    .bind(b.session_id.0)
    .bind(b.family_id.0)
    .bind(session.programme.kind.as_str())
    .bind(b.eligible.stage.as_str())
    .bind(b.eligible.pregnancy_id.map(|p| p.0))
    .bind(status.as_str())
    .bind(contact)
    .bind(b.with_partner)
    .bind(b.share_name)
    .bind(&b.idempotency_key)
    .bind(&once)
    .bind(rule)
    .bind(reason)
    .bind(ctx.actor.0)
    .bind(ts_text(ctx.at))
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("already_booked") } else { db_err(e) })?;
    // One line: a booking staff made over a rule is the override's line, naming the rule.
    let line = match rule {
        Some(rule) => (
            AuditAction::ClassOverride,
            format!("booking={id} session={} status={} rule={rule}", b.session_id.0, status.as_str()),
        ),
        None => (AuditAction::ClassBook, format!("booking={id} session={} status={}", b.session_id.0, status.as_str())),
    };
    append_audit(tx, key, ctx, line.0, Some(b.family_id), &line.1).await?;
    let booking = booking_by_id(tx, m, BookingId(id)).await?.ok_or(StoreError::NotFound)?;
    Ok(ClassBookingOutcome { booking, replayed: false })
}

/// A family's bookings (every state) with their sessions, by session day.
async fn bookings_of(conn: &mut SqliteConnection, m: MunicipalityId, family: FamilyId) -> Result<Vec<FamilyBooking>> {
    let rows = sqlx::query(&format!(
        "SELECT {BOOKING_COLUMNS}, {SESSION_COLUMNS} FROM class_bookings b JOIN class_sessions s ON s.id = b.session_id \
         JOIN class_programmes p ON p.id = s.programme_id JOIN venues v ON v.id = s.venue_id \
         WHERE b.family_id = ? AND b.municipality_id = ? ORDER BY s.day, s.starts, b.id"
    ))
    .bind(family.0)
    .bind(m.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    rows.iter().map(|r| Ok(FamilyBooking { booking: booking_row(r)?, session: session_row(r, BOOKING_N)? })).collect()
}

async fn cancel(
    tx: &mut SqliteConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    family: FamilyId,
    id: BookingId,
) -> Result<ClassBooking> {
    let m = ctx.municipality_id;
    let booking = booking_by_id(tx, m, id).await?.filter(|b| b.family_id == family).ok_or(StoreError::NotFound)?;
    if booking.status == ClassBookingStatus::Cancelled {
        return Err(StoreError::Conflict("booking_cancelled"));
    }
    if booking.attended.is_some() {
        return Err(StoreError::Conflict("attendance_recorded"));
    }
    sqlx::query(
        "UPDATE class_bookings SET status = 'cancelled', cancelled_at = ?, once_key = NULL, notice_pending = 0 \
         WHERE id = ? AND municipality_id = ?",
    )
    .bind(ts_text(ctx.at))
    .bind(id.0)
    .bind(m.0)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    let mut promoted = vec![];
    if booking.status == ClassBookingStatus::Confirmed {
        sqlx::query("UPDATE class_sessions SET taken = taken - 1 WHERE id = ? AND municipality_id = ?")
            .bind(booking.session_id.0)
            .bind(m.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        promoted = promote(tx, ctx, booking.session_id).await?;
    }
    // One line: the cancellation, and the waiting family it promoted (the
    // service's step, named here rather than written as a second action).
    let mut detail = format!("booking={} session={}", id.0, booking.session_id.0);
    for p in promoted {
        detail.push_str(&format!(" promoted={p}"));
    }
    append_audit(tx, key, ctx, AuditAction::ClassCancel, Some(family), &detail).await?;
    booking_by_id(tx, m, id).await?.ok_or(StoreError::NotFound)
}

async fn attendance(
    tx: &mut SqliteConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    session: ClassSessionId,
    marks: &[AttendanceMark],
) -> Result<()> {
    let m = ctx.municipality_id;
    let s = session_in(tx, m, session).await?.ok_or(StoreError::NotFound)?;
    let measures = s.programme.measures;
    let note = format!("{} {}", s.programme.name_ja, s.day);
    let (mut attended, mut closed, mut marked) = (0usize, Vec::new(), String::new());
    for mark in marks {
        let booking = booking_by_id(tx, m, mark.booking_id)
            .await?
            .filter(|b| b.session_id == session && b.status == ClassBookingStatus::Confirmed)
            .ok_or(StoreError::InvalidReference("booking_id"))?;
        let weight = mark.weight_g.filter(|_| mark.attended && measures.weighs());
        let height = mark.height_mm.filter(|_| mark.attended && measures.measures_height());
        sqlx::query(
            "UPDATE class_bookings SET attended = ?, weight_g = ?, height_mm = ?, \
             once_key = CASE WHEN ? THEN once_key ELSE NULL END WHERE id = ? AND municipality_id = ?",
        )
        .bind(mark.attended)
        .bind(weight.map(i64::from))
        .bind(height.map(i64::from))
        .bind(mark.attended)
        .bind(booking.id.0)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        attended += usize::from(mark.attended);
        marked.push_str(&format!(" booking={}:{}", booking.id.0, if mark.attended { "came" } else { "absent" }));
        if let (true, Some(contact)) = (mark.attended, booking.contact_id) {
            let awaits: bool = sqlx::query_scalar("SELECT awaits FROM contacts WHERE id = ? AND municipality_id = ?")
                .bind(contact.0)
                .bind(m.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
            if awaits {
                let done = Outcome::Done { form: ContactForm::Group };
                record_outcome_unaudited(tx, ctx, contact, &done, &note).await?;
                closed.push(contact.0);
            }
        }
    }
    sqlx::query("UPDATE class_sessions SET attendance_by = ?, attendance_at = ? WHERE id = ? AND municipality_id = ?")
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
        .bind(session.0)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    // One line for the whole roster: who was marked, and the owed contacts
    // closed through the timeline's path (written here, not as lines of their own).
    let mut detail = format!("session={} marks={} attended={attended}{marked}", session.0, marks.len());
    for c in closed {
        detail.push_str(&format!(" contact_done={c}"));
    }
    append_audit(tx, key, ctx, AuditAction::ClassAttendance, None, &detail).await?;
    Ok(())
}

#[async_trait]
impl ClassStore for SqliteStore {
    async fn create_programme(&self, m: MunicipalityId, config: &ProgrammeConfig) -> Result<Programme> {
        let json = serde_json::to_string(config).map_err(other_err)?;
        let mut tx = self.begin_immediate().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO class_programmes (municipality_id, kind, config, created_at) VALUES (?, ?, ?, \
             strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) RETURNING id",
        )
        .bind(m.0)
        .bind(config.kind.as_str())
        .bind(json)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Programme { id: ProgrammeId(id), municipality_id: m, config: config.clone() })
    }

    async fn programmes(&self, m: MunicipalityId) -> Result<Vec<Programme>> {
        let rows = sqlx::query("SELECT id, config FROM class_programmes WHERE municipality_id = ? ORDER BY id")
            .bind(m.0)
            .fetch_all(&self.reader)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(Programme {
                    id: ProgrammeId(r.try_get(0).map_err(db_err)?),
                    municipality_id: m,
                    config: config_of(&r.try_get::<String, _>(1).map_err(db_err)?)?,
                })
            })
            .collect()
    }

    async fn update_programme(&self, m: MunicipalityId, id: ProgrammeId, config: &ProgrammeConfig) -> Result<()> {
        let json = serde_json::to_string(config).map_err(other_err)?;
        let mut tx = self.begin_immediate().await?;
        let changed =
            sqlx::query("UPDATE class_programmes SET config = ?, kind = ? WHERE id = ? AND municipality_id = ?")
                .bind(json)
                .bind(config.kind.as_str())
                .bind(id.0)
                .bind(m.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
        if changed != 1 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db_err)
    }

    async fn configure_programme(&self, ctx: &AuditContext, id: ProgrammeId, config: &ProgrammeConfig) -> Result<()> {
        let json = serde_json::to_string(config).map_err(other_err)?;
        let mut tx = self.begin_immediate().await?;
        let changed =
            sqlx::query("UPDATE class_programmes SET config = ?, kind = ? WHERE id = ? AND municipality_id = ?")
                .bind(json)
                .bind(config.kind.as_str())
                .bind(id.0)
                .bind(ctx.municipality_id.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
        if changed != 1 {
            return Err(StoreError::NotFound);
        }
        let detail = format!("programme={} kind={}", id.0, config.kind.as_str());
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::ClassProgramme, None, &detail).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn create_class_sessions(
        &self,
        m: MunicipalityId,
        programme: ProgrammeId,
        sessions: &[NewSession],
    ) -> Result<Vec<ClassSessionId>> {
        let mut tx = self.begin_immediate().await?;
        if !in_municipality(&mut tx, "class_programmes", programme.0, m).await? {
            return Err(StoreError::InvalidReference("programme_id"));
        }
        let mut ids = Vec::with_capacity(sessions.len());
        for s in sessions {
            if !in_municipality(&mut tx, "venues", s.venue_id.0, m).await? {
                return Err(StoreError::InvalidReference("venue_id"));
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO class_sessions (municipality_id, programme_id, venue_id, day, starts, minutes, capacity, \
                 created_at) VALUES (?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) RETURNING id",
            )
            .bind(m.0)
            .bind(programme.0)
            .bind(s.venue_id.0)
            .bind(s.day.to_string())
            .bind(time_text(s.starts))
            .bind(i64::from(s.minutes))
            .bind(i64::from(s.capacity))
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            ids.push(ClassSessionId(id));
        }
        tx.commit().await.map_err(db_err)?;
        Ok(ids)
    }

    async fn generate_class_sessions(
        &self,
        ctx: &AuditContext,
        programme: ProgrammeId,
        sessions: &[NewSession],
    ) -> Result<tsunagu_store::GeneratedSessions> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        if !in_municipality(&mut tx, "class_programmes", programme.0, m).await? {
            return Err(StoreError::InvalidReference("programme_id"));
        }
        let mut out = tsunagu_store::GeneratedSessions::default();
        let mut venues_seen: Vec<VenueId> = Vec::new();
        for s in sessions {
            if !venues_seen.contains(&s.venue_id) {
                if !in_municipality(&mut tx, "venues", s.venue_id.0, m).await? {
                    return Err(StoreError::InvalidReference("venue_id"));
                }
                venues_seen.push(s.venue_id);
            }
            // The natural key: the programme's session at this venue on this day.
            let there: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM class_sessions WHERE municipality_id = ? AND programme_id = ? AND venue_id = ? AND day = ? LIMIT 1",
            )
            .bind(m.0)
            .bind(programme.0)
            .bind(s.venue_id.0)
            .bind(s.day.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            if there.is_some() {
                out.already_there = out.already_there.saturating_add(1);
                continue;
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO class_sessions (municipality_id, programme_id, venue_id, day, starts, minutes, capacity, \
                 created_at) VALUES (?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) RETURNING id",
            )
            .bind(m.0)
            .bind(programme.0)
            .bind(s.venue_id.0)
            .bind(s.day.to_string())
            .bind(time_text(s.starts))
            .bind(i64::from(s.minutes))
            .bind(i64::from(s.capacity))
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            out.created.push(ClassSessionId(id));
        }
        let detail =
            format!("programme={} created={} already_there={}", programme.0, out.created.len(), out.already_there);
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::ClassSchedule, None, &detail).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn class_offer_facts(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
    ) -> Result<(tsunagu_domain::records::FamilyRecord, Vec<FamilyBooking>)> {
        ctx.covers(Some(family))?;
        let m = ctx.municipality_id;
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        let record = crate::records::family_record(&mut conn, m, family).await?.ok_or(StoreError::NotFound)?;
        let bookings = bookings_of(&mut conn, m, family).await?;
        drop(conn);
        self.audit(ctx, AuditAction::ClassList, Some(family), &format!("offers bookings={}", bookings.len())).await?;
        Ok((record, bookings))
    }

    async fn class_staff_choices(&self, m: MunicipalityId) -> Result<Vec<SessionStaff>> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT id, display_name, role FROM accounts WHERE municipality_id = ? AND disabled = 0 \
             ORDER BY display_name, id",
        )
        .bind(m.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .filter(|(_, _, role)| {
                tsunagu_domain::roles::Role::parse(role).is_some_and(tsunagu_domain::policy::may_staff_class_sessions)
            })
            .map(|(id, display_name, _)| SessionStaff { account_id: AccountId(id), display_name })
            .collect())
    }

    async fn edit_class_session(&self, ctx: &AuditContext, id: ClassSessionId, edit: &SessionEdit) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        let (taken, day, starts, venue): (i64, String, String, i64) = sqlx::query_as(
            "SELECT taken, day, starts, venue_id FROM class_sessions WHERE id = ? AND municipality_id = ?",
        )
        .bind(id.0)
        .bind(ctx.municipality_id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        if i64::from(edit.capacity) < taken {
            return Err(StoreError::Conflict("capacity_below_taken"));
        }
        let new_venue = edit.venue_id.filter(|v| v.0 != venue);
        if let Some(v) = new_venue {
            if !in_municipality(&mut tx, "venues", v.0, ctx.municipality_id).await? {
                return Err(StoreError::InvalidReference("venue_id"));
            }
            sqlx::query("UPDATE class_sessions SET venue_id = ? WHERE id = ? AND municipality_id = ?")
                .bind(v.0)
                .bind(id.0)
                .bind(ctx.municipality_id.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        let mut told = 0;
        if day != edit.day.to_string() || starts != time_text(edit.starts) || new_venue.is_some() {
            // The booked families are told the new time on their page.
            told = sqlx::query(
                "UPDATE class_bookings SET notice_pending = 1, moved_at = ? WHERE session_id = ? \
                 AND municipality_id = ? AND status <> 'cancelled'",
            )
            .bind(ts_text(ctx.at))
            .bind(id.0)
            .bind(ctx.municipality_id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        }
        sqlx::query(
            "UPDATE class_sessions SET day = ?, starts = ?, minutes = ?, capacity = ?, cancelled = ? WHERE id = ? \
             AND municipality_id = ?",
        )
        .bind(edit.day.to_string())
        .bind(time_text(edit.starts))
        .bind(i64::from(edit.minutes))
        .bind(i64::from(edit.capacity))
        .bind(edit.cancelled)
        .bind(id.0)
        .bind(ctx.municipality_id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        // One line for the edit (#12): the families told and the waiting
        // bookings given the new places are named in it.
        let promoted = promote(&mut tx, ctx, id).await?;
        let staff = match &edit.staff {
            Some(new) => replace_staff(&mut tx, ctx.municipality_id, id, new).await?,
            None => None,
        };
        let detail = session_edit_detail(id, told, &promoted, staff.as_ref().map(|(a, r)| (&a[..], &r[..])));
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::ClassSessionEdit, None, &detail).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn cancel_class_session(&self, ctx: &AuditContext, id: ClassSessionId) -> Result<Vec<BookingId>> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        let session = session_in(&mut tx, m, id).await?.ok_or(StoreError::NotFound)?;
        if session.cancelled {
            return Err(StoreError::Conflict("session_cancelled"));
        }
        if session.attendance_at.is_some() {
            return Err(StoreError::Conflict("attendance_recorded"));
        }
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM class_bookings WHERE session_id = ? AND municipality_id = ? AND status <> 'cancelled' ORDER BY id",
        )
        .bind(id.0)
        .bind(m.0)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "UPDATE class_bookings SET status = 'cancelled', cancelled_at = ?, once_key = NULL, \
             notice_pending = 1, contact_id = NULL WHERE session_id = ? AND municipality_id = ? AND status <> 'cancelled'",
        )
        .bind(ts_text(ctx.at))
        .bind(id.0)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query("UPDATE class_sessions SET cancelled = 1, taken = 0 WHERE id = ? AND municipality_id = ?")
            .bind(id.0)
            .bind(m.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let mut detail = format!("session={} cancelled", id.0);
        for b in &ids {
            detail.push_str(&format!(" booking={b}"));
        }
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::ClassCancel, None, &detail).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(ids.into_iter().map(BookingId).collect())
    }

    async fn class_sessions(&self, m: MunicipalityId, q: &SessionQuery) -> Result<Vec<ClassSession>> {
        let mut qb: QueryBuilder<'_, Sqlite> =
            QueryBuilder::new(format!("SELECT {SESSION_COLUMNS}{SESSION_FROM} WHERE s.municipality_id = "));
        qb.push_bind(m.0);
        if let Some(from) = q.from {
            qb.push(" AND s.day >= ").push_bind(from.to_string());
        }
        if let Some(to) = q.to {
            qb.push(" AND s.day <= ").push_bind(to.to_string());
        }
        if let Some(area) = q.area {
            qb.push(" AND v.area_id = ").push_bind(area.0);
        }
        if let Some(kind) = q.kind {
            qb.push(" AND p.kind = ").push_bind(kind.as_str());
        }
        if let Some(venues) = &q.venues {
            qb.push(" AND (s.venue_id IN (NULL");
            for v in venues {
                qb.push(", ").push_bind(v.0);
            }
            qb.push(")");
            if let Some(a) = q.or_staffed_by {
                qb.push(
                    " OR EXISTS (SELECT 1 FROM class_session_staff st WHERE st.municipality_id = s.municipality_id \
                     AND st.session_id = s.id AND st.account_id = ",
                )
                .push_bind(a.0)
                .push(")");
            }
            qb.push(")");
        }
        qb.push(" ORDER BY s.day, s.starts, s.id LIMIT ").push_bind(i64::from(q.limit.clamp(1, 1000)));
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(|r| session_row(r, 0)).collect()
    }

    async fn class_session(&self, m: MunicipalityId, id: ClassSessionId) -> Result<Option<ClassSession>> {
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        session_in(&mut conn, m, id).await
    }

    async fn family_class_bookings(&self, ctx: &AuditContext, family: FamilyId) -> Result<Vec<FamilyBooking>> {
        ctx.covers(Some(family))?;
        let rows = sqlx::query(&format!(
            "SELECT {BOOKING_COLUMNS}, {SESSION_COLUMNS} FROM class_bookings b JOIN class_sessions s ON s.id = b.session_id \
             JOIN class_programmes p ON p.id = s.programme_id JOIN venues v ON v.id = s.venue_id \
             WHERE b.family_id = ? AND b.municipality_id = ? ORDER BY s.day, s.starts, b.id"
        ))
        .bind(family.0)
        .bind(ctx.municipality_id.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        let out = rows
            .iter()
            .map(|r| Ok(FamilyBooking { booking: booking_row(r)?, session: session_row(r, BOOKING_N)? }))
            .collect::<Result<Vec<_>>>()?;
        self.audit(ctx, AuditAction::ClassList, Some(family), &format!("bookings={}", out.len())).await?;
        Ok(out)
    }

    async fn book_class(&self, ctx: &AuditContext, b: &NewClassBooking) -> Result<ClassBookingOutcome> {
        let mut tx = self.begin_immediate().await?;
        let out = book(&mut tx, &self.keys.chain, ctx, b).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn book_class_checked(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        check: &tsunagu_store::ClassBookingCheck<'_>,
    ) -> Result<ClassBookingOutcome> {
        ctx.covers(Some(family))?;
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        let record = crate::records::family_record(&mut tx, m, family).await?.ok_or(StoreError::NotFound)?;
        let bookings = bookings_of(&mut tx, m, family).await?;
        let b = check(&record, &bookings)?;
        if b.family_id != family {
            return Err(StoreError::InvalidReference("family_id"));
        }
        let out = book(&mut tx, &self.keys.chain, ctx, &b).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn cancel_class_booking(&self, ctx: &AuditContext, family: FamilyId, id: BookingId) -> Result<ClassBooking> {
        let mut tx = self.begin_immediate().await?;
        let out = cancel(&mut tx, &self.keys.chain, ctx, family, id).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn class_booking_owner(&self, m: MunicipalityId, id: BookingId) -> Result<Option<ClassBookingOwner>> {
        let r = sqlx::query(
            "SELECT b.family_id, b.session_id, s.venue_id FROM class_bookings b JOIN class_sessions s ON s.id = b.session_id \
             WHERE b.id = ? AND b.municipality_id = ?",
        )
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        r.map(|r| {
            Ok(ClassBookingOwner {
                family_id: FamilyId(r.try_get(0).map_err(db_err)?),
                session_id: ClassSessionId(r.try_get(1).map_err(db_err)?),
                venue_id: VenueId(r.try_get(2).map_err(db_err)?),
            })
        })
        .transpose()
    }

    async fn class_roster(&self, ctx: &AuditContext, session: ClassSessionId) -> Result<Vec<RosterEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {BOOKING_COLUMNS}, COALESCE((SELECT p.family_name || ' ' || p.given_name FROM people p \
             WHERE p.family_id = b.family_id AND p.relation = 'mother' ORDER BY p.id LIMIT 1), '') \
             FROM class_bookings b WHERE b.session_id = ? AND b.municipality_id = ? AND b.status <> 'cancelled' \
             ORDER BY CASE b.status WHEN 'confirmed' THEN 0 ELSE 1 END, b.id"
        ))
        .bind(session.0)
        .bind(ctx.municipality_id.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        let mut position = 0u32;
        for r in &rows {
            let booking = booking_row(r)?;
            let name: String = r.try_get(BOOKING_N).map_err(db_err)?;
            let waiting_position = (booking.status == ClassBookingStatus::Waiting).then(|| {
                position += 1;
                position
            });
            let name = booking.share_name.then_some(name);
            out.push(RosterEntry { booking, name, waiting_position });
        }
        self.audit(ctx, AuditAction::ClassRoster, None, &format!("session={} bookings={}", session.0, out.len()))
            .await?;
        Ok(out)
    }

    async fn record_class_attendance(
        &self,
        ctx: &AuditContext,
        session: ClassSessionId,
        marks: &[AttendanceMark],
    ) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        attendance(&mut tx, &self.keys.chain, ctx, session, marks).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn class_participation(
        &self,
        m: MunicipalityId,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<Vec<ParticipationRow>> {
        // Per session first (held: attendance recorded, not cancelled), then per venue and kind.
        let rows = sqlx::query(
            "SELECT s.venue_id, v.name_ja, v.name_en, p.kind, COUNT(DISTINCT s.id), \
             COALESCE(SUM(CASE WHEN b.attended = 1 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN b.attended = 1 AND b.with_partner = 1 THEN 1 ELSE 0 END), 0) \
             FROM class_sessions s JOIN class_programmes p ON p.id = s.programme_id JOIN venues v ON v.id = s.venue_id \
             LEFT JOIN class_bookings b ON b.session_id = s.id AND b.status = 'confirmed' \
             WHERE s.municipality_id = ? AND s.day >= ? AND s.day <= ? AND s.attendance_at IS NOT NULL AND s.cancelled = 0 \
             GROUP BY s.venue_id, v.name_ja, v.name_en, p.kind ORDER BY v.name_ja, p.kind",
        )
        .bind(m.0)
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let n = |i: usize, what| -> Result<u32> { u32_of(r.try_get::<i64, _>(i).map_err(db_err)?, what) };
                let (groups, couples) = (n(5, "groups")?, n(6, "couples")?);
                Ok(ParticipationRow {
                    venue_id: VenueId(r.try_get(0).map_err(db_err)?),
                    venue_name_ja: r.try_get(1).map_err(db_err)?,
                    venue_name_en: r.try_get(2).map_err(db_err)?,
                    kind: ProgrammeKind::parse(&r.try_get::<String, _>(3).map_err(db_err)?)
                        .ok_or_else(|| corrupt("kind"))?,
                    figures: Participation {
                        sessions: n(4, "sessions")?,
                        groups,
                        people: groups.saturating_add(couples),
                        couples,
                    },
                })
            })
            .collect()
    }

    async fn dismiss_class_notice(&self, ctx: &AuditContext, family: FamilyId, id: BookingId) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        let changed = sqlx::query(
            "UPDATE class_bookings SET notice_pending = 0, notice_seen_at = ? WHERE id = ? AND family_id = ? \
             AND municipality_id = ?",
        )
        .bind(ts_text(ctx.at))
        .bind(id.0)
        .bind(family.0)
        .bind(ctx.municipality_id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if changed != 1 {
            return Err(StoreError::NotFound);
        }
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::ClassBook,
            Some(family),
            &format!("booking={} notice=seen", id.0),
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }
}
