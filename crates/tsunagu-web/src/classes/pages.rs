//! Pages of classes and programmes: for a family on a phone, the sessions
//! near it (its area by default) it may book, and for the others the
//! reason; its bookings with cancelling, notices of promotion and a
//! calendar file. For staff, the sessions of their venues (or areas) and a
//! session's roster with attendance and measurements.

// A page handler's error *is* a page (a `Response`); boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use crate::base::chrome::{page_error, redirect, render, signed_in, unwrap_page, Chrome, FormData, OrPage};
use crate::base::error::AppError;
use crate::base::session::{actor_of, audit_ctx, RequestCtx};
use crate::base::AppState;
use crate::i18n::Lang;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tsunagu_domain::{AreaId, BookingId, ClassSessionId, VenueId};
use tsunagu_store::{ClassBookingStatus, ClassSession};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/classes", get(classes_page))
        .route("/classes/book", post(book_submit))
        .route("/classes/mine", get(mine_page))
        .route("/classes/mine.ics", get(mine_ics))
        .route("/classes/bookings/{id}/cancel", post(cancel_submit))
        .route("/classes/bookings/{id}/seen", post(seen_submit))
        .route("/classes/sessions/{id}", get(session_page))
        .route("/classes/sessions/{id}/attendance", post(attendance_submit))
        .route("/classes/venues/{id}/sessions.ics", get(venue_ics))
        .route("/classes/figures", get(figures_page))
}

#[derive(Deserialize, Default)]
struct Params {
    #[serde(default)]
    area: Option<i64>,
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    error: Option<String>,
    /// Staff: the family to book for.
    #[serde(default)]
    family: Option<i64>,
}

/// A session as a page lists it.
struct SessionLine {
    id: i64,
    programme: String,
    venue: String,
    when: String,
    places: String,
    status: &'static str,
    /// Who runs it, by display name (staff pages only; empty for families).
    staff: String,
}

/// A session's staff by display name, for staff pages (#12); never families'.
fn staff_names(s: &ClassSession) -> String {
    s.staff.iter().map(|a| a.display_name.as_str()).collect::<Vec<_>>().join("、")
}

/// A session as a staff page lists it: with who runs it.
fn staff_line_of(s: &ClassSession, lang: Lang) -> SessionLine {
    SessionLine { staff: staff_names(s), ..line_of(s, lang) }
}

fn line_of(s: &ClassSession, lang: Lang) -> SessionLine {
    let (programme, venue) = match lang {
        Lang::Ja => (s.programme.name_ja.clone(), s.venue_name_ja.clone()),
        Lang::En => (s.programme.name_en.clone(), s.venue_name_en.clone()),
    };
    let end = s.day.to_datetime(s.starts).saturating_add(jiff::Span::new().minutes(i64::from(s.minutes)));
    SessionLine {
        id: s.id.0,
        programme,
        venue,
        when: format!(
            "{} {}–{}",
            crate::base::dates::Dates::of(lang).date(s.day),
            s.starts.strftime("%H:%M"),
            end.time().strftime("%H:%M")
        ),
        places: format!("{}/{}", s.taken, s.capacity),
        status: match s.status() {
            tsunagu_domain::classes::SessionStatus::Open => "cl.status.open",
            tsunagu_domain::classes::SessionStatus::Full => "cl.status.full",
            tsunagu_domain::classes::SessionStatus::Cancelled => "cl.status.cancelled",
        },
        staff: String::new(),
    }
}

/// A session's programme, time and status key, in the reader's language
/// (the local information's page lists the sessions held at a place).
pub(crate) fn session_line(s: &ClassSession, lang: Lang) -> (String, String, &'static str) {
    let l = line_of(s, lang);
    (l.programme, l.when, l.status)
}

/// One offer on the family's page.
struct OfferLine {
    session: SessionLine,
    bookable: bool,
    booked: Option<&'static str>,
    reason: Option<String>,
    key: String,
    couples: bool,
    /// Staff may book it despite the reason, writing their own (audited).
    overridable: bool,
    /// The local-information entry of its venue ([000] 地域おでかけ情報).
    place: Option<i64>,
    /// Who runs it, by role from the programme (#12): never staff names.
    runs: String,
}

