//! The seamless timeline at the edge, shared by the pages and the API: work
//! lists (due this week, overdue, missed, 3–4-month check non-attendees,
//! urgent follow-ups), a family's contacts, recording what happened, and the
//! changes of a pregnancy that move the schedule (a new EDD, a loss, a move).

use crate::base::error::{permit, permit_municipality, AppError};
use crate::base::AppState;
use axum::Router;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use tsunagu_domain::audit::{AuditContext, Requester};
use tsunagu_domain::notes::NoteAudience;
use tsunagu_domain::policy::{authorize, Action, Decision, FamilyAccess, Resource};
use tsunagu_domain::records::{Baby, EddChangeInput, Pregnancy, PregnancyEndInput};
use tsunagu_domain::roles::Actor;
use tsunagu_domain::timeline::{work_list_access, ContactForm, ContactKind, Outcome, WorkListAccess, CHIP_COUNT_CAP};
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{AreaId, ContactId, FamilyId, PregnancyId};
use tsunagu_store::{
    ContactRow, PregnancyChange, ReferralFilter, StoredReferral, WorkCounts, WorkList, WorkListQuery, WorkScope,
    WorkSort,
};

pub mod api;
mod api_doc;
pub mod pages;

/// What this capability's API operations are, for the API's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <api_doc::ApiDoc as utoipa::OpenApi>::openapi()
}

/// The timeline's pages and its API.
pub fn routes() -> Router<AppState> {
    Router::new().merge(api::routes()).merge(pages::routes())
}

/// Rows on one page of a work list.
pub const PAGE_SIZE: u32 = 50;

fn invalid(field: &'static str, code: &'static str) -> AppError {
    let mut e = FieldErrors::default();
    e.add(field, code);
    AppError::Invalid(e)
}

/// Which contacts a list covers, as asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Whose {
    /// The caller's own: contacts their role owns in their areas.
    #[default]
    Mine,
    /// Every contact of one area (`area`), whoever owns it.
    Area,
    /// Every contact the caller may list (the whole municipality for a nurse).
    All,
}

impl Whose {
    pub fn as_str(self) -> &'static str {
        match self {
            Whose::Mine => "mine",
            Whose::Area => "area",
            Whose::All => "all",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Whose::Mine, Whose::Area, Whose::All].into_iter().find(|w| w.as_str() == s)
    }
}

/// A work-list request as it comes in (query string of the page and the API).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WorkListParams {
    /// `due_this_week`, `overdue`, `missed`, `check_non_attendees`, `open` or `urgent`.
    #[serde(default)]
    pub list: Option<String>,
    /// `mine` (default): contacts my role owns in my areas; `area`: one
    /// area's; `all`: everything I may list.
    #[serde(default)]
    pub whose: Option<String>,
    /// Area id (needed with `whose=area`).
    #[serde(default)]
    pub area: Option<String>,
    /// Only this kind of contact.
    #[serde(default)]
    pub kind: Option<String>,
    /// Order: `due`, `due_desc`, `closes`, `kind` or `area`.
    #[serde(default)]
    pub sort: Option<String>,
    /// Page of 50, from 1.
    #[serde(default)]
    pub page: Option<String>,
}

/// Which list is shown: one of the contact lists, or the urgent follow-ups
/// (open referrals, positive and urgent screens among them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Contacts(WorkList),
    Urgent,
}

impl Shown {
    pub fn as_str(self) -> &'static str {
        match self {
            Shown::Contacts(l) => l.as_str(),
            Shown::Urgent => "urgent",
        }
    }
}

/// A checked request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkListRequest {
    pub shown: Shown,
    /// Whether the caller named the list; if not, the list opens on the
    /// first chip that has work (#10: not on an empty list while another
    /// holds the work).
    pub list_given: bool,
    pub whose: Whose,
    pub area: Option<AreaId>,
    pub kind: Option<ContactKind>,
    pub sort: WorkSort,
    pub page: u32,
}

