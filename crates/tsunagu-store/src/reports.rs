//! Reports (#14): aggregate counts by municipality and fiscal year. Nothing
//! here returns a person: every method answers counts, and reading a report
//! writes one audit line (`report.view`) before it answers.
//!
//! A back end implements the counting queries ([`ReportStore::year_counts`])
//! and the settings; the assembly of a year's aggregates from them and from
//! the postpartum and records stores (facilities, their calendars, areas) is
//! written once here, in [`ReportStore::report`].
//!
//! Cost (#14, "fast enough at scale"): each table of a year is one
//! aggregate statement (`GROUP BY`, bounded by the municipality and the
//! year's date range, each on an index that starts with those two columns —
//! migration 0023; the chat's, two), so a report is two statements
//! (facilities, areas), eleven per fiscal year — run at once — and its audit
//! line, whatever the number of facilities or families;
//! `tests/it/report_plans.rs` pins the count and shows the plans.
//!
//! The chat [003] plugs in the same way: its counts of the year (rooms
//! opened, parents who wrote, messages by side, escalations by outcome) and
//! each room's seconds to its first answer, never a message's text
//! (`YearCounts::chat`, `TableKind::ChatFigures`).
//!
//! Classes plug in through their own aggregate
//! ([`crate::ClassStore::class_participation`]: per venue and programme,
//! sessions, groups, people, couples), read here in the same assembly and
//! under the same one audit line; the table is `TableKind::ClassParticipation`.

use crate::{AuditStore, ClassStore, PostpartumStore, RecordStore, Result};
use async_trait::async_trait;
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::postpartum::occupancy::places_offered;
use tsunagu_domain::postpartum::ServiceType;
use tsunagu_domain::referrals::ConcernSource;
use tsunagu_domain::reports::build::{
    AreaCount, ChatYear, ClassVenueFigures, FacilityUse, ReferralCounts, ScreeningCounts, YearAggregates,
};
use tsunagu_domain::reports::{Period, ReportSettings};
use tsunagu_domain::timeline::ContactForm;
use tsunagu_domain::{MunicipalityId, VenueId};

/// A facility's used days in a fiscal year ([001] 利用実績), from one
/// `GROUP BY venue` over the year's used days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VenueUse {
    pub venue: VenueId,
    pub short_stay_days: u64,
    pub day_care_days: u64,
    pub outreach_visits: u64,
    /// Families with a used day there, once each.
    pub families: u64,
}

/// What a back end counts for a fiscal year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YearCounts {
    /// Used days per facility (facilities without any are absent).
    pub postpartum: Vec<VenueUse>,
    pub follow_ups: u64,
    /// Done 8th-month interviews by form (any order; forms absent are 0).
    pub eighth_month: Vec<(ContactForm, u64)>,
    pub happy_baby: Vec<(ContactForm, u64)>,
    pub handbook_meetings: u64,
    pub group_sessions: u64,
    pub check_non_attendees: u64,
    pub check_resolved: u64,
    pub screening: Vec<ScreeningCounts>,
    pub referrals: Vec<ReferralCounts>,
    pub notifications: u64,
    pub notifications_with_questionnaire: u64,
    /// The chat's figures [003] (two statements: counts, first answers).
    pub chat: ChatYear,
}

/// Counts `(ContactForm, n)` in [`ContactForm::ALL`] order, every form present.
fn in_form_order(counts: &[(ContactForm, u64)], forms: &[ContactForm]) -> Vec<(ContactForm, u64)> {
    forms.iter().map(|f| (*f, counts.iter().filter(|(g, _)| g == f).map(|(_, n)| *n).sum())).collect()
}

/// [002] 妊娠8か月面談: 集団面談, 個別面談, 訪問.
pub const EIGHTH_MONTH_FORMS: [ContactForm; 3] = [ContactForm::Group, ContactForm::Individual, ContactForm::HomeVisit];
/// [002] はっぴーベビー: 家庭訪問, 支援室来訪者, 3・4か月児健診時.
pub const HAPPY_BABY_FORMS: [ContactForm; 3] =
    [ContactForm::HomeVisit, ContactForm::SupportRoomVisit, ContactForm::AtHealthCheck];

