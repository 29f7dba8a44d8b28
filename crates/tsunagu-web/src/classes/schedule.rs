//! A year's sessions from a pattern, with a preview (#12 stage 3: "a
//! year's schedule is generated from a pattern (75 self-care classes over
//! 25 halls a year; a hub's monthly Sunday class), then edited session by
//! session" [000][004]). For those who manage classes (`ManageClasses`):
//! the domain's `classes::schedule` proposes the days (a public holiday
//! moves the class a week later, and the preview says so); what the
//! programme already has at a venue on a day is shown and left alone, so
//! generating the same year twice creates nothing twice (the store's
//! natural key: programme, venue, day). Pages and the API share these
//! functions; the API's handlers are here.

use crate::base::api::{ApiJson, ApiPath};
use crate::base::error::{permit_municipality, ApiError, AppError};
use crate::base::session::ApiCaller;
use crate::base::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use jiff::civil::{Time, Weekday};
use serde::Deserialize;
use serde_json::json;
use tsunagu_domain::audit::Requester;
use tsunagu_domain::classes::{monthly, spread_over_venues, PlannedSession};
use tsunagu_domain::fiscal::FiscalYear;
use tsunagu_domain::places::Venue;
use tsunagu_domain::policy::Action;
use tsunagu_domain::roles::Actor;
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{ProgrammeId, VenueId};
use tsunagu_store::{GeneratedSessions, NewSession, Programme, SessionQuery};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/classes/programmes/{id}/schedule/preview", post(preview_api))
        .route("/api/v1/classes/programmes/{id}/schedule", post(generate_api))
}

/// A year's pattern, from a form or a JSON body.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    /// The fiscal year (April to March), e.g. 2026 for 令和8年度.
    pub fiscal_year: i32,
    /// The venues, in the order the sessions go round them.
    pub venue_ids: Vec<i64>,
    /// `spread`: `per_year` sessions over the venues in turn ([000] 75 over
    /// 25 halls); `monthly`: one a month at each venue on the `nth` weekday ([004]).
    pub pattern: String,
    /// `monday` … `sunday`.
    pub weekday: String,
    /// Which weekday of the month (1–5; 5 is the last), for `monthly`.
    #[serde(default)]
    pub nth: Option<u8>,
    /// How many sessions in the year (1–500), for `spread`.
    #[serde(default)]
    pub per_year: Option<u32>,
    /// `HH:MM`, Japan's local time.
    pub starts: String,
    /// 15 to 480; the programme's default when absent.
    #[serde(default)]
    pub minutes: Option<u32>,
    /// 1 to 500; the programme's default when absent.
    #[serde(default)]
    pub capacity: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pattern {
    Spread { per_year: u32 },
    Monthly { nth: u8 },
}

/// A pattern that passed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedSchedule {
    fy: FiscalYear,
    venues: Vec<VenueId>,
    pattern: Pattern,
    weekday: Weekday,
    starts: Time,
    minutes: Option<u16>,
    capacity: Option<u32>,
}

pub const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

