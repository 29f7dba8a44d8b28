//! Programme settings (#12 stage 3): a programme's content, who runs it,
//! who attends, its places and unit, and the rules the domain reads to
//! decide who may book ([000] once before and once after the birth — per
//! pregnancy by default, per person if the municipality says so; week 16;
//! the 5-month day; [004] first child, multiple births). Kept by those the
//! policy lets configure programmes (`ConfigureProgrammes`: the
//! administrator); those who manage sessions see the list. A change is one
//! `class.programme` line; the families' offers read the new settings at
//! once. Pages and the API share these functions; the API's handlers are here.

use crate::base::api::{ApiJson, ApiPath};
use crate::base::error::{permit_municipality, ApiError, AppError};
use crate::base::session::ApiCaller;
use crate::base::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tsunagu_domain::audit::Requester;
use tsunagu_domain::classes::{CapacityUnit, Measures, OncePer, ProgrammeConfig, ProgrammeRules, Runner};
use tsunagu_domain::policy::Action;
use tsunagu_domain::roles::Actor;
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::ProgrammeId;
use tsunagu_store::Programme;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/classes/programmes", get(list_api))
        .route("/api/v1/classes/programmes/{id}", put(configure_api))
}

pub const RUNNERS: [(&str, Runner); 8] = [
    ("npo", Runner::Npo),
    ("hall_staff", Runner::HallStaff),
    ("hub_staff", Runner::HubStaff),
    ("support_room_coordinator", Runner::SupportRoomCoordinator),
    ("nurse", Runner::Nurse),
    ("nutritionist", Runner::Nutritionist),
    ("midwife", Runner::Midwife),
    ("volunteers", Runner::Volunteers),
];

pub const UNITS: [(&str, CapacityUnit); 3] = [
    ("person", CapacityUnit::Person),
    ("pregnant_with_partner", CapacityUnit::PregnantWithPartner),
    ("parent_with_babies", CapacityUnit::ParentWithBabies),
];

pub const MEASURES: [(&str, Measures); 3] =
    [("nothing", Measures::Nothing), ("weight", Measures::Weight), ("weight_and_height", Measures::WeightAndHeight)];

pub const ONCE_PER: [(&str, OncePer); 2] = [("pregnancy", OncePer::Pregnancy), ("person", OncePer::Person)];

pub fn runner_key(r: Runner) -> &'static str {
    RUNNERS.iter().find(|(_, x)| *x == r).map_or("npo", |(k, _)| k)
}

pub fn unit_key(u: CapacityUnit) -> &'static str {
    u.as_str()
}

pub fn measures_key(m: Measures) -> &'static str {
    MEASURES.iter().find(|(_, x)| *x == m).map_or("nothing", |(k, _)| k)
}

pub fn once_key(o: Option<OncePer>) -> &'static str {
    o.and_then(|o| ONCE_PER.iter().find(|(_, x)| *x == o)).map_or("", |(k, _)| k)
}

/// A programme's settings, from a form or a JSON body (the kind stays).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeInput {
    /// 1 to 100 characters.
    pub name_ja: String,
    /// 1 to 100 characters.
    pub name_en: String,
    /// What happens, in the order of the day (up to 30 lines of up to 200 characters).
    pub content_ja: Vec<String>,
    /// Who runs it: `npo`, `hall_staff`, `hub_staff`, `support_room_coordinator`, `nurse`, `nutritionist`, `midwife`, `volunteers`.
    pub runners: Vec<String>,
    /// The area's coordinator attends ([000]).
    pub coordinator_attends: bool,
    /// `person`, `pregnant_with_partner`, `parent_with_babies`.
    pub unit: String,
    /// Places of a new session, 1 to 500.
    pub default_capacity: u32,
    /// Length of a new session, 15 to 480 minutes.
    pub default_minutes: u32,
    /// `nothing`, `weight`, `weight_and_height`.
    pub measures: String,
    /// Residents only on the class day.
    pub residents_only: bool,
    /// Pregnant women from this week on the class day (1–42).
    #[serde(default)]
    pub prenatal_from_week: Option<u8>,
    /// Mothers whose baby has not turned this many months (1–36).
    #[serde(default)]
    pub postnatal_under_months: Option<u16>,
    /// Once before and once after the birth, per `pregnancy` or per `person`; none: no such rule.
    #[serde(default)]
    pub once_per_stage: Option<String>,
    pub pregnant_only: bool,
    pub first_child_only: bool,
    pub multiple_births_only: bool,
    /// Pregnant women or parents of a baby under this many months (1–36).
    #[serde(default)]
    pub pregnant_or_infant_under_months: Option<u16>,
}

fn name_ok(s: &str) -> bool {
    let n = s.trim().chars().count();
    (1..=100).contains(&n) && !s.chars().any(char::is_control)
}

