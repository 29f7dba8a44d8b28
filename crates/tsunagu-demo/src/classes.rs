//! Demo classes and programmes [000][002][004]: a fiscal year of sessions
//! at the demo's venues from the seeds' patterns — [000]'s self-care
//! classes spread over the children's halls (three a hall, 75 over 25),
//! [002]'s maternity class once a month at each support room, [004]'s
//! Sunday parents' class, health-consultation day and twins group once a
//! month at each hub — partly booked by families the rules let book. Each
//! venue's programme-staff accounts run its sessions (#12, last stage), so
//! the hall's demo account sees its own sessions' rosters.

use jiff::civil::{Time, Weekday};
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::classes::{decide, monthly, spread_over_venues, PlannedSession, ProgrammeConfig, ProgrammeKind};
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::{FamilyId, VenueId};
use tsunagu_store::{NewClassBooking, NewSession, SessionEdit, SessionQuery, Store};

/// At most this many bookings a municipality: enough to see full sessions
/// and waiting lists, few enough to load quickly.
const MAX_BOOKINGS: usize = 150;

async fn programme(
    store: &dyn Store,
    ctx: &AuditContext,
    kind: ProgrammeKind,
    plan: &[PlannedSession],
) -> tsunagu_store::Result<()> {
    if plan.is_empty() {
        return Ok(());
    }
    let config = ProgrammeConfig::seed_default(kind);
    let sessions: Vec<NewSession> = plan
        .iter()
        .map(|p| NewSession {
            venue_id: p.venue,
            day: p.day,
            starts: p.starts,
            minutes: config.default_minutes,
            capacity: config.default_capacity,
        })
        .collect();
    let p = store.create_programme(ctx.municipality_id, &config).await?;
    store.create_class_sessions(ctx.municipality_id, p.id, &sessions).await?;
    Ok(())
}

/// Each session's staff: the programme-staff accounts of its venue (the
/// policy's roles that run sessions, scoped to that venue), one edit each
/// through the store's own path (one `class.session_edit` line).
async fn assign_staff(store: &dyn Store, ctx: &AuditContext) -> tsunagu_store::Result<()> {
    let m = ctx.municipality_id;
    let accounts = store.accounts(m).await?;
    let runners: Vec<_> = accounts
        .iter()
        .filter(|a| !a.disabled && !a.venues.is_empty() && tsunagu_domain::policy::may_staff_class_sessions(a.role))
        .collect();
    if runners.is_empty() {
        return Ok(());
    }
    let sessions = store.class_sessions(m, &SessionQuery { limit: 1000, ..SessionQuery::default() }).await?;
    for s in sessions {
        let staff: Vec<_> = runners.iter().filter(|a| a.venues.contains(&s.venue_id)).map(|a| a.id).collect();
        if staff.is_empty() {
            continue;
        }
        let edit = SessionEdit {
            day: s.day,
            starts: s.starts,
            minutes: s.minutes,
            capacity: s.capacity,
            cancelled: s.cancelled,
            venue_id: None,
            staff: Some(staff),
        };
        store.edit_class_session(ctx, s.id, &edit).await?;
    }
    Ok(())
}

pub(crate) async fn load(
    store: &dyn Store,
    ctx: &AuditContext,
    today: jiff::civil::Date,
    demo_family: FamilyId,
) -> tsunagu_store::Result<()> {
    let m = ctx.municipality_id;
    let Ok(fy) = FiscalYear::of(today) else { return Ok(()) };
    let venues = store.venues(m).await?;
    let of = |kind: VenueKind| -> Vec<VenueId> { venues.iter().filter(|v| v.kind == kind).map(|v| v.id).collect() };
    let ten = Time::constant(10, 0, 0, 0);
    let halls = of(VenueKind::ChildrensHall);
    let per_year = u32::try_from(halls.len().saturating_mul(3)).unwrap_or(0);
    // [000] 年間合計75回 over 25 halls; the weekday is a setting (the seed names none).
    programme(store, ctx, ProgrammeKind::SelfCare, &spread_over_venues(fy, &halls, per_year, Weekday::Tuesday, ten))
        .await?;
    let rooms = of(VenueKind::SupportRoom);
    let plan: Vec<PlannedSession> = rooms.iter().flat_map(|r| monthly(fy, *r, Weekday::Saturday, 2, ten)).collect();
    programme(store, ctx, ProgrammeKind::MaternityClass, &plan).await?;
    let hubs = of(VenueKind::Hub);
    for (kind, weekday, nth) in [
        (ProgrammeKind::SundayParentsClass, Weekday::Sunday, 2),
        (ProgrammeKind::HealthConsultation, Weekday::Wednesday, 1),
        (ProgrammeKind::TwinsGroup, Weekday::Friday, 3),
    ] {
        let plan: Vec<PlannedSession> = hubs.iter().flat_map(|h| monthly(fy, *h, weekday, nth, ten)).collect();
        programme(store, ctx, kind, &plan).await?;
    }

    assign_staff(store, ctx).await?;

    // Partly booked: each family (the demo family left free to book) takes
    // the first session of its area from today that the rules let it book.
    let upcoming =
        store.class_sessions(m, &SessionQuery { from: Some(today), limit: 1000, ..SessionQuery::default() }).await?;
    let families = store.search_families(ctx, &FamilyFilter::Municipality(m), "", 400).await?;
    let mut made = 0;
    // Drawn from the family's place in the list, not its id (see `postpartum_use`).
    for (i, summary) in (0u32..).zip(families) {
        if made >= MAX_BOOKINGS {
            break;
        }
        if summary.family_id == demo_family {
            continue;
        }
        let Some(record) = store.open_family(ctx, summary.family_id).await? else { continue };
        let choice = upcoming
            .iter()
            .filter(|s| s.area_id == Some(summary.area_id))
            .find_map(|s| decide(&s.programme, &record, s.day, &[]).ok().map(|e| (s, e)));
        let Some((session, eligible)) = choice else { continue };
        let request = NewClassBooking {
            session_id: session.id,
            family_id: summary.family_id,
            eligible,
            idempotency_key: format!("demo-{}-{}", summary.family_id, session.id),
            with_partner: i % 2 == 0,
            share_name: i % 5 != 0,
            join_waiting_list: true,
            override_rule: None,
        };
        if store.book_class(ctx, &request).await.is_ok() {
            made += 1;
        }
    }
    Ok(())
}