/// The `report.settings` line's detail, the same on both back ends.
pub fn report_settings_detail(s: &ReportSettings) -> String {
    format!(
        "threshold={} rounding={} follow_up_days={} chat_answer_hours={} printed_years={}",
        s.suppression.threshold,
        s.suppression.rounding.map_or_else(|| "none".to_owned(), |r| r.to_string()),
        s.follow_up_days,
        s.chat_answer_hours,
        s.printed.len()
    )
}

#[async_trait]
pub trait ReportStore: PostpartumStore + RecordStore + ClassStore + AuditStore + Send + Sync {
    /// The municipality's report settings; the defaults when it set none.
    async fn report_settings(&self, m: MunicipalityId) -> Result<ReportSettings>;
    /// Sets (replaces) the report settings of `ctx`'s municipality, with one
    /// `report.settings` line in the same transaction.
    async fn set_report_settings(&self, ctx: &AuditContext, settings: &ReportSettings) -> Result<()>;

    /// A fiscal year's counts (dates in `range`), bounded by `m`; a
    /// positive screen is followed up when its referral was taken up within
    /// `follow_up_days`. One aggregate statement per table (nine here, two of
    /// them the chat's; the users by area and the classes are the postpartum
    /// and class stores').
    /// Not audited: [`ReportStore::report`] is.
    async fn year_counts(&self, m: MunicipalityId, range: DateRange, follow_up_days: u32) -> Result<YearCounts>;

    /// Every fiscal year of `period` in `ctx`'s municipality, aggregates
    /// only, audited `report.view` once.
    async fn report(&self, ctx: &AuditContext, period: &Period, follow_up_days: u32) -> Result<Vec<YearAggregates>> {
        let m = ctx.municipality_id;
        let (facilities, areas) = tokio::try_join!(self.postpartum_facilities(m), self.areas(m))?;
        let mut out = Vec::new();
        for fy in period.years() {
            out.push(year(self, m, fy, &facilities, &areas, follow_up_days).await?);
        }
        self.write_audit(ctx, AuditAction::ReportView, None, &format!("period={}", period.label_en())).await?;
        Ok(out)
    }

    // --- the figures a city printed (#14, reconciliation) ---

    /// Every fiscal year's printed figures of the municipality, as its
    /// administrator entered them (per facility, per district).
    async fn printed_figures(
        &self,
        m: MunicipalityId,
    ) -> Result<(
        Vec<tsunagu_domain::reports::reconcile::PrintedFigures>,
        Vec<tsunagu_domain::reports::printed::PrintedArea>,
    )>;

    /// Replaces a fiscal year's printed figures of `ctx`'s municipality
    /// with `year` (checked: `printed::check`), and writes one
    /// `report.printed` line in the same transaction.
    async fn set_printed_year(
        &self,
        ctx: &AuditContext,
        year: &tsunagu_domain::reports::printed::PrintedYear,
    ) -> Result<()>;

    // --- nation-wide (#14) ---

    /// The report settings of every municipality of `ms` that set them
    /// (one statement; the others use the defaults).
    async fn nation_report_settings(&self, ms: &[MunicipalityId]) -> Result<Vec<(MunicipalityId, ReportSettings)>>;

    /// The postpartum facilities of every municipality of `ms`, with their
    /// calendars (one statement).
    async fn nation_facilities(&self, ms: &[MunicipalityId]) -> Result<Vec<crate::PostpartumFacility>>;

    /// [`ReportStore::year_counts`] for every municipality of `ms` at once:
    /// one aggregate statement per table over the nation (`GROUP BY
    /// municipality_id`, bounded by `ms` and the year), not one report per
    /// municipality. The chat's figures are not counted here (the
    /// nation-wide report does not hold them). Municipalities without any
    /// count are absent. Not audited: [`ReportStore::nation_report`] is.
    async fn nation_year_counts(
        &self,
        ms: &[MunicipalityId],
        range: DateRange,
        follow_up_days: u32,
    ) -> Result<Vec<(MunicipalityId, YearCounts)>>;