#[derive(Template)]
#[template(path = "classes.html")]
struct ClassesPage {
    chrome: Chrome,
    family: bool,
    /// Staff booking for this family (its id on every form).
    for_family: Option<i64>,
    offers: Vec<OfferLine>,
    staff_sessions: Vec<SessionLine>,
    areas: Vec<(i64, String, bool)>,
    notice: Option<String>,
    form_error: Option<String>,
    /// The policy lets the reader manage sessions (the staff list links there).
    may_manage: bool,
}

fn status_key(s: ClassBookingStatus) -> &'static str {
    match s {
        ClassBookingStatus::Confirmed => "cl.booking.confirmed",
        ClassBookingStatus::Waiting => "cl.booking.waiting",
        ClassBookingStatus::Cancelled => "cl.booking.cancelled",
    }
}

async fn classes_page(State(state): State<AppState>, ctx: RequestCtx, Query(p): Query<Params>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            let today = state.clock.today();
            let lang = ctx.lang;
            let form_error = p.error.as_deref().map(|c| crate::i18n::t(lang, &format!("err.{}", known(c))).to_owned());
            let notice =
                p.done.as_deref().map(|d| crate::i18n::t(lang, &format!("cl.done.{}", known_done(d))).to_owned());
            let areas_all = state.store.areas(actor.municipality_id).await.or_page(&ctx)?;
            if actor.family_id.is_some() || p.family.is_some() {
                let audit = audit_ctx(account, &ctx.remote_addr, "classes", ctx.now);
                let for_family = if actor.family_id.is_some() { None } else { p.family };
                let (family, area, offers) =
                    super::offers(&state, &actor, &audit, for_family, p.area.map(AreaId), today).await.or_page(&ctx)?;
                // Staff who may override a rule that allows it see a field for their reason.
                let may_override = match for_family {
                    Some(_) => match state.store.family_access(actor.municipality_id, family).await.or_page(&ctx)? {
                        Some(access) => tsunagu_domain::policy::authorize(
                            &actor,
                            tsunagu_domain::policy::Action::OverrideClassRule,
                            &tsunagu_domain::policy::Resource::Family(&access),
                        )
                        .is_allowed(),
                        None => false,
                    },
                    None => false,
                };
                let stamp = ctx.now.as_microsecond();
                let mut venues: Vec<VenueId> = offers.iter().map(|o| o.session.venue_id).collect();
                venues.sort_unstable_by_key(|v| v.0);
                venues.dedup();
                let places = super::local::places_of_venues(&state, &actor, venues).await.or_page(&ctx)?;
                let place_of =
                    |v: VenueId| places.iter().find(|p| p.place.venue_id == Some(v) && !p.retired).map(|p| p.id.0);
                let offers = offers
                    .iter()
                    .map(|o| OfferLine {
                        session: line_of(&o.session, lang),
                        bookable: o.bookable(),
                        booked: o.booking.as_ref().map(|b| status_key(b.status)),
                        reason: o.decision.as_ref().err().map(|r| super::api::reason_text(lang, r)),
                        key: format!("{}-{}-{stamp}", account.id, o.session.id),
                        couples: o.session.programme.unit == tsunagu_domain::classes::CapacityUnit::PregnantWithPartner,
                        overridable: may_override
                            && o.booking.is_none()
                            && o.decision.as_ref().err().is_some_and(|r| r.overridable()),
                        place: place_of(o.session.venue_id),
                        runs: o
                            .session
                            .programme
                            .runners
                            .iter()
                            .map(|r| {
                                crate::i18n::t(lang, &format!("cl.prog.runner.{}", super::programmes::runner_key(*r)))
                            })
                            .collect::<Vec<_>>()
                            .join("・"),
                    })
                    .collect();
                let areas = areas_all
                    .iter()
                    .map(|a| {
                        (a.id.0, if lang == Lang::Ja { a.name_ja.clone() } else { a.name_en.clone() }, a.id == area)
                    })
                    .collect();
                let page = ClassesPage {
                    chrome: Chrome::new(&ctx, "/classes", "cl.title"),
                    family: true,
                    for_family,
                    offers,
                    staff_sessions: vec![],
                    areas,
                    notice,
                    form_error,
                    may_manage: false,
                };
                return Ok(render(&page, StatusCode::OK));
            }
            let sessions = super::staff_sessions(&state, &actor, today.saturating_sub(jiff::Span::new().days(14)))
                .await
                .or_page(&ctx)?;
            let page = ClassesPage {
                chrome: Chrome::new(&ctx, "/classes", "cl.staff_title"),
                family: false,
                for_family: None,
                offers: vec![],
                staff_sessions: sessions.iter().map(|s| staff_line_of(s, lang)).collect(),
                areas: vec![],
                notice,
                form_error,
                may_manage: crate::base::error::permit_municipality(
                    &actor,
                    tsunagu_domain::policy::Action::ManageClasses,
                )
                .is_ok(),
            };
            Ok(render(&page, StatusCode::OK))
        }
        .await,
    )
}

