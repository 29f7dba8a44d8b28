//! Pages for follow-up work: concerns and referrals, online follow-up
//! consultations, the coordinator's online talk, incident reports.

// A page handler's error *is* a page (a `Response`); boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use crate::base::chrome::{page_error, redirect, render, signed_in, unwrap_page, Chrome, FormData, OrPage, PageResult};
use crate::base::error::{permit_municipality, AppError};
use crate::base::session::{actor_of, audit_ctx, RequestCtx};
use crate::base::AppState;
use crate::i18n::Lang;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tsunagu_domain::dates::DateRange;
use tsunagu_domain::policy::{authorize, Action, Resource};
use tsunagu_domain::postpartum::application::ApplicationStatus;
use tsunagu_domain::postpartum::followup::FollowupSlot;
use tsunagu_domain::postpartum::safety::IncidentHeading;
use tsunagu_domain::{FollowupId, ReferralId, TalkId, VenueId};
use tsunagu_store::{ApplicationFilter, Followup, Incident, OnlineTalk, ReferralEvent, StoredReferral};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/referrals", get(referrals_page).post(raise_submit))
        .route("/referrals/{id}", get(referral_page))
        .route("/referrals/{id}/{action}", post(referral_act))
        .route("/postpartum/followups", get(followups_page).post(followup_submit))
        .route("/postpartum/followups/{id}/cancel", post(followup_cancel))
        .route("/postpartum/talks", get(talks_page).post(talk_submit))
        .route("/postpartum/talks/{id}/join", post(talk_join))
        .route("/postpartum/incidents", get(incidents_page).post(incident_submit))
}

fn explain(lang: Lang, code: &str) -> String {
    for prefix in ["pp.why.", "ref.why.", "err."] {
        let key = format!("{prefix}{code}");
        if crate::i18n::has(&key) {
            return crate::i18n::t(lang, &key).to_owned();
        }
    }
    crate::i18n::t(lang, "err.invalid_input").to_owned()
}

/// An error a form can show above itself, or else an error page.
fn form_message(ctx: &RequestCtx, e: AppError) -> Result<String, Response> {
    match e {
        AppError::Conflict(code) | AppError::BadRequest(code) => Ok(explain(ctx.lang, code)),
        AppError::Invalid(f) => Ok(f.0.first().map(|x| explain(ctx.lang, x.code)).unwrap_or_default()),
        e => Err(page_error(ctx, e)),
    }
}

#[derive(Deserialize, Default)]
struct Notice {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

fn notice_key(n: &Notice) -> Option<&'static str> {
    n.done.as_ref().map(|_| "pp.updated")
}

// --- referrals ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "referrals.html")]
struct ReferralsPage {
    chrome: Chrome,
    list: Vec<StoredReferral>,
    manages: bool,
    notice: Option<&'static str>,
}

async fn referrals_page(State(state): State<AppState>, ctx: RequestCtx, Query(n): Query<Notice>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            let audit = audit_ctx(account, &ctx.remote_addr, "referrals", ctx.now);
            let manages =
                authorize(&actor, Action::ManageReferrals, &Resource::Municipality(actor.municipality_id)).is_allowed();
            let list = crate::base::access::referrals_for(&state, &actor, &audit, None, manages).await.or_page(&ctx)?;
            Ok(render(
                &ReferralsPage {
                    chrome: Chrome::new(&ctx, "/referrals", "ref.title"),
                    list,
                    manages,
                    notice: notice_key(&n),
                },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

/// Raises a concern from a form on the family page or a stay's page, then
/// goes back there.
async fn raise_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let back = crate::base::local_path::safe_local_path(form.get("back")).unwrap_or("/referrals").to_owned();
            // An id that does not read is the reader's mistake, said in their
            // language; never read as no pregnancy or no stay.
            let family_id = form.opt_id("family_id").and_then(|f| {
                f.ok_or_else(|| {
                    let mut e = tsunagu_domain::validation::FieldErrors::default();
                    e.add("family_id", "required");
                    AppError::Invalid(e)
                })
            });
            let (family_id, pregnancy_id, application_id) =
                match (family_id, form.opt_id("pregnancy_id"), form.opt_id("application_id")) {
                    (Ok(f), Ok(p), Ok(a)) => (f, p, a),
                    (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                        return Err(crate::base::chrome::field_error_page(&ctx, e))
                    }
                };
            let input = crate::care::ConcernInput {
                family_id,
                pregnancy_id,
                note: form.get("note").to_owned(),
                urgent: form.checked("urgent"),
                application_id,
            };
            let audit = audit_ctx(account, &ctx.remote_addr, "concern", ctx.now);
            let sep = if back.contains('?') { '&' } else { '?' };
            match crate::care::raise_concern(&state, &actor, &audit, &input).await {
                Ok(_) => Ok(redirect(&format!("{back}{sep}done=concern"))),
                Err(AppError::Invalid(_)) => Ok(redirect(&format!("{back}{sep}error=concern_note"))),
                Err(e) => Err(page_error(&ctx, e)),
            }
        }
        .await,
    )
}