    /// A fiscal year over every municipality of the service: each one's
    /// aggregates (no areas, classes nor chat: the nation-wide tables are
    /// those of [`tsunagu_domain::reports::nation::NATION_KINDS`]) and its
    /// suppression settings, in the municipalities' order; four statements
    /// and the counts', whatever the number of municipalities, and one
    /// `report.nation_view` line in the reader's municipality.
    async fn nation_report(
        &self,
        ctx: &AuditContext,
        fy: FiscalYear,
        follow_up_days: u32,
    ) -> Result<Vec<NationMunicipality>> {
        let municipalities = self.municipalities().await?;
        let ms: Vec<MunicipalityId> = municipalities.iter().map(|m| m.id).collect();
        let (settings, facilities, counts) = tokio::try_join!(
            self.nation_report_settings(&ms),
            self.nation_facilities(&ms),
            self.nation_year_counts(&ms, fy.range(), follow_up_days),
        )?;
        let mut out = Vec::with_capacity(municipalities.len());
        for m in municipalities {
            let own: Vec<crate::PostpartumFacility> =
                facilities.iter().filter(|f| f.venue.municipality_id == m.id).cloned().collect();
            let c = counts.iter().find(|(id, _)| *id == m.id).map(|(_, c)| c.clone()).unwrap_or_default();
            let aggregates = assemble(fy, &own, &[], c, &[], Vec::new(), follow_up_days);
            let settings = settings.iter().find(|(id, _)| *id == m.id).map(|(_, s)| s.clone()).unwrap_or_default();
            out.push(NationMunicipality { municipality: m, settings, aggregates });
        }
        self.write_audit(
            ctx,
            AuditAction::ReportNationView,
            None,
            &format!("fy={} municipalities={}", fy.label_en(), out.len()),
        )
        .await?;
        Ok(out)
    }
}

/// One municipality's part of the nation-wide report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationMunicipality {
    pub municipality: tsunagu_domain::places::Municipality,
    pub settings: ReportSettings,
    pub aggregates: YearAggregates,
}

async fn year<S: ReportStore + ?Sized>(
    store: &S,
    m: MunicipalityId,
    fy: FiscalYear,
    facilities: &[crate::PostpartumFacility],
    areas: &[tsunagu_domain::places::Area],
    follow_up_days: u32,
) -> Result<YearAggregates> {
    let range = fy.range();
    // The year's statements at once (the back end runs its own at once too).
    let (c, by_area, classes) = tokio::try_join!(
        store.year_counts(m, range, follow_up_days),
        store.postpartum_users_by_area(m, range),
        store.class_participation(m, range.first(), range.last()),
    )?;
    Ok(assemble(fy, facilities, areas, c, &by_area, classes, follow_up_days))
}

