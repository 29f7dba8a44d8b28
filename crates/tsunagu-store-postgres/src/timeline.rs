//! The timeline on PostgreSQL: contacts built and kept in line by
//! `tsunagu_domain::timeline::reconcile` inside the transaction that changes
//! a pregnancy's facts, the work lists as index range scans over the
//! contacts still awaiting work, and the daily missed-marking job. The same
//! behaviour as the SQLite store's module; what differs is how writers are
//! kept apart, since several connections write at once:
//! - a change of a pregnancy locks its row before reconciling (the callers
//!   do; `sync_pregnancy` locks it again, which costs nothing), and the
//!   reconcile locks the pregnancy's contacts, in id order, as it reads them;
//! - an outcome locks its contact row before checking it;
//! - the daily job locks its municipality's `timeline_runs` row, then the
//!   contacts it stamps, in id order (the order a reconcile locks them in, so
//!   the two never wait for each other crosswise);
//! - a change of the kinds a municipality runs locks the municipality's
//!   row; a new pregnancy and a backfill hold it shared while they build,
//!   so neither builds from kinds that are being replaced.

use super::{corrupt, date, db_err, filter_municipality, get, opt_date, ts, ts_param, Result};
use crate::audit::append_audit;
use crate::records::{baby_row, pregnancy_row};
use crate::PgStore;
use async_trait::async_trait;
use jiff::civil::Date;
use jiff::Timestamp;
use jiff::ToSpan;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder};
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
use tsunagu_store::{ContactOwner, PregnancyChange, PregnancyCheck, TimelineStore};
use tsunagu_store::{ContactRow, MissedRun, StoreError, WorkCounts, WorkList, WorkListQuery, WorkScope};

/// The columns of a contact (table alias `c`) as `contact_row` reads them,
/// with the mother's name. ORDER BY must name the table's columns qualified
/// (`c.due`): the aliases of dates and instants are text.
macro_rules! contact_columns {
    () => {
        concat!(
            "c.id, c.pregnancy_id, c.kind, c.subject_kind, c.subject_id, ",
            date_col!("c.opens"),
            " AS opens, ",
            date_col!("c.due"),
            " AS due, ",
            date_col!("c.closes"),
            " AS closes, c.outcome, c.form, c.attempts, c.ending, c.hidden, c.municipality_id, c.family_id, ",
            "c.area_id, c.outcome_note, c.outcome_note_audience, c.outcome_by, ",
            ts_col!("c.outcome_at"),
            " AS outcome_at, ",
            date_col!("c.missed_on"),
            " AS missed_on, ",
            date_col!("c.contacted_on"),
            " AS contacted_on, ",
            mother_name_of!("c")
        )
    };
}

pub(crate) fn contact_row(r: &PgRow) -> Result<ContactRow> {
    let kind: String = get(r, "kind")?;
    let kind = ContactKind::parse(&kind).ok_or_else(|| corrupt("contact kind"))?;
    let subject_kind: String = get(r, "subject_kind")?;
    let subject = Subject::parse(&subject_kind, get(r, "subject_id")?).ok_or_else(|| corrupt("subject"))?;
    let window = Window::new(
        date(&get::<String>(r, "opens")?)?,
        date(&get::<String>(r, "due")?)?,
        date(&get::<String>(r, "closes")?)?,
    )
    .map_err(|_| corrupt("contact window"))?;
    let outcome: Option<String> = get(r, "outcome")?;
    let form: Option<String> = get(r, "form")?;
    let attempts: i32 = get(r, "attempts")?;
    let outcome = outcome
        .map(|o| Outcome::from_stored(&o, form.as_deref(), i64::from(attempts)).ok_or_else(|| corrupt("outcome")))
        .transpose()?;
    let ending: Option<String> = get(r, "ending")?;
    let hidden: bool = get(r, "hidden")?;
    let ending = ending
        .map(|e| CloseReason::parse(&e).map(|reason| Ending { reason, hidden }).ok_or_else(|| corrupt("ending")))
        .transpose()?;
    let outcome_at: Option<String> = get(r, "outcome_at")?;
    Ok(ContactRow {
        contact: StoredContact {
            id: ContactId(get(r, "id")?),
            pregnancy: PregnancyId(get(r, "pregnancy_id")?),
            kind,
            subject,
            window,
            outcome,
            ending,
        },
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        family_id: FamilyId(get(r, "family_id")?),
        area_id: AreaId(get(r, "area_id")?),
        outcome_note: get(r, "outcome_note")?,
        outcome_note_audience: NoteAudience::parse(&get::<String>(r, "outcome_note_audience")?)
            .ok_or_else(|| corrupt("note audience"))?,
        outcome_by: get::<Option<i64>>(r, "outcome_by")?.map(AccountId),
        outcome_at: outcome_at.as_deref().map(ts).transpose()?,
        missed_on: opt_date(get(r, "missed_on")?)?,
        contacted_on: opt_date(get(r, "contacted_on")?)?,
        mother_name: get(r, "mother_name")?,
    })
}