/// Codes a redirect may carry back (anything else is a generic message).
fn known(code: &str) -> &'static str {
    const CODES: [&str; 16] = [
        "ineligible_not_resident",
        "ineligible_not_pregnant_nor_baby",
        "ineligible_not_pregnant",
        "ineligible_too_early_in_pregnancy",
        "ineligible_baby_too_old",
        "ineligible_stage_already_taken",
        "ineligible_not_first_child",
        "ineligible_not_multiple_birth",
        "session_full",
        "session_cancelled",
        "session_past",
        "already_booked",
        "stage_already_taken",
        "idempotency_key_reused",
        "booking_cancelled",
        "attendance_recorded",
    ];
    CODES.into_iter().find(|c| *c == code).unwrap_or("invalid_input")
}

fn known_done(d: &str) -> &'static str {
    ["booked", "waiting", "cancelled", "attendance", "concern"].into_iter().find(|c| *c == d).unwrap_or("booked")
}

async fn book_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let input = super::BookInput {
                session_id: form.get("session_id").trim().parse().unwrap_or(0),
                family_id: form.get("family_id").trim().parse().ok(),
                idempotency_key: form.get("idempotency_key").to_owned(),
                with_partner: form.checked("with_partner"),
                share_name: form.checked("share_name"),
                waiting_list: true,
                override_reason: form.opt("override_reason"),
            };
            let audit = audit_ctx(account, &ctx.remote_addr, "class booking", ctx.now);
            match super::book(&state, &actor_of(account), &audit, &input).await {
                Ok(out) => {
                    let done = if out.booking.status == ClassBookingStatus::Waiting { "waiting" } else { "booked" };
                    match input.family_id {
                        // Staff come back to the family's offers.
                        Some(f) => Ok(redirect(&format!("/classes?family={f}&done={done}"))),
                        None => Ok(redirect(&format!("/classes/mine?done={done}"))),
                    }
                }
                Err(AppError::Conflict(code)) => {
                    let family = input.family_id.map(|f| format!("&family={f}")).unwrap_or_default();
                    Ok(redirect(&format!("/classes?error={code}{family}")))
                }
                Err(e) => Err(page_error(&ctx, e)),
            }
        }
        .await,
    )
}

struct BookingLine {
    id: i64,
    session: SessionLine,
    status: &'static str,
    live: bool,
    /// The notices not yet dismissed, the latest first (#12): each its
    /// class and its words' key — a promotion and a later move both.
    notices: Vec<(&'static str, &'static str)>,
    attended: Option<bool>,
}

#[derive(Template)]
#[template(path = "class_bookings.html")]
struct MinePage {
    chrome: Chrome,
    bookings: Vec<BookingLine>,
    notice: Option<String>,
}

/// A booking's notice as the family's page shows it: its class and words.
fn notice_words(n: tsunagu_store::BookingNotice) -> (&'static str, &'static str) {
    use tsunagu_store::BookingNotice as N;
    match n {
        N::SessionCancelled => ("session-cancelled", "cl.session_cancelled_notice"),
        N::Promoted => ("promoted", "cl.promoted"),
        N::SessionMoved => ("session-moved", "cl.session_moved_notice"),
    }
}