impl WorkListParams {
    pub fn check(&self) -> Result<WorkListRequest, AppError> {
        let named = self.list.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let list_given = named.is_some();
        let shown = match named {
            None => Shown::Contacts(WorkList::Overdue),
            Some("urgent") => Shown::Urgent,
            Some(s) => Shown::Contacts(WorkList::parse(s).ok_or_else(|| invalid("list", "invalid_choice"))?),
        };
        let whose = match self.whose.as_deref().filter(|s| !s.is_empty()) {
            None => Whose::Mine,
            Some(s) => Whose::parse(s).ok_or_else(|| invalid("whose", "invalid_choice"))?,
        };
        let area = match self.area.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(AreaId(s.parse().map_err(|_| invalid("area", "invalid_choice"))?)),
        };
        if whose == Whose::Area && area.is_none() {
            return Err(invalid("area", "required"));
        }
        let kind = match self.kind.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(ContactKind::parse(s).ok_or_else(|| invalid("kind", "invalid_choice"))?),
        };
        let sort = match self.sort.as_deref().filter(|s| !s.is_empty()) {
            None => WorkSort::Due,
            Some(s) => WorkSort::parse(s).ok_or_else(|| invalid("sort", "invalid_choice"))?,
        };
        let page = match self.page.as_deref().filter(|s| !s.is_empty()) {
            None => 1,
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|p| (1..=10_000).contains(p))
                .ok_or_else(|| invalid("page", "out_of_range"))?,
        };
        Ok(WorkListRequest { shown, list_given, whose, area, kind, sort, page })
    }
}

fn access_of(actor: &Actor) -> Result<WorkListAccess, AppError> {
    work_list_access(actor).ok_or(AppError::Forbidden)
}

/// The scope a request asks for, within what the caller may list.
pub fn scope_for(actor: &Actor, req: &WorkListRequest, today: Date) -> Result<WorkScope, AppError> {
    let access = access_of(actor)?;
    let (owner, areas) = match req.whose {
        Whose::Mine => (Some(access.own_role), access.own_areas.clone()),
        Whose::Area | Whose::All if !access.may_widen => return Err(AppError::Forbidden),
        Whose::Area => (None, req.area.into_iter().collect()),
        Whose::All => (None, vec![]),
    };
    // An area filter narrows what the policy allows; it never widens it (a
    // coordinator asking for another area gets an empty list from the filter).
    let areas = match (req.whose, req.area) {
        (Whose::Mine, Some(a)) => vec![a],
        _ => areas,
    };
    Ok(WorkScope { filter: access.filter, owner, areas, kind: req.kind, today })
}

/// One work list: the rows of the page asked for, the counts of every list
/// in the same scope, and the urgent follow-ups.
#[derive(Debug, Clone)]
pub struct WorkListView {
    pub request: WorkListRequest,
    pub today: Date,
    pub counts: WorkCounts,
    pub rows: Vec<ContactRow>,
    /// Open referrals the caller works on, urgent first (nurses only).
    pub followups: Vec<StoredReferral>,
    /// The follow-up chip's count: the open referrals its list shows (#10:
    /// it counted only the urgent ones, 4, beside a list of 10).
    pub urgent_count: usize,
    /// Whether the caller works on referrals (the follow-up chip is theirs).
    pub manages_referrals: bool,
    /// Postpartum applications waiting for review, for those who review them.
    pub applications_waiting: Option<u64>,
    pub has_more: bool,
}

/// The list a work list opens on when none is named: the first contact chip
/// with work, in the chips' order; else the follow-ups for those who work on
/// them (the one chip left that may hold work); else every open contact.
pub fn opening_list(counts: &WorkCounts, manages_referrals: bool) -> Shown {
    let chips = [
        (WorkList::Overdue, counts.overdue),
        (WorkList::DueThisWeek, counts.due_this_week),
        (WorkList::Missed, counts.missed),
        (WorkList::CheckNonAttendees, counts.check_non_attendees),
    ];
    match chips.into_iter().find(|(_, n)| *n > 0) {
        Some((list, _)) => Shown::Contacts(list),
        None if manages_referrals => Shown::Urgent,
        None => Shown::Contacts(WorkList::Open),
    }
}