impl ProgrammeInput {
    /// The settings of `current`'s kind, or every field's problem at once.
    pub fn check(&self, current: &ProgrammeConfig) -> Result<ProgrammeConfig, FieldErrors> {
        let mut errors = FieldErrors::default();
        for (field, v) in [("name_ja", &self.name_ja), ("name_en", &self.name_en)] {
            if !name_ok(v) {
                errors.add(field, if v.trim().is_empty() { "required" } else { "invalid" });
            }
        }
        let content: Vec<String> =
            self.content_ja.iter().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).collect();
        if content.len() > 30 || content.iter().any(|l| l.chars().count() > 200 || l.chars().any(char::is_control)) {
            errors.add("content_ja", "too_long");
        }
        let mut runners = Vec::new();
        for r in &self.runners {
            match RUNNERS.iter().find(|(k, _)| *k == r.trim()) {
                Some((_, x)) if !runners.contains(x) => runners.push(*x),
                Some(_) => {}
                None => errors.add("runners", "invalid_choice"),
            }
        }
        let unit = UNITS.iter().find(|(k, _)| *k == self.unit.trim()).map(|(_, u)| *u);
        if unit.is_none() {
            errors.add("unit", "invalid_choice");
        }
        if !(1..=500).contains(&self.default_capacity) {
            errors.add("default_capacity", "out_of_range");
        }
        if !(15..=480).contains(&self.default_minutes) {
            errors.add("default_minutes", "out_of_range");
        }
        let measures = MEASURES.iter().find(|(k, _)| *k == self.measures.trim()).map(|(_, m)| *m);
        if measures.is_none() {
            errors.add("measures", "invalid_choice");
        }
        if self.prenatal_from_week.is_some_and(|w| !(1..=42).contains(&w)) {
            errors.add("prenatal_from_week", "out_of_range");
        }
        for (field, v) in [
            ("postnatal_under_months", self.postnatal_under_months),
            ("pregnant_or_infant_under_months", self.pregnant_or_infant_under_months),
        ] {
            if v.is_some_and(|m| !(1..=36).contains(&m)) {
                errors.add(field, "out_of_range");
            }
        }
        let once = match self.once_per_stage.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Some(None),
            Some(k) => ONCE_PER.iter().find(|(key, _)| *key == k).map(|(_, o)| Some(*o)),
        };
        if once.is_none() {
            errors.add("once_per_stage", "invalid_choice");
        }
        match (unit, measures, once) {
            (Some(unit), Some(measures), Some(once)) if errors.is_empty() => Ok(ProgrammeConfig {
                kind: current.kind,
                name_ja: self.name_ja.trim().to_owned(),
                name_en: self.name_en.trim().to_owned(),
                content_ja: content,
                runners,
                coordinator_attends: self.coordinator_attends,
                unit,
                default_capacity: self.default_capacity,
                default_minutes: u16::try_from(self.default_minutes).unwrap_or(current.default_minutes),
                measures,
                rules: ProgrammeRules {
                    residents_only: self.residents_only,
                    prenatal_from_week: self.prenatal_from_week,
                    postnatal_under_months: self.postnatal_under_months,
                    once_per_stage: once,
                    pregnant_only: self.pregnant_only,
                    first_child_only: self.first_child_only,
                    multiple_births_only: self.multiple_births_only,
                    pregnant_or_infant_under_months: self.pregnant_or_infant_under_months,
                },
            }),
            _ => Err(errors),
        }
    }
}

/// The municipality's programmes: for those who configure them or manage
/// their sessions (no personal data).
pub async fn list(state: &AppState, actor: &Actor) -> Result<Vec<Programme>, AppError> {
    if permit_municipality(actor, Action::ConfigureProgrammes).is_err() {
        permit_municipality(actor, Action::ManageClasses)?;
    }
    Ok(state.store.programmes(actor.municipality_id).await?)
}

/// One programme, for its settings form.
pub async fn one(state: &AppState, actor: &Actor, id: ProgrammeId) -> Result<Programme, AppError> {
    permit_municipality(actor, Action::ConfigureProgrammes)?;
    state.store.programmes(actor.municipality_id).await?.into_iter().find(|p| p.id == id).ok_or(AppError::NotFound)
}

/// Changes a programme's settings: one line; nothing stored while a field is wrong.
pub async fn configure(
    state: &AppState,
    actor: &Actor,
    requester: &Requester,
    id: ProgrammeId,
    input: &ProgrammeInput,
) -> Result<Programme, AppError> {
    let allowed = permit_municipality(actor, Action::ConfigureProgrammes)?;
    let current = one(state, actor, id).await?;
    let config = input.check(&current.config).map_err(AppError::Invalid)?;
    state.store.configure_programme(&requester.allowed(&allowed), id, &config).await?;
    Ok(Programme { config, ..current })
}

fn programme_json(p: &Programme) -> serde_json::Value {
    json!({ "id": p.id, "config": p.config })
}

/// The municipality's programmes with their settings
#[utoipa::path(get, path = "/api/v1/classes/programmes", tag = "classes",
    responses(
        (status = 200, description = "The programmes", body = super::api_doc::ProgrammeList),
        (status = 403, description = "Neither configures programmes nor manages classes (`forbidden`)")))]
pub(crate) async fn list_api(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    let list = list(&state, &caller.actor).await?;
    Ok(Json(json!({ "programmes": list.iter().map(programme_json).collect::<Vec<_>>() })).into_response())
}

/// Change a programme's settings (its kind stays); families' offers follow at once
#[utoipa::path(put, path = "/api/v1/classes/programmes/{id}", tag = "classes", request_body = ProgrammeInput,
    params(("id" = i64, Path, description = "Programme id")),
    responses(
        (status = 200, description = "The programme as saved", body = super::api_doc::ProgrammeView),
        (status = 403, description = "Not the administrator (`forbidden`)"),
        (status = 404, description = "No such programme in the caller's municipality"),
        (status = 422, description = "Fields that did not pass; nothing stored (`invalid_input`)")))]
pub(crate) async fn configure_api(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ProgrammeInput>,
) -> Result<Response, ApiError> {
    let p = configure(&state, &caller.actor, &caller.audit("class programme"), ProgrammeId(id), &input).await?;
    Ok(Json(programme_json(&p)).into_response())
}