impl ScheduleInput {
    /// Every field's problem at once, beside its field.
    pub fn check(&self) -> Result<CheckedSchedule, AppError> {
        let mut errors = FieldErrors::default();
        // A schedule is for a year the service runs in, not any the calendar knows.
        let fy = (2000..=2100).contains(&self.fiscal_year).then(|| FiscalYear::new(self.fiscal_year).ok()).flatten();
        if fy.is_none() {
            errors.add("fiscal_year", "bad_fiscal_year");
        }
        if self.venue_ids.is_empty() {
            errors.add("venue_ids", "required");
        } else if self.venue_ids.len() > 100 {
            errors.add("venue_ids", "too_many");
        }
        let weekday = WEEKDAYS.iter().find(|(k, _)| *k == self.weekday.trim()).map(|(_, w)| *w);
        if weekday.is_none() {
            errors.add("weekday", "invalid_choice");
        }
        let pattern = match self.pattern.trim() {
            "spread" => match self.per_year {
                Some(n) if (1..=500).contains(&n) => Some(Pattern::Spread { per_year: n }),
                Some(_) => {
                    errors.add("per_year", "out_of_range");
                    None
                }
                None => {
                    errors.add("per_year", "required");
                    None
                }
            },
            "monthly" => match self.nth {
                Some(n) if (1..=5).contains(&n) => Some(Pattern::Monthly { nth: n }),
                Some(_) => {
                    errors.add("nth", "out_of_range");
                    None
                }
                None => {
                    errors.add("nth", "required");
                    None
                }
            },
            _ => {
                errors.add("pattern", "invalid_choice");
                None
            }
        };
        let starts = Time::strptime("%H:%M", self.starts.trim()).ok();
        if starts.is_none() {
            errors.add("starts", "invalid_time");
        }
        if self.minutes.is_some_and(|m| !(15..=480).contains(&m)) {
            errors.add("minutes", "out_of_range");
        }
        if self.capacity.is_some_and(|c| !(1..=500).contains(&c)) {
            errors.add("capacity", "out_of_range");
        }
        match (fy, weekday, pattern, starts) {
            (Some(fy), Some(weekday), Some(pattern), Some(starts)) if errors.is_empty() => Ok(CheckedSchedule {
                fy,
                venues: self.venue_ids.iter().map(|v| VenueId(*v)).collect(),
                pattern,
                weekday,
                starts,
                minutes: self.minutes.and_then(|m| u16::try_from(m).ok()),
                capacity: self.capacity,
            }),
            _ => Err(AppError::Invalid(errors)),
        }
    }
}

/// One proposed session of a preview.
#[derive(Debug, Clone)]
pub struct PreviewLine {
    pub planned: PlannedSession,
    pub venue: Venue,
    /// The programme already has a session at this venue on this day: left alone.
    pub already_there: bool,
}

/// What a generation would create.
#[derive(Debug, Clone)]
pub struct Preview {
    pub programme: Programme,
    pub fy: FiscalYear,
    pub minutes: u16,
    pub capacity: u32,
    pub lines: Vec<PreviewLine>,
}

impl Preview {
    pub fn new_sessions(&self) -> usize {
        self.lines.iter().filter(|l| !l.already_there).count()
    }
}

/// The sessions a pattern proposes for a programme, each with whether the
/// programme already has one there that day (no personal data).
pub async fn preview(
    state: &AppState,
    actor: &Actor,
    programme: ProgrammeId,
    input: &ScheduleInput,
) -> Result<Preview, AppError> {
    permit_municipality(actor, Action::ManageClasses)?;
    let m = actor.municipality_id;
    let programme =
        state.store.programmes(m).await?.into_iter().find(|p| p.id == programme).ok_or(AppError::NotFound)?;
    let checked = input.check()?;
    let venues = state.store.venues(m).await?;
    let mut chosen = Vec::with_capacity(checked.venues.len());
    for v in &checked.venues {
        match venues.iter().find(|x| x.id == *v) {
            Some(x) if !chosen.iter().any(|c: &Venue| c.id == x.id) => chosen.push(x.clone()),
            Some(_) => {}
            None => {
                let mut e = FieldErrors::default();
                e.add("venue_ids", "unknown_reference");
                return Err(AppError::Invalid(e));
            }
        }
    }
    let ids: Vec<VenueId> = chosen.iter().map(|v| v.id).collect();
    let plan = match checked.pattern {
        Pattern::Spread { per_year } => spread_over_venues(checked.fy, &ids, per_year, checked.weekday, checked.starts),
        Pattern::Monthly { nth } => {
            ids.iter().flat_map(|v| monthly(checked.fy, *v, checked.weekday, nth, checked.starts)).collect()
        }
    };
    // What the programme already has in the year (a moved holiday may fall in April after).
    let q = SessionQuery {
        from: Some(checked.fy.start()),
        to: Some(checked.fy.end().saturating_add(jiff::Span::new().days(14))),
        venues: Some(ids),
        kind: Some(programme.config.kind),
        limit: 1000,
        ..SessionQuery::default()
    };
    let existing: Vec<_> = state
        .store
        .class_sessions(m, &q)
        .await?
        .into_iter()
        .filter(|s| s.programme_id == programme.id)
        .map(|s| (s.venue_id, s.day))
        .collect();
    let mut lines: Vec<PreviewLine> = plan
        .into_iter()
        .filter_map(|p| {
            let venue = chosen.iter().find(|v| v.id == p.venue)?.clone();
            Some(PreviewLine { already_there: existing.contains(&(p.venue, p.day)), planned: p, venue })
        })
        .collect();
    lines.sort_by_key(|l| (l.planned.day, l.planned.venue.0));
    Ok(Preview {
        minutes: checked.minutes.unwrap_or(programme.config.default_minutes),
        capacity: checked.capacity.unwrap_or(programme.config.default_capacity),
        fy: checked.fy,
        programme,
        lines,
    })
}

