//! Report demo data (#14): enough of the last complete fiscal year that the
//! report page shows real figures — stays at Setagaya's centre by families
//! whose baby was born that year (the use table, the users by area, small
//! cells held back among them) — and the figures Setagaya printed for its
//! centre [001], so the reconciliation beside the use table has something
//! to compare. Through the store's own calls, like the rest of the demo.

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
        store.set_report_settings(m, &settings).await?;
    }
    let Ok(this) = FiscalYear::of(today) else { return Ok(()) };
    let Ok(last) = FiscalYear::new(this.year() - 1) else { return Ok(()) };
    let Some(pool) = centre.calendar.pools().iter().position(|p| p.services.contains(&ServiceType::ShortStay)) else {
        return Ok(());
    };
    let families = store.search_families(ctx, &FamilyFilter::Municipality(m), "", 2_000).await?;
    let mut made = 0;
    for summary in families {
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
        let days = 1 + (summary.family_id.0 % 6) as u32;
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