#[derive(Template)]
#[template(path = "referral.html")]
struct ReferralPage {
    chrome: Chrome,
    r: StoredReferral,
    events: Vec<ReferralEvent>,
    notice: Option<&'static str>,
    form_error: Option<String>,
}

impl ReferralPage {
    /// What was noticed: as written, or a screening's reason codes in words.
    fn note(&self) -> String {
        if self.r.referral.source == tsunagu_domain::referrals::ConcernSource::Screening {
            crate::base::screening_words::describe_note(self.chrome.tr.0, &self.r.note)
        } else {
            self.r.note.clone()
        }
    }
}

async fn referral_view(
    state: &AppState,
    ctx: &RequestCtx,
    id: ReferralId,
    notice: Option<&'static str>,
    form_error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    let allowed = permit_municipality(&actor, Action::ManageReferrals).or_page(ctx)?;
    let audit = audit_ctx(account, &ctx.remote_addr, "referral", ctx.now).allowed(&allowed);
    let (r, events) = state
        .store
        .referral_with_events(&audit, id)
        .await
        .or_page(ctx)?
        .ok_or_else(|| page_error(ctx, AppError::NotFound))?;
    let here = format!("/referrals/{id}");
    Ok(render(
        &ReferralPage { chrome: Chrome::new(ctx, &here, "ref.detail_title"), r, events, notice, form_error },
        status,
    ))
}

async fn referral_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Query(n): Query<Notice>,
) -> Response {
    unwrap_page(referral_view(&state, &ctx, ReferralId(id), notice_key(&n), None, StatusCode::OK).await)
}

async fn referral_act(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let id = ReferralId(id);
            let result = match crate::care::parse_action(&action, form.opt("reason").as_deref()) {
                Ok(a) => {
                    let audit = audit_ctx(account, &ctx.remote_addr, &format!("referral {action}"), ctx.now);
                    crate::care::act_on_referral(&state, &actor, &audit, id, a, form.get("note")).await
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => Ok(redirect(&format!("/referrals/{id}?done={action}"))),
                Err(e) => {
                    let msg = form_message(&ctx, e)?;
                    referral_view(&state, &ctx, id, None, Some(msg), StatusCode::CONFLICT).await
                }
            }
        }
        .await,
    )
}

// --- online follow-up consultations ---------------------------------------------------------------

#[derive(Template)]
#[template(path = "followups.html")]
struct FollowupsPage {
    chrome: Chrome,
    /// For a family: (facility id, name, open slots) of each facility it stayed at.
    offers: Vec<(i64, String, Vec<FollowupSlot>)>,
    bookings: Vec<Followup>,
    count: u64,
    notice: Option<&'static str>,
    form_error: Option<String>,
}

async fn followups_page(State(state): State<AppState>, ctx: RequestCtx, Query(n): Query<Notice>) -> Response {
    let error = n.error.as_deref().map(|c| explain(ctx.lang, c));
    unwrap_page(followups_view(&state, &ctx, notice_key(&n), error).await)
}

