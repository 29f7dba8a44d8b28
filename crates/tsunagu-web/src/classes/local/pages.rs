//! Local information pages [000] 地域おでかけ情報: a family's phone page of
//! its area's places for its stage (another area or stage a tap away), an
//! entry with the upcoming sessions held there, and the keeper's desktop
//! page (the area's coordinators, the administrator for every area) to add,
//! edit and retire entries, with the errors beside the fields in the
//! reader's language and nothing stored while any remain.

// A page handler's error *is* a page (a `Response`); boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use crate::base::chrome::{redirect, render, signed_in, unwrap_page, Chrome, FormData, OrPage, PageResult};
use crate::base::error::AppError;
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
use tsunagu_domain::classes::local::{LifeStage, LocalPlaceInput, PlaceKind};
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::LocalPlaceId;
use tsunagu_store::LocalPlaceEntry;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/classes/local", get(browse_page))
        .route("/classes/local/keep", get(keep_page).post(create_submit))
        .route("/classes/local/{id}", get(place_page))
        .route("/classes/local/{id}/edit", get(edit_page).post(edit_submit))
        .route("/classes/local/{id}/retire", post(retire_submit))
}

fn kind_key(k: PlaceKind) -> String {
    format!("lp.kind.{}", k.as_str())
}

fn stage_key(s: LifeStage) -> String {
    format!("lp.stage.{}", s.as_str())
}

/// An entry as a page lists it, in the reader's language.
struct EntryLine {
    id: i64,
    kind: String,
    name: String,
    address: String,
    access: String,
    hours: String,
    offers: String,
    stages: Vec<String>,
    area: String,
    has_sessions: bool,
    retired: bool,
}

fn line_of(e: &LocalPlaceEntry, lang: Lang, areas: &std::collections::HashMap<i64, String>) -> EntryLine {
    let p = &e.place;
    let pick = |ja: &str, en: &str| if lang == Lang::En && !en.is_empty() { en.to_owned() } else { ja.to_owned() };
    EntryLine {
        id: e.id.0,
        kind: crate::i18n::t(lang, &kind_key(p.kind)).to_owned(),
        name: pick(&p.name_ja, &p.name_en),
        address: p.address.clone(),
        access: p.access.clone(),
        hours: p.hours.clone(),
        offers: pick(&p.offers_ja, &p.offers_en),
        stages: p.stages.iter().map(|s| crate::i18n::t(lang, &stage_key(s)).to_owned()).collect(),
        area: areas.get(&p.area_id.0).cloned().unwrap_or_default(),
        has_sessions: p.venue_id.is_some(),
        retired: e.retired,
    }
}

/// A choice on a form: its value, its words, whether it is chosen.
struct Choice {
    value: String,
    label: String,
    chosen: bool,
}

fn kind_choices(lang: Lang, chosen: Option<&str>) -> Vec<Choice> {
    PlaceKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.as_str().to_owned(),
            label: crate::i18n::t(lang, &kind_key(*k)).to_owned(),
            chosen: chosen == Some(k.as_str()),
        })
        .collect()
}

fn stage_choices(lang: Lang, chosen: &[&str]) -> Vec<Choice> {
    LifeStage::ALL
        .iter()
        .map(|s| Choice {
            value: s.as_str().to_owned(),
            label: crate::i18n::t(lang, &stage_key(*s)).to_owned(),
            chosen: chosen.contains(&s.as_str()),
        })
        .collect()
}