/// A year's aggregates from what the statements answered (no I/O).
fn assemble(
    fy: FiscalYear,
    facilities: &[crate::PostpartumFacility],
    areas: &[tsunagu_domain::places::Area],
    c: YearCounts,
    by_area: &[(tsunagu_domain::AreaId, u64)],
    classes: Vec<crate::classes::ParticipationRow>,
    follow_up_days: u32,
) -> YearAggregates {
    let range = fy.range();
    let mut uses = Vec::new();
    for f in facilities {
        let usage = c.postpartum.iter().find(|u| u.venue == f.venue.id).copied().unwrap_or(VenueUse {
            venue: f.venue.id,
            short_stay_days: 0,
            day_care_days: 0,
            outreach_visits: 0,
            families: 0,
        });
        // The pool short stay and day care draw on (the facility's places).
        let service =
            if f.calendar.offers(ServiceType::ShortStay) { ServiceType::ShortStay } else { ServiceType::DayCare };
        let offers = f.calendar.offers(service);
        uses.push(FacilityUse {
            venue_id: f.venue.id.0,
            name_ja: f.venue.name_ja.clone(),
            name_en: f.venue.name_en.clone(),
            short_stay_days: usage.short_stay_days,
            day_care_days: usage.day_care_days,
            outreach_visits: usage.outreach_visits,
            families: usage.families,
            offered_places: offers.then(|| places_offered(&f.calendar, service, range)),
            places_per_day: f.calendar.pool_of(service).map_or(0, |p| p.plan.places),
        });
    }
    let area_counts = areas
        .iter()
        .map(|a| AreaCount {
            area_id: a.id.0,
            name_ja: a.name_ja.clone(),
            name_en: a.name_en.clone(),
            families: by_area.iter().filter(|(id, _)| *id == a.id).map(|(_, n)| *n).sum(),
        })
        .collect();
    let mut referrals = c.referrals.clone();
    for source in ConcernSource::ALL {
        if !referrals.iter().any(|r| r.source == source) {
            referrals.push(ReferralCounts { source, open: 0, closed: [0; 4] });
        }
    }
    referrals.sort_by_key(|r| ConcernSource::ALL.iter().position(|s| *s == r.source));
    let classes = classes
        .into_iter()
        .map(|r| ClassVenueFigures {
            venue_id: r.venue_id.0,
            name_ja: r.venue_name_ja,
            name_en: r.venue_name_en,
            kind: r.kind,
            figures: r.figures,
        })
        .collect();
    YearAggregates {
        fiscal_year: fy,
        facilities: uses,
        areas: area_counts,
        follow_ups: c.follow_ups,
        eighth_month: in_form_order(&c.eighth_month, &EIGHTH_MONTH_FORMS),
        happy_baby: in_form_order(&c.happy_baby, &HAPPY_BABY_FORMS),
        handbook_meetings: c.handbook_meetings,
        group_sessions: c.group_sessions,
        check_non_attendees: c.check_non_attendees,
        check_resolved: c.check_resolved,
        screening: c.screening,
        follow_up_days,
        referrals,
        notifications: c.notifications,
        notifications_with_questionnaire: c.notifications_with_questionnaire,
        classes,
        chat: c.chat,
        chat_answer_hours: ReportSettings::default().chat_answer_hours,
    }
}

/// The instants a range of Japan dates covers, as a half-open interval:
/// midnight in Japan of its first day, midnight after its last.
pub fn instant_bounds(range: DateRange) -> (jiff::Timestamp, jiff::Timestamp) {
    let tz = tsunagu_domain::clock::jst();
    let start = range.first().to_zoned(tz.clone()).map(|z| z.timestamp()).unwrap_or(jiff::Timestamp::MIN);
    let end = tsunagu_domain::dates::add_days(range.last(), 1)
        .and_then(|d| d.to_zoned(tz).ok())
        .map(|z| z.timestamp())
        .unwrap_or(jiff::Timestamp::MAX);
    (start, end)
}

/// Of screened results with a referral (entered at, first taken up at),
/// those taken up within `days` days of being entered.
pub fn followed_up_within(pairs: &[(jiff::Timestamp, Option<jiff::Timestamp>)], days: u32) -> u64 {
    let limit = jiff::SignedDuration::from_hours(i64::from(days).saturating_mul(24));
    pairs
        .iter()
        .filter(|(entered, taken)| taken.is_some_and(|t| t.duration_since(*entered) <= limit))
        .count()
        .try_into()
        .unwrap_or(u64::MAX)
}

/// Referral counts from (source, status, close reason, n) rows.
pub fn referral_counts(rows: &[(String, String, Option<String>, u64)]) -> Vec<ReferralCounts> {
    use tsunagu_domain::referrals::CloseReason;
    let mut out: Vec<ReferralCounts> = Vec::new();
    for (source, status, reason, n) in rows {
        let Some(source) = ConcernSource::parse(source) else { continue };
        let i = match out.iter().position(|r| r.source == source) {
            Some(i) => i,
            None => {
                out.push(ReferralCounts { source, open: 0, closed: [0; 4] });
                out.len().saturating_sub(1)
            }
        };
        let Some(r) = out.get_mut(i) else { continue };
        match reason.as_deref().and_then(CloseReason::parse) {
            Some(reason) if status == "closed" => {
                if let Some(slot) = CloseReason::ALL.iter().position(|c| *c == reason).and_then(|k| r.closed.get_mut(k))
                {
                    *slot = slot.saturating_add(*n);
                }
            }
            _ => r.open = r.open.saturating_add(*n),
        }
    }
    out
}