/// Creates what the preview shows, in one transaction with one line; what
/// the programme already has is left alone (and counted).
pub async fn generate(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    programme: ProgrammeId,
    input: &ScheduleInput,
) -> Result<(Preview, GeneratedSessions), AppError> {
    let allowed = permit_municipality(actor, Action::ManageClasses)?;
    let p = preview(state, actor, programme, input).await?;
    let sessions: Vec<NewSession> = p
        .lines
        .iter()
        .map(|l| NewSession {
            venue_id: l.planned.venue,
            day: l.planned.day,
            starts: l.planned.starts,
            minutes: p.minutes,
            capacity: p.capacity,
        })
        .collect();
    let done = state.store.generate_class_sessions(&requester.allowed(&allowed), programme, &sessions).await?;
    Ok((p, done))
}

fn preview_json(p: &Preview) -> serde_json::Value {
    json!({
        "programme_id": p.programme.id,
        "fiscal_year": p.fy.year(),
        "minutes": p.minutes,
        "capacity": p.capacity,
        "new_sessions": p.new_sessions(),
        "sessions": p.lines.iter().map(|l| json!({
            "venue_id": l.venue.id,
            "venue_name_ja": l.venue.name_ja,
            "venue_name_en": l.venue.name_en,
            "day": l.planned.day,
            "starts": l.planned.starts.strftime("%H:%M").to_string(),
            "moved_from": l.planned.moved_from,
            "already_there": l.already_there,
        })).collect::<Vec<_>>(),
    })
}

/// Preview a year's sessions from a pattern (nothing is stored)
#[utoipa::path(post, path = "/api/v1/classes/programmes/{id}/schedule/preview", tag = "classes",
    request_body = ScheduleInput,
    params(("id" = i64, Path, description = "Programme id")),
    responses(
        (status = 200, description = "The sessions the pattern proposes", body = super::api_doc::SchedulePreview),
        (status = 403, description = "Not a role that manages classes (`forbidden`)"),
        (status = 404, description = "No such programme in the caller's municipality"),
        (status = 422, description = "Fields that did not pass (`invalid_input`)")))]
pub(crate) async fn preview_api(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ScheduleInput>,
) -> Result<Response, ApiError> {
    let p = preview(&state, &caller.actor, ProgrammeId(id), &input).await?;
    Ok(Json(preview_json(&p)).into_response())
}

/// Create a year's sessions from a pattern, in one transaction; those the programme already has (same venue and day) are left alone
#[utoipa::path(post, path = "/api/v1/classes/programmes/{id}/schedule", tag = "classes",
    request_body = ScheduleInput,
    params(("id" = i64, Path, description = "Programme id")),
    responses(
        (status = 201, description = "The sessions created, and how many were already there", body = super::api_doc::ScheduleGenerated),
        (status = 403, description = "Not a role that manages classes (`forbidden`)"),
        (status = 404, description = "No such programme in the caller's municipality"),
        (status = 422, description = "Fields that did not pass; nothing stored (`invalid_input`)")))]
pub(crate) async fn generate_api(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ScheduleInput>,
) -> Result<Response, ApiError> {
    let (_, done) = generate(&state, &caller.actor, &caller.audit("class schedule"), ProgrammeId(id), &input).await?;
    let body = json!({ "programme_id": id, "created": done.created, "already_there": done.already_there });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