async fn followups_view(
    state: &AppState,
    ctx: &RequestCtx,
    notice: Option<&'static str>,
    form_error: Option<String>,
) -> PageResult {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    may_use_care_services(&actor).or_page(ctx)?;
    // A family's follow-ups follow the mother's stays: hers to share.
    crate::base::access::own_health(state, &actor).await.or_page(ctx)?;
    let audit = audit_ctx(account, &ctx.remote_addr, "follow-ups", ctx.now);
    let today = state.clock.today();
    let fy = tsunagu_domain::fiscal::FiscalYear::of(today).map_err(|_| page_error(ctx, AppError::Internal))?;
    let upcoming = DateRange::starting(today, 120).ok_or_else(|| page_error(ctx, AppError::Internal))?;
    let facilities = state.store.postpartum_facilities(actor.municipality_id).await.or_page(ctx)?;
    let name = |v: VenueId| {
        facilities
            .iter()
            .find(|f| f.venue.id == v)
            .map(|f| if ctx.lang == Lang::Ja { f.venue.name_ja.clone() } else { f.venue.name_en.clone() })
            .unwrap_or_default()
    };
    let mut offers = Vec::new();
    let (allowed, venue, family) = crate::care::followup_scope(&actor, None).or_page(ctx)?;
    if let Some(family) = family {
        {
            let filter = ApplicationFilter {
                family_id: Some(family),
                status: Some(ApplicationStatus::Approved),
                limit: 50,
                ..ApplicationFilter::default()
            };
            let mut venues: Vec<VenueId> = state
                .store
                .applications(&audit.allowed(&allowed), &filter)
                .await
                .or_page(ctx)?
                .iter()
                .map(|a| a.venue_id)
                .collect();
            venues.dedup();
            for v in venues {
                let slots = crate::care::open_followup_slots(state, &actor, &audit, family, v).await.or_page(ctx)?;
                offers.push((v.0, name(v), slots));
            }
        }
    }
    let bookings = state.store.followups(&audit.allowed(&allowed), venue, family, upcoming).await.or_page(ctx)?;
    let count = state.store.followup_count(actor.municipality_id, fy.range()).await.or_page(ctx)?;
    Ok(render(
        &FollowupsPage {
            chrome: Chrome::new(ctx, "/postpartum/followups", "fu.title"),
            offers,
            bookings,
            count,
            notice,
            form_error,
        },
        StatusCode::OK,
    ))
}

async fn followup_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            // The same input as the API's body; the page is the family's own.
            let input = crate::care::BookingInput {
                family_id: None,
                venue_id: form.get("venue_id").trim().parse().unwrap_or(0),
                start: form.get("start").to_owned(),
            };
            let audit = audit_ctx(account, &ctx.remote_addr, "follow-up", ctx.now);
            match crate::care::book(&state, &actor, &audit, &input).await {
                Ok(_) => Ok(redirect("/postpartum/followups?done=booked")),
                Err(e) => {
                    let msg = form_message(&ctx, e)?;
                    followups_view(&state, &ctx, None, Some(msg)).await
                }
            }
        }
        .await,
    )
}

async fn followup_cancel(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let audit = audit_ctx(account, &ctx.remote_addr, "cancel follow-up", ctx.now);
            crate::care::cancel_followup(&state, &actor_of(account), &audit, FollowupId(id)).await.or_page(&ctx)?;
            Ok(redirect("/postpartum/followups?done=cancelled"))
        }
        .await,
    )
}

// --- the coordinator's online talk --------------------------------------------------------------

#[derive(Template)]
#[template(path = "talks.html")]
struct TalksPage {
    chrome: Chrome,
    talks: Vec<OnlineTalk>,
    facilities: Vec<(i64, String)>,
    is_staff: bool,
    notice: Option<&'static str>,
    form_error: Option<String>,
}

async fn talks_view(
    state: &AppState,
    ctx: &RequestCtx,
    notice: Option<&'static str>,
    form_error: Option<String>,
) -> PageResult {
    let account = signed_in(ctx)?;
    may_use_care_services(&actor_of(account)).or_page(ctx)?;
    let range = DateRange::starting(state.clock.today(), 90).ok_or_else(|| page_error(ctx, AppError::Internal))?;
    let talks = state.store.online_talks(account.municipality_id, range).await.or_page(ctx)?;
    let facilities = state
        .store
        .postpartum_facilities(account.municipality_id)
        .await
        .or_page(ctx)?
        .into_iter()
        // The facilities the reader may hold a talk at (`create_talk` asks the same).
        .filter(|f| {
            let facility = Resource::Facility { municipality_id: account.municipality_id, venue_id: f.venue.id };
            authorize(&actor_of(account), Action::ViewFacility, &facility).is_allowed()
        })
        .map(|f| (f.venue.id.0, if ctx.lang == Lang::Ja { f.venue.name_ja } else { f.venue.name_en }))
        .collect::<Vec<_>>();
    let is_staff = !facilities.is_empty();
    Ok(render(
        &TalksPage {
            chrome: Chrome::new(ctx, "/postpartum/talks", "talk.title"),
            talks,
            facilities,
            is_staff,
            notice,
            form_error,
        },
        StatusCode::OK,
    ))
}