async fn mine_page(State(state): State<AppState>, ctx: RequestCtx, Query(p): Query<Params>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let audit = audit_ctx(account, &ctx.remote_addr, "class bookings", ctx.now);
            let (_, list) = super::bookings(&state, &actor_of(account), &audit, None).await.or_page(&ctx)?;
            let lang = ctx.lang;
            let bookings = list
                .iter()
                .map(|b| BookingLine {
                    id: b.booking.id.0,
                    session: line_of(&b.session, lang),
                    status: status_key(b.booking.status),
                    live: b.booking.status != ClassBookingStatus::Cancelled && b.booking.attended.is_none(),
                    notices: b.booking.notices(b.session.cancelled).into_iter().map(notice_words).collect(),
                    attended: b.booking.attended,
                })
                .collect();
            let notice =
                p.done.as_deref().map(|d| crate::i18n::t(lang, &format!("cl.done.{}", known_done(d))).to_owned());
            let page = MinePage { chrome: Chrome::new(&ctx, "/classes/mine", "cl.mine_title"), bookings, notice };
            Ok(render(&page, StatusCode::OK))
        }
        .await,
    )
}

async fn cancel_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let audit = audit_ctx(account, &ctx.remote_addr, "class cancel", ctx.now);
            super::cancel(&state, &actor_of(account), &audit, BookingId(id)).await.or_page(&ctx)?;
            Ok(redirect("/classes/mine?done=cancelled"))
        }
        .await,
    )
}

async fn seen_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let audit = audit_ctx(account, &ctx.remote_addr, "class notice", ctx.now);
            super::dismiss_notice(&state, &actor_of(account), &audit, BookingId(id)).await.or_page(&ctx)?;
            Ok(redirect("/classes/mine"))
        }
        .await,
    )
}

fn ics_response(body: String, file: &str) -> Response {
    (
        [
            (CONTENT_TYPE, "text/calendar; charset=utf-8".to_owned()),
            (CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

async fn mine_ics(State(state): State<AppState>, ctx: RequestCtx) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let audit = audit_ctx(account, &ctx.remote_addr, "class calendar", ctx.now);
            let (_, list) = super::bookings(&state, &actor_of(account), &audit, None).await.or_page(&ctx)?;
            let events: Vec<_> = list
                .iter()
                .filter(|b| b.booking.status != ClassBookingStatus::Cancelled)
                .map(|b| super::event_of(&b.session, &format!("-booking-{}", b.booking.id)))
                .collect();
            Ok(ics_response(super::ics::calendar("教室の予約", &events, ctx.now), "classes.ics"))
        }
        .await,
    )
}

async fn venue_ics(State(state): State<AppState>, ctx: RequestCtx, Path(id): Path<i64>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let today = state.clock.today();
            let list = super::venue_sessions(&state, &actor_of(account), VenueId(id), today).await.or_page(&ctx)?;
            let name = list.first().map(|s| s.venue_name_ja.clone()).unwrap_or_default();
            let events: Vec<_> = list.iter().map(|s| super::event_of(s, "")).collect();
            Ok(ics_response(super::ics::calendar(&name, &events, ctx.now), "sessions.ics"))
        }
        .await,
    )
}

struct RosterLine {
    booking_id: i64,
    family_id: i64,
    name: String,
    status: &'static str,
    confirmed: bool,
    position: Option<u32>,
    attended: Option<bool>,
    weight_g: String,
    height_mm: String,
    partner: bool,
}

#[derive(Template)]
#[template(path = "class_session.html")]
struct SessionPage {
    chrome: Chrome,
    session: SessionLine,
    venue_id: i64,
    weighs: bool,
    heights: bool,
    roster: Vec<RosterLine>,
    may_record: bool,
    notice: Option<String>,
}