#[derive(Deserialize, Default)]
struct BrowseQuery {
    #[serde(default)]
    area: Option<String>,
    #[serde(default)]
    stage: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

#[derive(Template)]
#[template(path = "class_local.html")]
struct BrowsePage {
    chrome: Chrome,
    areas: Vec<Choice>,
    stages: Vec<Choice>,
    kinds: Vec<Choice>,
    all_areas: bool,
    all_stages: bool,
    entries: Vec<EntryLine>,
    may_keep: bool,
}

async fn browse_page(State(state): State<AppState>, ctx: RequestCtx, Query(q): Query<BrowseQuery>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            let lang = ctx.lang;
            let ask = super::Browse::parse(q.area.as_deref(), q.stage.as_deref(), q.kind.as_deref()).or_page(&ctx)?;
            let audit = audit_ctx(account, &ctx.remote_addr, "local information", ctx.now);
            let dir = super::browse(&state, &actor, &audit, ask, state.clock.today()).await.or_page(&ctx)?;
            let areas_all = state.store.areas(actor.municipality_id).await.or_page(&ctx)?;
            let names = crate::base::chrome::area_names(&areas_all, lang);
            let may_keep = areas_all.iter().any(|a| super::may_keep(&actor, a.id));
            let areas = areas_all
                .iter()
                .map(|a| Choice {
                    value: a.id.0.to_string(),
                    label: names.get(&a.id.0).cloned().unwrap_or_default(),
                    chosen: dir.area == Some(a.id),
                })
                .collect();
            let stage = dir.stage.map(|s| s.as_str());
            let page = BrowsePage {
                chrome: Chrome::new(&ctx, "/classes/local", "lp.title"),
                areas,
                stages: stage_choices(lang, stage.as_slice()),
                kinds: kind_choices(lang, dir.kind.map(|k| k.as_str())),
                all_areas: dir.area.is_none(),
                all_stages: dir.stage.is_none(),
                entries: dir.entries.iter().map(|e| line_of(e, lang, &names)).collect(),
                may_keep,
            };
            Ok(render(&page, StatusCode::OK))
        }
        .await,
    )
}

/// A session held at the place, with the link to it.
struct HeldHere {
    href: String,
    programme: String,
    when: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "class_local_place.html")]
struct PlacePage {
    chrome: Chrome,
    entry: EntryLine,
    sessions: Vec<HeldHere>,
    may_keep: bool,
}

async fn place_page(State(state): State<AppState>, ctx: RequestCtx, Path(id): Path<i64>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            let lang = ctx.lang;
            let (entry, sessions) =
                super::place(&state, &actor, LocalPlaceId(id), state.clock.today()).await.or_page(&ctx)?;
            let areas = state.store.areas(actor.municipality_id).await.or_page(&ctx)?;
            let names = crate::base::chrome::area_names(&areas, lang);
            let sessions = sessions
                .iter()
                .map(|s| {
                    let line = crate::classes::pages::session_line(s, lang);
                    HeldHere {
                        // A family books from its offers of the session's area; staff open the session.
                        href: match (actor.family_id, s.area_id) {
                            (Some(_), Some(a)) => format!("/classes?area={}#session-{}", a.0, s.id.0),
                            (Some(_), None) => format!("/classes#session-{}", s.id.0),
                            (None, _) => format!("/classes/sessions/{}", s.id.0),
                        },
                        programme: line.0,
                        when: line.1,
                        status: line.2,
                    }
                })
                .collect();
            let page = PlacePage {
                chrome: Chrome::new(&ctx, &format!("/classes/local/{id}"), "lp.title"),
                may_keep: super::may_keep(&actor, entry.place.area_id),
                entry: line_of(&entry, lang, &names),
                sessions,
            };
            Ok(render(&page, StatusCode::OK))
        }
        .await,
    )
}

/// The entry form's fields, as typed (or as stored, to edit).
#[derive(Default)]
struct FormFields {
    area_id: String,
    kind: String,
    name_ja: String,
    name_en: String,
    address: String,
    access: String,
    hours: String,
    offers_ja: String,
    offers_en: String,
    stages: Vec<String>,
    venue_id: String,
}

impl FormFields {
    fn of_form(f: &FormData) -> Self {
        FormFields {
            area_id: f.get("area_id").to_owned(),
            kind: f.get("kind").to_owned(),
            name_ja: f.get("name_ja").to_owned(),
            name_en: f.get("name_en").to_owned(),
            address: f.get("address").to_owned(),
            access: f.get("access").to_owned(),
            hours: f.get("hours").to_owned(),
            offers_ja: f.get("offers_ja").to_owned(),
            offers_en: f.get("offers_en").to_owned(),
            stages: f.all("stages").into_iter().map(str::to_owned).collect(),
            venue_id: f.get("venue_id").to_owned(),
        }
    }

