//! The timeline on SQLite: contacts built and kept in line by
//! `tsunagu_domain::timeline::reconcile` inside the transaction that changes
//! a pregnancy's facts, the work lists as index range scans over the
//! contacts still awaiting work, and the daily missed-marking job.

use super::{corrupt, date, db_err, opt_date, ts, ts_text, Result};
use crate::audit::append_audit;
use crate::records::{baby_row, pregnancy_row, BABY_COLUMNS, PREGNANCY_COLUMNS};
use crate::{filter_municipality, SqliteStore};
use async_trait::async_trait;
use jiff::civil::Date;
use jiff::ToSpan;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::clock::japan_date;
use tsunagu_domain::keys::ChainKey;
use tsunagu_domain::notes::{self, NoteAudience};
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::timeline::dates::week_of;
use tsunagu_domain::timeline::{
    append_note, awaits_work, missed_on, reconcile, record_over, CloseReason, ContactChange, ContactKind, Ending,
    KindSet, Nature, Outcome, StoredContact, Subject, TimelineFacts, Window, MAX_DUE_TO_CLOSE_DAYS, RULES_VERSION,
};
use tsunagu_domain::{AccountId, AreaId, ContactId, FamilyId, MunicipalityId, PregnancyId};
use tsunagu_store::{ContactOwner, MissedRun, PregnancyChange, PregnancyCheck, TimelineStore};
use tsunagu_store::{ContactRow, StoreError, WorkCounts, WorkList, WorkListQuery, WorkScope};

pub(crate) const CONTACT_COLUMNS: &str = "c.id, c.pregnancy_id, c.kind, c.subject_kind, c.subject_id, c.opens, \
     c.due, c.closes, c.outcome, c.form, c.attempts, c.ending, c.hidden, c.municipality_id, c.family_id, c.area_id, \
     c.outcome_note, c.outcome_by, c.outcome_at, c.missed_on, \
     COALESCE((SELECT p.family_name || ' ' || p.given_name FROM people p WHERE p.family_id = c.family_id \
     AND p.relation = 'mother' ORDER BY p.id LIMIT 1), '') AS mother_name, c.outcome_note_audience, c.contacted_on";

pub(crate) fn contact_row(r: &SqliteRow) -> Result<ContactRow> {
    let kind: String = r.try_get(2).map_err(db_err)?;
    let kind = ContactKind::parse(&kind).ok_or_else(|| corrupt("contact kind"))?;
    let subject_kind: String = r.try_get(3).map_err(db_err)?;
    let subject = Subject::parse(&subject_kind, r.try_get(4).map_err(db_err)?).ok_or_else(|| corrupt("subject"))?;
    let window = Window::new(
        date(&r.try_get::<String, _>(5).map_err(db_err)?)?,
        date(&r.try_get::<String, _>(6).map_err(db_err)?)?,
        date(&r.try_get::<String, _>(7).map_err(db_err)?)?,
    )
    .map_err(|_| corrupt("contact window"))?;
    let outcome: Option<String> = r.try_get(8).map_err(db_err)?;
    let form: Option<String> = r.try_get(9).map_err(db_err)?;
    let attempts: i64 = r.try_get(10).map_err(db_err)?;
    let outcome = outcome
        .map(|o| Outcome::from_stored(&o, form.as_deref(), attempts).ok_or_else(|| corrupt("outcome")))
        .transpose()?;
    let ending: Option<String> = r.try_get(11).map_err(db_err)?;
    let hidden: bool = r.try_get(12).map_err(db_err)?;
    let ending = ending
        .map(|e| CloseReason::parse(&e).map(|reason| Ending { reason, hidden }).ok_or_else(|| corrupt("ending")))
        .transpose()?;
    let outcome_at: Option<String> = r.try_get(18).map_err(db_err)?;
    Ok(ContactRow {
        contact: StoredContact {
            id: ContactId(r.try_get(0).map_err(db_err)?),
            pregnancy: PregnancyId(r.try_get(1).map_err(db_err)?),
            kind,
            subject,
            window,
            outcome,
            ending,
        },
        municipality_id: MunicipalityId(r.try_get(13).map_err(db_err)?),
        family_id: FamilyId(r.try_get(14).map_err(db_err)?),
        area_id: AreaId(r.try_get(15).map_err(db_err)?),
        outcome_note: r.try_get(16).map_err(db_err)?,
        outcome_note_audience: NoteAudience::parse(&r.try_get::<String, _>("outcome_note_audience").map_err(db_err)?)
            .ok_or_else(|| corrupt("note audience"))?,
        outcome_by: r.try_get::<Option<i64>, _>(17).map_err(db_err)?.map(AccountId),
        outcome_at: outcome_at.as_deref().map(ts).transpose()?,
        contacted_on: r
            .try_get::<Option<String>, _>("contacted_on")
            .map_err(db_err)?
            .as_deref()
            .map(date)
            .transpose()?,
        missed_on: opt_date(r.try_get(19).map_err(db_err)?)?,
        mother_name: r.try_get(20).map_err(db_err)?,
    })
}