async fn talks_page(State(state): State<AppState>, ctx: RequestCtx, Query(n): Query<Notice>) -> Response {
    unwrap_page(talks_view(&state, &ctx, notice_key(&n), None).await)
}

async fn talk_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let input = crate::care::TalkInput {
                venue_id: form.get("venue_id").trim().parse().unwrap_or(0),
                starts: form.get("starts").to_owned(),
                title: form.get("title").to_owned(),
            };
            let audit = audit_ctx(account, &ctx.remote_addr, "online talk", ctx.now);
            match crate::care::add_talk(&state, &actor_of(account), &audit, &input).await {
                Ok(_) => Ok(redirect("/postpartum/talks?done=created")),
                Err(e) => {
                    let msg = form_message(&ctx, e)?;
                    talks_view(&state, &ctx, None, Some(msg)).await
                }
            }
        }
        .await,
    )
}

async fn talk_join(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let audit = audit_ctx(account, &ctx.remote_addr, "join talk", ctx.now);
            let input = crate::care::JoinInput::default();
            match crate::care::join(&state, &actor_of(account), &audit, TalkId(id), &input).await {
                Ok(()) => Ok(redirect("/postpartum/talks?done=joined")),
                Err(e) => {
                    let msg = form_message(&ctx, e)?;
                    talks_view(&state, &ctx, None, Some(msg)).await
                }
            }
        }
        .await,
    )
}

// --- incident reports ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "incidents.html")]
struct IncidentsPage {
    chrome: Chrome,
    incidents: Vec<Incident>,
    headings: Vec<(&'static str, &'static str)>,
    venue: Option<VenueId>,
    notice: Option<&'static str>,
    form_error: Option<String>,
}

async fn incidents_view(
    state: &AppState,
    ctx: &RequestCtx,
    notice: Option<&'static str>,
    form_error: Option<String>,
) -> PageResult {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    let (allowed, venue) = crate::care::incident_scope(&actor, None).or_page(ctx)?;
    let fy =
        tsunagu_domain::fiscal::FiscalYear::of(state.clock.today()).map_err(|_| page_error(ctx, AppError::Internal))?;
    let audit = audit_ctx(account, &ctx.remote_addr, "incidents", ctx.now).allowed(&allowed);
    let incidents = state.store.incidents(&audit, venue, fy.range()).await.or_page(ctx)?;
    let headings = IncidentHeading::ALL.iter().map(|h| (h.as_str(), h.label_ja())).collect();
    Ok(render(
        &IncidentsPage {
            chrome: Chrome::new(ctx, "/postpartum/incidents", "inc.title"),
            incidents,
            headings,
            venue,
            notice,
            form_error,
        },
        StatusCode::OK,
    ))
}

async fn incidents_page(State(state): State<AppState>, ctx: RequestCtx, Query(n): Query<Notice>) -> Response {
    unwrap_page(incidents_view(&state, &ctx, notice_key(&n), None).await)
}

async fn incident_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let family_id = match form.opt_id("family_id") {
                Ok(f) => f,
                Err(e) => {
                    let msg = form_message(&ctx, e)?;
                    return incidents_view(&state, &ctx, None, Some(msg)).await;
                }
            };
            let input = crate::care::IncidentInput {
                venue_id: form.get("venue_id").trim().parse().unwrap_or(0),
                heading: form.get("heading").to_owned(),
                occurred: form.get("occurred").to_owned(),
                summary: form.get("summary").to_owned(),
                family_id,
            };
            let audit = audit_ctx(account, &ctx.remote_addr, "incident report", ctx.now);
            match crate::care::report_incident(&state, &actor_of(account), &audit, &input).await {
                Ok(_) => Ok(redirect("/postpartum/incidents?done=reported")),
                Err(e) => {
                    let msg = form_message(&ctx, e)?;
                    incidents_view(&state, &ctx, None, Some(msg)).await
                }
            }
        }
        .await,
    )
}

/// The follow-up consultations and the online talks: the policy's `UseCareServices`.
fn may_use_care_services(actor: &tsunagu_domain::roles::Actor) -> Result<(), AppError> {
    crate::base::error::require(tsunagu_domain::policy::authorize(
        actor,
        tsunagu_domain::policy::Action::UseCareServices,
        &tsunagu_domain::policy::Resource::Municipality(actor.municipality_id),
    ))
}