    fn of_entry(e: &LocalPlaceEntry) -> Self {
        let p = &e.place;
        FormFields {
            area_id: p.area_id.0.to_string(),
            kind: p.kind.as_str().to_owned(),
            name_ja: p.name_ja.clone(),
            name_en: p.name_en.clone(),
            address: p.address.clone(),
            access: p.access.clone(),
            hours: p.hours.clone(),
            offers_ja: p.offers_ja.clone(),
            offers_en: p.offers_en.clone(),
            stages: p.stages.iter().map(|s| s.as_str().to_owned()).collect(),
            venue_id: p.venue_id.map(|v| v.0.to_string()).unwrap_or_default(),
        }
    }

    /// The checked input both the form and the API body parse into; an id
    /// that does not read as one is the field's error.
    fn input(&self) -> Result<LocalPlaceInput, AppError> {
        let mut errors = FieldErrors::default();
        let area_id = match self.area_id.trim().parse::<i64>() {
            Ok(a) => a,
            Err(_) => {
                errors.add("area_id", if self.area_id.trim().is_empty() { "required" } else { "not_an_id" });
                0
            }
        };
        let venue_id = match self.venue_id.trim() {
            "" => None,
            v => match v.parse::<i64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    errors.add("venue_id", "not_an_id");
                    None
                }
            },
        };
        let input = LocalPlaceInput {
            area_id,
            kind: self.kind.clone(),
            name_ja: self.name_ja.clone(),
            name_en: self.name_en.clone(),
            address: self.address.clone(),
            access: self.access.clone(),
            hours: self.hours.clone(),
            offers_ja: self.offers_ja.clone(),
            offers_en: self.offers_en.clone(),
            stages: self.stages.clone(),
            venue_id,
        };
        // Every field's problem at once: the domain's check beside the ids'.
        if let Err(more) = input.check() {
            for e in more.0 {
                if errors.for_field(&e.field).is_none() {
                    errors.0.push(e);
                }
            }
        }
        errors.finish(|| input).map_err(AppError::Invalid)
    }
}

#[derive(Template)]
#[template(path = "class_local_keep.html")]
struct KeepPage {
    chrome: Chrome,
    entries: Vec<EntryLine>,
    /// The entry being edited (none: the form adds one).
    editing: Option<i64>,
    fields: FormFields,
    areas: Vec<Choice>,
    kinds: Vec<Choice>,
    stages: Vec<Choice>,
    venues: Vec<Choice>,
    errors: FieldErrors,
    notice: Option<&'static str>,
}

impl KeepPage {
    fn err(&self, field: &str) -> Option<&'static str> {
        self.errors.for_field(field).map(|code| crate::i18n::t(self.chrome.tr.0, &format!("err.{code}")))
    }
}