/// A pregnancy's babies in birth order (of municipality `m`), inside `tx`.
async fn babies_of(
    tx: &mut SqliteConnection,
    m: MunicipalityId,
    pregnancy: PregnancyId,
) -> Result<Vec<tsunagu_domain::records::Baby>> {
    sqlx::query(&format!(
        "SELECT {BABY_COLUMNS} FROM babies WHERE pregnancy_id = ? AND municipality_id = ? ORDER BY id"
    ))
    .bind(pregnancy.0)
    .bind(m.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?
    .iter()
    .map(baby_row)
    .collect()
}

/// Brings one pregnancy's stored contacts in line with its facts, inside
/// `tx`: reads the pregnancy, its babies, its family's area, the kinds the
/// municipality runs and the stored contacts; applies what `reconcile` says.
/// Returns a short summary for the audit line ("+8 ~2 x1").
pub(crate) async fn sync_pregnancy(
    tx: &mut SqliteConnection,
    m: MunicipalityId,
    pregnancy: PregnancyId,
    today: Date,
    at: jiff::Timestamp,
) -> Result<String> {
    let row = sqlx::query(&format!(
        "SELECT {PREGNANCY_COLUMNS}, (SELECT area_id FROM families f WHERE f.id = pregnancies.family_id), \
         (SELECT contact_kinds FROM municipalities WHERE id = pregnancies.municipality_id) \
         FROM pregnancies WHERE id = ? AND municipality_id = ?"
    ))
    .bind(pregnancy.0)
    .bind(m.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound)?;
    let p = pregnancy_row(&row)?;
    let area: i64 = row.try_get(9).map_err(db_err)?;
    let kinds: i64 = row.try_get(10).map_err(db_err)?;
    let kinds = KindSet::from_bits(u16::try_from(kinds).map_err(|_| corrupt("contact kinds"))?);
    let babies = babies_of(tx, m, pregnancy).await?;
    let stored = sqlx::query(&format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.pregnancy_id = ? AND c.municipality_id = ?"
    ))
    .bind(pregnancy.0)
    .bind(m.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| contact_row(r).map(|c| c.contact))
    .collect::<Result<Vec<_>>>()?;
    let facts = TimelineFacts::from_records(&p, &babies, kinds).map_err(|_| corrupt("pregnancy facts"))?;
    let changes = reconcile(&stored, &facts);
    let now = ts_text(at);
    let (mut created, mut moved, mut ended) = (0, 0, 0);
    for change in &changes {
        match change {
            ContactChange::Create(o) => {
                created += 1;
                let awaits = awaits_work(o.kind, None, o.ending.as_ref());
                sqlx::query(
                    "INSERT INTO contacts (municipality_id, family_id, area_id, pregnancy_id, kind, subject_kind, \
                     subject_id, owner_role, staff_owed, opens, due, closes, ending, hidden, awaits, missed_on, \
                     created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(m.0)
                .bind(p.family_id.0)
                .bind(area)
                .bind(pregnancy.0)
                .bind(o.kind.as_str())
                .bind(o.subject.kind_str())
                .bind(o.subject.id())
                .bind(o.owner.as_str())
                .bind(o.kind.nature() == Nature::Contact)
                .bind(o.window.opens().to_string())
                .bind(o.window.due().to_string())
                .bind(o.window.closes().to_string())
                .bind(o.ending.map(|e| e.reason.as_str()))
                .bind(o.ending.is_some_and(|e| e.hidden))
                .bind(awaits)
                .bind(missed_on(awaits, o.window.closes(), today).map(|d| d.to_string()))
                .bind(&now)
                .bind(&now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            ContactChange::MoveWindow { id, to, .. } => {
                moved += 1;
                let Some(c) = stored.iter().find(|c| c.id == *id) else { continue };
                let awaits = awaits_work(c.kind, None, c.ending.as_ref());
                sqlx::query(
                    "UPDATE contacts SET opens = ?, due = ?, closes = ?, missed_on = ?, updated_at = ? \
                     WHERE id = ? AND municipality_id = ? AND outcome IS NULL",
                )
                .bind(to.opens().to_string())
                .bind(to.due().to_string())
                .bind(to.closes().to_string())
                .bind(missed_on(awaits, to.closes(), today).map(|d| d.to_string()))
                .bind(&now)
                .bind(id.0)
                .bind(m.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            ContactChange::Close { id, reason } | ContactChange::Hide { id, reason } => {
                ended += 1;
                let hidden = matches!(change, ContactChange::Hide { .. });
                sqlx::query(
                    "UPDATE contacts SET ending = ?, hidden = ?, awaits = 0, updated_at = ? \
                     WHERE id = ? AND municipality_id = ? AND outcome IS NULL",
                )
                .bind(reason.as_str())
                .bind(hidden)
                .bind(&now)
                .bind(id.0)
                .bind(m.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            ContactChange::Reopen { id } => {
                ended += 1;
                // A window moved in the same reconcile comes first in `changes`;
                // read the dates back rather than trust the stale copy.
                let closes: String =
                    sqlx::query_scalar("SELECT closes FROM contacts WHERE id = ? AND municipality_id = ?")
                        .bind(id.0)
                        .bind(m.0)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db_err)?;
                let closes = date(&closes)?;
                let missed = missed_on(true, closes, today).map(|d| d.to_string());
                sqlx::query(
                    "UPDATE contacts SET ending = NULL, hidden = 0, awaits = 1, missed_on = ?, updated_at = ? \
                     WHERE id = ? AND municipality_id = ? AND outcome IS NULL",
                )
                .bind(missed)
                .bind(&now)
                .bind(id.0)
                .bind(m.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
        }
    }
    sqlx::query("UPDATE pregnancies SET timeline_rules = ? WHERE id = ? AND municipality_id = ?")
        .bind(RULES_VERSION)
        .bind(pregnancy.0)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(format!("contacts +{created} ~{moved} x{ended}"))
}

/// Appends the WHERE clauses of a work-list scope and list (after a
/// `WHERE c.municipality_id = ? AND c.awaits = 1`).
fn push_scope(qb: &mut QueryBuilder<'_, Sqlite>, scope: &WorkScope) {
    if let Some(owner) = scope.owner {
        qb.push(" AND c.owner_role = ").push_bind(owner.as_str());
    }
    if !scope.areas.is_empty() {
        qb.push(" AND c.area_id IN (");
        let mut sep = qb.separated(", ");
        for a in &scope.areas {
            sep.push_bind(a.0);
        }
        qb.push(")");
    }
    if let Some(kind) = scope.kind {
        qb.push(" AND c.kind = ").push(crate::kind_sql(kind));
    }
    push_family_filter(qb, &scope.filter);
}

fn push_list(qb: &mut QueryBuilder<'_, Sqlite>, list: WorkList, today: Date) {
    let t = today.to_string();
    match list {
        WorkList::DueThisWeek => {
            let (monday, sunday) = week_of(today);
            qb.push(" AND c.missed_on IS NULL");
            qb.push(" AND c.due >= ").push_bind(monday.max(today).to_string());
            qb.push(" AND c.due <= ").push_bind(sunday.to_string());
        }
        WorkList::Overdue => {
            // Stamped missed or lapsed means the window closed: never overdue.
            // No window stays open longer than MAX_DUE_TO_CLOSE_DAYS after it
            // is due, so the range over `due` is bounded on both sides.
            let earliest = today.saturating_sub(MAX_DUE_TO_CLOSE_DAYS.days());
            qb.push(" AND c.missed_on IS NULL AND c.due >= ").push_bind(earliest.to_string());
            qb.push(" AND c.due < ").push_bind(t.clone());
            qb.push(" AND c.closes >= ").push_bind(t);
        }
        WorkList::Missed => {
            qb.push(" AND c.staff_owed = 1 AND c.closes < ").push_bind(t.clone());
            // Implied (a window is due on or before it closes), and what lets
            // the page read `contacts_owner_missed` / `contacts_missed` in due
            // order and stop at its page instead of sorting every missed
            // contact of the municipality (migration 0030).
            qb.push(" AND c.due < ").push_bind(t);
        }
        WorkList::CheckNonAttendees => {
            // Past due and still awaiting: "not reached" keeps a check awaiting.
            qb.push(" AND c.kind = ").push(crate::kind_sql(ContactKind::HealthCheck3To4Months));
            qb.push(" AND c.due < ").push_bind(t);
        }
        WorkList::Open => {
            qb.push(" AND c.opens <= ").push_bind(t.clone());
            qb.push(" AND (c.closes >= ").push_bind(t).push(" OR c.staff_owed = 1)");
        }
    }
}

/// The start of a work-list query, after `prefix` (the start of an outer
/// query). The families table is joined only when the listing filter reads
/// it (a coordinator's consent, escalation): a nurse's lists and counts read
/// the contact indexes alone.
fn based(prefix: &str, select: &str, scope: &WorkScope) -> QueryBuilder<'static, Sqlite> {
    let join = match scope.filter {
        FamilyFilter::Municipality(_) => "",
        FamilyFilter::ConsentingInAreas(..) | FamilyFilter::Escalated(_) => " JOIN families f ON f.id = c.family_id",
    };
    let mut qb = QueryBuilder::new(format!(
        "{prefix}SELECT {select} FROM contacts c{join} WHERE c.awaits = 1 AND c.municipality_id = "
    ));
    qb.push_bind(super::filter_municipality(&scope.filter).0);
    qb
}

/// The listing filter on contacts (their copied `area_id`) and, where it
/// needs them, the families' flags.
fn push_family_filter(qb: &mut QueryBuilder<'_, Sqlite>, filter: &FamilyFilter) {
    match filter {
        FamilyFilter::Municipality(_) => {}
        FamilyFilter::ConsentingInAreas(_, areas) => {
            qb.push(" AND f.consent_coordinators = 1 AND c.area_id IN (");
            let mut sep = qb.separated(", ");
            for a in areas {
                sep.push_bind(a.0);
            }
            sep.push_unseparated(")");
        }
        FamilyFilter::Escalated(_) => {
            qb.push(" AND f.escalated = 1");
        }
    }
}

/// One page of a list, in two steps in one statement: the page's ids are
/// chosen from the index alone (filtered, sorted, cut to the page), then only
/// those rows are read with the mother's name. Reading the names before the
/// sort would read every row of a long list.
pub(crate) async fn read_work_list(conn: &mut SqliteConnection, q: &WorkListQuery) -> Result<Vec<ContactRow>> {
    let order = q.sort.order_by();
    let outer = format!("SELECT {} FROM contacts c JOIN (", CONTACT_COLUMNS);
    let mut qb = based(&outer, "c.id AS page_id", &q.scope);
    push_scope(&mut qb, &q.scope);
    push_list(&mut qb, q.list, q.scope.today);
    qb.push(order);
    qb.push(" LIMIT ").push_bind(i64::from(q.limit));
    qb.push(" OFFSET ").push_bind(i64::from(q.offset));
    qb.push(") page ON page.page_id = c.id");
    qb.push(order);
    let rows = qb.build().fetch_all(&mut *conn).await.map_err(db_err)?;
    rows.iter().map(contact_row).collect()
}

pub(crate) async fn work_counts(
    conn: &mut SqliteConnection,
    scope: &WorkScope,
    cap: Option<u32>,
) -> Result<WorkCounts> {
    // The four counts in one statement (#16): each is its own scalar
    // subquery, planned as the index range it was alone.
    const LISTS: [WorkList; 4] =
        [WorkList::DueThisWeek, WorkList::Overdue, WorkList::Missed, WorkList::CheckNonAttendees];
    let join = match scope.filter {
        FamilyFilter::Municipality(_) => "",
        FamilyFilter::ConsentingInAreas(..) | FamilyFilter::Escalated(_) => " JOIN families f ON f.id = c.family_id",
    };
    let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new("SELECT ");
    for (i, list) in LISTS.iter().enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        // Capped (#16): the count of at most `cap + 1` entries of the range.
        let (select, close) = if cap.is_some() { ("SELECT 1", "") } else { ("SELECT COUNT(*)", ")") };
        if cap.is_some() {
            qb.push("(SELECT COUNT(*) FROM (");
        } else {
            qb.push("(");
        }
        qb.push(format!("{select} FROM contacts c{join} WHERE c.awaits = 1 AND c.municipality_id = "));
        qb.push_bind(super::filter_municipality(&scope.filter).0);
        push_scope(&mut qb, scope);
        push_list(&mut qb, *list, scope.today);
        if let Some(cap) = cap {
            qb.push(" LIMIT ").push_bind(i64::from(cap) + 1).push(") capped)");
        }
        qb.push(close);
    }
    let r = qb.build().fetch_one(&mut *conn).await.map_err(db_err)?;
    let mut counts = WorkCounts::default();
    for (i, list) in LISTS.iter().enumerate() {
        let n: i64 = r.try_get(i).map_err(db_err)?;
        let n = u64::try_from(n).unwrap_or(0);
        match list {
            WorkList::DueThisWeek => counts.due_this_week = n,
            WorkList::Overdue => counts.overdue = n,
            WorkList::Missed => counts.missed = n,
            WorkList::CheckNonAttendees => counts.check_non_attendees = n,
            WorkList::Open => {}
        }
    }
    Ok(counts)
}

/// Records an outcome inside `tx`, with its audit line; a note for the office.
pub(crate) async fn record_outcome(
    tx: &mut SqliteConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    id: ContactId,
    outcome: &Outcome,
    note: &str,
) -> Result<()> {
    record_outcome_noted(tx, key, ctx, id, outcome, note, NoteAudience::Office).await
}

/// Records an outcome inside `tx`, with its audit line; the note is written for `audience`.
pub(crate) async fn record_outcome_noted(
    tx: &mut SqliteConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    id: ContactId,
    outcome: &Outcome,
    note: &str,
    audience: NoteAudience,
) -> Result<()> {
    let (family, detail) = apply_outcome(tx, ctx, id, outcome, note, audience).await?;
    append_audit(tx, key, ctx, AuditAction::ContactOutcome, Some(family), &detail).await
}

/// Records an outcome inside `tx` without a line of its own: for a change
/// whose one line names it (a class's attendance closing the owed contacts).
pub(crate) async fn record_outcome_unaudited(
    tx: &mut SqliteConnection,
    ctx: &AuditContext,
    id: ContactId,
    outcome: &Outcome,
    note: &str,
) -> Result<()> {
    ctx.covers(None)?;
    apply_outcome(tx, ctx, id, outcome, note, NoteAudience::Office).await.map(|_| ())
}

/// The outcome's checks and change; the family and the line's detail for the caller to write.
async fn apply_outcome(
    tx: &mut SqliteConnection,
    ctx: &AuditContext,
    id: ContactId,
    outcome: &Outcome,
    note: &str,
    audience: NoteAudience,
) -> Result<(FamilyId, String)> {
    let r = sqlx::query(&format!("SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.id = ? AND c.municipality_id = ?"))
        .bind(id.0)
        .bind(ctx.municipality_id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
    let row = contact_row(&r)?;
    let c = &row.contact;
    let stored = record_over(c.kind, c.outcome.as_ref(), c.ending.as_ref(), *outcome)
        .map_err(|refused| StoreError::Conflict(refused.code()))?;
    let (name, form, attempts) = stored.to_stored();
    let awaits = awaits_work(c.kind, Some(&stored), None);
    let audience = notes::appended(&row.outcome_note, row.outcome_note_audience, note, audience);
    let note = append_note(&row.outcome_note, note);
    let changed = sqlx::query(
        "UPDATE contacts SET outcome = ?, form = ?, attempts = ?, outcome_note = ?, outcome_by = ?, outcome_at = ?, \
         awaits = ?, updated_at = ?, outcome_note_audience = ? WHERE id = ? AND municipality_id = ? \
         AND ending IS NULL AND (outcome IS NULL OR outcome = 'not_reached')",
    )
    .bind(name)
    .bind(form)
    .bind(i64::from(attempts))
    .bind(&note)
    .bind(ctx.actor.0)
    .bind(ts_text(ctx.at))
    .bind(awaits)
    .bind(ts_text(ctx.at))
    .bind(audience.as_str())
    .bind(id.0)
    .bind(ctx.municipality_id.0)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .rows_affected();
    if changed != 1 {
        return Err(StoreError::Conflict("contact_settled"));
    }
    let detail = format!("contact={} kind={} outcome={}", id.0, c.kind, outcome.as_str());
    Ok((row.family_id, detail))
}

/// The daily job inside `tx`.
pub(crate) async fn mark_missed(
    tx: &mut SqliteConnection,
    m: MunicipalityId,
    today: Date,
) -> Result<tsunagu_store::MissedRun> {
    let from: Option<String> = sqlx::query_scalar("SELECT through FROM timeline_runs WHERE municipality_id = ?")
        .bind(m.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
    let from = from.as_deref().map(date).transpose()?;
    let through = today.saturating_sub(1.day());
    if from.is_some_and(|f| f >= through) {
        return Ok(tsunagu_store::MissedRun { from, through, marked: 0 });
    }
    // `closes` is a date: the first missed day is the day after it.
    let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
        "UPDATE contacts SET missed_on = date(closes, '+1 day') \
         WHERE awaits = 1 AND missed_on IS NULL AND municipality_id = ",
    );
    qb.push_bind(m.0);
    if let Some(f) = from {
        qb.push(" AND closes > ").push_bind(f.to_string());
    }
    qb.push(" AND closes <= ").push_bind(through.to_string());
    let marked = qb.build().execute(&mut *tx).await.map_err(db_err)?.rows_affected();
    sqlx::query(
        "INSERT INTO timeline_runs (municipality_id, through) VALUES (?, ?) \
         ON CONFLICT (municipality_id) DO UPDATE SET through = excluded.through",
    )
    .bind(m.0)
    .bind(through.to_string())
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(tsunagu_store::MissedRun { from, through, marked })
}

/// Pregnancies whose contacts were built with older rules (or never).
pub(crate) async fn stale_pregnancies(
    conn: &mut SqliteConnection,
    m: MunicipalityId,
    limit: u32,
) -> Result<Vec<PregnancyId>> {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM pregnancies WHERE municipality_id = ? AND timeline_rules < ? LIMIT ?")
            .bind(m.0)
            .bind(RULES_VERSION)
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
    Ok(ids.into_iter().map(PregnancyId).collect())
}

/// Today in Japan at the moment of an audited change.
pub(crate) fn today_of(ctx: &AuditContext) -> Date {
    japan_date(ctx.at)
}

/// Records as done, inside `tx`, every contact of a pregnancy staff owed that
/// fell due on or before `through` and still awaits work (an import's history).
pub(crate) async fn settle_through(
    tx: &mut SqliteConnection,
    ctx: &AuditContext,
    pregnancy: PregnancyId,
    through: Date,
) -> Result<()> {
    let rows = sqlx::query(
        // `+municipality_id`: by the pregnancy's index, not the city's
        // contacts due by then (`contacts_missed`, chosen without statistics; #16).
        "SELECT id, kind FROM contacts WHERE pregnancy_id = ? AND +municipality_id = ? \
         AND awaits = 1 AND staff_owed = 1 AND due <= ?",
    )
    .bind(pregnancy.0)
    .bind(ctx.municipality_id.0)
    .bind(through.to_string())
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    for r in rows {
        let id: i64 = r.try_get(0).map_err(db_err)?;
        let kind: String = r.try_get(1).map_err(db_err)?;
        let kind = ContactKind::parse(&kind).ok_or_else(|| corrupt("contact kind"))?;
        let Some(form) = kind.forms().first() else { continue };
        sqlx::query(
            "UPDATE contacts SET outcome = 'done', form = ?, outcome_by = ?, outcome_at = ?, awaits = 0, \
             missed_on = NULL, outcome_note = 'import', updated_at = ? WHERE id = ? AND municipality_id = ?",
        )
        .bind(form.as_str())
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
        .bind(ts_text(ctx.at))
        .bind(id)
        .bind(ctx.municipality_id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

#[async_trait]
impl TimelineStore for SqliteStore {
    async fn contact_kinds(&self, m: MunicipalityId) -> Result<KindSet> {
        let bits: Option<i64> = sqlx::query_scalar("SELECT contact_kinds FROM municipalities WHERE id = ?")
            .bind(m.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        let bits = bits.ok_or(StoreError::NotFound)?;
        Ok(KindSet::from_bits(u16::try_from(bits).map_err(|_| corrupt("contact kinds"))?))
    }

    async fn set_contact_kinds(&self, m: MunicipalityId, kinds: KindSet) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        let changed = sqlx::query("UPDATE municipalities SET contact_kinds = ? WHERE id = ? AND contact_kinds <> ?")
            .bind(i64::from(kinds.bits()))
            .bind(m.0)
            .bind(i64::from(kinds.bits()))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if changed > 0 {
            sqlx::query("UPDATE pregnancies SET timeline_rules = 0 WHERE municipality_id = ?")
                .bind(m.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn change_pregnancy_checked(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        pregnancy: PregnancyId,
        check: &PregnancyCheck<'_>,
    ) -> Result<()> {
        let m = ctx.municipality_id;
        // Taken at BEGIN: nothing changes the pregnancy between the check and the commit.
        let mut tx = self.begin_immediate().await?;
        let p = crate::records::pregnancy_for_change(&mut tx, m, family, pregnancy).await?;
        let babies = babies_of(&mut tx, m, pregnancy).await?;
        let change = check(&p, &babies).map_err(StoreError::Invalid)?;
        change.allowed_from(p.status)?;
        let detail = match change {
            PregnancyChange::Edd(edd) => {
                sqlx::query("UPDATE pregnancies SET edd = ? WHERE id = ? AND municipality_id = ?")
                    .bind(edd.to_string())
                    .bind(pregnancy.0)
                    .bind(m.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                "edd".to_owned()
            }
            PregnancyChange::End(end) => {
                sqlx::query("UPDATE pregnancies SET status = ?, ended_on = ? WHERE id = ? AND municipality_id = ?")
                    .bind(end.status().as_str())
                    .bind(end.on().to_string())
                    .bind(pregnancy.0)
                    .bind(m.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                end.status().as_str().to_owned()
            }
        };
        let synced = sync_pregnancy(&mut tx, m, pregnancy, today_of(ctx), ctx.at).await?;
        let detail = format!("pregnancy={} {detail} {synced}", pregnancy.0);
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::PregnancyUpdate, Some(family), &detail).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn family_contacts(&self, ctx: &AuditContext, family: FamilyId) -> Result<Vec<ContactRow>> {
        // A decision about another family reaches nothing of this one.
        ctx.covers(Some(family))?;
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        let out = contacts_of_family(&mut conn, ctx.municipality_id, family).await?;
        drop(conn);
        self.audit(ctx, AuditAction::TimelineView, Some(family), "").await?;
        Ok(out)
    }

    async fn family_page(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        referrals: Option<&tsunagu_store::ReferralFilter>,
        upcoming: Option<&tsunagu_store::UpcomingFilter>,
    ) -> Result<Option<tsunagu_store::FamilyPage>> {
        // A decision about another family reaches nothing of this one.
        ctx.covers(Some(family))?;
        let m = ctx.municipality_id;
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        let Some(record) = crate::records::family_record(&mut conn, m, family).await? else { return Ok(None) };
        let contacts = contacts_of_family(&mut conn, m, family).await?;
        let upcoming = match upcoming {
            Some(f) => upcoming_of_family(&mut conn, m, family, f).await?,
            None => vec![],
        };
        drop(conn);
        let referrals = match referrals {
            Some(f) => {
                self.referrals_of(m, &tsunagu_store::ReferralFilter { family_id: Some(family), ..f.clone() }).await?
            }
            None => vec![],
        };
        let detail = format!("contacts={} referrals={}", contacts.len(), referrals.len());
        self.audit(ctx, AuditAction::FamilyView, Some(family), &detail).await?;
        Ok(Some(tsunagu_store::FamilyPage { record, contacts, referrals, upcoming }))
    }

    async fn contact_owner(&self, m: MunicipalityId, id: ContactId) -> Result<Option<ContactOwner>> {
        let r: Option<(i64, String, bool)> =
            sqlx::query_as("SELECT family_id, kind, hidden FROM contacts WHERE id = ? AND municipality_id = ?")
                .bind(id.0)
                .bind(m.0)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)?;
        r.map(|(family, kind, hidden)| {
            let kind = ContactKind::parse(&kind).ok_or(StoreError::Other("a stored contact kind is unknown".into()))?;
            Ok(ContactOwner { family: FamilyId(family), kind, hidden })
        })
        .transpose()
    }

    async fn contact(&self, ctx: &AuditContext, id: ContactId) -> Result<Option<ContactRow>> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM contacts c WHERE c.id = ? AND c.municipality_id = ?",
            CONTACT_COLUMNS
        ))
        .bind(id.0)
        .bind(ctx.municipality_id.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let c = contact_row(&row)?;
        self.audit(ctx, AuditAction::TimelineView, Some(c.family_id), &format!("contact={}", id.0)).await?;
        Ok(Some(c))
    }

    async fn record_contact_outcome_noted(
        &self,
        ctx: &AuditContext,
        id: ContactId,
        outcome: &Outcome,
        note: &str,
        audience: NoteAudience,
    ) -> Result<ContactRow> {
        let mut tx = self.begin_immediate().await?;
        record_outcome_noted(&mut tx, &self.keys.chain, ctx, id, outcome, note, audience).await?;
        let r =
            sqlx::query(&format!("SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.id = ? AND c.municipality_id = ?"))
                .bind(id.0)
                .bind(ctx.municipality_id.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
        let row = contact_row(&r)?;
        tx.commit().await.map_err(db_err)?;
        Ok(row)
    }

    async fn record_contact_outcome_on(
        &self,
        ctx: &AuditContext,
        id: ContactId,
        outcome: &Outcome,
        note: &str,
        audience: NoteAudience,
        day: tsunagu_store::ContactDay,
    ) -> Result<ContactRow> {
        let mut tx = self.begin_immediate().await?;
        let notified: Option<String> = sqlx::query_scalar(
            "SELECT p.notified_on FROM contacts c JOIN pregnancies p ON p.id = c.pregnancy_id \
             WHERE c.id = ? AND c.municipality_id = ?",
        )
        .bind(id.0)
        .bind(ctx.municipality_id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let notified = date(&notified.ok_or(StoreError::NotFound)?)?;
        let on = tsunagu_domain::timeline::contact_day::check_contact_day(day.on, day.today, notified)
            .map_err(tsunagu_store::contact_day_refused)?;
        record_outcome_noted(&mut tx, &self.keys.chain, ctx, id, outcome, note, audience).await?;
        sqlx::query("UPDATE contacts SET contacted_on = ? WHERE id = ? AND municipality_id = ?")
            .bind(on.to_string())
            .bind(id.0)
            .bind(ctx.municipality_id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let r =
            sqlx::query(&format!("SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.id = ? AND c.municipality_id = ?"))
                .bind(id.0)
                .bind(ctx.municipality_id.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
        let row = contact_row(&r)?;
        tx.commit().await.map_err(db_err)?;
        Ok(row)
    }

    async fn work_list(&self, ctx: &AuditContext, q: &WorkListQuery) -> Result<Vec<ContactRow>> {
        if filter_municipality(&q.scope.filter) != ctx.municipality_id {
            return Err(StoreError::InvalidReference("municipality"));
        }
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        let rows = {
            // Read on a reader; the audit line goes through the writer.
            let mut qtx = sqlx::Connection::begin(&mut *conn).await.map_err(db_err)?;
            let out = read_work_list(&mut qtx, q).await?;
            qtx.rollback().await.map_err(db_err)?;
            out
        };
        self.audit(ctx, AuditAction::WorkList, None, &format!("list={} results={}", q.list.as_str(), rows.len()))
            .await?;
        Ok(rows)
    }

    async fn work_list_with_followups(
        &self,
        ctx: &AuditContext,
        contacts: Option<&WorkListQuery>,
        followups: Option<&tsunagu_store::ReferralFilter>,
    ) -> Result<(Vec<ContactRow>, Vec<tsunagu_store::StoredReferral>)> {
        let rows = match contacts {
            Some(q) => {
                if filter_municipality(&q.scope.filter) != ctx.municipality_id {
                    return Err(StoreError::InvalidReference("municipality"));
                }
                let mut conn = self.reader.acquire().await.map_err(db_err)?;
                let mut qtx = sqlx::Connection::begin(&mut *conn).await.map_err(db_err)?;
                let out = read_work_list(&mut qtx, q).await?;
                qtx.rollback().await.map_err(db_err)?;
                out
            }
            None => vec![],
        };
        let referrals = match followups {
            Some(f) => self.referrals_of(ctx.municipality_id, f).await?,
            None => vec![],
        };
        let detail = work_list_detail(contacts, rows.len(), followups.map(|_| referrals.len()));
        self.audit(ctx, AuditAction::WorkList, None, &detail).await?;
        Ok((rows, referrals))
    }

    async fn work_counts(&self, scope: &WorkScope, cap: Option<u32>) -> Result<WorkCounts> {
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        work_counts(&mut conn, scope, cap).await
    }

    async fn mark_missed(&self, m: MunicipalityId, today: Date) -> Result<MissedRun> {
        let mut tx = self.begin_immediate().await?;
        let run = mark_missed(&mut tx, m, today).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(run)
    }

    async fn backfill_timelines(&self, m: MunicipalityId, today: Date, limit: u32) -> Result<u64> {
        let mut tx = self.begin_immediate().await?;
        let ids = stale_pregnancies(&mut tx, m, limit).await?;
        let at = jiff::Timestamp::UNIX_EPOCH;
        for id in &ids {
            sync_pregnancy(&mut tx, m, *id, today, at).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(ids.len() as u64)
    }
}

/// The work list's audit line: which list and how many rows, and how many
/// follow-ups where they were read.
fn work_list_detail(contacts: Option<&WorkListQuery>, rows: usize, followups: Option<usize>) -> String {
    let list = contacts.map_or("urgent", |q| q.list.as_str());
    match followups {
        Some(n) => format!("list={list} results={rows} followups={n}"),
        None => format!("list={list} results={rows}"),
    }
}

/// A family's contacts in `m`, in order (not audited: the caller writes the line).
async fn contacts_of_family(
    conn: &mut sqlx::SqliteConnection,
    m: MunicipalityId,
    family: FamilyId,
) -> Result<Vec<ContactRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {} FROM contacts c WHERE c.family_id = ? AND c.municipality_id = ? \
         ORDER BY c.opens, c.due, c.kind, c.id",
        CONTACT_COLUMNS
    ))
    .bind(family.0)
    .bind(m.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    rows.iter().map(contact_row).collect()
}

/// A family's class bookings (confirmed or waiting, session not cancelled)
/// and approved postpartum stays not over by `f.from`, by first day: one
/// statement (UNION ALL), bounded by municipality, family and limit (#10).
async fn upcoming_of_family(
    conn: &mut sqlx::SqliteConnection,
    m: MunicipalityId,
    family: FamilyId,
    f: &tsunagu_store::UpcomingFilter,
) -> Result<Vec<tsunagu_store::UpcomingItem>> {
    let from = f.from.to_string();
    type Row = (String, String, bool, String, String, String, String, String, Option<i64>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT item, detail, waiting, first_day, last_day, starts, name_ja, name_en, pregnancy_id FROM ( \
           SELECT 'class' AS item, b.kind AS detail, b.status = 'waiting' AS waiting, s.day AS first_day, \
                  s.day AS last_day, s.starts AS starts, v.name_ja AS name_ja, v.name_en AS name_en, \
                  b.pregnancy_id AS pregnancy_id \
             FROM class_bookings b \
             JOIN class_sessions s ON s.id = b.session_id AND s.municipality_id = b.municipality_id \
             JOIN venues v ON v.id = s.venue_id \
            WHERE b.municipality_id = ? AND b.family_id = ? AND b.status IN ('confirmed', 'waiting') \
              AND s.cancelled = 0 AND s.day >= ? \
           UNION ALL \
           SELECT 'stay', a.service, 0, a.stay_first, a.stay_last, '', v.name_ja, v.name_en, NULL \
             FROM postpartum_applications a JOIN venues v ON v.id = a.venue_id \
            WHERE ? AND a.municipality_id = ? AND a.family_id = ? AND a.status = 'approved' AND a.stay_last >= ? \
           UNION ALL \
           SELECT 'group', '', 0, gs.day, gs.day, '', gs.place, gs.place, g.pregnancy_id \
             FROM group_session_members g \
             JOIN group_sessions gs ON gs.id = g.session_id AND gs.municipality_id = g.municipality_id \
             JOIN contacts c ON c.id = g.contact_id AND c.municipality_id = g.municipality_id \
            WHERE ? AND g.municipality_id = ? AND g.family_id = ? AND g.attended IS NULL \
              AND gs.attendance_at IS NULL AND c.awaits = 1 AND c.hidden = 0 AND gs.day >= ? \
         ) ORDER BY first_day, starts LIMIT ?",
    )
    .bind(m.0)
    .bind(family.0)
    .bind(&from)
    .bind(f.stays)
    .bind(m.0)
    .bind(family.0)
    .bind(&from)
    .bind(f.stays)
    .bind(m.0)
    .bind(family.0)
    .bind(&from)
    .bind(i64::from(f.limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    rows.into_iter()
        .map(|(item, detail, waiting, first, last, starts, ja, en, preg)| {
            Ok(tsunagu_store::UpcomingItem::of_row(
                &item,
                detail,
                waiting,
                date(&first)?,
                date(&last)?,
                starts,
                ja,
                en,
                preg,
            ))
        })
        .collect()
}