/// Holds the municipality's row shared until `tx` ends, so the kinds it
/// runs cannot change while a pregnancy that [`set_contact_kinds`] could
/// not see (a new one) or a batch of the backfill is built from them. A
/// change of the kinds waits for these, and these for it.
///
/// [`set_contact_kinds`]: tsunagu_store::TimelineStore::set_contact_kinds
pub(crate) async fn hold_contact_kinds(tx: &mut PgConnection, m: MunicipalityId) -> Result<()> {
    // No row, nothing to hold: what follows finds nothing of it either.
    sqlx::query("SELECT id FROM municipalities WHERE id = $1 FOR SHARE")
        .bind(m.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// A pregnancy's babies in birth order (of municipality `m`), inside `tx`.
async fn babies_of(
    tx: &mut PgConnection,
    m: MunicipalityId,
    pregnancy: PregnancyId,
) -> Result<Vec<tsunagu_domain::records::Baby>> {
    sqlx::query(concat!(
        "SELECT ",
        baby_columns!(),
        " FROM babies WHERE pregnancy_id = $1 AND municipality_id = $2 ORDER BY id"
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
/// `tx`: reads the pregnancy (locking its row), its babies, its family's
/// area, the kinds the municipality runs and the stored contacts (locking
/// them, in id order); applies what `reconcile` says. Returns a short
/// summary for the audit line ("contacts +8 ~2 x1").
pub(crate) async fn sync_pregnancy(
    tx: &mut PgConnection,
    m: MunicipalityId,
    pregnancy: PregnancyId,
    today: Date,
    at: jiff::Timestamp,
) -> Result<String> {
    let row = sqlx::query(concat!(
        "SELECT ",
        pregnancy_columns!(),
        ", (SELECT f.area_id FROM families f WHERE f.id = pregnancies.family_id) AS area_id, \
         (SELECT u.contact_kinds FROM municipalities u WHERE u.id = pregnancies.municipality_id) AS contact_kinds \
         FROM pregnancies WHERE id = $1 AND municipality_id = $2 FOR UPDATE OF pregnancies"
    ))
    .bind(pregnancy.0)
    .bind(m.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound)?;
    let p = pregnancy_row(&row)?;
    let area: i64 = get(&row, "area_id")?;
    let kinds: i32 = get(&row, "contact_kinds")?;
    let kinds = KindSet::from_bits(u16::try_from(kinds).map_err(|_| corrupt("contact kinds"))?);
    let babies = babies_of(tx, m, pregnancy).await?;
    // Locked as read: an outcome recorded meanwhile is either seen here or
    // waits for this transaction (and then finds what it left).
    let stored = sqlx::query(concat!(
        "SELECT ",
        contact_columns!(),
        " FROM contacts c WHERE c.pregnancy_id = $1 AND c.municipality_id = $2 ORDER BY c.id FOR UPDATE OF c"
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
    let now = ts_param(at);
    let (mut created, mut moved, mut ended) = (0, 0, 0);
    for change in &changes {
        match change {
            ContactChange::Create(o) => {
                created += 1;
                let awaits = awaits_work(o.kind, None, o.ending.as_ref());
                sqlx::query(
                    "INSERT INTO contacts (municipality_id, family_id, area_id, pregnancy_id, kind, subject_kind, \
                     subject_id, owner_role, staff_owed, opens, due, closes, ending, hidden, awaits, missed_on, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::date, $11::date, \
                     $12::date, $13, $14, $15, $16::date, $17::timestamptz, $17::timestamptz)",
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
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            ContactChange::MoveWindow { id, to, .. } => {
                moved += 1;
                let Some(c) = stored.iter().find(|c| c.id == *id) else { continue };
                let awaits = awaits_work(c.kind, None, c.ending.as_ref());
                sqlx::query(
                    "UPDATE contacts SET opens = $1::date, due = $2::date, closes = $3::date, missed_on = $4::date, \
                     updated_at = $5::timestamptz WHERE id = $6 AND municipality_id = $7 AND outcome IS NULL",
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
                    "UPDATE contacts SET ending = $1, hidden = $2, awaits = FALSE, updated_at = $3::timestamptz \
                     WHERE id = $4 AND municipality_id = $5 AND outcome IS NULL",
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
                let closes: String = sqlx::query_scalar(concat!(
                    "SELECT ",
                    date_col!("closes"),
                    " FROM contacts WHERE id = $1 AND municipality_id = $2"
                ))
                .bind(id.0)
                .bind(m.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
                let closes = date(&closes)?;
                let missed = missed_on(true, closes, today).map(|d| d.to_string());
                sqlx::query(
                    "UPDATE contacts SET ending = NULL, hidden = FALSE, awaits = TRUE, missed_on = $1::date, \
                     updated_at = $2::timestamptz WHERE id = $3 AND municipality_id = $4 AND outcome IS NULL",
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
    sqlx::query("UPDATE pregnancies SET timeline_rules = $1 WHERE id = $2 AND municipality_id = $3")
        .bind(RULES_VERSION)
        .bind(pregnancy.0)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(format!("contacts +{created} ~{moved} x{ended}"))
}

/// Appends the WHERE clauses of a work-list scope (after
/// `WHERE c.awaits AND c.municipality_id = $1`).
fn push_scope(qb: &mut QueryBuilder<'_, Postgres>, scope: &WorkScope) {
    if let Some(owner) = scope.owner {
        qb.push(" AND c.owner_role = ").push_bind(owner.as_str());
    }
    if !scope.areas.is_empty() {
        qb.push(" AND c.area_id = ANY(").push_bind(scope.areas.iter().map(|a| a.0).collect::<Vec<i64>>()).push(")");
    }
    if let Some(kind) = scope.kind {
        qb.push(" AND c.kind = ").push_bind(kind.as_str());
    }
    match &scope.filter {
        FamilyFilter::Municipality(_) => {}
        FamilyFilter::ConsentingInAreas(_, areas) => {
            qb.push(" AND f.consent_coordinators AND c.area_id = ANY(")
                .push_bind(areas.iter().map(|a| a.0).collect::<Vec<i64>>())
                .push(")");
        }
        FamilyFilter::Escalated(_) => {
            qb.push(" AND f.escalated");
        }
    }
}

fn push_date(qb: &mut QueryBuilder<'_, Postgres>, sql: &str, day: Date) {
    qb.push(sql).push_bind(day.to_string()).push("::date");
}

fn push_list(qb: &mut QueryBuilder<'_, Postgres>, list: WorkList, today: Date) {
    match list {
        WorkList::DueThisWeek => {
            let (monday, sunday) = week_of(today);
            qb.push(" AND c.missed_on IS NULL");
            push_date(qb, " AND c.due >= ", monday.max(today));
            push_date(qb, " AND c.due <= ", sunday);
        }
        WorkList::Overdue => {
            // Stamped missed or lapsed means the window closed: never overdue.
            // No window stays open longer than MAX_DUE_TO_CLOSE_DAYS after it
            // is due, so the range over `due` is bounded on both sides.
            push_date(qb, " AND c.missed_on IS NULL AND c.due >= ", today.saturating_sub(MAX_DUE_TO_CLOSE_DAYS.days()));
            push_date(qb, " AND c.due < ", today);
            push_date(qb, " AND c.closes >= ", today);
        }
        WorkList::Missed => {
            push_date(qb, " AND c.staff_owed AND c.closes < ", today);
            // Implied (a window is due on or before it closes), and what lets
            // the page read `contacts_owner_missed` / `contacts_missed` in due
            // order and stop at its page (migration 0030).
            push_date(qb, " AND c.due < ", today);
        }
        WorkList::CheckNonAttendees => {
            // Past due and still awaiting: "not reached" keeps a check awaiting.
            qb.push(" AND c.kind = ").push_bind(ContactKind::HealthCheck3To4Months.as_str());
            push_date(qb, " AND c.due < ", today);
        }
        WorkList::Open => {
            push_date(qb, " AND c.opens <= ", today);
            push_date(qb, " AND (c.closes >= ", today);
            qb.push(" OR c.staff_owed)");
        }
    }
}

/// The start of a work-list query, after `prefix` (the start of an outer
/// query). The families table is joined only when the listing filter reads
/// it (a coordinator's consent, escalation): a nurse's lists and counts read
/// the contact indexes alone.
fn based(prefix: &str, select: &str, scope: &WorkScope) -> QueryBuilder<'static, Postgres> {
    let join = match scope.filter {
        FamilyFilter::Municipality(_) => "",
        FamilyFilter::ConsentingInAreas(..) | FamilyFilter::Escalated(_) => " JOIN families f ON f.id = c.family_id",
    };
    let mut qb = QueryBuilder::new(format!(
        "{prefix}SELECT {select} FROM contacts c{join} WHERE c.awaits AND c.municipality_id = "
    ));
    qb.push_bind(filter_municipality(&scope.filter).0);
    qb
}

/// One page of a list, in two steps in one statement: the page's ids are
/// chosen from the index alone (filtered, sorted, cut to the page), then only
/// those rows are read with the mother's name. Reading the names before the
/// sort would read every row of a long list.
pub(crate) async fn read_work_list(conn: &mut PgConnection, q: &WorkListQuery) -> Result<Vec<ContactRow>> {
    let order = q.sort.order_by();
    let outer = format!("SELECT {} FROM contacts c JOIN (", contact_columns!());
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

pub(crate) async fn work_counts(conn: &mut PgConnection, scope: &WorkScope, cap: Option<u32>) -> Result<WorkCounts> {
    // The four counts in one statement (#16): each is its own scalar
    // subquery, planned as the index range it was alone.
    const LISTS: [WorkList; 4] =
        [WorkList::DueThisWeek, WorkList::Overdue, WorkList::Missed, WorkList::CheckNonAttendees];
    let join = match scope.filter {
        FamilyFilter::Municipality(_) => "",
        FamilyFilter::ConsentingInAreas(..) | FamilyFilter::Escalated(_) => " JOIN families f ON f.id = c.family_id",
    };
    let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new("SELECT ");
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
        qb.push(format!("{select} FROM contacts c{join} WHERE c.awaits AND c.municipality_id = "));
        qb.push_bind(filter_municipality(&scope.filter).0);
        push_scope(&mut qb, scope);
        push_list(&mut qb, *list, scope.today);
        if let Some(cap) = cap {
            qb.push(" LIMIT ").push_bind(i64::from(cap) + 1).push(") capped)");
        }
        qb.push(close);
    }
    let r = qb.build().fetch_one(&mut *conn).await.map_err(db_err)?;
    use sqlx::Row;
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
    tx: &mut PgConnection,
    key: &ChainKey,
    ctx: &AuditContext,
    id: ContactId,
    outcome: &Outcome,
    note: &str,
) -> Result<()> {
    record_outcome_noted(tx, key, ctx, id, outcome, note, NoteAudience::Office).await
}

/// Records an outcome inside `tx`, with its audit line; the note is written
/// for `audience`. The contact's row is locked first: of two people
/// recording at once, the second waits, then sees the first one's outcome
/// (and is refused if it settled the contact).
pub(crate) async fn record_outcome_noted(
    tx: &mut PgConnection,
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
    tx: &mut PgConnection,
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
    tx: &mut PgConnection,
    ctx: &AuditContext,
    id: ContactId,
    outcome: &Outcome,
    note: &str,
    audience: NoteAudience,
) -> Result<(FamilyId, String)> {
    let r = sqlx::query(concat!(
        "SELECT ",
        contact_columns!(),
        " FROM contacts c WHERE c.id = $1 AND c.municipality_id = $2 FOR UPDATE OF c"
    ))
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
        "UPDATE contacts SET outcome = $1, form = $2, attempts = $3, outcome_note = $4, outcome_by = $5, \
         outcome_at = $6::timestamptz, awaits = $7, updated_at = $6::timestamptz, outcome_note_audience = $9 \
         WHERE id = $8 AND municipality_id = $10 AND ending IS NULL AND (outcome IS NULL OR outcome = 'not_reached')",
    )
    .bind(name)
    .bind(form)
    .bind(i32::from(attempts))
    .bind(&note)
    .bind(ctx.actor.0)
    .bind(ts_param(ctx.at))
    .bind(awaits)
    .bind(id.0)
    .bind(audience.as_str())
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

/// The daily job inside `tx`. The municipality's `timeline_runs` row is
/// created if missing, else locked, before anything is read: a second run
/// waits, then starts from where the first got to (and marks nothing again).
pub(crate) async fn mark_missed(tx: &mut PgConnection, m: MunicipalityId, today: Date) -> Result<MissedRun> {
    let through = today.saturating_sub(1.day());
    // A first run inserts the row (a concurrent first run waits on its key,
    // then finds it); later runs lock the row they find.
    let inserted = sqlx::query(
        "INSERT INTO timeline_runs (municipality_id, through) VALUES ($1, $2::date) \
         ON CONFLICT (municipality_id) DO NOTHING",
    )
    .bind(m.0)
    .bind(through.to_string())
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .rows_affected();
    let from = if inserted == 1 {
        None
    } else {
        let from: String = sqlx::query_scalar(concat!(
            "SELECT ",
            date_col!("through"),
            " FROM timeline_runs WHERE municipality_id = $1 FOR UPDATE"
        ))
        .bind(m.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        Some(date(&from)?)
    };
    if from.is_some_and(|f| f >= through) {
        return Ok(MissedRun { from, through, marked: 0 });
    }
    // `closes` is a date: the first missed day is the day after it. The
    // contacts are locked in id order first, like a reconcile locks them.
    let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(
        "WITH due AS (SELECT id FROM contacts \
         WHERE awaits AND missed_on IS NULL AND municipality_id = ",
    );
    qb.push_bind(m.0);
    if let Some(f) = from {
        push_date(&mut qb, " AND closes > ", f);
    }
    push_date(&mut qb, " AND closes <= ", through);
    qb.push(
        " ORDER BY id FOR UPDATE) \
         UPDATE contacts SET missed_on = contacts.closes + 1 FROM due WHERE contacts.id = due.id",
    );
    let marked = qb.build().execute(&mut *tx).await.map_err(db_err)?.rows_affected();
    sqlx::query("UPDATE timeline_runs SET through = $2::date WHERE municipality_id = $1")
        .bind(m.0)
        .bind(through.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(MissedRun { from, through, marked })
}

/// Pregnancies whose contacts were built with older rules (or never), in id
/// order, their rows and their contacts' rows locked until `tx` ends (a
/// concurrent change of one of them waits; one it has meanwhile rebuilt is
/// left out).
pub(crate) async fn stale_pregnancies_for_update(
    tx: &mut PgConnection,
    m: MunicipalityId,
    limit: u32,
) -> Result<Vec<PregnancyId>> {
    hold_contact_kinds(tx, m).await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM pregnancies WHERE municipality_id = $1 AND timeline_rules < $2 ORDER BY id LIMIT $3 \
         FOR UPDATE",
    )
    .bind(m.0)
    .bind(RULES_VERSION)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    // Their contacts too, all at once in id order, as the daily job takes
    // them: reconciling one pregnancy after another would otherwise take
    // them in another order.
    sqlx::query("SELECT id FROM contacts WHERE pregnancy_id = ANY($1) AND municipality_id = $2 ORDER BY id FOR UPDATE")
        .bind(&ids)
        .bind(m.0)
        .execute(&mut *tx)
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
    tx: &mut PgConnection,
    ctx: &AuditContext,
    pregnancy: PregnancyId,
    through: Date,
) -> Result<()> {
    let rows = sqlx::query(
        "SELECT id, kind FROM contacts WHERE pregnancy_id = $1 AND municipality_id = $3 \
         AND awaits AND staff_owed AND due <= $2::date ORDER BY id",
    )
    .bind(pregnancy.0)
    .bind(through.to_string())
    .bind(ctx.municipality_id.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    for r in rows {
        let id: i64 = get(&r, "id")?;
        let kind: String = get(&r, "kind")?;
        let kind = ContactKind::parse(&kind).ok_or_else(|| corrupt("contact kind"))?;
        let Some(form) = kind.forms().first() else { continue };
        sqlx::query(
            "UPDATE contacts SET outcome = 'done', form = $1, outcome_by = $2, outcome_at = $3::timestamptz, \
             awaits = FALSE, missed_on = NULL, outcome_note = 'import', updated_at = $3::timestamptz \
             WHERE id = $4 AND municipality_id = $5",
        )
        .bind(form.as_str())
        .bind(ctx.actor.0)
        .bind(ts_param(ctx.at))
        .bind(id)
        .bind(ctx.municipality_id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

#[async_trait]
impl TimelineStore for PgStore {
    async fn contact_kinds(&self, m: MunicipalityId) -> Result<KindSet> {
        let bits: Option<i32> = sqlx::query_scalar("SELECT contact_kinds FROM municipalities WHERE id = $1")
            .bind(m.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        let bits = bits.ok_or(StoreError::NotFound)?;
        Ok(KindSet::from_bits(u16::try_from(bits).map_err(|_| corrupt("contact kinds"))?))
    }

    async fn set_contact_kinds(&self, m: MunicipalityId, kinds: KindSet) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The UPDATE locks the municipality's row first: a backfill (which
        // holds it shared) finishes before, or starts after, the new kinds.
        let changed = sqlx::query("UPDATE municipalities SET contact_kinds = $1 WHERE id = $2 AND contact_kinds <> $1")
            .bind(i32::from(kinds.bits()))
            .bind(m.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if changed > 0 {
            sqlx::query("UPDATE pregnancies SET timeline_rules = 0 WHERE municipality_id = $1")
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // Locks the pregnancy: a concurrent birth, loss or new EDD waits,
        // then reconciles from what this one left; the check sees it as it is.
        let p = crate::records::pregnancy_for_change(&mut tx, m, family, pregnancy).await?;
        let babies = babies_of(&mut tx, m, pregnancy).await?;
        let change = check(&p, &babies).map_err(StoreError::Invalid)?;
        change.allowed_from(p.status)?;
        let detail = match change {
            PregnancyChange::Edd(edd) => {
                sqlx::query("UPDATE pregnancies SET edd = $1::date WHERE id = $2 AND municipality_id = $3")
                    .bind(edd.to_string())
                    .bind(pregnancy.0)
                    .bind(m.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                "edd".to_owned()
            }
            PregnancyChange::End(end) => {
                sqlx::query(
                    "UPDATE pregnancies SET status = $1, ended_on = $2::date WHERE id = $3 AND municipality_id = $4",
                )
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
        // As `open_family` (#16): read on a kept connection, the line through
        // the group commit, both at once under a decision about this very
        // family, and the answer only once the line has committed.
        let read = async {
            let mut conn = self.hot_conn().await?;
            let rows = contacts_of_family(conn.conn()?, ctx.municipality_id, family).await;
            conn.done(rows)
        };
        let line = self.audit_read(ctx, AuditAction::TimelineView, Some(family), "");
        if crate::records::decided_on_family(ctx, family) {
            // The line first, as `open_family` does.
            let ((), rows) = tokio::try_join!(line, read)?;
            return Ok(rows);
        }
        let rows = read.await?;
        line.await?;
        Ok(rows)
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
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let Some(record) = crate::records::family_record(&mut conn, m, family).await? else { return Ok(None) };
        let contacts = contacts_of_family(&mut conn, m, family).await?;
        let upcoming = match upcoming {
            Some(f) => upcoming_of_family(&mut conn, m, family, f).await?,
            None => vec![],
        };
        let referrals = match referrals {
            Some(f) => {
                let f = tsunagu_store::ReferralFilter { family_id: Some(family), ..f.clone() };
                crate::care::referrals_of(&mut conn, m, &f).await?
            }
            None => vec![],
        };
        let detail = format!("contacts={} referrals={}", contacts.len(), referrals.len());
        drop(conn);
        self.audit_read(ctx, AuditAction::FamilyView, Some(family), &detail).await?;
        Ok(Some(tsunagu_store::FamilyPage { record, contacts, referrals, upcoming }))
    }

    async fn contact_owner(&self, m: MunicipalityId, id: ContactId) -> Result<Option<ContactOwner>> {
        let r: Option<(i64, String, bool)> =
            sqlx::query_as("SELECT family_id, kind, hidden FROM contacts WHERE id = $1 AND municipality_id = $2")
                .bind(id.0)
                .bind(m.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        r.map(|(family, kind, hidden)| {
            let kind = ContactKind::parse(&kind).ok_or(StoreError::Other("a stored contact kind is unknown".into()))?;
            Ok(ContactOwner { family: FamilyId(family), kind, hidden })
        })
        .transpose()
    }

    async fn contact(&self, ctx: &AuditContext, id: ContactId) -> Result<Option<ContactRow>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let row = sqlx::query(concat!(
            "SELECT ",
            contact_columns!(),
            " FROM contacts c WHERE c.id = $1 AND c.municipality_id = $2"
        ))
        .bind(id.0)
        .bind(ctx.municipality_id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let c = contact_row(&row)?;
        drop(conn);
        self.audit_read(ctx, AuditAction::TimelineView, Some(c.family_id), &format!("contact={}", id.0)).await?;
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        record_outcome_noted(&mut tx, &self.keys.chain, ctx, id, outcome, note, audience).await?;
        let r = sqlx::query(concat!(
            "SELECT ",
            contact_columns!(),
            " FROM contacts c WHERE c.id = $1 AND c.municipality_id = $2"
        ))
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let notified: Option<String> = sqlx::query_scalar(concat!(
            "SELECT ",
            date_col!("p.notified_on"),
            " FROM contacts c JOIN pregnancies p ON p.id = c.pregnancy_id WHERE c.id = $1 AND c.municipality_id = $2"
        ))
        .bind(id.0)
        .bind(ctx.municipality_id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let notified = date(&notified.ok_or(StoreError::NotFound)?)?;
        let on = tsunagu_domain::timeline::contact_day::check_contact_day(day.on, day.today, notified)
            .map_err(tsunagu_store::contact_day_refused)?;
        record_outcome_noted(&mut tx, &self.keys.chain, ctx, id, outcome, note, audience).await?;
        sqlx::query("UPDATE contacts SET contacted_on = $1::date WHERE id = $2 AND municipality_id = $3")
            .bind(on.to_string())
            .bind(id.0)
            .bind(ctx.municipality_id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let r = sqlx::query(concat!(
            "SELECT ",
            contact_columns!(),
            " FROM contacts c WHERE c.id = $1 AND c.municipality_id = $2"
        ))
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
        // Read, then wait for the audit line, committed with those of other
        // reads that arrive together (#16).
        let rows = {
            let mut conn = self.pool.acquire().await.map_err(db_err)?;
            read_work_list(&mut conn, q).await?
        };
        let detail = format!("list={} results={}", q.list.as_str(), rows.len());
        self.audit_read(ctx, AuditAction::WorkList, None, &detail).await?;
        Ok(rows)
    }

    async fn work_list_with_followups(
        &self,
        ctx: &AuditContext,
        contacts: Option<&WorkListQuery>,
        followups: Option<&tsunagu_store::ReferralFilter>,
    ) -> Result<(Vec<ContactRow>, Vec<tsunagu_store::StoredReferral>)> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let rows = match contacts {
            Some(q) => {
                if filter_municipality(&q.scope.filter) != ctx.municipality_id {
                    return Err(StoreError::InvalidReference("municipality"));
                }
                read_work_list(&mut conn, q).await?
            }
            None => vec![],
        };
        let referrals = match followups {
            Some(f) => crate::care::referrals_of(&mut conn, ctx.municipality_id, f).await?,
            None => vec![],
        };
        drop(conn);
        let detail = work_list_detail(contacts, rows.len(), followups.map(|_| referrals.len()));
        // The answer waits for its audit line, committed with those of other
        // reads that arrive together (#16).
        self.audit_read(ctx, AuditAction::WorkList, None, &detail).await?;
        Ok((rows, referrals))
    }

    async fn work_counts(&self, scope: &WorkScope, cap: Option<u32>) -> Result<WorkCounts> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        work_counts(&mut conn, scope, cap).await
    }

    async fn mark_missed(&self, m: MunicipalityId, today: Date) -> Result<MissedRun> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let run = mark_missed(&mut tx, m, today).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(run)
    }

    async fn backfill_timelines(&self, m: MunicipalityId, today: Date, limit: u32) -> Result<u64> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let ids = stale_pregnancies_for_update(&mut tx, m, limit).await?;
        let at = Timestamp::UNIX_EPOCH;
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
    conn: &mut sqlx::PgConnection,
    m: MunicipalityId,
    family: FamilyId,
) -> Result<Vec<ContactRow>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        contact_columns!(),
        " FROM contacts c WHERE c.family_id = $1 AND c.municipality_id = $2 \
         ORDER BY c.opens, c.due, c.kind, c.id"
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
    conn: &mut sqlx::PgConnection,
    m: MunicipalityId,
    family: FamilyId,
    f: &tsunagu_store::UpcomingFilter,
) -> Result<Vec<tsunagu_store::UpcomingItem>> {
    type Row = (String, String, bool, String, String, String, String, String, Option<i64>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT item, detail, waiting, first_day, last_day, starts, name_ja, name_en, pregnancy_id FROM ( \
           SELECT 'class'::text AS item, b.kind AS detail, b.status = 'waiting' AS waiting, s.day::text AS first_day, \
                  s.day::text AS last_day, s.starts::text AS starts, v.name_ja AS name_ja, v.name_en AS name_en, \
                  b.pregnancy_id AS pregnancy_id \
             FROM class_bookings b \
             JOIN class_sessions s ON s.id = b.session_id AND s.municipality_id = b.municipality_id \
             JOIN venues v ON v.id = s.venue_id \
            WHERE b.municipality_id = $1 AND b.family_id = $2 AND b.status IN ('confirmed', 'waiting') \
              AND NOT s.cancelled AND s.day >= $3::date \
           UNION ALL \
           SELECT 'stay'::text, a.service, false, a.stay_first::text, a.stay_last::text, ''::text, v.name_ja, v.name_en, NULL::bigint \
             FROM postpartum_applications a JOIN venues v ON v.id = a.venue_id \
            WHERE $4 AND a.municipality_id = $1 AND a.family_id = $2 AND a.status = 'approved' AND a.stay_last >= $3::date \
           UNION ALL \
           SELECT 'group'::text, ''::text, false, gs.day::text, gs.day::text, ''::text, gs.place, gs.place, g.pregnancy_id \
             FROM group_session_members g \
             JOIN group_sessions gs ON gs.id = g.session_id AND gs.municipality_id = g.municipality_id \
             JOIN contacts c ON c.id = g.contact_id AND c.municipality_id = g.municipality_id \
            WHERE $4 AND g.municipality_id = $1 AND g.family_id = $2 AND g.attended IS NULL \
              AND gs.attendance_at IS NULL AND c.awaits AND NOT c.hidden AND gs.day >= $3::date \
         ) u ORDER BY first_day, starts LIMIT $5",
    )
    .bind(m.0)
    .bind(family.0)
    .bind(f.from.to_string())
    .bind(f.stays)
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