pub async fn work_list(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    mut req: WorkListRequest,
    today: Date,
) -> Result<WorkListView, AppError> {
    let audit = &requester.allowed(&permit_municipality(actor, Action::ViewWorkList)?);
    let scope = scope_for(actor, &req, today)?;
    // The urgent follow-ups are the nurse's (whoever manages referrals):
    // read with the list, as one line.
    let manages =
        authorize(actor, Action::ManageReferrals, &Resource::Municipality(actor.municipality_id)).is_allowed();
    let open_referrals = ReferralFilter { family_id: None, raised_by: None, open_only: true, limit: 200 };
    let reviews =
        authorize(actor, Action::ReviewPostpartum, &Resource::Municipality(actor.municipality_id)).is_allowed();
    let applications_waiting = async {
        if reviews {
            state.store.applications_waiting(actor.municipality_id).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let chips = state.store.work_counts(&scope, Some(CHIP_COUNT_CAP));
    let (sort, offset) = (req.sort, (req.page - 1).saturating_mul(PAGE_SIZE));
    let page = |shown: Shown, scope: WorkScope| match shown {
        Shown::Contacts(list) => Some(WorkListQuery { scope, list, sort, limit: PAGE_SIZE + 1, offset }),
        Shown::Urgent => None,
    };
    let followups = manages.then_some(&open_referrals);
    // A list named by the caller is read beside the chips' counts, each on
    // a connection of its own where the store has several (#16: on
    // PostgreSQL at 1M families the counts were 1.5 ms and the page 0.7,
    // one after the other); without one, the counts choose the list first.
    let (counts, (mut rows, mut followups), applications_waiting) = if req.list_given {
        let q = page(req.shown, scope.clone());
        let list = state.store.work_list_with_followups(audit, q.as_ref(), followups);
        tokio::try_join!(chips, list, applications_waiting)?
    } else {
        let counts = chips.await?;
        req.shown = opening_list(&counts, manages);
        let q = page(req.shown, scope);
        let list = state.store.work_list_with_followups(audit, q.as_ref(), followups);
        let (list, waiting) = tokio::try_join!(list, applications_waiting)?;
        (counts, list, waiting)
    };
    followups.sort_by_key(|r| (!r.referral.urgent, std::cmp::Reverse(r.raised_at)));
    let urgent_count = followups.len();
    let has_more = rows.len() > PAGE_SIZE as usize;
    rows.truncate(PAGE_SIZE as usize);
    Ok(WorkListView {
        request: req,
        today,
        counts,
        rows,
        followups,
        urgent_count,
        manages_referrals: manages,
        applications_waiting,
        has_more,
    })
}

/// What somebody records about a contact, as typed or sent.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeInput {
    /// `done`, `not_reached`, `declined` or `not_applicable`.
    pub outcome: String,
    /// For `done`: how (`home_visit`, `group`, …).
    #[serde(default)]
    pub form: Option<String>,
    /// For `not_reached`: how many tries this time (1 if left out).
    #[serde(default)]
    pub attempts: Option<u16>,
    #[serde(default)]
    pub note: String,
    /// Whom the note is for: `family` or `office` (the default).
    #[serde(default)]
    pub audience: Option<String>,
    /// The day the contact took place (`YYYY-MM-DD`): not in the future,
    /// not before the pregnancy's notification. Left out: the day recorded.
    #[serde(default)]
    pub contacted_on: Option<String>,
}

impl OutcomeInput {
    pub fn check(&self, kind: ContactKind) -> Result<(Outcome, String), AppError> {
        let outcome = match self.outcome.trim() {
            "done" => {
                let form = self.form.as_deref().map(str::trim).unwrap_or("");
                if form.is_empty() {
                    return Err(invalid("form", "required"));
                }
                Outcome::Done { form: ContactForm::parse(form).ok_or_else(|| invalid("form", "invalid_choice"))? }
            }
            "not_reached" => Outcome::NotReached { attempts: self.attempts.unwrap_or(1) },
            "declined" => Outcome::Declined,
            "not_applicable" => Outcome::NotApplicable,
            "" => return Err(invalid("outcome", "required")),
            _ => return Err(invalid("outcome", "invalid_choice")),
        };
        outcome.check(kind).map_err(|e| match e {
            tsunagu_domain::timeline::OutcomeError::FormNotAllowed { .. } => invalid("form", "invalid_choice"),
            tsunagu_domain::timeline::OutcomeError::NoAttempts => invalid("attempts", "out_of_range"),
        })?;
        // A multi-line note keeps its lines; only the ends are trimmed.
        let note = self.note.trim();
        if note.chars().count() > 2000 {
            return Err(invalid("note", "too_long"));
        }
        if matches!(outcome, Outcome::NotApplicable | Outcome::Declined) && note.is_empty() {
            // Taking a family off the lists for good says why.
            return Err(invalid("note", "required"));
        }
        Ok((outcome, note.to_owned()))
    }
}

/// Records what happened on a contact, after checking the caller may see
/// the family and may record on a contact of this kind.
pub async fn record_outcome(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: ContactId,
    input: &OutcomeInput,
) -> Result<ContactRow, AppError> {
    // Decided from what the policy needs (family, kind), so that recording
    // writes one audit line: the change's, which covers the row it answers.
    let owner = contact_owner(state, actor, id).await?;
    let family = state.store.family_access(actor.municipality_id, owner.family).await?.ok_or(AppError::NotFound)?;
    let allowed = permit(actor, Action::RecordContact, &Resource::Contact { family: &family, kind: owner.kind })?;
    let (outcome, note) = input.check(owner.kind)?;
    let chosen = NoteAudience::parse_or_office(input.audience.as_deref())
        .ok_or_else(|| invalid("audience", "invalid_choice"))?;
    let audience = tsunagu_domain::policy::written_for(actor, &family, chosen);
    let ctx = requester.allowed(&allowed);
    let mut row = match input.contacted_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(day) => {
            let on: Date = day.parse().map_err(|_| invalid("contacted_on", "invalid_date"))?;
            let today = tsunagu_domain::clock::japan_date(state.clock.now());
            let day = tsunagu_store::ContactDay { on, today };
            state.store.record_contact_outcome_on(&ctx, id, &outcome, &note, audience, day).await?
        }
        None => state.store.record_contact_outcome_noted(&ctx, id, &outcome, &note, audience).await?,
    };
    crate::base::access::keep_note_for(actor, &family, &mut row);
    Ok(row)
}