/// The keeper's page: her areas' entries and the form (to add, or to edit `editing`).
async fn keep_view(
    state: &AppState,
    ctx: &RequestCtx,
    editing: Option<LocalPlaceId>,
    form: Option<(FormFields, FieldErrors)>,
    notice: Option<&'static str>,
) -> PageResult {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    let lang = ctx.lang;
    let (areas, entries) = super::kept(state, &actor).await.or_page(ctx)?;
    let all_areas = state.store.areas(actor.municipality_id).await.or_page(ctx)?;
    let names = crate::base::chrome::area_names(&all_areas, lang);
    let current = match editing {
        Some(id) => {
            let e = entries.iter().find(|e| e.id == id);
            Some(e.ok_or(AppError::NotFound).or_page(ctx)?)
        }
        None => None,
    };
    let (fields, errors) = match form {
        Some(f) => f,
        None => (current.map(FormFields::of_entry).unwrap_or_default(), FieldErrors::default()),
    };
    let venues = state.store.venues(actor.municipality_id).await.or_page(ctx)?;
    let mut venue_choices = vec![Choice {
        value: String::new(),
        label: crate::i18n::t(lang, "lp.no_venue").to_owned(),
        chosen: fields.venue_id.trim().is_empty(),
    }];
    venue_choices.extend(venues.iter().filter(|v| v.area_id.is_some_and(|a| super::may_keep(&actor, a))).map(|v| {
        Choice {
            value: v.id.0.to_string(),
            label: if lang == Lang::Ja { v.name_ja.clone() } else { v.name_en.clone() },
            chosen: fields.venue_id.trim() == v.id.0.to_string(),
        }
    }));
    let chosen_stages: Vec<&str> = fields.stages.iter().map(String::as_str).collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = KeepPage {
        chrome: Chrome::new(ctx, "/classes/local/keep", "lp.keep_title"),
        entries: entries.iter().map(|e| line_of(e, lang, &names)).collect(),
        editing: current.map(|e| e.id.0),
        areas: areas
            .iter()
            .map(|a| Choice {
                value: a.id.0.to_string(),
                label: names.get(&a.id.0).cloned().unwrap_or_default(),
                chosen: fields.area_id.trim() == a.id.0.to_string(),
            })
            .collect(),
        kinds: kind_choices(lang, Some(fields.kind.trim())),
        stages: stage_choices(lang, &chosen_stages),
        venues: venue_choices,
        fields,
        errors,
        notice,
    };
    Ok(render(&page, status))
}

#[derive(Deserialize, Default)]
struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

fn done_key(d: Option<&str>) -> Option<&'static str> {
    match d? {
        "added" => Some("lp.done.added"),
        "saved" => Some("lp.done.saved"),
        "retired" => Some("lp.done.retired"),
        "restored" => Some("lp.done.restored"),
        _ => None,
    }
}

async fn keep_page(State(state): State<AppState>, ctx: RequestCtx, Query(q): Query<DoneQuery>) -> Response {
    unwrap_page(keep_view(&state, &ctx, None, None, done_key(q.done.as_deref())).await)
}

async fn edit_page(State(state): State<AppState>, ctx: RequestCtx, Path(id): Path<i64>) -> Response {
    unwrap_page(keep_view(&state, &ctx, Some(LocalPlaceId(id)), None, None).await)
}

/// The form again with its errors (422), or the error as a page.
async fn refused(
    state: &AppState,
    ctx: &RequestCtx,
    editing: Option<LocalPlaceId>,
    fields: FormFields,
    e: AppError,
) -> PageResult {
    match e {
        AppError::Invalid(errors) => keep_view(state, ctx, editing, Some((fields, errors)), None).await,
        e => Err(crate::base::chrome::page_error(ctx, e)),
    }
}

async fn create_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let fields = FormFields::of_form(&form);
            let audit = audit_ctx(account, &ctx.remote_addr, "local information", ctx.now);
            let done = match fields.input() {
                Ok(input) => super::create(&state, &actor_of(account), &audit, &input).await,
                Err(e) => Err(e),
            };
            match done {
                Ok(_) => Ok(redirect("/classes/local/keep?done=added")),
                Err(e) => refused(&state, &ctx, None, fields, e).await,
            }
        }
        .await,
    )
}

async fn edit_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let fields = FormFields::of_form(&form);
            let audit = audit_ctx(account, &ctx.remote_addr, "local information", ctx.now);
            let id = LocalPlaceId(id);
            let done = match fields.input() {
                Ok(input) => super::update(&state, &actor_of(account), &audit, id, &input).await,
                Err(e) => Err(e),
            };
            match done {
                Ok(_) => Ok(redirect("/classes/local/keep?done=saved")),
                Err(e) => refused(&state, &ctx, Some(id), fields, e).await,
            }
        }
        .await,
    )
}

async fn retire_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let retired = form.checked("retired");
            let audit = audit_ctx(account, &ctx.remote_addr, "local information", ctx.now);
            super::retire(&state, &actor_of(account), &audit, LocalPlaceId(id), retired).await.or_page(&ctx)?;
            Ok(redirect(if retired { "/classes/local/keep?done=retired" } else { "/classes/local/keep?done=restored" }))
        }
        .await,
    )
}