async fn session_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Query(p): Query<Params>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            let audit = audit_ctx(account, &ctx.remote_addr, "roster", ctx.now);
            let (session, roster) = super::roster(&state, &actor, &audit, ClassSessionId(id)).await.or_page(&ctx)?;
            let may_record =
                super::may_on_session(&actor, tsunagu_domain::policy::Action::RecordClassAttendance, &session);
            let lang = ctx.lang;
            let lines = roster
                .iter()
                .enumerate()
                .map(|(i, r)| RosterLine {
                    booking_id: r.booking.id.0,
                    family_id: r.booking.family_id.0,
                    name: r
                        .name
                        .clone()
                        .unwrap_or_else(|| format!("{} {}", crate::i18n::t(lang, "cl.participant"), i + 1)),
                    status: status_key(r.booking.status),
                    confirmed: r.booking.status == ClassBookingStatus::Confirmed,
                    position: r.waiting_position,
                    attended: r.booking.attended,
                    weight_g: r.booking.weight_g.map(|w| w.to_string()).unwrap_or_default(),
                    height_mm: r.booking.height_mm.map(|h| h.to_string()).unwrap_or_default(),
                    partner: r.booking.with_partner,
                })
                .collect();
            let notice =
                p.done.as_deref().map(|d| crate::i18n::t(lang, &format!("cl.done.{}", known_done(d))).to_owned());
            let page = SessionPage {
                chrome: Chrome::new(&ctx, &format!("/classes/sessions/{id}"), "cl.roster_title"),
                session: staff_line_of(&session, lang),
                venue_id: session.venue_id.0,
                weighs: session.programme.measures.weighs(),
                heights: session.programme.measures.measures_height(),
                roster: lines,
                may_record,
                notice,
            };
            Ok(render(&page, StatusCode::OK))
        }
        .await,
    )
}

async fn attendance_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let num = |k: String| form.get(&k).trim().parse::<u32>().ok();
            let marks: Vec<super::MarkInput> = form
                .all("booking")
                .into_iter()
                .filter_map(|b| b.trim().parse::<i64>().ok())
                .map(|b| super::MarkInput {
                    booking_id: b,
                    attended: form.checked(&format!("attended_{b}")),
                    weight_g: num(format!("weight_{b}")),
                    height_mm: num(format!("height_{b}")),
                })
                .collect();
            let audit = audit_ctx(account, &ctx.remote_addr, "attendance", ctx.now);
            super::record_attendance(&state, &actor_of(account), &audit, ClassSessionId(id), &marks)
                .await
                .or_page(&ctx)?;
            Ok(redirect(&format!("/classes/sessions/{id}?done=attendance")))
        }
        .await,
    )
}

#[derive(Deserialize, Default)]
struct FyParam {
    #[serde(default)]
    fy: Option<i32>,
}

#[derive(Template)]
#[template(path = "class_figures.html")]
struct FiguresPage {
    chrome: Chrome,
    fy: i32,
    label: String,
    rows: Vec<(String, String, tsunagu_domain::classes::Participation)>,
    totals: Vec<(String, tsunagu_domain::classes::Participation)>,
}

async fn figures_page(State(state): State<AppState>, ctx: RequestCtx, Query(p): Query<FyParam>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let today = state.clock.today();
            let current =
                tsunagu_domain::fiscal::FiscalYear::of(today).map(|f| f.year()).unwrap_or(today.year().into());
            let (fy, rows) = super::figures(&state, &actor_of(account), p.fy.unwrap_or(current)).await.or_page(&ctx)?;
            let lang = ctx.lang;
            let kind = |k: tsunagu_domain::classes::ProgrammeKind| {
                let c = tsunagu_domain::classes::ProgrammeConfig::seed_default(k);
                if lang == Lang::Ja {
                    c.name_ja
                } else {
                    c.name_en
                }
            };
            let totals = super::totals(&rows).into_iter().map(|(k, t)| (kind(k), t)).collect();
            let rows = rows
                .into_iter()
                .map(|r| (if lang == Lang::Ja { r.venue_name_ja } else { r.venue_name_en }, kind(r.kind), r.figures))
                .collect();
            let label = if lang == Lang::Ja { fy.label_ja() } else { fy.label_en() };
            let page = FiguresPage {
                chrome: Chrome::new(&ctx, "/classes/figures", "cl.figures_title"),
                fy: fy.year(),
                label,
                rows,
                totals,
            };
            Ok(render(&page, StatusCode::OK))
        }
        .await,
    )
}