/// Whether the caller may record on a contact of `kind` of this family (the
/// policy's `RecordContact`).
pub fn may_record_on(actor: &Actor, family: &FamilyAccess, kind: ContactKind) -> Decision {
    authorize(actor, Action::RecordContact, &Resource::Contact { family, kind })
}

/// One contact of a family the caller may see, with what the policy knows
/// of the family: the policy decides on the family first, then the contact
/// is read (and its read audited). A hidden contact is not found.
pub async fn contact_for(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: ContactId,
) -> Result<(FamilyAccess, ContactRow), AppError> {
    let owner = contact_owner(state, actor, id).await?;
    let (family, allowed) = crate::base::access::family_for(state, actor, owner.family, Action::ViewFamily).await?;
    let mut row = state.store.contact(&requester.allowed(&allowed), id).await?.ok_or(AppError::NotFound)?;
    crate::base::access::keep_note_for(actor, &family, &mut row);
    Ok((family, row))
}

/// Whose a contact is and of what kind, read without anything personal; a
/// hidden contact (a pregnancy lost) is not found.
async fn contact_owner(
    state: &AppState,
    actor: &Actor,
    id: ContactId,
) -> Result<tsunagu_store::ContactOwner, AppError> {
    match state.store.contact_owner(actor.municipality_id, id).await? {
        Some(owner) if !owner.hidden => Ok(owner),
        _ => Err(AppError::NotFound),
    }
}

/// The context of a change of a pregnancy: the policy's `EditFamily` on
/// its family, decided on what the policy knows of it (nothing personal read).
async fn edit_family(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    family: FamilyId,
) -> Result<AuditContext, AppError> {
    let (_, allowed) = crate::base::access::family_for(state, actor, family, Action::EditFamily).await?;
    Ok(requester.allowed(&allowed))
}

/// A corrected EDD: the pregnancy contacts move with it. Checked against
/// the pregnancy inside the change's own transaction: one audit line.
pub async fn change_edd(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    family: FamilyId,
    pregnancy: PregnancyId,
    input: &EddChangeInput,
) -> Result<(), AppError> {
    let audit = edit_family(state, actor, requester, family).await?;
    let check = |p: &Pregnancy, _: &[Baby]| input.check(p).map(PregnancyChange::Edd);
    Ok(state.store.change_pregnancy_checked(&audit, family, pregnancy, &check).await?)
}

/// A loss or a move: the owed contacts close (hidden after a loss). Checked
/// against the pregnancy and its babies inside the change's own transaction.
pub async fn end_pregnancy(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    family: FamilyId,
    pregnancy: PregnancyId,
    input: &PregnancyEndInput,
    today: Date,
) -> Result<(), AppError> {
    let audit = edit_family(state, actor, requester, family).await?;
    let check = |p: &Pregnancy, babies: &[Baby]| input.check(p, babies, today).map(PregnancyChange::End);
    Ok(state.store.change_pregnancy_checked(&audit, family, pregnancy, &check).await?)
}
