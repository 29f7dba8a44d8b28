//! Report demo data (#14): enough of the last complete fiscal year that the
//! report page shows real figures — stays at Setagaya's centre by families
//! whose baby was born that year (the use table, the users by area, small
//! cells held back among them) — and the figures Setagaya printed for its
//! centre [001], so the reconciliation beside the use table has something
//! to compare; and the EPDS the nurse entered last year for those families
//! (entered on the day, a month after the birth: the screening, referral and
//! indicator tables of last year show figures beside this year's). Through
//! the store's own calls, like the rest of the demo.

use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::postpartum::application::{latest_babies, ApplicationAnswers, NewApplication};
use tsunagu_domain::postpartum::fees::{city_pays_transport, quote, FeeTable, QuoteRequest};
use tsunagu_domain::postpartum::ServiceType;
use tsunagu_domain::reports::ReportSettings;
use tsunagu_store::{Store, StoreError};

/// At most this many past stays per municipality.
const PAST_STAYS_MAX: usize = 60;

/// At most this many past EPDS per municipality.
const PAST_EPDS_MAX: usize = 80;

/// Last year's EPDS item scores, in turn: mostly negative, one in six
/// positive (a total of 9 or more), none urgent.
const PAST_EPDS: [[u8; 10]; 6] = [
    [1, 1, 0, 1, 1, 0, 1, 0, 0, 0],
    [0, 1, 1, 0, 1, 1, 0, 0, 0, 0],
    [1, 0, 1, 1, 0, 1, 1, 1, 1, 0],
    [2, 2, 1, 2, 1, 1, 1, 1, 1, 0],
    [0, 0, 1, 0, 1, 0, 0, 1, 0, 0],
    [1, 1, 0, 0, 1, 1, 0, 1, 1, 0],
];

/// Loads the report demo data of the municipality in `ctx` (Setagaya only:
/// its fee table and printed figures are the published ones).
pub async fn load(store: &dyn Store, ctx: &AuditContext, today: jiff::civil::Date) -> tsunagu_store::Result<()> {
    let m = ctx.municipality_id;
    if store.municipality(m).await?.map(|x| x.code.to_string()).as_deref() != Some("131121") {
        return Ok(());
    }
    let facilities = store.postpartum_facilities(m).await?;
    let Some(centre) = facilities.iter().find(|f| f.calendar.offers(ServiceType::ShortStay)) else { return Ok(()) };
    // [001] 利用実績 平成30〜令和4, beside what the records give for those years.
    let mut settings = store.report_settings(m).await?;
    if settings.printed.is_empty() {
        settings.printed = ReportSettings::setagaya_printed(centre.venue.id.0);
        store.set_report_settings(ctx, &settings).await?;
    }
    let Ok(this) = FiscalYear::of(today) else { return Ok(()) };
    let Ok(last) = FiscalYear::new(this.year() - 1) else { return Ok(()) };
    let Some(pool) = centre.calendar.pools().iter().position(|p| p.services.contains(&ServiceType::ShortStay)) else {
        return Ok(());
    };
    let families = store.search_families(ctx, &FamilyFilter::Municipality(m), "", 2_000).await?;
    past_epds(store, ctx, last, &families).await?;
    let mut made = 0;
    // Drawn from the family's place in the list, not its id (see `postpartum_use`).
    for (i, summary) in (0u32..).zip(families) {
        if made >= PAST_STAYS_MAX {
            break;
        }
        let Some(record) = store.open_family(ctx, summary.family_id).await? else { continue };
        let babies = latest_babies(&record);
        let Some(baby) = babies.first() else { continue };
        // Born in the last complete fiscal year, early enough that the stay
        // two weeks later ends within it.
        let born = baby.birth_date;
        if !(last.start() <= born && born.saturating_add(jiff::Span::new().days(30)) <= last.end()) {
            continue;
        }
        let days = 1 + i % 6;
        let Some(stay) = DateRange::starting(born.saturating_add(jiff::Span::new().days(14)), days) else { continue };
        let places: Vec<_> = stay.days().map(|d| (d, centre.calendar.capacity(ServiceType::ShortStay, d))).collect();
        let request = QuoteRequest {
            bracket: record.family.fee_bracket,
            service: ServiceType::ShortStay,
            days,
            babies: babies.len() as u32,
            siblings: 0,
        };
        let Ok(q) = quote(&FeeTable::setagaya(), request) else { continue };
        let id = store
            .create_application(
                ctx,
                &NewApplication {
                    family_id: record.family.id,
                    venue_id: centre.venue.id,
                    service: ServiceType::ShortStay,
                    stay,
                    babies: babies.len() as u8,
                    siblings: 0,
                    answers: ApplicationAnswers { has_worries_or_fatigue: true, ..ApplicationAnswers::default() },
                    quote_total_yen: q.total_yen,
                    fee_to_be_confirmed: q.amount_to_be_confirmed,
                    transport_paid: city_pays_transport(record.family.fee_bracket),
                    refusals: vec![],
                    override_reason: None,
                },
            )
            .await?;
        let booking = tsunagu_store::Booking { pool: pool as u32, places };
        match store.approve_application(ctx, id, &booking, "デモデータ（前年度）", None).await {
            Ok(()) => {
                for d in stay.days() {
                    store.record_day_use(ctx, id, d, true).await?;
                }
                made += 1;
            }
            // A full day: left waiting, as in life.
            Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The EPDS of last fiscal year: for families whose baby was born in it, a
/// month after the birth, entered that day (the context's time is the
/// day's, so the report counts it in last year). A positive one raises its
/// referral, as it would have then.
async fn past_epds(
    store: &dyn Store,
    ctx: &AuditContext,
    last: FiscalYear,
    families: &[tsunagu_domain::records::FamilySummary],
) -> tsunagu_store::Result<()> {
    use tsunagu_domain::screening::{defs, Answers};
    let def = defs::epds();
    let mut made = 0;
    for summary in families {
        if made >= PAST_EPDS_MAX {
            break;
        }
        let Some(record) = store.open_family(ctx, summary.family_id).await? else { continue };
        let Some(baby) = record.babies.iter().max_by_key(|b| b.birth_date) else { continue };
        let on = baby.birth_date.saturating_add(jiff::Span::new().days(30));
        if !(last.start() <= baby.birth_date && on <= last.end()) {
            continue;
        }
        let Some(at) = on
            .to_datetime(jiff::civil::Time::constant(10, 0, 0, 0))
            .to_zoned(tsunagu_domain::clock::jst())
            .ok()
            .map(|z| z.timestamp())
        else {
            continue;
        };
        let scores = PAST_EPDS.get(made % PAST_EPDS.len()).copied().unwrap_or_default();
        let mut answers = Answers::to(&def, &[]);
        for (item, score) in def.items.iter().zip(scores) {
            let Some(option) = item.options.iter().find(|o| o.score == score) else { continue };
            answers.answers.insert(item.id.clone(), option.code.clone());
        }
        let Ok(new) = tsunagu_store::NewScreening::score(&def, record.family.id, Some(baby.pregnancy_id), answers)
        else {
            continue;
        };
        let mut then = ctx.clone();
        then.at = at;
        store.record_screening(&then, &new).await?;
        made += 1;
    }
    Ok(())
}
